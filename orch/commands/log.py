"""Show the orch log (`<state>/logs/orch.log`), or only one task's lines."""

from __future__ import annotations

from typing import Annotated

import typer

from orch.commands._common import deps


def command(
    ctx: typer.Context,
    task: Annotated[
        int | None, typer.Argument(metavar="N", help="Only lines about task N.")
    ] = None,
    follow: Annotated[
        bool, typer.Option("-f", "--follow", help="Keep printing new lines.")
    ] = False,
    lines: Annotated[int, typer.Option("-n", "--lines", help="How many lines to show.")] = 50,
) -> None:
    """Show the orch log (or one task's lines); -f follows it, -v adds DEBUG lines."""
    from orch.io.logview import follow_lines, tail

    d = deps(ctx)
    verbose = d.console.verbose  # DEBUG lines only with -v
    for line in tail(d.paths, task, lines, verbose=verbose):
        d.console.out(line)
    if follow:
        for line in follow_lines(d.paths, task, d.clock, verbose=verbose):
            d.console.out(line)
