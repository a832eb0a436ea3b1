"""Reap phase (SPEC §5.4): `in_progress` tasks whose supervisor is gone or stuck.

- Supervisor alive (pid and start time match, or the task lock is held): leave it, unless
  its agent has been silent past `idle_timeout_seconds` plus a grace period (the
  supervisor's own idle timer should have fired): ask it to stop; it publishes `stuck`.
- Supervisor gone and an attempt is not fully published: publish it now (commit, push,
  PR, comment, labels) under the task lock.
- Supervisor gone and nothing to publish: back to `routed` if attempts remain, else
  `needs_review`. Without any local trace (another host, or the state dir was deleted)
  the task is left alone while another host's claim is live, and requeued once it has
  been quiet for `stuck_timeout_seconds`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from orch.errors import TaskLocked
from orch.io.locks import TaskLock
from orch.run.pending import publish_pending, unpublished
from orch.run.supervisor import request_stop
from orch.status import Status
from orch.task.attempt import AttemptDir, forget_processes, read_sidecar
from orch.task.history import History, Task
from orch.tick.claim import live_claims
from orch.tick.context import ProjectTick
from orch.tick.supervisors import is_alive

IDLE_GRACE = timedelta(seconds=60)


def run(ctx: ProjectTick) -> None:
    ctx.each(ctx.tasks(Status.IN_PROGRESS), lambda task: _reap(ctx, task))


def _reap(ctx: ProjectTick, task: Task) -> None:

    paths, number = ctx.deps.paths, task.number
    sidecar = read_sidecar(paths, ctx.repo, number)
    if is_alive(sidecar):
        _check_idle(ctx, task, sidecar)
        return
    lock = TaskLock(paths, ctx.repo, number)
    try:
        lock.acquire()
    except TaskLocked:
        return  # a supervisor on this host holds it (its sidecar is being written)
    try:
        _dead(ctx, task, sidecar)
    finally:
        lock.release()


def _check_idle(ctx: ProjectTick, task: Task, sidecar: dict[str, object]) -> None:

    where = sidecar.get("attempt_dir")
    if not isinstance(where, str):
        return
    adir = AttemptDir(Path(where))
    mtimes = [p.stat().st_mtime for p in (adir.stdout, adir.stderr, adir.meta) if p.exists()]
    if not mtimes:
        return
    idle = ctx.deps.clock.now().timestamp() - max(mtimes)
    limit = ctx.project.config.workflow.idle_timeout_seconds + IDLE_GRACE.total_seconds()
    if idle < limit:
        return
    if ctx.dry_run:
        ctx.act("would stop", task.number, f"agent silent for {idle:.0f}s: stuck")
        return

    request_stop(adir, f"stuck: no output for {idle:.0f}s")
    ctx.act("stopped", task.number, f"agent silent for {idle:.0f}s: stuck")


def _dead(ctx: ProjectTick, task: Task, sidecar: dict[str, object]) -> None:

    number = task.number
    pending = unpublished(ctx.deps, ctx.project, number)
    if pending is not None:
        if ctx.dry_run:
            ctx.act("would publish", number, f"attempt {pending.number} left unpublished")
            return
        result = publish_pending(ctx.deps, ctx.project, ctx.store, pending)
        ctx.forget_comments(number)
        ctx.refresh(ctx.store.get_issue(number))
        ctx.act(
            "published",
            number,
            f"attempt {result.attempt}: {result.status}"
            + (f" ({result.error_class})" if result.error_class else ""),
        )
        return
    # A supervisor pid still recorded means one ran here and died without cleaning up.
    local_trace = bool(sidecar.get("supervisor_pid"))
    if not local_trace and not _quiet_too_long(ctx, task):
        return
    comments = ctx.comments_for(number)
    if not local_trace:
        claims = live_claims(comments, ctx.deps.clock.now(), ctx.orch_logins)
        if claims and claims[0].host != ctx.shared.host:
            return  # another host dispatched it and its lease is live
    history = History.from_comments(comments, ctx.orch_logins)
    limit = ctx.project.config.workflow.max_attempts
    target = Status.ROUTED if history.attempts < limit else Status.NEEDS_REVIEW
    why = "its supervisor is gone" if local_trace else "no supervisor and no activity"
    reason = f"{why}; attempt {history.attempts} of {limit}"
    action = "requeue" if target is Status.ROUTED else "mark needs_review"
    ctx.move(task, target, action=action, trigger="reap", reason=reason)
    if not ctx.dry_run and local_trace:
        forget_processes(ctx.deps.paths, ctx.repo, number, ("supervisor",))


def _quiet_too_long(ctx: ProjectTick, task: Task) -> bool:
    quiet = ctx.deps.clock.now() - task.issue.updated_at
    return quiet.total_seconds() >= ctx.project.config.workflow.stuck_timeout_seconds
