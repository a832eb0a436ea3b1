"""End-to-end run on a throw-away local project (no network, no API key)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from orch.commands._common import JsonOpt, deps


def command(
    ctx: typer.Context,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir", metavar="DIR", help="Build the demo here (default: a new temporary directory)."
        ),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """End-to-end run on a throw-away local project: repo, task, ticks, branch and PR record."""
    from orch.admin.demo import run_demo
    from orch.output import emit_json

    d = deps(ctx)
    say = d.console.note if json else d.console.out
    result = run_demo(directory, d.clock, say)
    if json:
        emit_json({"demo": result.to_json()})
        return
    d.console.out(
        f"done in {result.seconds:.1f}s: task #{result.task} is {result.status}, "
        f"branch {result.branch}, pull request {result.pr or '(none)'} (local store)"
    )
    d.console.out("where to look:")
    width = max(len(what) for what, _ in result.where)
    for what, where in result.where:
        d.console.out(f"  {what.ljust(width)}  {where}")
