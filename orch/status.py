"""Task statuses and the transition table (SPEC §2.2): data in one place, one pure function.

Everything that changes a task's status asks `transition()` first, so a forbidden change
is refused the same way everywhere.
"""

from __future__ import annotations

from enum import StrEnum

from orch.errors import InvalidTransition


class Status(StrEnum):
    NEW = "new"
    ROUTED = "routed"
    IN_PROGRESS = "in_progress"
    IN_REVIEW = "in_review"
    NEEDS_REVIEW = "needs_review"
    BLOCKED = "blocked"
    DONE = "done"

    @property
    def label(self) -> str:
        return f"status:{self.value}"


ALL = tuple(Status)
_NOT_RUNNING = tuple(s for s in Status if s is not Status.IN_PROGRESS)

# (from, to) -> the triggers that may cause it. `None` as from = a task being created.
TRANSITIONS: dict[tuple[Status | None, Status], tuple[str, ...]] = {
    (None, Status.NEW): ("add", "job", "intake"),
    (Status.NEW, Status.ROUTED): ("route",),
    (Status.NEW, Status.NEEDS_REVIEW): ("route_failed",),
    (Status.ROUTED, Status.IN_PROGRESS): ("dispatch",),
    (Status.NEW, Status.IN_PROGRESS): ("dispatch",),
    (Status.IN_PROGRESS, Status.IN_REVIEW): ("result",),
    (Status.IN_PROGRESS, Status.ROUTED): ("result", "reroute", "reap"),
    (Status.IN_PROGRESS, Status.BLOCKED): ("result", "missing_tool", "worktree", "plan"),
    (Status.IN_PROGRESS, Status.NEW): ("reap",),
    (Status.IN_REVIEW, Status.DONE): ("merged",),
    (Status.IN_REVIEW, Status.ROUTED): ("review",),
    (Status.IN_REVIEW, Status.NEEDS_REVIEW): ("review", "pr_closed"),
    (Status.BLOCKED, Status.ROUTED): ("rejoin",),
    # A push the secret scan held, published once a human cleaned the branch (orch.run.publish).
    (Status.NEEDS_REVIEW, Status.IN_REVIEW): ("release",),
    (Status.NEEDS_REVIEW, Status.BLOCKED): ("release",),
    # A PR merged (or closed) while the task was not yet, or no longer, in review.
    (Status.ROUTED, Status.DONE): ("merged",),
    (Status.IN_PROGRESS, Status.DONE): ("merged",),
    (Status.IN_PROGRESS, Status.NEEDS_REVIEW): ("result", "failure", "reap", "owner", "pr_closed"),
}
# Owner commands move any task that is not running to new, routed or done.
for _src in _NOT_RUNNING:
    for _dst in (Status.NEW, Status.ROUTED, Status.DONE):
        if _src is not _dst:
            TRANSITIONS.setdefault((_src, _dst), ())
            TRANSITIONS[(_src, _dst)] = (*TRANSITIONS[(_src, _dst)], "owner")
    # Owner feedback re-opens finished or stuck tasks.
for _src in (Status.DONE, Status.IN_REVIEW, Status.NEEDS_REVIEW, Status.BLOCKED):
    TRANSITIONS[(_src, Status.ROUTED)] = tuple(
        dict.fromkeys((*TRANSITIONS.get((_src, Status.ROUTED), ()), "feedback"))
    )
# Routing or dispatch may find a task cannot run at all (no agent, missing tool).
TRANSITIONS.setdefault(
    (Status.ROUTED, Status.NEEDS_REVIEW), ("route_failed", "dispatch_failed", "pr_closed")
)
TRANSITIONS.setdefault((Status.ROUTED, Status.BLOCKED), ("missing_tool", "worktree"))
for _dst in (Status.DONE, Status.ROUTED):
    TRANSITIONS[(Status.NEEDS_REVIEW, _dst)] = (
        *TRANSITIONS[(Status.NEEDS_REVIEW, _dst)],
        "release",
    )
# ...checked before the task is marked in_progress, so a new task with an agent: label too.
TRANSITIONS.setdefault((Status.NEW, Status.BLOCKED), ("missing_tool", "worktree"))
# Repair gives a task with zero or several status labels the one its history names
# (orch.task.history.repair_target), whatever the labels were.
for _src in (None, *Status):
    for _dst in Status:
        if _src is not _dst:
            TRANSITIONS[(_src, _dst)] = (*TRANSITIONS.get((_src, _dst), ()), "repair")


def allowed(src: Status | None, dst: Status, trigger: str) -> bool:
    """True when `trigger` may move a task from `src` to `dst`. Staying put is always fine."""
    if src is dst:
        return True
    return trigger in TRANSITIONS.get((src, dst), ())


def transition(src: Status | None, dst: Status, trigger: str) -> Status:
    """Return `dst` when the table allows the change, else raise InvalidTransition."""
    if not allowed(src, dst, trigger):
        shown = src.value if src else "(none)"
        raise InvalidTransition(
            f"cannot move a task from {shown} to {dst.value} by {trigger}"
            + ("; it is running: use `orch task kill N` first" if src is Status.IN_PROGRESS else "")
        )
    return dst


def parse_status(text: str) -> Status:
    """`in_progress`, `in-progress` or `status:in_progress` → Status; ValueError otherwise."""
    value = text.strip().lower().removeprefix("status:").replace("-", "_")
    return Status(value)
