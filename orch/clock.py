"""The clock seam: nothing else in orch calls datetime.now() or time.time()."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...
    def monotonic(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...


# Tests that drive whole orch processes move the wall clock forward with this variable
# instead of sleeping (STYLE: a test never sleeps to wait for time to pass). Never set it in use.
TEST_OFFSET_ENV = "ORCH_TEST_CLOCK_OFFSET"


def _test_offset() -> timedelta:
    try:
        return timedelta(seconds=float(os.environ.get(TEST_OFFSET_ENV) or 0))
    except ValueError:
        return timedelta(0)


class SystemClock:
    """Wall clock in UTC (shifted only by ORCH_TEST_CLOCK_OFFSET), monotonic timer, real sleep."""

    _offset = timedelta(0)

    def __init__(self) -> None:
        self._offset = _test_offset()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


def utc_iso(moment: datetime) -> str:
    """ISO-8601 in UTC with a Z suffix and whole seconds, as GitHub writes timestamps."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_duration(seconds: float) -> str:
    """`30s`, `4m 03s`, `2h 05m 00s`: how long something took or has left, for people."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def parse_iso(text: str) -> datetime:
    """Parse GitHub's and our own ISO timestamps (with Z or an offset) into aware UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
