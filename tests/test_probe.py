"""Probing agent CLIs never starts a custom command agent."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from orch.agents.probe import probe
from orch.config.model import AgentConfig


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_custom_command_agent_is_located_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    _script(tmp_path / "my-agent", f"touch {marker}\necho 9.9.9\n")
    agent = AgentConfig(name="mine", family="command", command=("my-agent", "--json"))
    result = probe(agent, env={**os.environ, "PATH": str(tmp_path)})
    assert (result.path, result.version, result.error) == (str(tmp_path / "my-agent"), None, "")
    assert not marker.exists()


def test_known_cli_is_asked_its_version(tmp_path: Path) -> None:
    _script(tmp_path / "codex", 'echo "codex-cli 0.169.0"\n')
    agent = AgentConfig(name="codex", family="codex", command=("codex",))
    result = probe(agent, env={**os.environ, "PATH": str(tmp_path)})
    assert result.version == "0.169.0"
