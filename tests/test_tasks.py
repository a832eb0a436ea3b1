"""The task layer over a real LocalStore: one-write status changes, dedup, history, repair."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orch.errors import InvalidTransition
from orch.status import Status
from orch.store.local import LocalStore
from orch.task import markers
from orch.task.history import (
    History,
    Task,
    new_task_labels,
    planned_labels,
    post_marker,
    repair,
    repair_target,
    set_status,
)

ORCH = markers.orch_logins("owner")  # the fixture store writes as "owner"


class StepClock:
    """A clock that moves one second per reading."""

    def __init__(self) -> None:
        self.t = datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        self.t += timedelta(seconds=1)
        return self.t

    def monotonic(self) -> float:
        return self.t.timestamp()

    def sleep(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


class CountingStore(LocalStore):
    """A LocalStore that counts label writes (the effect under test is 'one write')."""

    label_writes = 0

    def set_labels(self, number, labels):  # type: ignore[no-untyped-def]
        self.label_writes += 1
        return super().set_labels(number, labels)


@pytest.fixture
def store(tmp_path: Path) -> CountingStore:
    return CountingStore(tmp_path / "local", "acme/widgets", StepClock(), user="owner")


def test_new_task_labels() -> None:
    assert new_task_labels(["bug"], agent="codex", complexity="simple") == [
        "agent:codex",
        "bug",
        "complexity:simple",
        "status:new",
    ]
    assert new_task_labels([], no_agent=True) == ["no-agent", "status:new"]


def test_planned_labels_replace_families_and_keep_others() -> None:
    current = ["bug", "status:routed", "agent:claude", "model:opus"]
    assert planned_labels(current, Status.IN_PROGRESS, model="gpt-5.2", agent="codex") == [
        "agent:codex",
        "bug",
        "model:gpt-5.2",
        "status:in_progress",
    ]
    assert planned_labels(current, Status.NEW, agent=None) == ["bug", "model:opus", "status:new"]


def test_set_status_is_one_label_write(store: CountingStore) -> None:
    issue = store.create_issue("Fix login", "", ["bug", "status:new"])
    updated = set_status(
        store, issue.number, Status.ROUTED, trigger="route", agent="codex", complexity="complex"
    )
    assert store.label_writes == 1
    assert updated.labels == ("agent:codex", "bug", "complexity:complex", "status:routed")
    assert store.get_issue(issue.number).labels == updated.labels


def test_set_status_refuses_forbidden_changes_and_writes_nothing(store: CountingStore) -> None:
    issue = store.create_issue("Fix", "", ["status:in_progress"])
    with pytest.raises(InvalidTransition):
        set_status(store, issue.number, Status.NEW, trigger="owner")
    assert store.label_writes == 0
    assert store.get_issue(issue.number).labels == ("status:in_progress",)


def test_set_status_without_change_writes_nothing(store: CountingStore) -> None:
    issue = store.create_issue("Fix", "", ["status:routed", "agent:codex"])
    set_status(store, issue.number, Status.ROUTED, trigger="route", agent="codex")
    assert store.label_writes == 0


def test_status_note_posts_a_status_marker(store: CountingStore) -> None:
    issue = store.create_issue("Fix", "", ["status:in_review"])
    set_status(
        store,
        issue.number,
        Status.NEEDS_REVIEW,
        trigger="pr_closed",
        reason="PR closed without merge",
        note=True,
    )
    [comment] = store.list_comments(issue.number)
    marker = markers.parse(comment.body)
    assert marker is not None and marker.kind == "status"
    assert marker.data == {
        "v": 1,
        "from": "in_review",
        "to": "needs_review",
        "reason": "PR closed without merge",
    }


def test_post_marker_dedupes_identical_content(store: CountingStore) -> None:
    issue = store.create_issue("Fix", "", ["status:new"])
    first = post_marker(store, issue.number, "route", {"agent": "codex"}, "routed")
    again = post_marker(store, issue.number, "route", {"agent": "codex"}, "routed")
    other = post_marker(store, issue.number, "route", {"agent": "claude"}, "routed")
    assert first is not None and again is None and other is not None
    assert len(store.list_comments(issue.number)) == 2


def _response(attempt: int, agent: str, **extra: object) -> str:
    return markers.render("agent-response", {"attempt": attempt, "agent": agent, **extra}, "x")


def test_history_from_markers(store: CountingStore) -> None:
    n = store.create_issue("Fix", "", ["status:new"]).number
    store.create_comment(n, "plain owner comment")
    store.create_comment(n, markers.render("route", {"agent": "claude", "failed": True}))
    store.create_comment(
        n,
        _response(
            1,
            "claude",
            cost_usd=0.5,
            tokens_in=10,
            tokens_out=3,
            error_class="usage_limit",
            learnings=["use make"],
        ),
    )
    store.create_comment(
        n,
        _response(
            2,
            "codex",
            cost_usd=0.25,
            tokens_in=5,
            tokens_out=2,
            blockers=["no db"],
            learnings=["use make", "db is pg"],
        ),
    )
    store.create_comment(n, markers.render("ack", {"comment_id": 42, "command": "context"}))
    history = History.from_comments(store.list_comments(n), ORCH)
    assert history.attempts == 2
    assert history.tried_agents == ["claude", "codex"]
    assert history.cost_usd == 0.75
    assert (history.tokens_in, history.tokens_out) == (15, 5)
    assert history.learnings == ["use make", "db is pg"]
    assert history.acked_comment_ids == {42}
    assert history.route_failures == 1
    assert history.blockers(2) == [(), ("no db",)]
    assert history.last_error is None  # the last attempt had no error


def test_retry_resets_attempts_and_unblock_clears_errors(store: CountingStore) -> None:
    n = store.create_issue("Fix", "", ["status:new"]).number
    store.create_comment(n, _response(1, "claude", error_class="timeout"))
    assert History.from_comments(store.list_comments(n), ORCH).last_error == "timeout"
    store.create_comment(n, markers.render("status", {"to": "new", "clear_errors": True}))
    history = History.from_comments(store.list_comments(n), ORCH)
    assert (history.attempts, history.last_error) == (1, None)
    store.create_comment(n, markers.render("status", {"to": "new", "reset": True}))
    assert History.from_comments(store.list_comments(n), ORCH).attempts == 0


def test_repair_from_last_marker(store: CountingStore) -> None:
    issue = store.create_issue("Fix", "", ["status:new", "status:in_review", "bug"])
    store.create_comment(issue.number, markers.render("status", {"from": "new", "to": "routed"}))
    comments = store.list_comments(issue.number)
    assert repair_target(issue, comments, ORCH) is Status.ROUTED
    fixed = repair(store, issue, comments, ORCH)
    assert fixed is not None and fixed.labels == ("bug", "status:routed")
    assert store.label_writes == 1


def test_repair_without_markers_picks_most_advanced_label(store: CountingStore) -> None:
    issue = store.create_issue("Fix", "", ["status:new", "status:in_review"])
    assert repair_target(issue, [], ORCH) is Status.IN_REVIEW
    healthy = store.create_issue("Ok", "", ["status:new"])
    assert repair(store, healthy, [], ORCH) is None


def test_task_view(store: CountingStore) -> None:
    issue = store.create_issue(
        "Fix", "", ["status:routed", "agent:codex", "complexity:simple", "model:gpt-5.2", "plan"]
    )
    task = Task.from_issue(issue)
    assert (task.status, task.agent, task.complexity, task.model, task.plan, task.no_agent) == (
        Status.ROUTED,
        "codex",
        "simple",
        "gpt-5.2",
        True,
        False,
    )
    broken = Task.from_issue(store.create_issue("Two", "", ["status:new", "status:done"]))
    assert broken.status is None and broken.is_task
