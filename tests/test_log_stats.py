"""`orch log [N] [-f]` and `orch stats [--json]` through the CLI (local store)."""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orch.status import Status
from orch.task import markers
from tests.helpers import Repo
from tests.tick_helpers import LocalProject, local_project


@pytest.fixture
def project(repo: Repo, orch_env: dict[str, str]) -> LocalProject:
    return local_project(repo, orch_env)


def response(project: LocalProject, number: int, agent: str, status: str, **extra: object) -> None:
    data = {
        "attempt": 1,
        "agent": agent,
        "status": status,
        "tokens_in": 1000,
        "tokens_out": 200,
        "cost_usd": 0.25,
        **extra,
    }
    project.store.create_comment(number, markers.render("agent-response", data, "result"))


def test_stats_counts_statuses_and_agent_results(project: LocalProject) -> None:
    a = project.add_task("A", status=Status.IN_REVIEW)
    b = project.add_task("B", status=Status.NEEDS_REVIEW)
    project.add_task("C")
    response(project, a, "claude", "done")
    response(project, b, "codex", "done", error_class="timeout")
    response(project, b, "claude", "blocked")
    project.store.update_issue(a, state="closed")

    done = project.orch("stats")

    assert done.code == 0, done
    assert (
        done.out
        == "\n".join(
            [
                "tasks: 3 (2 open, 1 closed)",
                "new\t1",
                "routed\t0",
                "in_progress\t0",
                "in_review\t1",
                "needs_review\t1",
                "blocked\t0",
                "done\t0",
                "",
                "claude\t2\t1\t50%\t2000\t400\t$0.5000",
                "codex\t1\t0\t0%\t1000\t200\t$0.2500",
                "total cost: $0.7500",
            ]
        )
        + "\n"
    )
    data = json.loads(project.orch("stats", "--json").out)
    assert data["schema"] == 1
    assert data["tasks"] == {
        "open": 2,
        "closed": 1,
        "by_status": {
            "new": 1,
            "routed": 0,
            "in_progress": 0,
            "in_review": 1,
            "needs_review": 1,
            "blocked": 0,
            "done": 0,
        },
    }
    assert data["agents"][0] == {
        "agent": "claude",
        "attempts": 2,
        "done": 1,
        "success_rate": 0.5,
        "tokens_in": 2000,
        "tokens_out": 400,
        "cost_usd": 0.5,
    }
    assert data["cost_usd"] == 0.75


def test_log_before_any_tick_says_what_to_do(project: LocalProject) -> None:
    done = project.orch("log")
    log = Path(project.env["ORCH_HOME"]) / "state" / "logs" / "orch.log"
    assert (done.code, done.out) == (1, "")
    assert done.err == f"orch: no log yet at {log}: run `orch tick` first\n"


def test_log_filters_by_task_and_follows(project: LocalProject) -> None:
    first = project.add_task("One")
    second = project.add_task("Two")
    owner = project.store.user
    project.say(first, owner, "/priority high")
    project.say(second, owner, "/priority low")
    assert project.orch("tick", "--only", "owner").code == 0

    only = project.orch("log", str(second)).out.splitlines()
    assert len(only) == 1 and f"owner #{second} acked /priority" in only[0]
    assert len(project.orch("log", "-n", "1").out.splitlines()) == 1

    log_file = Path(project.env["ORCH_HOME"]) / "state" / "logs" / "orch.log"
    follower = subprocess.Popen(
        [sys.executable, "-m", "orch", "log", "-f", "-n", "0", str(first)],
        cwd=project.repo.work,
        env=project.env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until_open(follower.pid, log_file)  # it opened the log and seeks to its end
        project.say(first, owner, "/close")
        assert project.orch("tick", "--only", "owner").code == 0
        assert follower.stdout is not None
        ready, _, _ = select.select([follower.stdout], [], [], 20)
        assert ready, "orch log -f printed nothing"
        line = follower.stdout.readline()
    finally:
        follower.kill()
        follower.wait()
    assert f"local/widgets owner #{first} acked /close: comment" in line


def test_log_hides_debug_lines_unless_verbose(project: LocalProject) -> None:
    log = Path(project.env["ORCH_HOME"]) / "state" / "logs" / "orch.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(
        "2026-12-05T10:00:00+0000 11 INFO tick t1 started\n"
        "2026-12-05T10:00:01+0000 11 DEBUG gh api GET repos/x -> 200 in 0.10s\n"
        "2026-12-05T10:00:02+0000 11 ERROR internal error\n"
        "Traceback (most recent call last):\n"
        "2026-12-05T10:00:03+0000 11 DEBUG detail\n"
        "  continued debug detail\n"
        "2026-12-05T10:00:04+0000 11 INFO tick t1 finished: 0 actions, 0 errors\n"
    )
    plain = project.orch("log").out.splitlines()
    assert plain == [
        "2026-12-05T10:00:00+0000 11 INFO tick t1 started",
        "2026-12-05T10:00:02+0000 11 ERROR internal error",
        "Traceback (most recent call last):",
        "2026-12-05T10:00:04+0000 11 INFO tick t1 finished: 0 actions, 0 errors",
    ]
    assert len(project.orch("log", "-v").out.splitlines()) == 7
    assert len(project.orch("-v", "log").out.splitlines()) == 7


def _wait_until_open(pid: int, path: Path) -> None:
    """Until process `pid` holds `path` open (a state, read from /proc; not a timing guess)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        fds = Path(f"/proc/{pid}/fd")
        with contextlib.suppress(OSError):
            if any(os.path.realpath(fd) == str(path.resolve()) for fd in fds.iterdir()):
                return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} never opened {path}")
