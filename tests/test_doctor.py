"""`orch doctor` through the real CLI against the GitHub emulator (real gh): all ok on a
good setup, then the lines a new user sees for each broken one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from orch.admin.init import project_labels
from orch.config.model import load_config
from orch.labels import base_labels
from tests.emulator.fixtures import write_orch_config
from tests.helpers import Repo, Result, run_orch

CLAUDE = "#!/bin/sh\n[ \"$1\" = --version ] && echo '2.1.197 (Claude Code)'\n"
SYSTEMCTL = """#!/bin/sh
case "$*" in
  *is-enabled*) echo enabled ;;
  *NextElapseUSecRealtime*) echo "Sat 2026-11-21 08:00:00 UTC" ;;
esac
"""


class Setup:
    def __init__(self, tmp_path: Path, repo: Repo, emulator: Any, gh_env: dict[str, str]) -> None:
        self.repo = repo
        self.emulator = emulator
        self.stubs = tmp_path / "stubs"
        self.stubs.mkdir()
        for name, text in (
            ("claude", CLAUDE),
            ("systemctl", SYSTEMCTL),
            ("loginctl", "#!/bin/sh\n"),
        ):
            (self.stubs / name).write_text(text)
            (self.stubs / name).chmod(0o755)
        home = tmp_path / "home"
        home.mkdir()
        self.env = dict(gh_env)
        self.env.update(
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            PATH=f"{self.stubs}:{gh_env['PATH']}",
        )
        self.orch_home = Path(self.env["ORCH_HOME"])
        self.config(extra={"agents": {"codex": None, "opencode": None}})
        # What `orch init` creates: the fixed labels plus agent:/model: ones of the config.
        self.labels = project_labels(load_config(None, repo.work))
        for spec in self.labels:
            emulator.add_label(spec.name, spec.color, spec.description)

    def config(self, **kwargs: Any) -> None:
        write_orch_config(self.repo.work, self.emulator, **kwargs)

    def orch(self, *args: str) -> Result:
        return run_orch(*args, cwd=self.repo.work, env=self.env)

    def lines(self) -> tuple[int, list[str]]:
        result = self.orch("doctor")
        return result.code, result.out.splitlines()


@pytest.fixture
def setup(tmp_path: Path, repo: Repo, emulator: Any, gh_env: dict[str, str]) -> Setup:
    emulator.set_origin(repo.origin)
    return Setup(tmp_path, repo, emulator, gh_env)


def test_all_ok(setup: Setup) -> None:
    assert setup.orch("init").code == 0  # registers the project (labels already exist)
    assert setup.orch("service", "install").code == 0
    state = setup.orch_home / "state"
    state.mkdir(parents=True, exist_ok=True)
    (state / "service-last-run.json").write_text(
        '{"exit_code": 0, "finished_at": "2026-11-21T07:59:02Z", "started_at": "2026-11-21T07:59:00Z"}\n'
    )
    setup.emulator.reset_log()
    result = setup.orch("doctor")
    assert result.code == 0, result
    gh_line = next(line for line in result.out.splitlines() if line.startswith("ok    gh "))
    assert result.out == (
        f"ok    config        acme/widgets (github store): {setup.orch_home / 'config.yml'}, "
        f"{setup.repo.work / '.orch.yml'}\n"
        f"ok    state dir     {state} is writable\n"
        f"{gh_line}\n"
        f"ok    gh auth       logged in to {setup.emulator.host} as owner\n"
        "ok    repo          acme/widgets: this token has admin access\n"
        f"ok    labels        all {len(setup.labels)} orch labels present\n"
        f"ok    agent claude  2.1.197 at {setup.stubs / 'claude'}\n"
        f"ok    registered    {setup.repo.work} is in the global projects list\n"
        "ok    timer         systemd timer every 60s; last tick at 2026-11-21T07:59:02Z exited 0\n"
        "ok    drift         0 open tasks agree with this host\n"
    )
    assert gh_line.startswith("ok    gh            gh 2.")
    # user, repo, labels, open issues: four requests, nothing written.
    assert setup.emulator.count() == 4, setup.emulator.log_lines()
    assert setup.emulator.count(method="GET") == 4

    data = json.loads(setup.orch("doctor", "--json").out)
    assert data["schema"] == 1 and data["ok"] is True
    assert {c["status"] for c in data["checks"]} == {"ok"}


def test_labels_deleted(setup: Setup) -> None:
    with setup.emulator.lock:
        repo = setup.emulator.repo()
        for name in ("status:new", "status:blocked"):
            del repo.labels[name]
    code, lines = setup.lines()
    assert code == 1
    assert (
        "fail  labels        missing orch labels: status:new, status:blocked; "
        "run `orch init` (safe to re-run) to create them"
    ) in lines
    # The fix works: orch init creates them and doctor is happy again.
    assert setup.orch("init").code == 0
    code, lines = setup.lines()
    assert f"ok    labels        all {len(setup.labels)} orch labels present" in lines
    assert len(setup.labels) > len(base_labels())  # agent: and model: labels count too


def test_gh_missing(setup: Setup, tmp_path: Path) -> None:
    # A PATH with git, python and the stubs, but no gh.
    bare = tmp_path / "bare-bin"
    bare.mkdir()
    import shutil
    import sys

    for tool in ("git",):
        found = shutil.which(tool)
        assert found
        (bare / tool).symlink_to(found)
    setup.env["PATH"] = f"{setup.stubs}:{bare}:{Path(sys.executable).parent}"
    code, lines = setup.lines()
    assert code == 1
    assert lines[2:6] == [
        "fail  gh            gh not found on PATH; install GitHub CLI (https://cli.github.com) and run `gh auth login`",
        "skip  gh auth       needs gh",
        "skip  repo          needs gh",
        "skip  labels        needs gh",
    ]
    assert lines[-1] == "skip  drift         needs access to the repository"


def test_not_authenticated(setup: Setup) -> None:
    setup.env.pop("GH_ENTERPRISE_TOKEN")
    code, lines = setup.lines()
    assert code == 1
    host = setup.emulator.host
    assert lines[3] == (
        f"fail  gh auth       gh is not authenticated for {host}; run `gh auth login --hostname {host}` "
        f"or put GH_TOKEN=… in {setup.orch_home / 'env'} (mode 600) for the timer"
    )
    assert lines[4] == "skip  repo          needs gh authentication"


def test_read_only_token(setup: Setup) -> None:
    token = setup.emulator.add_user("reader", token="reader-token", permission="read")
    setup.env["GH_ENTERPRISE_TOKEN"] = token
    code, lines = setup.lines()
    assert code == 1
    assert lines[4] == (
        "fail  repo          acme/widgets: this token has pull access; orch needs write; "
        "use a token (or an account) with write access to the repository"
    )


def test_bad_config(setup: Setup) -> None:
    path = setup.repo.work / ".orch.yml"
    data = yaml.safe_load(path.read_text())
    data["workflow"] = {"max_parallel": "lots"}
    path.write_text(yaml.safe_dump(data))
    code, lines = setup.lines()
    assert code == 1
    assert lines[0] == (
        f"fail  config     {path}: workflow.max_parallel: must be a whole number >= 1 "
        "(got a string); fix the file and key named above"
    )
    assert lines[3:6] == [
        "skip  gh auth    needs a valid project configuration",
        "skip  repo       needs a valid project configuration",
        "skip  labels     needs a valid project configuration",
    ]
    path.write_text("jobs: [\n")
    code, lines = setup.lines()
    assert code == 1
    assert lines[0].startswith(f"fail  config     {path}: line 2, column 1: invalid YAML: ")


def test_missing_agent_and_timer_and_drift(setup: Setup) -> None:
    setup.config(
        extra={
            "agents": {
                "codex": None,
                "opencode": None,
                "kimi": {"command": "kimi-cli", "like": "claude"},
            }
        }
    )
    for spec in project_labels(load_config(None, setup.repo.work)):  # as `orch init` would
        setup.emulator.add_label(spec.name, spec.color, spec.description)
    issue = setup.emulator.add_issue("Stuck", labels=["status:in_progress"])
    worktrees = setup.orch_home / "state" / "worktrees" / "acme" / "widgets"
    (worktrees / "99-gone").mkdir(parents=True)
    (setup.orch_home / "env").write_text("GH_TOKEN=x\n")
    (setup.orch_home / "env").chmod(0o644)
    code, lines = setup.lines()
    assert code == 0  # warnings only
    assert (
        "warn  agent kimi    kimi-cli not found on PATH; install it, or set agents.kimi: null "
        "in the config if you do not use it"
    ) in lines
    assert (
        "warn  timer         no timer runs `orch tick`; run `orch service install` "
        "(or `orch service install --cron`)"
    ) in lines
    assert (
        f"warn  registered    {setup.repo.work} is not in the global projects list, so a timer's "
        f"`orch tick` will not see it; run `orch project add {setup.repo.work}` (or `orch init` here)"
    ) in lines
    env_file = setup.orch_home / "env"
    assert (
        f"warn  env file      {env_file} is readable by other users; run `chmod 600 '{env_file}'`"
        in lines
    )
    assert lines[-1] == (
        f"warn  drift         #{issue['number']} is in_progress with no live supervisor here; "
        f"worktree {worktrees / '99-gone'} has no open task; the next `orch tick` recovers "
        "in_progress tasks (unless another host runs them); remove stale worktrees with "
        "`git worktree remove PATH`"
    )


def test_doctor_without_project(tmp_path: Path, gh_env: dict[str, str]) -> None:
    outside = tmp_path / "nowhere"
    outside.mkdir()
    result = run_orch("doctor", cwd=outside, env={**gh_env, "HOME": str(tmp_path)})
    assert result.code == 1
    assert result.out.splitlines()[0] == (
        f"fail  config     {outside} is not inside a git repository: run orch in your project's "
        "checkout or pass --project PATH|OWNER/REPO"
    )
    assert "Traceback" not in result.err


def test_doctor_outside_a_checkout_checks_every_registered_project(
    setup: Setup, tmp_path: Path
) -> None:
    assert setup.orch("init").code == 0  # registers the project
    outside = tmp_path / "nowhere"
    outside.mkdir()
    result = run_orch("doctor", cwd=outside, env=setup.env)
    lines = result.out.splitlines()
    assert lines[0].startswith("ok    acme/widgets: config"), result
    assert any(
        line.startswith("ok    acme/widgets: labels")
        and f"all {len(setup.labels)} orch labels present" in line
        for line in lines
    ), result
    assert sum(line.split()[1] == "gh" for line in lines) == 1  # machine checks once
    assert "fail" not in {line.split()[0] for line in lines if "timer" not in line}, result
