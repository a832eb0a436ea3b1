"""Rejoin phase: `blocked` parents whose sub-issues are all done go back to `routed`.

A sub-issue names its parent with a `Parent: #N` line (orch.task.ops.parent_of). The
children of a parent are read only when the parent is blocked and has children at all.
"""

from __future__ import annotations

from orch import labels as L
from orch.status import Status
from orch.store.base import Issue
from orch.task.history import Task
from orch.task.ops import parent_of
from orch.tick.context import ProjectTick


def run(ctx: ProjectTick) -> None:
    blocked = ctx.tasks(Status.BLOCKED)
    if not blocked:
        return

    # Open children are in the snapshot; closed ones are done (or abandoned) children.
    open_children: dict[int, list[Issue]] = {}
    for issue in ctx.issues.values():
        parent = parent_of(issue)
        if parent is not None:
            open_children.setdefault(parent, []).append(issue)
    # Something must have moved for a parent to be ready: a child or the parent changed,
    # or an issue left the open set (a child closed). A quiet tick reads nothing here.
    vanished = bool(set(ctx.cache.entries) - set(ctx.issues)) or not ctx.cache.loaded
    closed: list[Issue] | None = None
    for task in blocked:
        children = open_children.get(task.number, [])
        if any(L.status_of(c.labels) is not Status.DONE for c in children):
            continue
        moved = task.number in ctx.changed or any(c.number in ctx.changed for c in children)
        if not (vanished or moved):
            continue
        if closed is None:
            closed = [i for i in ctx.store.list_issues(state="closed") if parent_of(i) is not None]
        mine = [i for i in closed if parent_of(i) == task.number]
        if not children and not mine:
            continue  # blocked for another reason (a dependency, a missing tool)
        count = len(children) + len(mine)
        ctx.each([task], lambda t: _rejoin(ctx, t, count))  # noqa: B023 - called at once


def _rejoin(ctx: ProjectTick, task: Task, count: int) -> None:
    ctx.move(
        task,
        Status.ROUTED,
        action="rejoin",
        trigger="rejoin",
        reason=f"all {count} sub-issues are done",
        detail=f"all {count} sub-issues done: status routed",
    )
