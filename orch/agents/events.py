"""Reading CLI output: JSON lines (codex, opencode, claude stream-json) or one JSON document."""

from __future__ import annotations

import json
from typing import Any


def json_events(stdout: str) -> list[dict[str, Any]]:
    """Every JSON object printed one per line; a single (possibly indented) JSON document
    counts as one event. Non-JSON lines (banners, warnings) are skipped."""
    events: list[dict[str, Any]] = []
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            events.append(obj)
    if not events and stdout.strip().startswith("{"):
        try:
            obj = json.loads(stdout)
        except ValueError:
            return []
        if isinstance(obj, dict):
            events.append(obj)
    return events


def as_int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def as_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
