"""The transition table (SPEC §2.2), table-driven, forbidden pairs included."""

from __future__ import annotations

import pytest

from orch.errors import InvalidTransition
from orch.status import Status, allowed, parse_status, transition

S = Status

ALLOWED = [
    (None, S.NEW, "add"),
    (None, S.NEW, "job"),
    (None, S.NEW, "intake"),
    (S.NEW, S.ROUTED, "route"),
    (S.NEW, S.NEEDS_REVIEW, "route_failed"),
    (S.ROUTED, S.IN_PROGRESS, "dispatch"),
    (S.NEW, S.IN_PROGRESS, "dispatch"),
    (S.IN_PROGRESS, S.IN_REVIEW, "result"),
    (S.IN_PROGRESS, S.ROUTED, "result"),
    (S.IN_PROGRESS, S.ROUTED, "reroute"),
    (S.IN_PROGRESS, S.BLOCKED, "result"),
    (S.IN_PROGRESS, S.BLOCKED, "missing_tool"),
    (S.IN_PROGRESS, S.NEEDS_REVIEW, "failure"),
    (S.IN_PROGRESS, S.NEEDS_REVIEW, "owner"),  # /stop
    (S.IN_PROGRESS, S.NEW, "reap"),
    (S.IN_PROGRESS, S.ROUTED, "reap"),
    (S.IN_PROGRESS, S.NEEDS_REVIEW, "reap"),
    (S.IN_REVIEW, S.DONE, "merged"),
    (S.IN_REVIEW, S.ROUTED, "review"),
    (S.IN_REVIEW, S.NEEDS_REVIEW, "review"),
    (S.IN_REVIEW, S.NEEDS_REVIEW, "pr_closed"),
    (S.BLOCKED, S.ROUTED, "rejoin"),
    (S.DONE, S.ROUTED, "feedback"),
    (S.IN_REVIEW, S.ROUTED, "feedback"),
    (S.NEEDS_REVIEW, S.ROUTED, "feedback"),
    (S.BLOCKED, S.ROUTED, "feedback"),
    (S.NEEDS_REVIEW, S.NEW, "owner"),
    (S.DONE, S.NEW, "owner"),
    (S.BLOCKED, S.DONE, "owner"),
    (S.ROUTED, S.DONE, "owner"),
    (S.NEW, S.ROUTED, "owner"),
    (S.NEW, S.BLOCKED, "missing_tool"),  # checked before in_progress
    (S.ROUTED, S.BLOCKED, "worktree"),
    (S.ROUTED, S.ROUTED, "anything"),  # staying put is always fine
]

FORBIDDEN = [
    (S.IN_PROGRESS, S.NEW, "owner"),  # owner commands never touch a running task
    (S.IN_PROGRESS, S.ROUTED, "owner"),
    (S.IN_PROGRESS, S.DONE, "owner"),
    (S.IN_PROGRESS, S.DONE, "result"),  # an agent's "done" ships a PR or asks a human
    (S.IN_PROGRESS, S.IN_REVIEW, "owner"),
    (S.NEW, S.IN_REVIEW, "result"),  # only a running task has a result
    (S.NEW, S.DONE, "result"),
    (S.ROUTED, S.IN_REVIEW, "result"),
    (S.DONE, S.IN_PROGRESS, "dispatch"),  # finished tasks are not dispatched
    (S.IN_REVIEW, S.IN_PROGRESS, "dispatch"),
    (S.BLOCKED, S.IN_PROGRESS, "dispatch"),
    (S.NEEDS_REVIEW, S.IN_PROGRESS, "dispatch"),
    (S.NEW, S.ROUTED, "dispatch"),  # the wrong trigger for an allowed pair
    (S.IN_REVIEW, S.DONE, "result"),
    (S.DONE, S.ROUTED, "rejoin"),
    (None, S.ROUTED, "add"),
    (S.IN_PROGRESS, S.ROUTED, "feedback"),  # feedback waits until the run ends
]


@pytest.mark.parametrize(("src", "dst", "trigger"), ALLOWED)
def test_allowed(src: Status | None, dst: Status, trigger: str) -> None:
    assert allowed(src, dst, trigger)
    assert transition(src, dst, trigger) is dst


@pytest.mark.parametrize(("src", "dst", "trigger"), FORBIDDEN)
def test_forbidden(src: Status | None, dst: Status, trigger: str) -> None:
    assert not allowed(src, dst, trigger)
    with pytest.raises(InvalidTransition) as info:
        transition(src, dst, trigger)
    assert dst.value in str(info.value)


def test_running_task_message_says_what_to_do() -> None:
    with pytest.raises(InvalidTransition, match="orch task kill"):
        transition(S.IN_PROGRESS, S.NEW, "owner")


@pytest.mark.parametrize(
    ("text", "status"),
    [("in_progress", S.IN_PROGRESS), ("In-Progress", S.IN_PROGRESS), ("status:done", S.DONE)],
)
def test_parse_status(text: str, status: Status) -> None:
    assert parse_status(text) is status


def test_parse_status_rejects_unknown() -> None:
    with pytest.raises(ValueError):
        parse_status("finished")


def test_labels_are_status_prefixed() -> None:
    assert [s.label for s in Status] == [
        "status:new",
        "status:routed",
        "status:in_progress",
        "status:in_review",
        "status:needs_review",
        "status:blocked",
        "status:done",
    ]
