"""Fake agent CLIs for tests: strict stand-ins for claude, codex and opencode.

`install_fake_agents(bin_dir)` writes executables named after the CLIs; put `bin_dir`
first on PATH and describe what they do in a scenario file (README.md here).
"""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

FAKE_AGENT = Path(__file__).resolve().parent / "fake_agent.py"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "agents"


def install_fake_agents(
    bin_dir: Path, names: Iterable[str] = ("claude", "codex", "opencode")
) -> list[Path]:
    """Write one executable per name into bin_dir; return their paths."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        path = bin_dir / name
        # Python, not a sh wrapper: sh would reset an inherited $PWD to the OS cwd,
        # hiding the PWD that opencode (and so the fake) works in.
        path.write_text(
            f"#!{sys.executable}\n"
            "import os, runpy\n"
            f"os.environ.update(ORCH_FAKE_NAME={name!r}, ORCH_FAKE_BIN={str(bin_dir)!r})\n"
            f"runpy.run_path({str(FAKE_AGENT)!r}, run_name='__main__')\n"
        )
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        written.append(path)
    return written


def write_scenario(path: Path, scenario: dict[str, Any]) -> Path:
    """Write a scenario file and reset its call counters."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(scenario, indent=2))
    for counter in path.parent.glob(f"{path.name}.*.count"):
        counter.unlink()
    return path


def read_record(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data
