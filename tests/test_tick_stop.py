"""`/stop` through the tick (SPEC §7.2): the running agent is stopped the way
`orch task kill` stops it, and the attempt is published as "stopped by owner"."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orch.clock import SystemClock
from orch.store.local import LocalStore
from tests.helpers import Repo
from tests.run_helpers import RunProject, agent_responses, make_run_project, wait_for

REPO = "local/widgets"


@pytest.fixture
def project(repo: Repo, orch_env: dict[str, str], tmp_path: Path) -> RunProject:
    return make_run_project(repo, orch_env, tmp_path, "--local")


def store(project: RunProject) -> LocalStore:
    return LocalStore(project.repo.work / ".orch" / "local", REPO, SystemClock())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_stop_comment_stops_the_agent_as_stopped_by_owner(project: RunProject) -> None:
    project.scenario(
        {"claude": {"steps": [{"stdout": '{"type":"system","subtype":"init"}\n'}, {"hang": True}]}}
    )
    added = project.orch(
        "task", "add", "Stop me", "--agent", "claude", "--label", "complexity:medium"
    )
    number = int(added.out.strip())
    assert project.orch("tick").code == 0  # routes (agent label) and dispatches
    assert wait_for(lambda: project.sidecar(REPO, number).get("agent_pid"))
    agent_pid = project.sidecar(REPO, number)["agent_pid"]
    s = store(project)
    stop = s.add_comment(number, "/stop", author=s.user)

    done = project.orch("tick", "--only", "owner")

    assert done.code == 0, done
    assert f"owner #{number} stopped" in done.out
    assert wait_for(lambda: not _alive(agent_pid), timeout=5)
    issue = s.get_issue(number)
    assert issue.labels == (
        "agent:claude",
        "complexity:medium",
        "model:sonnet",
        "status:needs_review",
    )
    (response,) = agent_responses(s.list_comments(number))
    assert "stopped by owner" in response.text
    assert "interrupted" not in response.text
    acks = [c for c in s.list_comments(number) if c.body.startswith("<!-- orch:ack ")]
    assert len(acks) == 1 and f'"comment_id":{stop.id}' in acks[0].body
