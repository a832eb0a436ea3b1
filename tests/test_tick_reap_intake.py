"""Reap of tasks nobody runs, and `workflow.intake: authored` (local store, real CLI)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from orch.status import Status
from orch.task import markers
from tests.helpers import Repo, tick_actions
from tests.tick_helpers import LocalProject, local_project


def configure(project: LocalProject, workflow: dict[str, object]) -> None:
    path = project.repo.work / ".orch.yml"
    data = yaml.safe_load(path.read_text()) or {}
    data["workflow"] = workflow
    path.write_text(yaml.safe_dump(data))


@pytest.fixture
def project(repo: Repo, orch_env: dict[str, str]) -> LocalProject:
    return local_project(repo, orch_env)


def rows(out: str) -> list[tuple[str, int | None, str, str]]:
    return [(r["phase"], r["task"], r["action"], r["detail"]) for r in tick_actions(out)]


def test_in_progress_task_nobody_runs_is_requeued_after_the_stuck_timeout(
    project: LocalProject,
) -> None:
    configure(project, {"stuck_timeout_seconds": 2, "max_attempts": 3})
    number = project.add_task("Orphan", status=Status.IN_PROGRESS)
    project.store.create_comment(number, markers.render("agent-response", {"attempt": 1}))

    early = project.orch("tick", "--only", "reap", "--json")
    assert (early.code, tick_actions(early.out)) == (0, [])
    assert project.status(number) is Status.IN_PROGRESS

    late = project.orch("tick", "--only", "reap", "--json", clock_offset=3)

    assert rows(late.out) == [
        ("reap", number, "requeued", "no supervisor and no activity; attempt 1 of 3")
    ]
    assert project.status(number) is Status.ROUTED
    assert project.markers(number, "status")[-1]["to"] == "routed"


def test_out_of_attempts_goes_to_needs_review(project: LocalProject) -> None:
    configure(project, {"stuck_timeout_seconds": 1, "max_attempts": 1})
    number = project.add_task("Orphan", status=Status.IN_PROGRESS)
    project.store.create_comment(number, markers.render("agent-response", {"attempt": 1}))
    done = project.orch("tick", "--only", "reap", "--json", clock_offset=2)
    assert rows(done.out) == [
        ("reap", number, "marked needs_review", "no supervisor and no activity; attempt 1 of 1")
    ]
    assert project.status(number) is Status.NEEDS_REVIEW


def test_dead_local_supervisor_is_requeued_at_once(project: LocalProject) -> None:
    number = project.add_task("Crashed", status=Status.IN_PROGRESS)
    tasks = Path(project.env["ORCH_HOME"]) / "state" / "repos" / "local" / "widgets" / "tasks"
    tasks.mkdir(parents=True)
    # pid 2**22 + 1 is above the default pid_max: never a live process.
    (tasks / f"{number}.json").write_text(
        json.dumps({"schema": 1, "supervisor_pid": 4194305, "supervisor_start": "1"})
    )

    done = project.orch("tick", "--only", "reap", "--json")

    assert rows(done.out) == [
        ("reap", number, "requeued", "its supervisor is gone; attempt 0 of 10")
    ]
    assert project.status(number) is Status.ROUTED
    assert "supervisor_pid" not in json.loads((tasks / f"{number}.json").read_text())


def test_authored_intake_takes_issues_from_authorized_authors_only(project: LocalProject) -> None:
    configure(project, {"intake": "authored"})
    store = project.store
    store.set_permission("reader", "read")
    mine = store.create_issue("From the owner", "", []).number
    theirs = store.create_issue("From a reader", "", []).number
    ignored = store.create_issue("Owner, but no agent", "", ["no-agent"]).number
    # LocalStore has no API to create issues as someone else: rewrite the author.
    path = project.repo.work / ".orch" / "local" / "issues" / f"{theirs}.json"
    data = json.loads(path.read_text())
    data["author"] = "reader"
    path.write_text(json.dumps(data))

    done = project.orch("tick", "--only", "intake", "--json")

    assert rows(done.out) == [("intake", mine, "taken in", f"opened by {store.user}: status new")]
    assert project.status(mine) is Status.NEW
    assert project.issue(theirs).labels == ()
    assert project.issue(ignored).labels == ("no-agent",)


def test_labeled_intake_ignores_unlabeled_issues(project: LocalProject) -> None:
    number = project.store.create_issue("Just an issue", "", []).number
    done = project.orch("tick", "--json")
    assert (done.code, tick_actions(done.out)) == (0, [])
    assert project.issue(number).labels == ()


def test_silent_agent_is_asked_to_stop_as_stuck(project: LocalProject) -> None:
    import os
    import subprocess
    import sys

    from orch.io.proc import process_start_time

    configure(project, {"idle_timeout_seconds": 5})
    number = project.add_task("Silent", status=Status.IN_PROGRESS)
    state = Path(project.env["ORCH_HOME"]) / "state" / "repos" / "local" / "widgets" / "tasks"
    attempt = state / str(number) / "attempts" / "1"
    attempt.mkdir(parents=True)
    for name in ("meta.json", "stdout.log", "stderr.log"):
        (attempt / name).write_text("{}")
        os.utime(attempt / name, (time.time() - 600, time.time() - 600))
    supervisor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (state / f"{number}.json").write_text(
            json.dumps(
                {
                    "schema": 1,
                    "supervisor_pid": supervisor.pid,
                    "supervisor_start": process_start_time(supervisor.pid),
                    "attempt_dir": str(attempt),
                }
            )
        )
        done = project.orch("tick", "--only", "reap", "--json")
    finally:
        supervisor.kill()
        supervisor.wait()

    ((phase, task, action, detail),) = rows(done.out)
    assert (phase, task, action) == ("reap", number, "stopped")
    assert detail.startswith("agent silent for 6") and detail.endswith("s: stuck")
    assert json.loads((attempt / "stop.json").read_text())["reason"].startswith("stuck: no output")
    assert project.status(number) is Status.IN_PROGRESS  # the supervisor publishes the outcome
