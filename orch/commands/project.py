"""`orch project`: Projects ticked by `orch tick`: add, list, remove."""

from __future__ import annotations

from typing import Annotated

import typer

from orch.commands._common import DryRunOpt, JsonOpt, deps, group

app = group("project", "Projects ticked by `orch tick`: add, list, remove; board.")


@app.command("add")
def add(
    ctx: typer.Context,
    spec: Annotated[
        str,
        typer.Argument(
            metavar="PATH|OWNER/REPO|URL",
            help="A checkout, or a repository to clone (bare) into the state dir.",
        ),
    ],
    dry_run: DryRunOpt = False,
    json: JsonOpt = False,
) -> None:
    """Register a project for `orch tick` (a checkout, or a bare clone of OWNER/REPO or URL)."""
    from orch.admin.projects import add_project
    from orch.output import emit_json

    d = deps(ctx)
    host = d.global_config().gh.host
    result = add_project(d.paths, d.global_file, spec, host, dry_run=dry_run)
    if json:
        emit_json({"project": result.to_json(), "dry_run": dry_run})
        return
    prefix = "would: " if dry_run else ""
    if result.cloned_from:
        d.console.note(f"{prefix}clone {result.cloned_from} into {result.root}")
    if result.registered:
        d.console.note(f"{prefix}register {result.root} in {d.global_file}")
    else:
        d.console.note(f"{result.root} is registered already")
    d.console.out(f"{result.repo}  {result.root}")


@app.command("list")
def list_(ctx: typer.Context, json: JsonOpt = False) -> None:
    """The registered projects: OWNER/REPO, store and path (and what is wrong, if anything)."""
    from orch.admin.projects import list_projects
    from orch.output import emit_json

    d = deps(ctx)
    entries = list_projects(d.global_file)
    if json:
        emit_json({"projects": [e.to_json() for e in entries]})
        return
    if not entries:
        d.console.note(
            "no projects registered: `orch tick` works on the current checkout; "
            "add some with `orch project add PATH|OWNER/REPO`"
        )
        return
    rows = [
        [e.repo or "?", e.store or "?", e.path + (f"  ({e.problem})" if e.problem else "")]
        for e in entries
    ]
    d.console.table(rows, header=["project", "store", "path"])


@app.command("remove")
def remove(
    ctx: typer.Context,
    spec: Annotated[
        str, typer.Argument(metavar="NAME|PATH", help="OWNER/REPO or the registered path.")
    ],
    dry_run: DryRunOpt = False,
) -> None:
    """Stop ticking a project (its checkout, clone and state are kept)."""
    from orch.admin.projects import remove_project

    d = deps(ctx)
    path = remove_project(d.global_file, spec, dry_run=dry_run)
    d.console.out(f"{'would: ' if dry_run else ''}unregister {path}")


def _board() -> None:
    from orch.commands.board import app as board_app

    app.add_typer(board_app, name="board")


_board()
