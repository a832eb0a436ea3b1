"""Dispatch phase: start supervisors for `routed` tasks, oldest first (SPEC §5.7, §10).

While the supervisors running on this host (all projects together) are fewer than
`workflow.max_parallel`: skip a task someone else holds a live claim on, claim it with an
`orch:claim` comment (earliest live claim wins), then start `orch task run N` in its own
session. The tick never waits for it (except `--wait`); the supervisor sets
`in_progress`, runs the agent and publishes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from orch.agents.probe import cannot_run
from orch.errors import OrchError, os_reason
from orch.io.proc import pid_alive
from orch.run.spawn import spawn_task, task_argv
from orch.status import Status
from orch.store.base import Comment
from orch.task import budget
from orch.task.budget import task_budget_reason
from orch.task.history import History, Task
from orch.tick.claim import Claim, live_claims, setup_retry_at, try_claim
from orch.tick.context import ProjectTick
from orch.tick.supervisors import running, running_tasks


def run(ctx: ProjectTick) -> None:
    # A routed task whose supervisor is alive here is being prepared (it shows in_progress
    # only once its setup is done): nothing to dispatch, nothing to wait for.
    routed = [
        t
        for t in ctx.tasks(Status.ROUTED)
        if not t.no_agent and running(ctx.deps.paths, ctx.repo, t.number) is None
    ]
    if not routed:
        return
    if _daily_budget_reached(ctx, len(routed)):
        return
    limit = ctx.project.config.workflow.max_parallel
    for task in routed:
        busy = _busy(ctx)
        if busy >= limit:
            ctx.act(
                "wait", task.number, f"{busy} of max_parallel {limit} agents running on this host"
            )
            return
        ctx.each([task], lambda t: _dispatch(ctx, t))


def _daily_budget_reached(ctx: ProjectTick, waiting: int) -> bool:
    """`workflow.max_cost_per_day_usd` reached on this host (orch.task.budget): start nothing."""

    limit = ctx.project.config.workflow.max_cost_per_day_usd
    if limit is None:
        return False
    reason = budget.day_budget_reason(budget.spent_on(ctx.deps.paths, ctx.deps.clock.now()), limit)
    if reason is None:
        return False
    ctx.act("daily budget reached", None, f"{reason}; {waiting} routed task(s) wait")
    return True


def _over_task_budget(ctx: ProjectTick, task: Task, comments: tuple[Comment, ...]) -> bool:
    """`workflow.max_cost_per_task_usd` reached: the task goes to needs_review."""

    reason = task_budget_reason(
        History.from_comments(comments, ctx.orch_logins).cost_usd,
        ctx.project.config.workflow.max_cost_per_task_usd,
    )
    if reason is None:
        return False
    _cannot_dispatch(ctx, task, reason)
    return True


def _cannot_dispatch(ctx: ProjectTick, task: Task, reason: str) -> None:
    """needs_review: this task cannot be dispatched (a dry run only says so)."""
    if ctx.dry_run:
        ctx.act(ctx.would("mark needs_review"), task.number, reason)
        return
    ctx.move(
        task,
        Status.NEEDS_REVIEW,
        action="mark needs_review",
        trigger="dispatch_failed",
        reason=reason,
    )
    ctx.forget_comments(task.number)


def _busy(ctx: ProjectTick) -> int:
    """Supervisors alive on this host, plus those this tick started that have no sidecar yet."""

    alive = running_tasks(ctx.deps.paths)
    for started in ctx.shared.started:
        if (started.project, started.task) not in alive and started.process.poll() is None:
            alive.add((started.project, started.task))
    return len(alive) + ctx.shared.dispatched_dry


busy = _busy  # the review phase's reviewers count against max_parallel too


def _others(ctx: ProjectTick, comments: tuple[Comment, ...], now: datetime) -> list[Claim]:
    """Live claims of other ticks (only orch's own claim markers count)."""
    return [c for c in live_claims(comments, now, ctx.orch_logins) if c.run_id != ctx.shared.run_id]


def _dispatch(ctx: ProjectTick, task: Task) -> None:
    now = ctx.deps.clock.now()
    comments = ctx.comments_for(task.number)
    # The task's own budget first: a task over it needs a human whichever agent runs it.
    if ctx.project.config.workflow.max_cost_per_task_usd is not None and _over_task_budget(
        ctx, task, comments
    ):
        return
    if _cannot_run(ctx, task):
        return
    retry_at = setup_retry_at(comments, ctx.orch_logins)
    if retry_at is not None and now < retry_at:
        ctx.act(
            "wait",
            task.number,
            f"could not be prepared on a host; retrying after {retry_at:%H:%M:%S}",
        )
        return
    others = _others(ctx, comments, now)
    stale = [c for c in others if _abandoned(ctx, task.number, c)]
    if stale and not ctx.dry_run:
        for claim in stale:
            ctx.store.delete_comment(claim.comment_id)
        ctx.act(
            "dropped claims",
            task.number,
            f"{len(stale)} left by a tick on this host that died before starting a supervisor",
        )
        ctx.forget_comments(task.number)
        comments = ctx.comments_for(task.number)
        others = _others(ctx, comments, now)
    if others:
        ctx.act(
            "skip", task.number, f"claimed by {others[0].host} until {others[0].until:%H:%M:%S}"
        )
        return
    if ctx.dry_run:
        ctx.act("would dispatch", task.number, f"agent {task.agent or '(router default)'}")
        ctx.shared.dispatched_dry += 1
        return
    try:
        log_path = _supervisor_log(ctx, task.number)
    except OSError as exc:
        # Disk full, permission denied, a file where a folder belongs: claim nothing, say so.
        ctx.act("error", task.number, f"cannot start a supervisor here: {os_reason(exc)}")
        return
    if not try_claim(
        ctx.store, task.number, ctx.shared.host, ctx.shared.run_id, now, ctx.orch_logins
    ):
        ctx.forget_comments(task.number)
        ctx.act("skip", task.number, "another dispatcher claimed it first")
        return
    argv = task_argv(ctx.deps, ctx.project, "run", task.number, supervisor=True)
    child = spawn_task(ctx.deps, ctx.project, task.number, argv, log_path)
    ctx.track(task.number, child)
    ctx.forget_comments(task.number)
    ctx.act(
        "dispatched",
        task.number,
        f"supervisor pid {child.pid}, agent {task.agent or '-'}",
    )


def _cannot_run(ctx: ProjectTick, task: Task) -> bool:
    """An agent that is not configured, or not installed on this host, is never dispatched:
    the task goes to needs_review once, with a note saying why (orch.agents.probe)."""

    config = ctx.project.config
    agent = task.agent or config.default_agent()
    problem = (
        cannot_run(config, agent)
        if agent
        else OrchError("no agent is configured; add one under `agents:` in .orch.yml")
    )
    if problem is None:
        return False
    _cannot_dispatch(ctx, task, problem.message)
    return True


def _abandoned(ctx: ProjectTick, number: int, claim: Claim) -> bool:
    """A claim by a dead tick of this host whose task has no supervisor here: the tick was
    killed between claiming and starting (ticks on one host never overlap: tick.lock)."""

    if claim.host != ctx.shared.host or claim.pid is None or pid_alive(claim.pid):
        return False
    return running(ctx.deps.paths, ctx.repo, number) is None


def _supervisor_log(ctx: ProjectTick, number: int) -> Path:
    """The supervisor's log file, made before anything is claimed (it may not be makeable)."""
    task_dir = ctx.deps.paths.task_dir(ctx.repo, number)
    task_dir.mkdir(parents=True, exist_ok=True)
    log_path = task_dir / "supervisor.log"
    log_path.touch()
    return log_path
