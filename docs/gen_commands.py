"""Print docs/commands.md: every orch command's --help, generated so it cannot go stale.

Run `make docs` after changing a command; tests/test_docs.py fails when the checked-in
file differs from what this prints.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _help(path: list[str]) -> str:
    import io
    from contextlib import redirect_stdout

    from orch.cli import run

    buffer = io.StringIO()
    with redirect_stdout(buffer):
        run([*path, "--help"])
    return buffer.getvalue().rstrip()


def _walk(command: object, path: list[str]) -> list[list[str]]:
    found = [path]
    commands = getattr(command, "commands", None) or {}
    for name in sorted(commands):
        sub = commands[name]
        if getattr(sub, "hidden", False):
            continue
        found.extend(_walk(sub, [*path, name]))
    return found


def render() -> str:
    os.environ["COLUMNS"] = "100"
    import typer

    from orch.cli import app

    root = typer.main.get_command(app)
    parts = [
        "# orch command reference",
        "",
        "Generated from `--help` by `docs/gen_commands.py` (`make docs`); do not edit by hand.",
        "",
    ]
    for path in _walk(root, []):
        title = " ".join(["orch", *path])
        parts += [f"## {title}", "", "```", _help(path), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    sys.stdout.write(render())
