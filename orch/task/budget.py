"""Cost budgets (SPEC §4 `workflow.max_cost_per_task_usd`, `workflow.max_cost_per_day_usd`).

Per task: the cost so far is the sum of `cost_usd` of the task's agent-response markers
(`History.cost_usd`); at or above the limit, dispatch and `orch task run` start nothing
and the task goes to `needs_review` ("cost budget reached ($X of $Y)").

Per day: a per-host ledger, `<state>/budget.json`, holds the cost and UTC date of every
attempt this host published (keyed by repo, task and attempt, so publishing twice counts
once). It is a cache of the agent-response markers: if it is lost, the day's spend starts
again at 0. When the day's spend (all projects of the host) reaches the limit, dispatch
starts nothing; tasks stay `routed` until the next UTC day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from orch.io.sidecar import read_json, write_json_atomic
from orch.paths import Paths

KEEP_DAYS = 7


def money(value: float) -> str:
    return f"${value:,.2f}"


def task_budget_reason(spent: float, limit: float | None) -> str | None:
    """Why a task may not start (pure): its cost so far is at or above its limit."""
    if limit is None or spent < limit:
        return None
    return f"cost budget reached ({money(spent)} of {money(limit)})"


def day_budget_reason(spent: float, limit: float | None) -> str | None:
    """Why nothing may start today (pure)."""
    if limit is None or spent < limit:
        return None
    return f"daily budget reached ({money(spent)} of {money(limit)} spent today, UTC)"


def ledger_file(paths: Paths) -> Path:
    return paths.state_dir / "budget.json"


def _load(paths: Paths) -> dict[str, Any]:
    data = read_json(ledger_file(paths), None)
    if not isinstance(data, dict) or not isinstance(data.get("entries"), dict):
        return {"v": 1, "entries": {}}
    return data


def record(
    paths: Paths, repo: str, number: int, attempt: int, cost_usd: float, when: datetime
) -> None:
    """Add one attempt's cost to the ledger (idempotent per repo/task/attempt)."""
    if not cost_usd:
        return
    data = _load(paths)
    entries: dict[str, Any] = data["entries"]
    entries[f"{repo}#{number}#{attempt}"] = {
        "date": when.date().isoformat(),
        "cost_usd": round(float(cost_usd), 6),
    }
    oldest = (when - timedelta(days=KEEP_DAYS)).date().isoformat()
    data["entries"] = {k: v for k, v in entries.items() if str(v.get("date")) >= oldest}
    write_json_atomic(ledger_file(paths), data)


def spent_on(paths: Paths, day: datetime) -> float:
    """What this host's agents cost on the UTC day of `day`."""
    wanted = day.date().isoformat()
    total = 0.0
    for entry in _load(paths)["entries"].values():
        if isinstance(entry, dict) and entry.get("date") == wanted:
            try:
                total += float(entry.get("cost_usd") or 0)
            except (TypeError, ValueError):
                continue
    return round(total, 6)
