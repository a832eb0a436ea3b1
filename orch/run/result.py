"""What one run of a task returns (orch task run, dispatch, reap)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass


@dataclass
class RunResult:
    number: int
    action: str  # ran | published | blocked | needs_review | detached | nothing
    status: str | None = None
    attempt: int | None = None
    agent: str | None = None
    model: str | None = None
    error_class: str | None = None
    reason: str = ""
    pr: int | None = None
    pr_url: str = ""
    branch: str = ""
    pushed_sha: str | None = None
    duration_s: float | None = None
    exit_code: int | None = None
    signal: int | None = None
    pid: int | None = None
    attempt_dir: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "extra"} | self.extra

    def line(self) -> str:
        """One human line for stdout."""
        parts = [f"#{self.number}", self.action]
        if self.status:
            parts.append(f"status:{self.status}")
        if self.attempt:
            parts.append(f"attempt {self.attempt}")
        if self.agent:
            parts.append(f"{self.agent}" + (f"/{self.model}" if self.model else ""))
        if self.error_class:
            parts.append(f"error:{self.error_class}")
        if self.pr:
            parts.append(f"PR #{self.pr}")
        if self.pid:
            parts.append(f"pid {self.pid}")
        text = " ".join(parts)
        return f"{text}: {self.reason}" if self.reason else text
