"""Options and helpers shared by every command module."""

from __future__ import annotations

from typing import Annotated

import typer

from orch.deps import Deps

JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print JSON (stable keys, a 'schema' version key).")
]
DryRunOpt = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Print the writes it would make (GitHub calls, git commands) and make none.",
    ),
]


def task_id(value: str) -> int:
    """Parse a task id argument: an issue number (7, #7) or an internal task (i7)."""
    from orch import taskid

    try:
        return taskid.parse(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


TASK_ID_HELP = "Task id: an issue number (7) or an internal task (i7)."


def deps(ctx: typer.Context) -> Deps:
    """The Deps built by the root callback (tests may put their own in ctx.obj)."""
    obj = ctx.find_root().obj
    if not isinstance(obj, Deps):  # pragma: no cover - the root callback always sets it
        raise RuntimeError("orch: no Deps in the typer context")
    return obj


def group(name: str, help: str) -> typer.Typer:
    """A command group with plain (fast, pipe-friendly) help."""
    return typer.Typer(
        name=name,
        help=help,
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
