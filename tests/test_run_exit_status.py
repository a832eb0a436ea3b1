"""`orch task run --exit-status`: a CI job can tell a failed task from a successful one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Repo
from tests.run_helpers import RunProject, claude_envelope, make_run_project, result_obj


@pytest.fixture
def project(repo: Repo, orch_env: dict[str, str], tmp_path: Path) -> RunProject:
    return make_run_project(repo, orch_env, tmp_path, "--local")


def _add(project: RunProject) -> int:
    added = project.orch("task", "add", "Add a greeting", "--agent", "claude")
    assert added.code == 0, added
    return int(added.out)


def test_failed_task_exits_1_only_with_exit_status(project: RunProject) -> None:
    number = _add(project)
    project.scenario({"claude": {"steps": [{"stdout": "not json\n"}]}})
    failed = project.orch("task", "run", str(number), "--exit-status")
    assert failed.code == 1, failed
    assert "status:needs_review" in failed.out


def test_successful_task_exits_0_with_exit_status(project: RunProject) -> None:
    number = _add(project)
    project.scenario(
        {
            "claude": {
                "steps": [
                    {"write": "hello.txt", "text": "hi\n"},
                    {"stdout": claude_envelope(result_obj())},
                ]
            }
        }
    )
    done = project.orch("task", "run", str(number), "--exit-status")
    assert done.code == 0, done
    assert "status:in_review" in done.out
