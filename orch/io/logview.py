"""Reading the orch log for `orch log [N] [-f]` (rotated files included)."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from pathlib import Path

from orch.clock import Clock
from orch.errors import OrchError
from orch.paths import Paths

_RECORD = re.compile(r"^\S+ \d+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


def _matches(line: str, task: int | None) -> bool:
    return task is None or re.search(rf"#{task}\b", line) is not None


class _Levels:
    """Hides DEBUG records (and their continuation lines) unless `verbose`."""

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose
        self.debug = False

    def shown(self, line: str) -> bool:
        record = _RECORD.match(line)
        if record:
            self.debug = record.group(1) == "DEBUG"
        return self.verbose or not self.debug


def _files(log_file: Path) -> list[Path]:
    """Rotated files oldest first, then the live one."""
    rotated = sorted(
        (p for p in log_file.parent.glob(log_file.name + ".*") if p.suffix[1:].isdigit()),
        key=lambda p: -int(p.suffix[1:]),
    )
    return [*rotated, log_file] if log_file.exists() else rotated


def tail(paths: Paths, task: int | None, count: int, *, verbose: bool = False) -> list[str]:
    """The last `count` lines (about `task` when given); DEBUG lines only when `verbose`."""
    levels = _Levels(verbose)
    files = _files(paths.log_file)
    if not files:
        raise OrchError(f"no log yet at {paths.log_file}: run `orch tick` first")
    kept: deque[str] = deque(maxlen=max(count, 0))
    for path in files:
        with path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if levels.shown(line) and _matches(line, task):
                    kept.append(line.rstrip("\n"))
    return list(kept)


def follow_lines(
    paths: Paths, task: int | None, clock: Clock, poll: float = 0.5, *, verbose: bool = False
) -> Iterator[str]:
    """New lines as they are written; survives rotation (reopens when the file shrinks)."""
    levels = _Levels(verbose)
    path = paths.log_file
    handle = path.open(encoding="utf-8", errors="replace")
    handle.seek(0, 2)
    try:
        while True:
            line = handle.readline()
            if line:
                if levels.shown(line) and _matches(line, task):
                    yield line.rstrip("\n")
                continue
            clock.sleep(poll)
            try:
                if path.stat().st_size < handle.tell():
                    handle.close()
                    handle = path.open(encoding="utf-8", errors="replace")
            except FileNotFoundError:
                continue
    finally:
        handle.close()
