"""Agent cooldowns (SPEC §6.4): per agent and per agent:model, shared by every orch process.

After `auth` or `usage_limit` an agent (or one of its models) rests until the reset time
the CLI gave, else for an exponential backoff: 5 minutes doubling per strike, capped.
State lives in `<state>/cooldowns.json` (versioned, atomic, read-modify-write under a
file lock). Expired entries keep their strike count for a day so a limit that hits again
right away backs off further.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from orch.clock import Clock, format_duration, parse_iso, utc_iso
from orch.errors import UsageError
from orch.io.locks import file_lock
from orch.io.sidecar import read_versioned, write_versioned
from orch.paths import Paths

SCHEMA = 1
BASE_BACKOFF = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=6)
FORGET_AFTER = timedelta(hours=24)  # an expired entry's strikes are forgotten after this


@dataclass(frozen=True)
class Cooldown:
    key: str  # "agent" or "agent:model"
    until: datetime
    reason: str
    error_class: str
    strikes: int
    since: datetime

    @property
    def agent(self) -> str:
        return self.key.split(":", 1)[0]

    @property
    def model(self) -> str | None:
        return self.key.split(":", 1)[1] if ":" in self.key else None

    def active(self, now: datetime) -> bool:
        return self.until > now

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "agent": self.agent,
            "model": self.model,
            "until": utc_iso(self.until),
            "since": utc_iso(self.since),
            "reason": self.reason,
            "error_class": self.error_class,
            "strikes": self.strikes,
        }


def key_for(agent: str, model: str | None = None) -> str:
    return f"{agent}:{model}" if model else agent


def parse_key(spec: str) -> tuple[str, str | None]:
    """`AGENT` or `AGENT:MODEL` (a model may itself hold colons or slashes)."""
    agent, _, model = spec.strip().partition(":")
    if not agent:
        raise UsageError(f"{spec!r}: expected AGENT or AGENT:MODEL, e.g. claude or codex:gpt-5.2")
    return agent, model or None


def backoff(strikes: int) -> timedelta:
    """5 min, 10, 20, 40 … capped at MAX_BACKOFF."""
    return min(BASE_BACKOFF * (1 << min(max(strikes - 1, 0), 20)), MAX_BACKOFF)


class Cooldowns:
    """The cooldown file of this host."""

    def __init__(self, paths: Paths, clock: Clock) -> None:
        self.path: Path = paths.cooldowns_file
        self.clock = clock

    # -- reading ---------------------------------------------------------------------

    def all(self) -> list[Cooldown]:
        return sorted(self._load().values(), key=lambda c: c.key)

    def active(self) -> list[Cooldown]:
        now = self.clock.now()
        return [c for c in self.all() if c.active(now)]

    def blocking(self, agent: str, model: str | None = None) -> Cooldown | None:
        """The active cooldown that keeps `agent` (with `model`) from running, if any."""
        now = self.clock.now()
        entries = self._load()
        for key in (key_for(agent), key_for(agent, model)) if model else (key_for(agent),):
            entry = entries.get(key)
            if entry is not None and entry.active(now):
                return entry
        return None

    # -- writing ---------------------------------------------------------------------

    def record(
        self,
        agent: str,
        model: str | None,
        *,
        error_class: str,
        reason: str,
        reset_at: datetime | None = None,
    ) -> Cooldown:
        """Cool `agent` (or `agent:model`) down until `reset_at`, else by backoff."""
        key = key_for(agent, model)
        with self._locked() as entries:
            now = self.clock.now()
            previous = entries.get(key)
            strikes = 1
            if previous is not None and previous.until + FORGET_AFTER > now:
                strikes = previous.strikes + 1
            until = reset_at if reset_at is not None and reset_at > now else now + backoff(strikes)
            entry = Cooldown(key, until, reason[:300], error_class, strikes, now)
            entries[key] = entry
            return entry

    def clear(self, spec: str) -> list[Cooldown]:
        """Remove `AGENT` (with all its models) or exactly `AGENT:MODEL`; return what went."""
        agent, model = parse_key(spec)
        with self._locked() as entries:
            gone = [
                c
                for c in entries.values()
                if (c.key == key_for(agent, model)) or (model is None and c.agent == agent)
            ]
            for c in gone:
                del entries[c.key]
        return sorted(gone, key=lambda c: c.key)

    def matching(self, spec: str) -> list[Cooldown]:
        """What `clear(spec)` would remove (for --dry-run)."""
        agent, model = parse_key(spec)
        return [
            c
            for c in self.all()
            if (c.key == key_for(agent, model)) or (model is None and c.agent == agent)
        ]

    # -- file ------------------------------------------------------------------------

    def _load(self) -> dict[str, Cooldown]:
        data = read_versioned(self.path, SCHEMA) or {}
        entries: dict[str, Cooldown] = {}
        raw = data.get("cooldowns")
        if not isinstance(raw, dict):
            return entries
        for key, item in raw.items():
            try:
                entries[key] = Cooldown(
                    key=key,
                    until=parse_iso(item["until"]),
                    reason=str(item.get("reason", "")),
                    error_class=str(item.get("error_class", "")),
                    strikes=int(item.get("strikes", 1)),
                    since=parse_iso(item.get("since") or item["until"]),
                )
            except (KeyError, TypeError, ValueError):
                continue  # a damaged entry is dropped: the file is a cache of recent failures
        return entries

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Cooldown]]:

        with file_lock(self.path.with_name(self.path.name + ".lock")):
            entries = self._load()
            yield entries
            now = self.clock.now()
            kept = {k: c for k, c in entries.items() if c.until + FORGET_AFTER > now}
            write_versioned(
                self.path,
                SCHEMA,
                {
                    "cooldowns": {
                        k: {
                            "until": utc_iso(c.until),
                            "since": utc_iso(c.since),
                            "reason": c.reason,
                            "error_class": c.error_class,
                            "strikes": c.strikes,
                        }
                        for k, c in sorted(kept.items())
                    }
                },
            )


def remaining(cooldown: Cooldown, now: datetime) -> str:
    """`2h 05m 00s`, `4m 03s`, `30s`: how long until the cooldown ends."""
    return format_duration(max(int((cooldown.until - now).total_seconds()), 0))
