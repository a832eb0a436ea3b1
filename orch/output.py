"""Rendering for commands: records on stdout, narration on stderr, stable JSON.

Human output is one record per line on stdout; progress and notes go to stderr so that
`orch task list | …` pipes stay clean. Lists are tables with a header row on a terminal
and tab-separated rows without a header in a pipe (like gh). JSON output is one document
that always carries a "schema" key; `--jq EXPR` filters it, and under `--dry-run` the
writes it would make are in it as `would`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from orch.errors import OrchError

JSON_SCHEMA = 1


class JqProgram(Protocol):
    """A compiled `jq` program (the `jq` package's `_Program`)."""

    def input_value(self, value: Any) -> Any: ...


@dataclass
class _Session:
    """What the command line asked of this run's output (`--json`, `--jq`)."""

    json: bool = False
    jq: JqProgram | None = None
    would: list[str] = field(default_factory=list)
    started: bool = False  # set up by `start()` for the command about to run


_session = _Session()


def start(jq: JqProgram | None) -> None:
    """Fresh output state for the command `cli.run` is about to run (with its --jq)."""
    global _session
    _session = _Session(json=jq is not None, jq=jq, started=True)


def reset() -> None:
    """Fresh output state, unless `start()` just made it (the root callback calls this,
    so commands invoked without `cli.run`, e.g. by typer's CliRunner, start clean)."""
    global _session
    if _session.started:
        _session.started = False
    else:
        _session = _Session()


def set_json(on: bool = True) -> None:
    _session.json = on


def json_mode() -> bool:
    return _session.json


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def _document(data: Any) -> Any:
    if isinstance(data, dict):
        if "schema" not in data:
            data = {"schema": JSON_SCHEMA, **data}
        if _session.would and "would" not in data:
            data = {**data, "dry_run": True, "would": list(_session.would)}
    return data


def _write_filtered(program: JqProgram, data: Any, *, compact: bool) -> None:
    """`data` through the --jq program: strings raw, other values as JSON (as gh does)."""
    plain = json.loads(json.dumps(data, default=str))
    try:
        values = program.input_value(plain).all()
    except ValueError as exc:
        raise OrchError(f"--jq: {str(exc).strip() or 'the expression failed'}") from None
    for value in values:
        if isinstance(value, str):
            sys.stdout.write(value + "\n")
        elif compact:
            sys.stdout.write(json.dumps(value, sort_keys=True, ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(to_json(value) + "\n")


def emit_json(data: Any) -> None:
    """Print a JSON document; dicts get the `schema` version key (and `would` under
    --dry-run)."""
    data = _document(data)
    if _session.jq is not None:
        _write_filtered(_session.jq, data, compact=False)
        return
    sys.stdout.write(to_json(data) + "\n")


def emit_json_line(data: dict[str, Any]) -> None:
    """One compact JSON object per line: for a stream that follows live work (`orch stream
    --json`), the one place orch prints more than one document."""
    record = {"schema": JSON_SCHEMA, **data}
    if _session.jq is not None:
        _write_filtered(_session.jq, record, compact=True)
    else:
        sys.stdout.write(json.dumps(record, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()


class Console:
    """Where commands say things. Quiet silences notes; verbose enables debug lines."""

    def __init__(self, *, quiet: bool = False, verbose: bool = False) -> None:
        self.quiet = quiet
        self.verbose = verbose

    def out(self, line: str = "") -> None:
        sys.stdout.write(line + "\n")

    def would(self, line: str) -> None:
        """A write that --dry-run did not make: a record on stdout, or with --json a note
        on stderr and an entry of the document's `would` list."""
        _session.would.append(line)
        if _session.json:
            sys.stderr.write(line + "\n")
        else:
            self.out(line)

    def table(self, rows: Sequence[Sequence[str]], header: Sequence[str] | None = None) -> None:
        """`rows` on stdout: a table with `header` on a terminal, tab-separated rows
        without header in a pipe."""
        if not rows:
            return
        if not sys.stdout.isatty():
            for row in rows:
                self.out("\t".join(_cell(c) for c in row).rstrip("\t"))
            return
        _rich_table(rows, header)

    def note(self, message: str) -> None:
        if not self.quiet:
            sys.stderr.write(message + "\n")
            sys.stderr.flush()

    def warn(self, message: str) -> None:
        sys.stderr.write(f"orch: warning: {message}\n")

    def debug(self, message: str) -> None:
        if self.verbose:
            sys.stderr.write(f"orch: {message}\n")


def _cell(text: str) -> str:
    return " ".join(str(text).split("\t")).replace("\n", " ")


def _rich_table(rows: Sequence[Sequence[str]], header: Sequence[str] | None) -> None:
    terminal().print(rich_table(rows, header))


def terminal() -> Any:
    """A rich Console on stdout (plain text: no markup, no highlighting)."""
    # rich is imported only where a table is drawn: importing it costs every command,
    # `orch --version` included, about 35 ms (a fifth of its start-up).
    from rich.console import Console  # noqa: PLC0415

    return Console(highlight=False, markup=False, soft_wrap=False)


def rich_table(rows: Sequence[Sequence[str]], header: Sequence[str] | None) -> Any:
    """The rich Table of `rows` under an upper-case `header` (for Console.table and
    refreshing views such as `task live --watch`)."""
    from rich.table import Table  # noqa: PLC0415  (start-up: see terminal())

    grid = Table(
        box=None,
        show_header=bool(header),
        header_style="bold",
        pad_edge=False,
        padding=(0, 2, 0, 0),
        highlight=False,
    )
    for name in header or [""] * len(rows[0]):
        grid.add_column(name.upper(), overflow="fold")
    for row in rows:
        grid.add_row(*(str(c) for c in row))
    return grid


def table(rows: list[list[str]]) -> list[str]:
    """Left-aligned columns separated by two spaces (no trailing blanks)."""
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
