"""Ask the chat agent about the tasks; it can propose orch commands, run after you confirm."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from orch.commands._common import JsonOpt, deps

if TYPE_CHECKING:
    from orch.assist.chat import Exchange
    from orch.deps import Deps

HELP = """/agent [NAME]        show or switch the chat agent (kept for next time)
/model [[AGENT:]MODEL] show or switch the model (an agent is inferred from the model map)
/help                this help
/quit                leave (also Ctrl-D)
anything else        a message for the chat agent"""


def command(
    ctx: typer.Context,
    message: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[MESSAGE]...",
            help="The message; none starts a REPL; `history` lists past ones.",
        ),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Run proposed commands without asking.")
    ] = False,
    search: Annotated[
        str | None,
        typer.Option(
            "--search", metavar="TEXT", help="With `history`: only exchanges holding TEXT."
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Ask the chat agent (the router's agent unless /agent chose another) about the open
    tasks, running sessions, errors, cooldowns and today's cost. One answer for a
    MESSAGE, a REPL without one (/agent, /model, /help). Commands it proposes run only
    after you confirm each (--yes: without asking). `orch chat history [--search TEXT]`
    lists past exchanges.

    \b
    Examples:
      orch chat "what is running?"
      orch chat "retry the blocked tasks" --yes
      orch chat history --search login
    """
    d = deps(ctx)
    words = message or []
    if words == ["history"]:
        _history(d, search, json_out)
    elif search is not None:
        from orch.errors import UsageError

        raise UsageError("--search goes with history: orch chat history --search TEXT")
    elif words:
        _once(d, " ".join(words), yes, json_out)
    else:
        _repl(d, yes)


def _history(d: Deps, search: str | None, json_out: bool) -> None:
    from orch.assist.chat import history
    from orch.output import emit_json

    found = history(d.paths, search)
    if json_out:
        emit_json({"history": [e.to_json() for e in found]})
        return
    for exchange in found:
        model = f"/{exchange.model}" if exchange.model else ""
        d.console.out(f"{exchange.at}  {exchange.agent}{model}  > {exchange.message}")
        for line in exchange.answer.splitlines():
            d.console.out(f"    {line}")
        for ran in exchange.ran:
            d.console.out(f"    ran: {ran['command']} (exit {ran['exit_code']})")
    if not found:
        d.console.note("no chat history" + (f" holding {search!r}" if search else ""))


def _ask(d: Deps, text: str, earlier: list[Exchange]) -> Exchange:
    from orch.assist.chat import ask_chat

    project = d.project()
    return ask_chat(
        d.paths, d.clock, project.config, project.repo, d.store(project), text, history=earlier
    )


def _once(d: Deps, text: str, yes: bool, json_out: bool) -> None:
    from orch.assist.chat import answer_text_only
    from orch.output import emit_json

    exchange = _ask(d, text, [])
    if json_out:
        ran = _act(d, exchange, yes=yes, quiet=True) if yes else []
        emit_json({**exchange.to_json(), "ran": ran})
        return
    d.console.out(answer_text_only(exchange.answer) or "(no text)")
    _act(d, exchange, yes=yes)


def _act(d: Deps, exchange: Exchange, *, yes: bool, quiet: bool = False) -> list[dict[str, object]]:
    """Run the proposed commands the owner confirms (all with --yes)."""
    from orch.assist.chat import record_ran, run_command

    ran = []
    for command in exchange.commands:
        if not yes and not _confirm(f"run `{command}`?"):
            d.console.note(f"not run: {command}")
            continue
        project = d.project()
        result = run_command(command, project.root, d.config_file)
        ran.append(result)
        if not quiet:
            d.console.out(f"$ {command}")
            for line in (result["stdout"] + result["stderr"]).splitlines():
                d.console.out(f"  {line}")
            if result["exit_code"]:
                d.console.out(f"  (exit {result['exit_code']})")
    if ran:
        record_ran(d.paths, exchange, ran)
    return [{"command": r["command"], "exit_code": r["exit_code"]} for r in ran]


def _confirm(question: str) -> bool:
    """y/N on stdin (a terminal or a pipe); end of input is no."""
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    line = sys.stdin.readline()
    return line.strip().lower() in ("y", "yes")


def _repl(d: Deps, yes: bool) -> None:
    from orch.assist.chat import answer_text_only, choice, choose_agent, choose_model
    from orch.errors import OrchError

    config = d.project().config
    agent, model = choice(d.paths, config)
    d.console.note(
        f"orch chat with {agent}{':' + model if model else ''} — /help for commands, /quit to leave"
    )
    earlier: list[Exchange] = []
    while True:
        sys.stderr.write("orch> ")
        sys.stderr.flush()
        line = sys.stdin.readline()
        if not line:
            break
        text = line.strip()
        try:
            if text in ("/quit", "/exit"):
                break
            if text == "/help":
                d.console.out(HELP)
            elif text.split(" ", 1)[0] in ("/agent", "/model"):
                verb, _, arg = text.partition(" ")
                if arg.strip():
                    pick = choose_agent if verb == "/agent" else choose_model
                    agent, model = pick(d.paths, config, arg.strip())
                else:
                    agent, model = choice(d.paths, config)
                d.console.out(f"{agent}:{model or 'default'}")
            elif text:
                exchange = _ask(d, text, earlier)
                earlier.append(exchange)
                d.console.out(answer_text_only(exchange.answer) or "(no text)")
                _act(d, exchange, yes=yes)
        except OrchError as exc:  # one bad line never ends the session
            d.console.out(f"orch: {exc.message}")
