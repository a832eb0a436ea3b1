"""The labels orch uses (SPEC §2.1), their colours, and pure helpers over label sets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from orch.config.model import COMPLEXITIES
from orch.status import Status


@dataclass(frozen=True)
class LabelSpec:
    name: str
    color: str
    description: str


STATUS_COLORS = {
    Status.NEW: "0e8a16",
    Status.ROUTED: "1d76db",
    Status.IN_PROGRESS: "fbca04",
    Status.IN_REVIEW: "0075ca",
    Status.NEEDS_REVIEW: "e4e669",
    Status.BLOCKED: "d73a4a",
    Status.DONE: "0e8a16",
}
STATUS_DESCRIPTIONS = {
    Status.NEW: "orch: waiting to be routed",
    Status.ROUTED: "orch: agent chosen, waiting for a free slot",
    Status.IN_PROGRESS: "orch: an agent is working on it",
    Status.IN_REVIEW: "orch: done, PR open, waiting for review/merge",
    Status.NEEDS_REVIEW: "orch: needs a human",
    Status.BLOCKED: "orch: waiting on a dependency",
    Status.DONE: "orch: finished",
}
META_COLOR = "c5def5"
NO_AGENT = "no-agent"
PLAN = "plan"
SCHEDULED = "scheduled"
COMPLEXITY_PREFIX = "complexity:"
AGENT_PREFIX = "agent:"
MODEL_PREFIX = "model:"
JOB_PREFIX = "job:"
STATUS_PREFIX = "status:"


def base_labels() -> list[LabelSpec]:
    """Every fixed label orch creates at `orch init`."""
    specs = [LabelSpec(s.label, STATUS_COLORS[s], STATUS_DESCRIPTIONS[s]) for s in Status]
    specs += [
        LabelSpec(f"{COMPLEXITY_PREFIX}{c}", META_COLOR, f"orch: {c} task") for c in COMPLEXITIES
    ]
    specs += [
        LabelSpec(NO_AGENT, "ededed", "orch: never routed or run"),
        LabelSpec(PLAN, "5319e7", "orch: decompose into sub-issues instead of coding"),
        LabelSpec(SCHEDULED, META_COLOR, "orch: created by a scheduled job"),
    ]
    return specs


def spec_for(name: str) -> LabelSpec:
    """The colour and description for any orch label, including dynamic ones."""
    for spec in base_labels():
        if spec.name == name:
            return spec
    for prefix, what in (
        (AGENT_PREFIX, "agent assigned"),
        (MODEL_PREFIX, "model used by the last attempt"),
        (JOB_PREFIX, "created by scheduled job"),
    ):
        if name.startswith(prefix):
            return LabelSpec(name, META_COLOR, f"orch: {what} {name[len(prefix) :]}")
    return LabelSpec(name, "ededed", "")


def is_orch_label(name: str) -> bool:
    return name.startswith(
        (STATUS_PREFIX, AGENT_PREFIX, COMPLEXITY_PREFIX, MODEL_PREFIX, JOB_PREFIX)
    ) or name in (NO_AGENT, PLAN, SCHEDULED)


def statuses_in(labels: Iterable[str]) -> list[Status]:
    """Every valid status carried by a label set (zero, one or several)."""
    found = []
    for name in labels:
        if name.startswith(STATUS_PREFIX):
            try:
                found.append(Status(name[len(STATUS_PREFIX) :]))
            except ValueError:
                continue
    return found


def status_of(labels: Iterable[str]) -> Status | None:
    """The status when exactly one status label is present, else None (needs repair)."""
    found = statuses_in(labels)
    return found[0] if len(found) == 1 else None


def value_of(labels: Iterable[str], prefix: str) -> str | None:
    """The value of the first `prefix:value` label, e.g. the agent of `agent:codex`."""
    for name in labels:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return None


def with_status(labels: Iterable[str], status: Status) -> list[str]:
    """The label set with every status label replaced by exactly `status`."""
    kept = [n for n in labels if not n.startswith(STATUS_PREFIX)]
    return sorted({*kept, status.label})


def with_value(labels: Iterable[str], prefix: str, value: str | None) -> list[str]:
    """The label set with `prefix:*` replaced by `prefix:value` (or removed for None)."""
    kept = [n for n in labels if not n.startswith(prefix)]
    if value:
        kept.append(f"{prefix}{value}")
    return sorted(set(kept))
