"""Rendering for commands: records on stdout, narration on stderr, stable JSON.

Human output is one record per line on stdout; progress and notes go to stderr so that
`orch task list | …` pipes stay clean. JSON output always carries a "schema" key.
"""

from __future__ import annotations

import json
import sys
from typing import Any

JSON_SCHEMA = 1


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def emit_json(data: Any) -> None:
    """Print a JSON document; dicts get the `schema` version key."""
    if isinstance(data, dict) and "schema" not in data:
        data = {"schema": JSON_SCHEMA, **data}
    sys.stdout.write(to_json(data) + "\n")


def emit_json_line(data: dict[str, Any]) -> None:
    """One compact JSON object per line (streams such as `tick --json`)."""
    sys.stdout.write(
        json.dumps({"schema": JSON_SCHEMA, **data}, sort_keys=True, default=str) + "\n"
    )
    sys.stdout.flush()


class Console:
    """Where commands say things. Quiet silences notes; verbose enables debug lines."""

    def __init__(self, *, quiet: bool = False, verbose: bool = False) -> None:
        self.quiet = quiet
        self.verbose = verbose

    def out(self, line: str = "") -> None:
        sys.stdout.write(line + "\n")

    def table(self, rows: list[list[str]]) -> None:
        """`rows` as aligned columns on stdout (see `table`)."""
        for line in table(rows):
            self.out(line)

    def note(self, message: str) -> None:
        if not self.quiet:
            sys.stderr.write(message + "\n")
            sys.stderr.flush()

    def warn(self, message: str) -> None:
        sys.stderr.write(f"orch: warning: {message}\n")

    def debug(self, message: str) -> None:
        if self.verbose:
            sys.stderr.write(f"orch: {message}\n")


def table(rows: list[list[str]]) -> list[str]:
    """Left-aligned columns separated by two spaces (no trailing blanks)."""
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
