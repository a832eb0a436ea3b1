"""`orch stream`: two detached runs with the fake agent (the second starts while the
stream runs), their readable lines prefixed with `#N`, and the stream ends by itself when
both have ended. The agents wait on a gate
file the test creates once the stream has shown both sessions (no sleeps for timing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from orch.run import stream
from tests.helpers import Repo
from tests.run_helpers import RunProject, claude_envelope, make_run_project, result_obj, wait_for

REPO = "local/widgets"


@pytest.fixture
def project(repo: Repo, orch_env: dict[str, str], tmp_path: Path) -> RunProject:
    return make_run_project(repo, orch_env, tmp_path, "--local")


def add_task(project: RunProject, title: str) -> int:
    done = project.orch("task", "add", title, "--body", "b", "--agent", "claude")
    assert done.code == 0, done
    return int(done.out.strip())


def _event(kind: str, **data: object) -> str:
    return json.dumps({"type": kind, **data}) + "\n"


def test_stream_follows_two_detached_runs_and_ends_when_both_end(
    project: RunProject, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    steps = [
        {"stdout": _event("system", subtype="init", model="claude-sonnet-4-5")},
        {
            "stdout": _event(
                "assistant", message={"content": [{"type": "text", "text": "Looking at it"}]}
            )
        },
        {"run": f"while [ ! -f '{gate}' ]; do sleep 0.05; done"},
        {
            "stdout": _event(
                "assistant",
                message={
                    "content": [
                        {"type": "tool_use", "name": "Write", "input": {"file_path": "hello.txt"}}
                    ]
                },
            )
        },
        {"write": "hello.txt", "text": "hi\n"},
        {"stdout": claude_envelope(result_obj())},
    ]
    project.scenario({"claude": {"steps": steps}})
    first, second = add_task(project, "First"), add_task(project, "Second")
    assert project.orch("task", "run", "--detach", str(first)).code == 0
    assert wait_for(lambda: project.sidecar(REPO, first).get("agent_pid"))

    follower = subprocess.Popen(
        [sys.executable, "-m", "orch", "stream"],
        cwd=project.repo.work,
        env=project.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert follower.stdout is not None
    seen: list[str] = []

    def read_until(number: int) -> None:
        assert follower.stdout is not None
        while not any(line.startswith(f"#{number} │ 💬 Looking at it") for line in seen):
            line = follower.stdout.readline()
            assert line, f"the stream ended early: {seen!r}"
            seen.append(line.rstrip("\n"))

    try:
        read_until(first)
        # A session that starts while the stream runs joins it.
        assert project.orch("task", "run", "--detach", str(second)).code == 0
        read_until(second)
        gate.write_text("go")
        out, err = follower.communicate(timeout=120)
    finally:
        if follower.poll() is None:
            follower.kill()
    assert follower.returncode == 0, err
    lines = seen + out.splitlines()
    for number in (first, second):
        mine = [
            line.removeprefix(f"#{number} │ ") for line in lines if line.startswith(f"#{number} │ ")
        ]
        assert mine[:3] == [
            "session started (model claude-sonnet-4-5)",
            "💬 Looking at it",
            "🔧 Write: hello.txt",
        ], mine
        assert mine[3].startswith("✅ result ($0.0123): ")
        assert mine[4].startswith("--- agent ended: exit code 0 after ")
        assert mine[5:] == [
            "result: done → status:in_review — Added hello.txt",
            "files changed: hello.txt",
        ]
    assert all(line.startswith(("#1 │ ", "#2 │ ")) for line in lines), lines
    assert not any('{"type"' in line for line in lines)  # readable lines, not raw events


def test_stream_with_nothing_running_says_so_and_exits(project: RunProject) -> None:
    done = project.orch("stream")
    assert done.code == 0, done
    assert (done.out, done.err) == ("", "no agent session is running on this host\n")


def test_result_lines_and_labels() -> None:
    data = {
        "outcome": {"result": {"status": "blocked", "summary": "needs a key", "files_changed": []}},
        "decision": {"status": "blocked", "reason": "x"},
    }
    assert stream.result_lines(data) == ["result: blocked → status:blocked — needs a key"]
    assert stream.result_lines(
        {
            "outcome": {"result": None, "error_class": "usage_limit"},
            "decision": {"status": "routed", "reason": "limit"},
        }
    ) == ["result: usage_limit → status:routed — limit"]
    assert stream.label("a/b", 7, {"a/b"}) == "#7"
    assert stream.label("a/b", 7, {"a/b", "c/d"}) == "a/b#7"
