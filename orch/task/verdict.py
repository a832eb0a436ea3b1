"""What a review verdict means (SPEC §2.2 in_review transitions, §5.8): pure, no I/O.

The reviewer answers `{"decision", "summary", "notes"}` (REVIEW_SCHEMA). From the verdict,
the `orch:review` markers already on the issue and the workflow settings this module
decides the task's next status, whether orch may merge the PR, which agent reviews, and
renders the `orch:review` comment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from orch.agents.result import (  # the verdict's shape: the agents' result contract
    DECISIONS,
)
from orch.status import Status

# ---------------------------------------------------------------------------------------
# Which verdicts exist


def verdict_for(reviews: Sequence[Mapping[str, Any]], head_sha: str) -> Mapping[str, Any] | None:
    """The newest verdict posted for this PR head, if any."""
    found = [
        r
        for r in reviews
        if head_sha and r.get("head_sha") == head_sha and r.get("decision") in DECISIONS
    ]
    return found[-1] if found else None


def change_requests(reviews: Sequence[Mapping[str, Any]]) -> int:
    """How many `request_changes` verdicts the task has had (one per head SHA)."""
    shas = {r.get("head_sha") for r in reviews if r.get("decision") == "request_changes"}
    return len(shas)


def latest_notes(reviews: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The last verdict when it asks for more work (its notes go into the next prompt)."""
    if reviews and reviews[-1].get("decision") in ("request_changes", "reject"):
        return reviews[-1]
    return None


# ---------------------------------------------------------------------------------------
# What a verdict does


@dataclass(frozen=True)
class Step:
    """The effect of a verdict: a new status (None: stay `in_review`) and a merge."""

    status: Status | None
    reason: str
    merge: bool = False


def next_step(
    verdict: Mapping[str, Any],
    *,
    cycles: int,
    max_cycles: int,
    auto_merge: bool,
    orch_pr: bool,
) -> Step:
    """The task's next step after `verdict`; `cycles` counts request_changes verdicts
    including this one."""
    decision = verdict.get("decision")
    summary = str(verdict.get("summary") or "").strip()
    if decision == "approve":
        if not auto_merge:
            return Step(None, "approved; workflow.auto_merge is off, a human merges")
        if not orch_pr:
            return Step(None, "approved; not a PR orch opened, so orch does not merge it")
        return Step(None, "approved", merge=True)
    if decision == "request_changes":
        if cycles > max_cycles:
            return Step(
                Status.NEEDS_REVIEW,
                f"max review cycles ({max_cycles}) reached; the reviewer still asks for "
                f"changes: {summary}",
            )
        return Step(Status.ROUTED, f"review {cycles} of {max_cycles} asks for changes: {summary}")
    return Step(Status.NEEDS_REVIEW, f"the reviewer rejected the change: {summary}")


def is_orch_pr(head: str, body: str, *, branch_prefix: str, number: int) -> bool:
    """A PR orch opened for task `number`: its branch carries orch's prefix and its body
    orch's `Closes #n` and footer. A human's PR never matches, so orch never merges it."""
    return (
        bool(branch_prefix)
        and head.startswith(branch_prefix)
        and f"Closes #{number}" in body
        and "Opened by orch" in body
    )


def pick_reviewer(
    agents: Sequence[str], author: str | None, unavailable: Sequence[str]
) -> str | None:
    """An available agent, preferring one other than the agent that wrote the change."""
    usable = [a for a in agents if a not in set(unavailable)]
    others = [a for a in usable if a != author]
    chosen = others or usable
    return chosen[0] if chosen else None


# ---------------------------------------------------------------------------------------
# The comment


_ICONS = {"approve": "✅", "request_changes": "🔁", "reject": "⛔"}
_TITLES = {"approve": "approved", "request_changes": "changes requested", "reject": "rejected"}


def render_comment(data: Mapping[str, Any], *, pr: int | None = None, outcome: str = "") -> str:
    """The human part of an `orch:review` comment (the marker carries the facts)."""
    decision = str(data.get("decision"))
    who = str(data.get("reviewer") or "?")
    if data.get("model"):
        who += f" ({data['model']})"
    sha = str(data.get("head_sha") or "")[:12]
    target = f"PR #{pr}" if pr else "the PR"
    lines = [
        f"### {_ICONS.get(decision, '🤖')} Review: {_TITLES.get(decision, decision)}",
        "",
        f"Reviewer {who} looked at {target} at `{sha}` (review cycle {data.get('cycle', 1)}).",
        "",
        str(data.get("summary") or "").strip(),
    ]
    notes = [str(n) for n in data.get("notes") or []]
    if notes:
        lines += ["", "#### Notes", "", *(f"- {_one_line(n)}" for n in notes)]
    if outcome:
        lines += ["", f"**orch**: {_one_line(outcome)}"]
    lines += ["", "<sub>Posted by orch's review agent</sub>"]
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())
