"""One pass over every registered project: snapshot, repair, owner commands, PR feedback,
mentions, reap, intake, route, dispatch, review, merge watch, rejoin, jobs."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from orch.commands._common import DryRunOpt, JsonOpt, deps

if TYPE_CHECKING:
    from orch.output import Console
    from orch.tick.waiting import Ended, WaitEvent

LIVE_HEARTBEAT = 1.0  # the live line on a terminal is redrawn this often
PIPE_HEARTBEAT = 15.0  # in a pipe, a "waiting for" line at least this often


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
    """One pass over every registered project (SPEC §5); exit 0 when another tick is running,
    2 when a registered project's configuration is invalid (the others are ticked)."""
    from orch.actions import Action
    from orch.errors import EXIT_AUTH, EXIT_FAILED, EXIT_USAGE, OrchError
    from orch.output import emit_json
    from orch.tick import TickOptions, run_tick

    d = deps(ctx)
    narrator = WaitNarrator(d.console, live=sys.stderr.isatty())
    options = TickOptions(
        dry_run=dry_run, wait=wait, only=tuple(only or ()), wait_heartbeat=narrator.heartbeat
    )

    def show(action: Action) -> None:
        if json:
            return  # the whole tick is one document, written at the end
        if action.action != "wait" or d.console.verbose:
            # A tick from cron that did nothing prints nothing (cron mails any output).
            d.console.out(action.line())

    try:
        report = run_tick(d, options, show, narrator.event)
    finally:
        narrator.clear()
    if json:
        emit_json(report.to_json())
    if not report.ran:
        holder = f" ({report.holder})" if report.holder else ""
        d.console.note(f"orch: another tick is running{holder}; nothing to do")
        return
    for end in report.ended:
        d.console.note(summary_line(end))
    if not report.actions:
        d.console.debug(f"nothing to do ({', '.join(report.projects) or 'no projects'})")
    if report.config_errors:
        # A timer must not report success while a project is silently skipped.
        others = f"; {report.errors} other error(s), see `orch log`" if report.errors else ""
        raise OrchError(
            f"{report.config_errors} registered project(s) skipped: invalid configuration "
            f"(see above); the others were ticked{others}",
            exit_code=EXIT_USAGE,
        )
    if report.errors:
        raise OrchError(
            f"tick finished with {report.errors} error(s); see above and `orch log`",
            exit_code=EXIT_AUTH if report.auth_failed else EXIT_FAILED,
        )


class WaitNarrator:
    """`tick --wait` on stderr: a live line redrawn in place on a terminal; in a pipe a
    line per event and one every 15 s naming the tasks still running."""

    def __init__(self, console: Console, *, live: bool) -> None:
        self.console = console
        self.live = live and not console.quiet
        self.heartbeat = LIVE_HEARTBEAT if self.live else PIPE_HEARTBEAT
        self.shown = False

    def event(self, event: WaitEvent) -> None:
        if self.console.quiet:
            return
        if event.kind == "exited":
            self.clear()
            self.console.note(f"orch: {event.repo}#{event.task}: supervisor exited {event.code}")
        if not event.running:
            return
        from orch.clock import format_duration

        waiting = "orch: waiting for " + ", ".join(
            f"{r.repo}#{r.task} ({format_duration(r.seconds)})" for r in event.running
        )
        if self.live:
            sys.stderr.write("\r\x1b[K" + waiting)
            sys.stderr.flush()
            self.shown = True
        elif event.kind == "waiting":
            self.console.note(waiting)

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.shown = False


def summary_line(end: Ended) -> str:
    """One line per task `tick --wait` ran: how it ended."""
    status = end.status or "unknown"
    line = f"orch: {end.repo}#{end.task}: {status}"
    if end.reason:
        line += f" ({end.reason})"
    if end.code:
        line += f"; supervisor exit {end.code}"
    return line
