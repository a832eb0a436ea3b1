"""One pass over every registered project: snapshot, repair, owner commands, PR feedback,
mentions, reap, intake, route, dispatch, review, merge watch, rejoin, jobs."""

from __future__ import annotations

from typing import Annotated

import typer

from orch.commands._common import DryRunOpt, JsonOpt, deps


def command(
    ctx: typer.Context,
    dry_run: DryRunOpt = False,
    json: JsonOpt = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="Wait for the supervisors this tick starts to finish and publish (for CI).",
        ),
    ] = False,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            metavar="PHASE",
            help="Run only this phase (repeatable); the snapshot always runs.",
        ),
    ] = None,
) -> None:
    """One pass over every registered project (SPEC §5); exit 0 when another tick is running."""
    from orch.actions import Action
    from orch.errors import EXIT_AUTH, EXIT_FAILED, OrchError
    from orch.output import emit_json_line
    from orch.tick import TickOptions, run_tick

    d = deps(ctx)
    options = TickOptions(dry_run=dry_run, wait=wait, only=tuple(only or ()))

    def show(action: Action) -> None:
        if json:
            emit_json_line(action.to_json())
        elif action.action != "wait" or d.console.verbose:
            # A tick from cron that did nothing prints nothing (cron mails any output).
            d.console.out(action.line())

    report = run_tick(d, options, show)
    if not report.ran:
        holder = f" ({report.holder})" if report.holder else ""
        d.console.note(f"orch: another tick is running{holder}; nothing to do")
        return
    for repo, task, code in report.waited:
        d.console.note(f"orch: {repo} #{task}: supervisor exited {code}")
    if not report.actions:
        d.console.debug(f"nothing to do ({', '.join(report.projects) or 'no projects'})")
    if report.errors:
        raise OrchError(
            f"tick finished with {report.errors} error(s); see above and `orch log`",
            exit_code=EXIT_AUTH if report.auth_failed else EXIT_FAILED,
        )
