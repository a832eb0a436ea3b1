"""The per-project snapshot cache: issue number -> updated_at (and last seen status).

It lets a tick skip tasks that did not change (no comment reads, no permission checks)
and remember which `in_review` tasks left the open set (their PR may have merged and
closed them). It is only a cache: deleting it makes the next tick look at every task
once, and acks on GitHub keep owner commands from being handled twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from orch.clock import parse_iso, utc_iso
from orch.sidecar import read_versioned, write_versioned
from orch.store.base import Issue

SCHEMA = 1


@dataclass
class Entry:
    updated_at: datetime
    status: str | None
    checked_at: datetime | None = None  # last merge check of an in_review task
    pulls: tuple[int, ...] = ()  # closed PRs of this task merge watch already looked at
    approved: bool = True  # False: waits for a maintainer's yes (orch.tick.intake.gate)


@dataclass
class SnapshotCache:
    path: Path
    entries: dict[int, Entry] = field(default_factory=dict)
    loaded: bool = False
    # Closed orch issues seen by the snapshot (number -> updated_at), and the newest
    # `updated_at` seen: the next snapshot asks for closed issues updated since then
    # (server time, so clock skew cannot hide a change).
    closed: dict[int, datetime] = field(default_factory=dict)
    since: datetime | None = None

    @classmethod
    def load(cls, path: Path) -> SnapshotCache:
        try:
            data = read_versioned(path, SCHEMA)
        except Exception:  # a cache from a newer orch is ignored, not fatal
            data = None
        cache = cls(path)
        if not data:
            return cache
        cache.loaded = True
        for key, raw in (data.get("issues") or {}).items():
            try:
                cache.entries[int(key)] = Entry(
                    updated_at=parse_iso(raw["updated_at"]),
                    status=raw.get("status"),
                    checked_at=parse_iso(raw["checked_at"]) if raw.get("checked_at") else None,
                    pulls=tuple(int(n) for n in raw.get("pulls") or ()),
                    approved=not raw.get("waiting"),
                )
            except (KeyError, TypeError, ValueError):
                continue
        for key, raw in (data.get("closed") or {}).items():
            try:
                cache.closed[int(key)] = parse_iso(raw)
            except (TypeError, ValueError):
                continue
        try:
            cache.since = parse_iso(data["since"]) if data.get("since") else None
        except (TypeError, ValueError):
            cache.since = None
        return cache

    def awaiting_approval(self) -> list[int]:
        """Open issues with a status label that wait for a maintainer's yes."""
        return sorted(n for n, e in self.entries.items() if not e.approved)

    def known(self) -> dict[int, datetime]:
        return {n: e.updated_at for n, e in self.entries.items()}

    def changed(self, issue: Issue) -> bool:
        entry = self.entries.get(issue.number)
        return entry is None or entry.updated_at != issue.updated_at

    def closed_changed(self, issue: Issue) -> bool:
        return self.closed.get(issue.number) != issue.updated_at

    def update(
        self,
        issues: dict[int, Issue],
        status_of: dict[int, str | None],
        retry: set[int],
        closed: dict[int, Issue] | None = None,
        waiting: dict[int, Issue] | None = None,
    ) -> None:
        """Replace the entries with the issues open now, keeping merge-check times;
        `waiting` issues are remembered as awaiting approval.

        Tasks in `retry` (a phase failed on them) get no entry, so the next tick treats
        them as changed and looks at them again."""
        fresh: dict[int, Entry] = {}
        waiting = waiting or {}
        for number, issue in {**issues, **waiting}.items():
            if number in retry:
                continue
            old = self.entries.get(number)
            fresh[number] = Entry(
                updated_at=issue.updated_at,
                status=status_of.get(number),
                checked_at=old.checked_at if old else None,
                pulls=old.pulls if old else (),
                approved=number not in waiting,
            )
        self.entries = fresh
        seen = [i for i in (closed or {}).values() if i.number not in retry]
        self.closed = {i.number: i.updated_at for i in seen}
        stamps = [i.updated_at for i in [*issues.values(), *seen]]
        if self.since is not None:
            stamps.append(self.since)
        self.since = max(stamps) if stamps else None
        again = [i.updated_at for i in (closed or {}).values() if i.number in retry]
        if again and self.since is not None:
            self.since = min([self.since, *again])  # failed closed tasks come back next tick

    def save(self) -> None:
        issues: dict[str, Any] = {}
        for number, entry in sorted(self.entries.items()):
            record: dict[str, Any] = {
                "updated_at": entry.updated_at.isoformat(),
                "status": entry.status,
            }
            if entry.checked_at:
                record["checked_at"] = utc_iso(entry.checked_at)
            if entry.pulls:
                record["pulls"] = list(entry.pulls)
            if not entry.approved:
                record["waiting"] = True
            issues[str(number)] = record
        data: dict[str, Any] = {"issues": issues}
        if self.closed:
            data["closed"] = {str(n): utc_iso(t) for n, t in sorted(self.closed.items())}
        if self.since is not None:
            data["since"] = utc_iso(self.since)
        write_versioned(self.path, SCHEMA, data)
