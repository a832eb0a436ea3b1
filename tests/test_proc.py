"""orch.io.proc.run: exit codes, output, input, signals and timeouts of short commands."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from orch.io import proc


def test_run_captures_output_and_any_exit_code(tmp_path: Path) -> None:
    done = proc.run(["sh", "-c", "cat; echo err >&2; pwd; exit 4"], cwd=tmp_path, input="in\n")

    assert (done.returncode, done.stdout, done.stderr) == (4, f"in\n{tmp_path}\n", "err\n")
    assert not done.ok and not done.timed_out


def test_a_command_past_its_timeout_is_killed_and_says_so() -> None:
    done = proc.run(["sleep", "30"], timeout=0.2)

    assert done.timed_out and done.returncode == -signal.SIGKILL and not done.ok


def test_a_command_within_its_timeout_ends_as_usual() -> None:
    done = proc.run(["sh", "-c", "echo fine"], timeout=30)

    assert done.ok and done.stdout == "fine\n" and not done.timed_out


def test_a_command_killed_by_a_signal_reports_it() -> None:
    done = proc.run(["sh", "-c", "kill -TERM $$"], timeout=30)

    assert done.returncode == -signal.SIGTERM and not done.timed_out


def test_a_missing_program_is_one_clear_error() -> None:
    with pytest.raises(proc.CommandNotFound, match="no-such-program-here: command not found"):
        proc.run(["no-such-program-here"])
