"""`orch task run|kill|live|logs|attach|cost`."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from orch.commands._common import DryRunOpt, JsonOpt, deps, task_id
from orch.commands.task._app import app

if TYPE_CHECKING:
    from orch.deps import Deps


@app.command("run")
def run(
    ctx: typer.Context,
    number: Annotated[
        int | None,
        typer.Argument(
            parser=task_id, metavar="ID", help="Task id (default: the next routed/new task)."
        ),
    ] = None,
    detach: Annotated[
        bool,
        typer.Option("--detach", help="Start a supervisor in the background and return at once."),
    ] = False,
    agent: Annotated[
        str | None, typer.Option("--agent", help="Run with this agent instead of the task's.")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Run with this model instead of the mapped one.")
    ] = None,
    publish_only: Annotated[
        bool,
        typer.Option(
            "--publish-only",
            help="Only finish publishing an attempt that ran but was not published.",
        ),
    ] = False,
    exit_status: Annotated[
        bool,
        typer.Option(
            "--exit-status",
            help="Exit 1 when the task ends in needs_review or blocked (for CI; like gh run watch).",
        ),
    ] = False,
    supervisor: Annotated[
        bool,
        typer.Option(
            "--supervisor",
            hidden=True,
            help="Run as a detached supervisor (tick dispatch, --detach): a task that cannot "
            "start goes to needs_review, or stays routed with a note for a host problem.",
        ),
    ] = False,
    dry_run: DryRunOpt = False,
    json: JsonOpt = False,
) -> None:
    """Run one task: worktree, agent, then commit, push, PR and result comment."""
    from orch.output import emit_json
    from orch.run.runner import RunOptions, run_task, start_detached

    d = deps(ctx)
    project = d.project()
    options = RunOptions(
        number=number, agent=agent, model=model, publish_only=publish_only, detached=supervisor
    )
    if dry_run:
        for line in _dry_run_lines(d, project, options):
            d.console.would(line)
        if json:
            emit_json({"run": None})
        return
    if detach:
        result = start_detached(d, project, options)
    else:
        progress = _ProgressLine(d.console.quiet or json or not sys.stderr.isatty())
        try:
            result = run_task(d, project, options, on_progress=progress.show)
        finally:
            progress.clear()
    if json:
        emit_json({"run": result.to_json()})
    else:
        d.console.out(result.line())
    if result.pr_url:
        d.console.note(f"pull request: {result.pr_url}")
    if exit_status and result.status in ("needs_review", "blocked"):
        raise typer.Exit(1)


def _dry_run_lines(d: object, project: object, options: object) -> list[str]:
    from orch.run.runner import describe_run

    return describe_run(d, project, options)  # type: ignore[arg-type]


class _ProgressLine:
    """A live `[mm:ss] agent · last activity` line on stderr (TTY only)."""

    def __init__(self, silent: bool) -> None:
        self.silent = silent
        self.shown = False

    def show(self, progress: object) -> None:
        if self.silent:
            return
        from orch.clock import format_duration

        elapsed = format_duration(getattr(progress, "elapsed", 0.0))
        last = getattr(progress, "last_line", "") or "waiting for output"
        width = max(20, os.get_terminal_size(sys.stderr.fileno()).columns - 1)
        text = f"[{elapsed}] {last}"[:width]
        sys.stderr.write("\r\x1b[2K" + text)
        sys.stderr.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[2K")
            sys.stderr.flush()


@app.command("kill")
def kill(
    ctx: typer.Context,
    number: Annotated[
        int,
        typer.Argument(
            parser=task_id, metavar="ID", help="Task id (N, or iN for an internal task)."
        ),
    ],
    dry_run: DryRunOpt = False,
) -> None:
    """Stop a running task's agent; the task goes to needs_review ("stopped by owner")."""
    from orch.run.view import kill as kill_task
    from orch.task.attempt import read_sidecar

    d = deps(ctx)
    project = d.project()
    if dry_run:
        data = read_sidecar(d.paths, project.repo, number)
        d.console.out(
            f"would: stop task #{number} (supervisor pid {data.get('supervisor_pid')}, "
            f"agent pid {data.get('agent_pid')})"
        )
        return
    result = kill_task(d.paths, d.clock, project.repo, number)
    state = "stopped" if result.stopped else "stop requested"
    d.console.out(f"#{number} {state}")


LIVE_HEADER = ["task", "agent", "model", "attempt", "elapsed", "pid"]


@app.command("live")
def live(
    ctx: typer.Context,
    json: JsonOpt = False,
    watch: Annotated[
        bool,
        typer.Option("--watch", help="Refresh in place until no task is running (Ctrl-C stops)."),
    ] = False,
    interval: Annotated[
        float, typer.Option("--interval", metavar="SECONDS", help="Seconds between refreshes.")
    ] = 2.0,
) -> None:
    """Running supervisors on this host: task, agent, model, elapsed, pid."""
    from orch.errors import UsageError
    from orch.output import emit_json
    from orch.run.view import live as live_tasks

    d = deps(ctx)
    if watch:
        if json:
            raise UsageError("--watch refreshes a table; use --json without it")
        _watch(d, max(interval, 0.2))
        return
    found = live_tasks(d.paths, d.clock)
    if json:
        emit_json({"live": [t.to_json() for t in found]})
        return
    d.console.table(_live_rows(found), header=LIVE_HEADER)
    if not found:
        d.console.note("no task is running on this host")


