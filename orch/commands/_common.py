"""Options and helpers shared by every command module, and the help conventions.

Every command gets, through `polish()` on the click command tree (no change to the
command's own code):
- `--jq EXPR` wherever it has `--json` (cli.py takes it out of the arguments, compiles it
  with `compile_jq` and puts `--json` in its place; `takes_json` says where it applies);
- a one-line summary and an "Examples" block (orch/commands/help_text.py, or the
  command's own `epilog=examples(...)`);
- metavars in words (TITLE, AGENT, N) instead of types, and the choices of an option.
New commands use `JsonOpt`, `DryRunOpt` and `examples()` and add a `help_text.HELP` entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from orch.errors import UsageError

if TYPE_CHECKING:
    from orch.deps import Deps


def _json_mode(value: bool) -> bool:
    if value:
        from orch import output

        output.set_json()
    return value


JsonOpt = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print one JSON document (stable keys, a 'schema' version key); "
        "--jq EXPR prints what the jq expression selects from it.",
        callback=_json_mode,
    ),
]
DryRunOpt = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Print the writes it would make (GitHub calls, git commands) and make none.",
    ),
]

# Metavars in words for parameters that name none, by parameter name.
METAVARS = {
    "agent": "AGENT",
    "attempt": "K",
    "body": "TEXT",
    "command": "CMD",
    "complexity": "TIER",
    "host": "HOST",
    "job_id": "ID",
    "key": "KEY",
    "kind": "TYPE",
    "label": "LABEL",
    "lines": "N",
    "model": "MODEL",
    "note": "TEXT",
    "number": "N",
    "parent": "N",
    "schedule": "SCHEDULE",
    "status": "STATUS",
    "title": "TITLE",
    "task": "N",
}


def _choices() -> dict[str, tuple[str, ...]]:
    from orch.config.model import COMPLEXITIES
    from orch.status import Status

    return {
        "complexity": COMPLEXITIES,
        "status": tuple(s.value for s in Status),
        "kind": ("task", "bash"),
        "shell": ("bash", "zsh", "fish"),
    }


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
    from orch.deps import Deps  # the command boundary: only a command that runs pays for it

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


def examples(*lines: str) -> str:
    """An "Examples" help block (the typer `epilog`); "\\b" keeps click from re-wrapping."""
    return "Examples:\n\n\b\n" + "\n".join(f"  $ {line}" for line in lines)


def compile_jq(expression: str) -> Any:
    """The compiled jq program of `--jq EXPR`; a usage error (exit 2) if it is not jq."""
    import jq

    try:
        return jq.compile(expression)
    except ValueError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid expression"
        raise UsageError(f"--jq {expression!r}: {first}") from None


def polish(command: Any, path: tuple[str, ...] = (), *, help_pages: bool = True) -> None:
    """Apply the help conventions to `command` and its sub-commands. `help_pages`: also
    list the choices of options in their help (it imports the config module, so cli.py
    asks for it only when a help page may be shown)."""
    from orch.commands.help_text import HELP

    summary, lines = HELP.get(" ".join(path), (None, ()))
    if summary:
        command.short_help = summary
    if lines and not (command.epilog or "").startswith("Examples:"):
        block = examples(*lines)
        command.epilog = f"{block}\n\n{command.epilog}" if command.epilog else block
    _polish_params(command, _choices() if help_pages else {})
    for name, sub in (getattr(command, "commands", None) or {}).items():
        polish(sub, (*path, name), help_pages=help_pages)


def _polish_params(command: Any, choices: dict[str, tuple[str, ...]]) -> None:
    for param in command.params:
        text = getattr(param, "help", None)
        listed = choices.get(param.name or "", ())
        if listed and text is not None and not all(c in text for c in listed):
            param.help = f"{text} Choices: {', '.join(listed)}."
        if param.metavar is None and not getattr(param, "is_flag", False):
            param.metavar = METAVARS.get(param.name or "", (param.name or "value").upper())
        if param.param_type_name == "argument":
            _plain_argument(param)


def _plain_argument(param: Any) -> None:
    """Show an argument as TITLE (usage) and `TITLE  help` (help), not `{TITLE}` and
    `TITLE <str>` (recent typer renders types; the metavar already says what it is)."""
    name = param.metavar or (param.name or "").upper()
    if hasattr(param, "display_type_rich"):
        param.display_type_rich = lambda ctx: ""
    if hasattr(param, "_usage_display_name"):
        shown = name if param.required else f"[{name}]"
        param._usage_display_name = lambda: shown + ("..." if param.nargs != 1 else "")


def takes_json(command: Any, args: list[str]) -> bool:
    """Whether the command that `args` names (sub-command names followed from
    `command`) has a `--json` option."""
    for arg in args:
        subs = getattr(command, "commands", None) or {}
        if arg in subs:
            command = subs[arg]
        elif not arg.startswith("-"):
            break
    return any("--json" in param.opts for param in command.params)
