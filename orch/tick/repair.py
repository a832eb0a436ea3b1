"""Repair phase: tasks with zero or several status labels get exactly one (SPEC §2.1).

The target comes from the task's last orch marker (orch.task.history.repair_target); the fix is
one label write (orch.task.history.repair).
"""

from __future__ import annotations

from orch import labels as L
from orch.task.history import Task, repair, repair_target
from orch.tick.context import ProjectTick


def run(ctx: ProjectTick) -> None:
    broken = [t for t in ctx.tasks() if len(L.statuses_in(t.labels)) != 1]
    ctx.each(broken, lambda task: _repair(ctx, task))


def _repair(ctx: ProjectTick, task: Task) -> None:
    comments = ctx.comments_for(task.number)
    target = repair_target(task.issue, comments, ctx.orch_logins)
    if target is None:
        return
    found = ", ".join(s.value for s in L.statuses_in(task.labels)) or "none"
    ctx.act(ctx.would("repair"), task.number, f"status labels [{found}] -> {target.value}")
    fixed = repair(ctx.store, task.issue, comments, ctx.orch_logins)
    if fixed is not None:
        ctx.refresh(fixed)
