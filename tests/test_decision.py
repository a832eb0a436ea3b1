"""What an attempt's outcome does to the task (SPEC §6.4 effects), table-driven."""

from __future__ import annotations

from dataclasses import replace

import pytest

from orch.run.decision import Facts, decide, next_untried_agent
from orch.status import Status

DONE = {"status": "done", "summary": "ok", "reason": ""}
BASE = Facts(attempt=1, agent="claude", result=DONE, error_class=None, commits_ahead=1)

CASES = [
    ("done with commits", {}, Status.IN_REVIEW, "result", None, True),
    ("done without commits", {"commits_ahead": 0}, Status.NEEDS_REVIEW, "result", None, False),
    ("plan done with children", {"plan": True, "children": 2}, Status.BLOCKED, "plan", None, False),
    ("in_progress", {"result": {"status": "in_progress"}}, Status.ROUTED, "result", None, False),
    (
        "blocked",
        {"result": {"status": "blocked", "blockers": ["no db"]}},
        Status.BLOCKED,
        "result",
        None,
        False,
    ),
    (
        "needs_review",
        {"result": {"status": "needs_review", "reason": "?"}},
        Status.NEEDS_REVIEW,
        "result",
        None,
        False,
    ),
    ("no result", {"result": None}, Status.NEEDS_REVIEW, "failure", "no_result", False),
    ("timeout", {"timed_out": True}, Status.NEEDS_REVIEW, "failure", "timeout", False),
    ("idle", {"idle_killed": True}, Status.NEEDS_REVIEW, "failure", "stuck", False),
    (
        "failed",
        {"error_class": "failed", "result": None},
        Status.NEEDS_REVIEW,
        "failure",
        "failed",
        False,
    ),
    (
        "missing tool",
        {"error_class": "missing_tool", "error_detail": "bun"},
        Status.NEEDS_REVIEW,
        "failure",
        "missing_tool",
        False,
    ),
    (
        "rate limit",
        {"error_class": "rate_limit", "result": None},
        Status.ROUTED,
        "result",
        "rate_limit",
        False,
    ),
    (
        "overloaded",
        {"error_class": "overloaded", "result": None},
        Status.ROUTED,
        "result",
        "overloaded",
        False,
    ),
    (
        "usage limit, next agent",
        {"error_class": "usage_limit", "next_agent": "codex"},
        Status.ROUTED,
        "reroute",
        "usage_limit",
        False,
    ),
    (
        "usage limit, none left",
        {"error_class": "usage_limit"},
        Status.NEEDS_REVIEW,
        "failure",
        "usage_limit",
        False,
    ),
    (
        "auth, next agent",
        {"error_class": "auth", "next_agent": "opencode"},
        Status.ROUTED,
        "reroute",
        "auth",
        False,
    ),
    (
        "stopped",
        {"stopped": True, "stop_reason": "stopped by owner", "timed_out": True},
        Status.NEEDS_REVIEW,
        "failure",
        None,
        False,
    ),
]


@pytest.mark.parametrize(
    ("name", "changes", "status", "trigger", "error", "wants_pr"), CASES, ids=[c[0] for c in CASES]
)
def test_decide(
    name: str, changes: dict, status: Status, trigger: str, error: str | None, wants_pr: bool
) -> None:
    decision = decide(replace(BASE, **changes))
    assert (decision.status, decision.trigger, decision.error_class, decision.wants_pr) == (
        status,
        trigger,
        error,
        wants_pr,
    )


def test_cooldown_classes_cool_down_and_reroute() -> None:
    decision = decide(replace(BASE, error_class="usage_limit", next_agent="codex", result=None))
    assert decision.cooldown and decision.reroute_to == "codex"
    assert decision.reason == "claude: usage_limit; rerouted to codex"


def test_retry_loop_after_three_identical_blockers() -> None:
    blocked = {"status": "blocked", "blockers": ["db down"]}
    facts = replace(BASE, result=blocked, previous_blockers=[("db down",), ("db down",)])
    decision = decide(facts)
    assert decision.status is Status.NEEDS_REVIEW
    assert decision.reason.startswith("retry loop")
    assert (
        decide(replace(facts, previous_blockers=[("other",), ("db down",)])).status
        is Status.BLOCKED
    )


def test_done_without_changes_asks_a_human_never_done() -> None:
    decision = decide(replace(BASE, commits_ahead=0))
    assert (decision.status, decision.reason, decision.wants_pr, decision.warnings) == (
        Status.NEEDS_REVIEW,
        "the agent reported done but changed nothing",
        False,
        (),
    )
    with_reason = decide(replace(BASE, commits_ahead=0, result={**DONE, "reason": "already fixed"}))
    assert (with_reason.status, with_reason.reason) == (
        Status.NEEDS_REVIEW,
        "the agent reported done but changed nothing (its reason: already fixed)",
    )


def test_next_untried_agent() -> None:
    order = ["claude", "codex", "opencode"]
    assert next_untried_agent(order, ["claude"], []) == "codex"
    assert next_untried_agent(order, ["claude"], ["codex"]) == "opencode"
    assert next_untried_agent(order, ["claude", "codex", "opencode"], []) is None


def test_round_trip() -> None:
    from orch.run.decision import Decision

    decision = decide(replace(BASE, error_class="auth", next_agent="codex"))
    assert Decision.from_json(decision.to_json()) == decision
