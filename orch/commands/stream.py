"""Follow the live output of running agent sessions, each line prefixed with its task."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from orch.commands._common import JsonOpt, deps

# Distinct, readable on dark and light terminals.
COLOURS = ("36", "33", "35", "32", "34", "91", "96", "93")


def command(
    ctx: typer.Context,
    tasks: Annotated[
        list[int] | None,
        typer.Argument(metavar="[N]...", help="Only these tasks (of this project)."),
    ] = None,
    follow: Annotated[
        bool,
        typer.Option("-f", "--follow", help="Keep waiting for new sessions after all have ended."),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Follow the live output of every running agent session on this host (or tasks N…
    of this project): the agent's messages, tool calls and, at the end, its result, each
    line prefixed with `#N`. Sessions that start meanwhile join; it ends when all have
    ended (--follow keeps waiting). Ctrl-C stops following; the agents keep running.

    \b
    Examples:
      orch stream
      orch stream 12 15
      orch stream --follow --json
    """
    from orch.output import emit_json_line
    from orch.run.stream import Selection, label, stream

    d = deps(ctx)
    # Task numbers are the current project's; otherwise every project on this host.
    repo = d.project().repo if tasks or d.project_spec else None
    selection = Selection(repo=repo, tasks=frozenset(tasks or ()))
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    repos: set[str] = set()
    width = 0
    shown = 0
    for line in stream(d.paths, d.clock, selection, follow=follow):
        shown += 1
        if json_out:
            emit_json_line(line.to_json())
            continue
        repos.add(line.repo)
        name = label(line.repo, line.task, repos)
        width = max(width, len(name))
        prefix = f"{name:<{width}} │"
        if colour:
            prefix = f"\033[{COLOURS[line.task % len(COLOURS)]}m{prefix}\033[0m"
        d.console.out(f"{prefix} {line.text}")
        sys.stdout.flush()
    if not shown:
        d.console.note("no agent session is running on this host")
