"""`orch agents` and the strict fake agent CLIs other tests rely on."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orch.agents.cooldown import Cooldowns
from orch.paths import Paths
from tests.fakes import install_fake_agents, write_scenario
from tests.helpers import Repo, run_orch


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return 0.0

    def sleep(self, seconds: float) -> None:
        return None


@pytest.fixture
def bin_env(tmp_path: Path, orch_env: dict[str, str]) -> tuple[Path, dict[str, str]]:
    bin_dir = tmp_path / "bin"
    install_fake_agents(bin_dir, ("claude", "codex"))
    # PATH without any real agent CLI: only the fakes, python and the basics
    python_dir = str(Path(sys.executable).parent)
    env = {**orch_env, "PATH": f"{bin_dir}:{python_dir}:/usr/bin:/bin"}
    return bin_dir, env


def test_orch_agents_lists_versions_and_missing(
    tmp_path: Path, bin_env: tuple[Path, dict[str, str]]
) -> None:
    _, env = bin_env
    r = run_orch("agents", cwd=tmp_path, env=env)
    assert (r.code, r.err) == (0, ""), r
    assert r.out == (
        "claude\tclaude\t2.1.197\tready\n"
        "codex\tcodex\t0.169.0\tready\n"
        "opencode\topencode\tnot found\topencode is not on PATH\n"
    )


def test_orch_agents_shows_cooldowns_and_json(
    tmp_path: Path, bin_env: tuple[Path, dict[str, str]]
) -> None:
    bin_dir, env = bin_env
    home = Path(env["ORCH_HOME"])
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1, minutes=30, seconds=30)
    Cooldowns(Paths(config_dir=home, state_dir=home / "state"), Clock()).record(
        "codex", None, error_class="usage_limit", reason="quota", reset_at=until
    )
    r = run_orch("agents", cwd=tmp_path, env=env)
    line = r.out.splitlines()[1]
    head, left = line.split(" (")  # what is left counts down while the CLI starts
    assert head == (f"codex\tcodex\t0.169.0\tcooling down: codex until {until:%Y-%m-%dT%H:%M:%SZ}")
    assert re.fullmatch(r"1h 30m [0-3]\ds, usage_limit\)", left), left
    data = json.loads(run_orch("agents", "--json", cwd=tmp_path, env=env).out)
    assert data["schema"] == 1
    by_name = {a["name"]: a for a in data["agents"]}
    assert by_name["claude"] == {
        "name": "claude",
        "family": "claude",
        "command": ["claude"],
        "installed": True,
        "path": str(bin_dir / "claude"),
        "version": "2.1.197",
        "error": None,
        "disabled": False,
        "router": True,
        "cooldowns": [],
    }
    assert by_name["opencode"]["installed"] is False
    assert by_name["opencode"]["version"] is None
    assert [c["key"] for c in by_name["codex"]["cooldowns"]] == ["codex"]


def test_orch_agents_uses_the_project_config(
    repo: Repo, bin_env: tuple[Path, dict[str, str]]
) -> None:
    _, env = bin_env
    work = repo.work
    (work / ".orch.yml").write_text(
        "router: {disabled_agents: [codex]}\nagents:\n  kimi: {command: kimi, like: claude}\n"
    )
    r = run_orch("agents", cwd=work, env=env)
    assert r.out == (
        "claude\tclaude\t2.1.197\tready\n"
        "codex\tcodex\t0.169.0\tdisabled (router.disabled_agents)\n"
        "opencode\topencode\tnot found\topencode is not on PATH\n"
        "kimi\tclaude\tnot found\tkimi is not on PATH\n"
    ), r


# --- the fakes themselves ----------------------------------------------------------------


def fake(
    bin_dir: Path, name: str, *args: str, stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one fake in `cwd` with PWD = `cwd` (the fakes, like opencode, work in $PWD)."""
    env = {**os.environ, "PWD": str(cwd)} if cwd else None
    return subprocess.run(
        [str(bin_dir / name), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
        timeout=30,
    )


def test_fakes_are_strict_and_replay_in_order(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    install_fake_agents(bin_dir)
    assert fake(bin_dir, "opencode", "--version").stdout == "1.18.33\n"
    write_scenario(
        bin_dir / "scenario.json",
        {
            "codex": [
                {
                    "expect_argv_prefix": ["exec", "--json"],
                    "record": "codex-{n}.json",
                    "steps": [
                        {"write": "out.txt", "text": "hi"},
                        {"write_after_flag": "-o", "text": "last"},
                        {"stdout_file": "codex-route.jsonl"},
                    ],
                },
                {
                    "expect_argv_contains": [["-m", "gpt-5.2"]],
                    "steps": [{"stderr": "boom\n"}, {"exit": 3}],
                },
            ]
        },
    )
    work = tmp_path / "wt"
    work.mkdir()
    first = fake(
        bin_dir,
        "codex",
        "exec",
        "--json",
        "-o",
        str(tmp_path / "last.txt"),
        "-",
        stdin="the prompt",
        cwd=work,
    )
    assert first.returncode == 0, first.stderr
    assert first.stderr == "Reading additional input from stdin...\n"
    assert '"thread.started"' in first.stdout
    assert (work / "out.txt").read_text() == "hi"
    assert (tmp_path / "last.txt").read_text() == "last"
    record = json.loads((bin_dir / "codex-0.json").read_text())
    assert (record["stdin"], record["cwd"], record["call"]) == ("the prompt", str(work), 0)
    wrong = fake(bin_dir, "codex", "exec", "--json", "-m", "gpt-5.1", "-")
    assert wrong.returncode == 97
    assert "argv lacks ['-m', 'gpt-5.2']" in wrong.stderr
    third = fake(bin_dir, "codex", "exec", "-m", "gpt-5.2", "-")  # the last entry repeats
    assert (third.returncode, third.stderr.splitlines()[-1]) == (3, "boom")
    assert fake(bin_dir, "claude", "-p").returncode == 97  # nothing for claude in the scenario


def test_fakes_refuse_what_the_real_clis_refuse(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    install_fake_agents(bin_dir)
    write_scenario(bin_dir / "scenario.json", {"claude": {}, "codex": {}, "opencode": {}})
    full_auto = fake(bin_dir, "codex", "exec", "--full-auto", "-")
    assert (full_auto.returncode, full_auto.stderr) == (
        2,
        "error: unexpected argument '--full-auto' found\n",
    )
    stream = fake(bin_dir, "claude", "-p", "--output-format", "stream-json")
    assert (stream.returncode, stream.stderr) == (
        1,
        "Error: When using --print, --output-format=stream-json requires --verbose\n",
    )
    assert fake(bin_dir, "opencode", "--format", "json").returncode == 97
