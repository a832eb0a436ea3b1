"""What an attempt's outcome means for the task (SPEC §2.2, §6.4 effects). Pure.

Input: the parsed outcome, the exit record, facts about the branch, the task's history;
output: the status to move to (with its transition trigger and reason), the warnings for
the comment, and whether the agent cools down and the task is rerouted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from orch.status import Status

COOLDOWN_CLASSES = ("usage_limit", "auth")
TRANSIENT_CLASSES = ("rate_limit", "overloaded")
LOOP_LENGTH = 3
DONE_UNCHANGED = "the agent reported done but changed nothing"

REASONS = {
    "timeout": "the agent ran past its wall-clock timeout",
    "stuck": "the agent produced no output for too long (idle timeout)",
    "missing_tool": "a tool the task needs is missing",
    "interactive_prompt": "the agent stopped at an interactive prompt",
    "no_result": "the agent returned no valid result",
    "failed": "the agent failed",
    "context_overflow": "the task did not fit in the model's context",
    "stopped": "stopped by owner",
    "interrupted": "interrupted (Ctrl-C) on the host running it; it will run again",
    "lost": "the supervisor died before the agent finished",
}


@dataclass(frozen=True)
class Facts:
    """What is known after the agent process ended."""

    attempt: int
    agent: str
    result: Mapping[str, Any] | None  # validated SPEC §6.4 object
    error_class: str | None
    error_detail: str = ""
    timed_out: bool = False
    idle_killed: bool = False
    stopped: bool = False
    stop_reason: str = ""
    interrupted: bool = False  # Ctrl-C: back to routed, the attempt recorded as interrupted
    lost: bool = False
    commits_ahead: int = 0  # commits on the branch not on the default branch (after auto-commit)
    permission_denials: int = 0
    failed_commands: Sequence[str] = ()
    previous_blockers: Sequence[Sequence[str]] = ()  # earlier attempts, oldest first
    next_agent: str | None = None  # next untried agent, for cooldown classes
    plan: bool = False  # a `plan` task: a done result creates sub-issues (orch.task.plan)
    children: int = 0  # sub-issues the plan result asks for


@dataclass(frozen=True)
class Decision:
    status: Status
    trigger: str
    reason: str
    error_class: str | None
    result_status: str  # the agent's own status, or "failed"
    wants_pr: bool
    cooldown: bool = False
    reroute_to: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        data["warnings"] = list(self.warnings)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Decision:
        return cls(
            status=Status(data["status"]),
            trigger=str(data["trigger"]),
            reason=str(data.get("reason") or ""),
            error_class=data.get("error_class"),
            result_status=str(data.get("result_status") or "failed"),
            wants_pr=bool(data.get("wants_pr")),
            cooldown=bool(data.get("cooldown")),
            reroute_to=data.get("reroute_to"),
            warnings=tuple(data.get("warnings") or ()),
        )


def decide(facts: Facts) -> Decision:
    """The task's next status and why (see the module docstring)."""
    warnings = _warnings(facts)
    error = _error_class(facts)
    result = facts.result if error is None else None
    result_status = str(result.get("status")) if result else "failed"
    if result is None or facts.interrupted or facts.stopped:
        step = _after_failure(facts, error)
    else:
        step = _after_result(facts, result, result_status)
    return Decision(
        step.status,
        step.trigger,
        step.reason,
        step.error_class,
        result_status,
        step.wants_pr,
        cooldown=step.cooldown,
        reroute_to=step.reroute_to,
        warnings=warnings,
    )


@dataclass(frozen=True)
class _Step:
    """A decision before the agent's own status and the warnings are added."""

    status: Status
    trigger: str
    reason: str
    error_class: str | None = None
    wants_pr: bool = False
    cooldown: bool = False
    reroute_to: str | None = None


