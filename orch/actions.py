"""What a tick phase did (or, with --dry-run, would do): one record per action.

Rendered by `orch tick` as a human line or, with --json, one object in the document's
`actions` list (`project`, `phase`, `task`, `action`, `detail`); also written to the orch
log.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from orch import taskid


@dataclass(frozen=True)
class Action:
    project: str  # OWNER/REPO
    phase: str  # snapshot | repair | owner | reap | intake | route | dispatch | review | merge | rejoin | jobs
    action: str  # a short verb phrase: "routed", "dispatched", "would dispatch", "error", …
    task: int | None = None  # an internal task is negative (orch.taskid)
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.task is not None and taskid.is_internal(self.task):
            data["task"] = taskid.text(self.task)  # "i7": JSON readers see the id people use
        return data

    def line(self) -> str:
        where = taskid.ref(self.task) if self.task is not None else "-"
        text = f"{self.project} {self.phase} {where} {self.action}"
        return f"{text}: {self.detail}" if self.detail else text
