"""SPEC §12: a registered project with an invalid configuration fails the tick (exit 2)
after the healthy projects were ticked, with one line naming file, key and valid values;
`orch doctor` reports it too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import Repo, make_repo, run_orch, tick_actions


def two_projects(tmp_path: Path, env: dict[str, str]) -> tuple[Repo, Repo]:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    healthy = make_repo(tmp_path / "a", "healthy")
    broken = make_repo(tmp_path / "b", "broken")
    for repo in (healthy, broken):
        assert run_orch("init", "--local", cwd=repo.work, env=env).code == 0
    return healthy, broken


BROKEN = [
    (
        "workflow:\n  max_parallel: many\n",
        "workflow.max_parallel: must be a whole number >= 1 (got a string)",
    ),
    (
        "jobs:\n  - {id: nightly, schedule: '61 25 * * *', title: Nightly}\n",
        "jobs.0.schedule: invalid cron line '61 25 * * *': minute must be 0-59 (got 61)",
    ),
    (
        "workflow: {max_parallel: 2\n",
        "line 3, column 1: invalid YAML: expected ',' or '}', but got '<stream end>'; "
        "fix the file or move it away",
    ),
]


@pytest.mark.parametrize(("text", "problem"), BROKEN, ids=["type", "cron", "yaml"])
def test_tick_ticks_the_healthy_project_then_exits_2_naming_the_broken_one(
    tmp_path: Path, orch_env: dict[str, str], text: str, problem: str
) -> None:
    _, broken = two_projects(tmp_path, orch_env)
    config = broken.work / ".orch.yml"
    config.write_text("store: local\n" + text)
    state = Path(orch_env["ORCH_HOME"]) / "state" / "repos" / "local"

    ticked = run_orch("tick", "--only", "snapshot", cwd=tmp_path, env=orch_env)

    assert ticked.code == 2, ticked
    assert ticked.out == f"{broken.work} config - error: {config}: {problem}\n"
    assert ticked.err == (
        "orch: 1 registered project(s) skipped: invalid configuration (see above); "
        "the others were ticked\n"
    )
    assert (state / "healthy" / "snapshot.json").is_file()  # the healthy one was ticked
    assert not (state / "broken" / "snapshot.json").exists()


def test_tick_json_names_the_broken_project_in_a_config_action(
    tmp_path: Path, orch_env: dict[str, str]
) -> None:

    _, broken = two_projects(tmp_path, orch_env)
    (broken.work / ".orch.yml").write_text("store: local\nworkflow:\n  max_parallel: many\n")

    ticked = run_orch("tick", "--json", "--only", "snapshot", cwd=tmp_path, env=orch_env)

    assert ticked.code == 2, ticked
    assert json.loads(ticked.out)["config_errors"] == 1
    assert tick_actions(ticked.out) == [
        {
            "project": str(broken.work),
            "phase": "config",
            "task": None,
            "action": "error",
            "detail": f"{broken.work / '.orch.yml'}: workflow.max_parallel: must be a whole "
            "number >= 1 (got a string)",
        }
    ]


def test_a_vanished_registered_checkout_is_a_config_error(
    tmp_path: Path, orch_env: dict[str, str]
) -> None:
    import shutil

    _, broken = two_projects(tmp_path, orch_env)
    shutil.rmtree(broken.work)
    global_file = Path(orch_env["ORCH_HOME"]) / "config.yml"

    ticked = run_orch("tick", "--only", "snapshot", cwd=tmp_path, env=orch_env)

    assert ticked.code == 2, ticked
    assert ticked.out == (
        f"{broken.work} config - error: {global_file}: projects: {broken.work} is not a git "
        f"repository; fix the path or run `orch project remove {broken.work}`\n"
    )


def test_doctor_reports_a_broken_registered_project(
    tmp_path: Path, orch_env: dict[str, str]
) -> None:
    healthy, broken = two_projects(tmp_path, orch_env)
    config = broken.work / ".orch.yml"
    config.write_text("store: local\nworkflow:\n  max_parallel: many\n")

    checked = run_orch("doctor", cwd=healthy.work, env=orch_env)

    assert checked.code == 1, checked
    lines = [line.split(None, 2) for line in checked.out.splitlines()]
    assert [rest for status, name, rest in lines if name == "projects"] == [
        f"{config}: workflow.max_parallel: must be a whole number >= 1 "
        "(got a string); fix the file and key named above"
    ]
    assert [status for status, name, rest in lines if name == "projects"] == ["fail"]
