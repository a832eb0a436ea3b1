"""`orch stats`: tasks per status, and per agent attempts, success rate, tokens and cost.

Figures come from labels and the `orch:agent-response` markers (SPEC §2.3), so they are
the same on every host. It reads every task's comments: one request per task on GitHub.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from orch import labels as L
from orch.status import Status
from orch.store.base import Comment, Issue, Store
from orch.task import markers


@dataclass
class AgentStats:
    agent: str
    attempts: int = 0
    done: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0

    @property
    def success_rate(self) -> float:
        return self.done / self.attempts if self.attempts else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "attempts": self.attempts,
            "done": self.done,
            "success_rate": round(self.success_rate, 3),
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost_usd": round(self.cost_usd, 4),
        }


@dataclass
class Stats:
    statuses: dict[str, int] = field(default_factory=dict)
    open: int = 0
    closed: int = 0
    agents: dict[str, AgentStats] = field(default_factory=dict)

    @property
    def cost_usd(self) -> float:
        return sum(a.cost_usd for a in self.agents.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "tasks": {"open": self.open, "closed": self.closed, "by_status": self.statuses},
            "agents": [a.to_json() for a in sorted(self.agents.values(), key=lambda a: a.agent)],
            "cost_usd": round(self.cost_usd, 4),
        }


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def compute(tasks: Iterable[tuple[Issue, Iterable[Comment]]], logins: markers.OrchLogins) -> Stats:
    """Stats from issues and the markers orch (authors in `logins`) wrote on them (pure)."""
    stats = Stats(statuses={s.value: 0 for s in Status})
    for issue, comments in tasks:
        if issue.state == "open":
            stats.open += 1
        else:
            stats.closed += 1
        status = L.status_of(issue.labels)
        key = status.value if status else "unknown"
        stats.statuses[key] = stats.statuses.get(key, 0) + 1
        for comment in comments:
            marker = markers.orch_marker(comment, logins)
            if marker is None or marker.kind != "agent-response":
                continue
            data = marker.data
            name = str(data.get("agent") or "unknown")
            agent = stats.agents.setdefault(name, AgentStats(name))
            agent.attempts += 1
            if data.get("status") == "done" and not data.get("error_class"):
                agent.done += 1
            agent.tokens_in += _int(data.get("tokens_in"))
            agent.tokens_out += _int(data.get("tokens_out"))
            agent.cost_usd += _float(data.get("cost_usd"))
    return stats


def gather(store: Store, configured_logins: Iterable[str] = ()) -> Stats:
    issues = [i for i in store.list_issues(state="all") if L.statuses_in(i.labels)]
    logins = markers.orch_logins(store.viewer_login(), configured_logins)
    return compute(
        ((i, store.list_comments(i.number) if i.comments else ()) for i in issues), logins
    )
