"""Set up the project in the current git repository (labels, .orch.yml, registration)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from orch.commands._common import DryRunOpt, JsonOpt, deps


def command(
    ctx: typer.Context,
    repo: Annotated[
        str | None,
        typer.Option(
            "--repo",
            metavar="OWNER/REPO",
            help="GitHub repository (default: from the origin remote).",
        ),
    ] = None,
    local: Annotated[
        bool,
        typer.Option(
            "--local", help="Keep tasks in files under .orch/local/ instead of GitHub issues."
        ),
    ] = False,
    no_labels: Annotated[
        bool, typer.Option("--no-labels", help="Do not create orch's labels.")
    ] = False,
    host: Annotated[
        str | None, typer.Option("--host", help="GitHub Enterprise host (default github.com).")
    ] = None,
    dry_run: DryRunOpt = False,
    json: JsonOpt = False,
) -> None:
    from orch.admin import init as initialize
    from orch.output import emit_json

    d = deps(ctx)
    start = Path(d.project_spec).expanduser() if d.project_spec else d.cwd
    result = initialize.init_project(
        d,
        initialize.InitOptions(
            start=start, repo=repo, local=local, labels=not no_labels, host=host, dry_run=dry_run
        ),
    )
    if json:
        emit_json(result.to_json())
        return
    console = d.console
    verb = "would " if dry_run else ""
    console.out(f"project {result.repo} at {result.root} (store: {result.store})")
    if result.wrote_config:
        console.out(f"{verb}write {result.root / '.orch.yml'}")
    if result.registered:
        console.out(f"{verb}register it in {d.global_file}")
    if result.labels_created:
        console.out(
            f"{verb}create {len(result.labels_created)} labels: {', '.join(result.labels_created)}"
        )
    elif not no_labels:
        console.out("labels: all present")
    if result.ignored:
        console.out(f"{verb}ignore .orch/ in .git/info/exclude")
