"""Exit codes that tell the truth (SPEC §12): a run that could not start any agent exits 1
and changes nothing; Ctrl-C exits 130 with the attempt recorded as interrupted and the
task back to routed; a refused `orch init` leaves no .orch.yml and no registration."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from orch.task import markers
from tests.emulator.server import Emulator
from tests.helpers import Repo, run_orch
from tests.run_helpers import RunProject, make_run_project, wait_for


@pytest.fixture
def project(repo: Repo, orch_env: dict[str, str], tmp_path: Path) -> RunProject:
    return make_run_project(repo, orch_env, tmp_path, "--local")


def _issue(project: RunProject, number: int) -> dict[str, object]:
    path = project.repo.work / ".orch" / "local" / "issues" / f"{number}.json"
    return json.loads(path.read_text())


def _comments(project: RunProject, number: int) -> list[dict[str, object]]:
    comments: list[dict[str, object]] = _issue(project, number).get("comments") or []  # type: ignore[assignment]
    return comments


def _without_agents(project: RunProject) -> None:
    """PATH with python, git and the system tools, but no agent CLI."""
    python_dir = str(Path(sys.executable).parent)
    project.env["PATH"] = f"{python_dir}:/usr/bin:/bin"


def test_run_with_its_agent_missing_exits_1_and_changes_nothing(project: RunProject) -> None:
    added = project.orch("task", "add", "Add a greeting", "--agent", "claude")
    number = int(added.out)
    before = _issue(project, number)
    _without_agents(project)

    done = project.orch("task", "run", str(number))

    assert done.code == 1, done
    assert done.err == (
        "orch: agent claude cannot start: claude is not on PATH; install it (see `orch "
        "agents`) or pass --agent with an installed one; nothing was changed\n"
    )
    assert _issue(project, number)["labels"] == before["labels"] == ["agent:claude", "status:new"]
    assert _comments(project, number) == []


def test_run_of_a_new_task_with_no_agent_installed_exits_1(project: RunProject) -> None:
    number = int(project.orch("task", "add", "Route me").out)
    _without_agents(project)

    done = project.orch("task", "run", str(number))

    assert done.code == 1, done
    assert done.err.startswith("orch: no agent CLI is installed (claude, codex, opencode")
    assert _issue(project, number)["labels"] == ["status:new"]
    assert _comments(project, number) == []


def test_ctrl_c_exits_130_records_the_attempt_and_routes_the_task_again(
    project: RunProject,
) -> None:
    number = int(project.orch("task", "add", "Add a greeting", "--agent", "claude").out)
    project.scenario({"claude": {"steps": [{"stdout": "working\n"}, {"hang": True}]}})
    child = subprocess.Popen(
        [sys.executable, "-m", "orch", "task", "run", str(number)],
        cwd=project.repo.work,
        env=project.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The agent is running once the sidecar names its pid.
        assert wait_for(lambda: project.sidecar("local/widgets", number).get("agent_pid")), (
            child.poll(),
            project.sidecar("local/widgets", number),
        )
        agent_pid = project.sidecar("local/widgets", number)["agent_pid"]
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()

    assert child.returncode == 130, (out, err)
    assert err.splitlines()[-1] == (
        f"orch: task #{number}: attempt 1 interrupted; the task is routed again"
    )
    assert _issue(project, number)["labels"] == ["agent:claude", "model:sonnet", "status:routed"]
    with pytest.raises(ProcessLookupError):
        os.kill(int(agent_pid), 0)  # the agent's process group was stopped
    attempt = project.task_dir("local/widgets", number) / "attempts" / "1"
    exit_record = json.loads((attempt / "exit.json").read_text())
    assert (exit_record["interrupted"], exit_record["reason"]) == (True, "interrupted (Ctrl-C)")
    decision = json.loads((attempt / "result.json").read_text())["decision"]
    assert (decision["status"], decision["error_class"]) == ("routed", "interrupted")
    responses = [markers.parse(str(c["body"])) for c in _comments(project, number)]
    [response] = [m for m in responses if m is not None and m.kind == "agent-response"]
    assert response.data["attempt"] == 1


def _init_env(gh_env: dict[str, str], token: str | None) -> dict[str, str]:
    env = dict(gh_env)
    env.pop("GH_ENTERPRISE_TOKEN", None)
    if token is not None:
        env["GH_ENTERPRISE_TOKEN"] = token
    return env


def _assert_nothing_written(repo: Repo, env: dict[str, str]) -> None:
    assert not (repo.work / ".orch.yml").exists()
    global_file = Path(env["ORCH_HOME"]) / "config.yml"
    assert not global_file.exists() or str(repo.work) not in global_file.read_text()


def test_init_not_logged_in_exits_4_and_writes_nothing(
    repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    env = _init_env(gh_env, None)
    done = run_orch(
        "init", "--repo", "acme/widgets", "--host", emulator.host, cwd=repo.work, env=env
    )
    assert done.code == 4, done
    assert done.err.startswith(f"orch: not logged in to GitHub at {emulator.host}"), done
    _assert_nothing_written(repo, env)
    assert emulator.label_names() == []


def test_init_without_write_access_exits_1_and_writes_nothing(
    repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    env = _init_env(gh_env, emulator.add_user("reader", permission="read"))
    done = run_orch(
        "init", "--repo", "acme/widgets", "--host", emulator.host, cwd=repo.work, env=env
    )
    assert done.code == 1, done
    assert done.err == (
        f"orch: acme/widgets on {emulator.host}: this token has pull access and orch needs "
        "write; use an account or token with write access (nothing was written)\n"
    )
    _assert_nothing_written(repo, env)


def test_init_without_gh_exits_1_and_writes_nothing(
    repo: Repo, gh_env: dict[str, str], emulator: Emulator, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin-without-gh"
    bin_dir.mkdir()
    (bin_dir / "git").symlink_to(str(shutil.which("git")))
    env = dict(gh_env, PATH=f"{Path(sys.executable).parent}:{bin_dir}")
    done = run_orch(
        "init", "--repo", "acme/widgets", "--host", emulator.host, cwd=repo.work, env=env
    )
    assert done.code == 1, done
    assert "gh is not installed" in done.err, done
    _assert_nothing_written(repo, env)


def test_init_twice_is_idempotent_and_second_costs_one_request(
    repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    args = ("init", "--repo", "acme/widgets", "--host", emulator.host)
    first = run_orch(*args, cwd=repo.work, env=gh_env)
    assert first.code == 0, first
    text = (repo.work / ".orch.yml").read_text()
    emulator.reset_log()
    second = run_orch("init", cwd=repo.work, env=gh_env)
    assert second.code == 0, second
    assert second.out.splitlines()[-1] == "labels: all present"
    assert (repo.work / ".orch.yml").read_text() == text
    assert emulator.count() == 1