def _live_rows(found: list) -> list[list[str]]:  # type: ignore[type-arg]
    from orch.clock import format_duration

    return [
        [
            f"{t.repo}#{t.number}",
            t.agent or "?",
            t.model or "default",
            f"attempt {t.attempt}" if t.attempt else "-",
            format_duration(t.elapsed_s) if t.elapsed_s is not None else "-",
            f"pid {t.pid}",
        ]
        for t in found
    ]


def _watch(d: Deps, interval: float) -> None:
    """Like `gh run watch`: on a terminal one table redrawn in place; in a pipe the rows
    again each time the set of running tasks changes. Ends when none is left."""
    from orch.run.view import live as live_tasks

    if not sys.stdout.isatty():
        shown: tuple[tuple[str, int], ...] | None = None
        while True:
            found = live_tasks(d.paths, d.clock)
            keys = tuple((t.repo, t.number) for t in found)
            if keys != shown:
                shown = keys
                d.console.table(_live_rows(found), header=LIVE_HEADER)
                d.console.note(
                    f"{len(found)} task(s) running" if found else "no task is running on this host"
                )
            if not found:
                return
            d.clock.sleep(interval)
    from rich.live import Live

    from orch.output import rich_table, terminal

    with Live(console=terminal(), auto_refresh=False) as screen:
        while True:
            found = live_tasks(d.paths, d.clock)
            screen.update(
                rich_table(
                    _live_rows(found) or [["no task is running on this host"]],
                    LIVE_HEADER if found else None,
                ),
                refresh=True,
            )
            if not found:
                return
            d.clock.sleep(interval)


@app.command("logs")
def logs(
    ctx: typer.Context,
    number: Annotated[
        int,
        typer.Argument(
            parser=task_id, metavar="ID", help="Task id (N, or iN for an internal task)."
        ),
    ],
    follow: Annotated[
        bool, typer.Option("-f", "--follow", help="Keep printing while the agent runs.")
    ] = False,
    attempt: Annotated[
        int | None, typer.Option("--attempt", help="Attempt K (default: the latest).")
    ] = None,
) -> None:
    """The agent's output as readable lines: tool calls, messages, final result."""
    from orch.run.view import find_attempt, log_lines, supervisor_alive
    from orch.run.view import follow as follow_log
    from orch.task.attempt import read_sidecar

    d = deps(ctx)
    project = d.project()
    adir = find_attempt(d.paths, project.repo, number, attempt)
    if follow:

        def running() -> bool:
            data = read_sidecar(d.paths, project.repo, number)
            return supervisor_alive(data) and data.get("attempt_dir") == str(adir.path)

        for line in follow_log(adir, d.clock, running):
            d.console.out(line)
            sys.stdout.flush()
        return
    for line in log_lines(adir):
        d.console.out(line)


@app.command("attach")
def attach(
    ctx: typer.Context,
    number: Annotated[
        int,
        typer.Argument(
            parser=task_id, metavar="ID", help="Task id (N, or iN for an internal task)."
        ),
    ],
) -> None:
    """Attach to the tmux session of a running task (needs workflow.use_tmux)."""
    from orch.run.view import tmux_target

    d = deps(ctx)
    project = d.project()
    session = tmux_target(d.paths, project.repo, number, project.config.workflow.use_tmux)
    os.execvp("tmux", ["tmux", "attach-session", "-t", f"={session}"])


@app.command("cost")
def cost(
    ctx: typer.Context,
    number: Annotated[
        int | None,
        typer.Argument(parser=task_id, metavar="ID", help="Task id (default: every open task)."),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Tokens and cost per attempt and in total, from the result comments."""
    from orch.output import emit_json
    from orch.run.view import costs

    d = deps(ctx)
    rows = costs(
        d.store(),
        [number] if number is not None else None,
        d.project().config.workflow.orch_logins,
    )
    total_in = sum(r.tokens_in for r in rows)
    total_out = sum(r.tokens_out for r in rows)
    total_cost = round(sum(r.cost_usd for r in rows), 6)
    if json:
        emit_json(
            {
                "attempts": [r.to_json() for r in rows],
                "total": {"tokens_in": total_in, "tokens_out": total_out, "cost_usd": total_cost},
            }
        )
        return
    lines = [
        [
            f"#{r.number}",
            f"attempt {r.attempt}",
            r.agent,
            r.model or "default",
            f"{r.tokens_in} in",
            f"{r.tokens_out} out",
            f"${r.cost_usd:.4f}",
        ]
        for r in rows
    ]
    lines.append(["total", "", "", "", f"{total_in} in", f"{total_out} out", f"${total_cost:.4f}"])
    d.console.table(
        lines, header=["task", "attempt", "agent", "model", "tokens in", "tokens out", "cost"]
    )