def _after_failure(facts: Facts, error: str | None) -> _Step:
    """Interrupted, stopped by the owner, or the run failed with `error`."""

    if facts.interrupted:
        return _Step(Status.ROUTED, "result", REASONS["interrupted"], "interrupted")
    if facts.stopped:
        return _Step(Status.NEEDS_REVIEW, "failure", facts.stop_reason or REASONS["stopped"], error)
    assert error is not None
    if error in COOLDOWN_CLASSES:
        detail = f"{facts.agent}: {error}" + (
            f" ({facts.error_detail})" if facts.error_detail else ""
        )
        if facts.next_agent:
            reason = f"{detail}; rerouted to {facts.next_agent}"
            return _Step(
                Status.ROUTED, "reroute", reason, error, cooldown=True, reroute_to=facts.next_agent
            )
        reason = f"{detail}; no other agent left to try"
        return _Step(Status.NEEDS_REVIEW, "failure", reason, error, cooldown=True)
    if error in TRANSIENT_CLASSES:
        return _Step(Status.ROUTED, "result", f"{error}: retrying on a later tick", error)
    reason = REASONS.get(error, error)
    if facts.error_detail:
        reason = f"{reason}: {facts.error_detail}"
    return _Step(Status.NEEDS_REVIEW, "failure", reason, error)


def _after_result(facts: Facts, result: Mapping[str, Any], result_status: str) -> _Step:
    """The agent returned a valid result: its own status, the plan, the branch, loops."""

    blockers = tuple(str(b) for b in result.get("blockers") or ())
    if blockers and _retry_loop(blockers, facts.previous_blockers):
        reason = f"retry loop: the same blocker {LOOP_LENGTH} attempts in a row"
        return _Step(Status.NEEDS_REVIEW, "result", reason)
    reason = str(result.get("reason") or "")
    if facts.plan and result_status == "done":
        if facts.children:
            return _Step(Status.BLOCKED, "plan", f"plan: waiting for {facts.children} sub-issue(s)")
        return _Step(
            Status.NEEDS_REVIEW,
            "result",
            "the plan result lists no sub-issues (children) to create",
        )
    if result_status == "done":
        if facts.commits_ahead > 0:
            return _Step(Status.IN_REVIEW, "result", "", wants_pr=True)
        # Nothing to ship is never success: the work may have landed somewhere else (the
        # user's checkout) or not at all. A human looks; the issue stays open.
        said = f" (its reason: {reason})" if reason else ""
        return _Step(Status.NEEDS_REVIEW, "result", f"{DONE_UNCHANGED}{said}")
    if result_status == "in_progress":
        return _Step(Status.ROUTED, "result", reason or "partial progress, continuing")
    if result_status == "blocked":
        return _Step(Status.BLOCKED, "result", reason or "; ".join(blockers) or "blocked")
    return _Step(Status.NEEDS_REVIEW, "result", reason or "the agent asked for a human")


def _error_class(facts: Facts) -> str | None:
    if facts.stopped or facts.interrupted:
        return None
    if facts.timed_out:
        return "timeout"
    if facts.idle_killed:
        return "stuck"
    if facts.error_class:
        return facts.error_class
    if facts.result is None:
        return "no_result"
    return None


def _warnings(facts: Facts) -> tuple[str, ...]:
    out: list[str] = []
    if facts.permission_denials:
        out.append(f"{facts.permission_denials} tool call(s) were denied permission")
    if facts.failed_commands:
        shown = ", ".join(f"`{c[:80]}`" for c in facts.failed_commands[:3])
        out.append(f"{len(facts.failed_commands)} command(s) failed during the run: {shown}")
    if facts.lost:
        out.append(REASONS["lost"])
    return tuple(out)


def _retry_loop(current: Sequence[str], previous: Sequence[Sequence[str]]) -> bool:
    wanted = LOOP_LENGTH - 1
    recent = [tuple(b) for b in previous[-wanted:]]
    return len(recent) == wanted and all(b == tuple(current) for b in recent)


def next_untried_agent(
    order: Sequence[str], tried: Sequence[str], unavailable: Sequence[str]
) -> str | None:
    """The first agent in `order` not yet tried for the task and not unavailable."""
    skip = set(tried) | set(unavailable)
    return next((name for name in order if name not in skip), None)
