"""The supervisor: real processes in their own group, streams to files, timeouts, exit facts."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from orch.clock import SystemClock
from orch.run.supervisor import Command, ExitInfo, Progress, read_exit, request_stop, supervise
from orch.task.attempt import AttemptDir


def sh(script: str, cwd: Path, stdin: str | None = None) -> Command:
    return Command(argv=["sh", "-c", script], cwd=cwd, env=dict(os.environ), stdin=stdin)


def run(cmd: Command, tmp_path: Path, **kwargs: object) -> tuple[ExitInfo, AttemptDir]:
    adir = AttemptDir(tmp_path / "attempt")
    options: dict = {"timeout": 30, "idle_timeout": 30, "grace": 1.0, **kwargs}
    return supervise(cmd, adir, clock=SystemClock(), **options), adir


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_exit_code_streams_and_stdin(tmp_path: Path) -> None:
    info, adir = run(
        sh("cat; echo out-line; echo err-line >&2; exit 3", tmp_path, stdin="from stdin\n"),
        tmp_path,
    )
    assert (info.exit_code, info.signal, info.timed_out, info.idle_killed, info.stopped) == (
        3,
        None,
        False,
        False,
        False,
    )
    assert adir.stdout.read_text() == "from stdin\nout-line\n"
    assert adir.stderr.read_text() == "err-line\n"
    assert read_exit(adir) == info
    command = adir.read(adir.command)
    assert command is not None and command["argv"] == [
        "sh",
        "-c",
        "cat; echo out-line; echo err-line >&2; exit 3",
    ]
    assert "PATH" in command["env_names"] and "env" not in command


def test_signal_is_recorded_as_signal(tmp_path: Path) -> None:
    info, _ = run(sh("kill -9 $$", tmp_path), tmp_path)
    assert (info.exit_code, info.signal, info.returncode) == (None, signal.SIGKILL, 137)
    assert info.to_json()["signal_name"] == "SIGKILL"


def test_wall_timeout_kills_the_whole_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    started = time.monotonic()
    info, _ = run(
        sh(f"sleep 300 & echo $! > {pidfile}; echo started; wait", tmp_path), tmp_path, timeout=1.0
    )
    assert time.monotonic() - started < 10
    assert info.timed_out and info.signal == signal.SIGTERM and info.exit_code is None
    assert info.reason == "wall timeout of 1s reached"
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def test_term_ignoring_agent_gets_sigkill_after_grace(tmp_path: Path) -> None:
    info, _ = run(
        sh("trap '' TERM; echo ready; while :; do sleep 0.1; done", tmp_path),
        tmp_path,
        timeout=0.5,
        grace=0.5,
    )
    assert info.timed_out and info.signal == signal.SIGKILL


def test_idle_timeout(tmp_path: Path) -> None:
    info, _ = run(sh("echo one; sleep 300", tmp_path), tmp_path, idle_timeout=1.0)
    assert info.idle_killed and not info.timed_out and info.reason == "no output for 1s"


def test_output_keeps_an_agent_alive_past_the_idle_timeout(tmp_path: Path) -> None:
    info, _ = run(
        sh("for i in 1 2 3 4 5 6; do echo $i; sleep 0.3; done", tmp_path),
        tmp_path,
        idle_timeout=1.0,
    )
    assert (info.exit_code, info.idle_killed) == (0, False)


def test_stop_request(tmp_path: Path) -> None:
    adir = AttemptDir(tmp_path / "attempt")
    timer = threading.Timer(0.8, lambda: request_stop(adir, "stopped by owner"))
    timer.start()
    info = supervise(
        sh("echo hi; sleep 300", tmp_path),
        adir,
        clock=SystemClock(),
        timeout=30,
        idle_timeout=30,
        grace=1.0,
    )
    timer.join()
    assert info.stopped and info.reason == "stopped by owner" and info.signal == signal.SIGTERM


def test_missing_program(tmp_path: Path) -> None:
    info, adir = run(Command(argv=["no-such-agent-xyz"], cwd=tmp_path), tmp_path)
    assert (
        info.exit_code == 127 and "no-such-agent-xyz: command not found" in adir.stderr.read_text()
    )


def test_progress_reports_the_last_line(tmp_path: Path) -> None:
    seen: list[Progress] = []
    run(
        sh("echo first; sleep 1.3; echo second; sleep 1.3", tmp_path),
        tmp_path,
        on_progress=seen.append,
        describe=lambda line: f"<{line}>",
    )
    assert seen and seen[-1].last_line == "<second>"
    assert all(p.elapsed >= 0 for p in seen)


def test_files_are_written_before_start(tmp_path: Path) -> None:
    config = tmp_path / "attempt" / "agent.json"
    cmd = Command(argv=["cat", str(config)], cwd=tmp_path, files={config: '{"a": 1}'})
    info, adir = run(cmd, tmp_path)
    assert info.exit_code == 0 and adir.stdout.read_text() == '{"a": 1}'


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_tmux_mode_records_the_real_exit_code(tmp_path: Path) -> None:
    session = f"orch-test-{os.getpid()}"
    info, adir = run(
        Command(
            argv=[sys.executable, "-c", "import sys; print('in tmux'); sys.exit(4)"], cwd=tmp_path
        ),
        tmp_path,
        use_tmux=True,
        tmux_session=session,
    )
    assert info.exit_code == 4
    assert adir.stdout.read_text() == "in tmux\n"


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_tmux_mode_timeout(tmp_path: Path) -> None:
    session = f"orch-test-t-{os.getpid()}"
    info, _ = run(
        sh("echo go; sleep 300", tmp_path),
        tmp_path,
        use_tmux=True,
        tmux_session=session,
        timeout=1.0,
    )
    assert info.timed_out and info.exit_code is None and info.signal is not None
