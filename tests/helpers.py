"""Test helpers shared by every test module: real git repos and running the real CLI.

`run_orch` runs the CLI in this process through `orch.cli.run`, the function
`python -m orch` calls, with the process state a fresh `orch` would have (see
`call_orch`); `run_orch(..., subprocess=True)` spawns `python -m orch` for the tests that
are about processes: signals, kills, concurrent ticks, locks held by another process,
start-up and the entry points.
"""

from __future__ import annotations

import contextlib
import io
import json
import locale
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from orch import cli
from orch import log as orch_log

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Owner",
    "GIT_AUTHOR_EMAIL": "owner@example.com",
    "GIT_COMMITTER_NAME": "Test Owner",
    "GIT_COMMITTER_EMAIL": "owner@example.com",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
}


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, **GIT_IDENTITY, "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout


@dataclass(frozen=True)
class Repo:
    work: Path  # the user's checkout
    origin: Path  # the bare "remote"


def make_repo(base: Path, name: str = "widgets") -> Repo:
    """A checkout with one commit on main, pushed to a bare origin beside it."""
    origin = base / f"{name}-origin.git"
    work = base / name
    git("init", "-q", "--bare", "-b", "main", str(origin), cwd=base)
    git("init", "-q", "-b", "main", str(work), cwd=base)
    (work / "README.md").write_text(f"# {name}\n")
    git("add", "README.md", cwd=work)
    git("commit", "-q", "-m", "initial commit", cwd=work)
    git("remote", "add", "origin", str(origin), cwd=work)
    git("push", "-q", "-u", "origin", "main", cwd=work)
    return Repo(work=work, origin=origin)


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def __str__(self) -> str:  # shown by pytest when an assertion fails
        return f"exit {self.code}\n--- stdout\n{self.out}--- stderr\n{self.err}"


def run_orch(
    *args: str,
    cwd: Path,
    env: dict[str, str],
    input: str | None = None,
    timeout: float = 120,
    subprocess: bool = False,
) -> Result:
    """Run `orch ARGS` in `cwd` with exactly `env` (plus PWD = `cwd`, as a shell sets it)
    and capture everything: in this process, or with `subprocess` in `python -m orch`
    (`timeout` applies to that one only; in-process runs have pytest's timeout)."""
    if subprocess:
        return spawn_orch(*args, cwd=cwd, env=env, input=input, timeout=timeout)
    return call_orch(*args, cwd=cwd, env=env, input=input)


def spawn_orch(
    *args: str,
    cwd: Path,
    env: dict[str, str],
    input: str | None = None,
    timeout: float = 120,
) -> Result:
    """Run the real `orch` CLI in a subprocess (python -m orch) and capture everything,
    with PWD = `cwd` as a shell would set it (agents must not inherit it: tests/fakes)."""
    done = subprocess.run(
        [sys.executable, "-m", "orch", *args],
        cwd=cwd,
        env={**env, "PWD": str(cwd)},
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def call_orch(*args: str, cwd: Path, env: dict[str, str], input: str | None = None) -> Result:
    """`python -m orch ARGS` without the process: `orch.cli.run` (the function
    `orch.__main__` exits with, so errors become the same line and exit code) with the
    process state a fresh `orch` starts from, restored afterwards.

    For the run: os.environ is `env` + PWD, the cwd is `cwd`, sys.argv is what
    `python -m orch` sees; file descriptors 0/1/2 are files (stdin holds `input`, else it is
    empty), so children that inherit them (gh, git, agents) write into the captured
    output as they would in a subprocess, and sys.stdin/stdout/stderr are fresh text
    streams on them (no terminal, like a pipe). Logging starts as in a new process: the
    "orch" logger unconfigured (orch.log.setup attaches its file handler again, to this
    run's state dir) and the root logger without pytest's handlers, so a warning logged
    before setup reaches stderr through logging's last resort, as it would.
    """
    with (
        tempfile.TemporaryFile() as stdin,
        tempfile.TemporaryFile() as stdout,
        tempfile.TemporaryFile() as stderr,
    ):
        stdin.write((input or "").encode(_ENCODING))
        stdin.seek(0)
        with _environment(env, cwd), _fresh_logging(), _standard_streams(stdin, stdout, stderr):
            sys.argv = [str(Path(cli.__file__).with_name("__main__.py")), *args]
            code = _exit_code(list(args))
        return Result(code, _text(stdout), _text(stderr))


_ENCODING = locale.getpreferredencoding(False)  # what a child's stdio and text=True use


def _exit_code(argv: list[str]) -> int:
    """What `sys.exit(cli.run(argv))` in `orch.__main__` leaves as the exit status."""
    try:
        code: object = cli.run(argv)
    except SystemExit as exc:
        code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    sys.stderr.write(f"{code}\n")  # sys.exit("message") prints it and exits 1
    return 1


def _text(captured: IO[bytes]) -> str:
    """The captured bytes as `subprocess.run(text=True)` decodes them (universal newlines)."""
    captured.seek(0)
    return io.TextIOWrapper(io.BytesIO(captured.read()), encoding=_ENCODING).read()


@contextlib.contextmanager
def _environment(env: dict[str, str], cwd: Path) -> Iterator[None]:
    saved_env, saved_cwd, saved_argv = dict(os.environ), os.getcwd(), sys.argv
    os.environ.clear()
    os.environ.update({**env, "PWD": str(cwd)})
    time.tzset()  # TZ as the environment says
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        time.tzset()
        sys.argv = saved_argv


@contextlib.contextmanager
def _fresh_logging() -> Iterator[None]:
    orch_logger, root = logging.getLogger("orch"), logging.getLogger()
    saved = (list(orch_logger.handlers), orch_logger.level, orch_logger.propagate)
    saved_root = (list(root.handlers), root.level)
    for handler in saved[0]:
        orch_logger.removeHandler(handler)
    for handler in saved_root[0]:
        root.removeHandler(handler)
    orch_logger.setLevel(logging.NOTSET)
    orch_logger.propagate = True
    root.setLevel(logging.WARNING)
    orch_log._configured = False
    try:
        yield
    finally:
        for handler in list(orch_logger.handlers):
            orch_logger.removeHandler(handler)
            handler.close()
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        orch_log._configured = False
        for handler in saved[0]:
            orch_logger.addHandler(handler)
        orch_logger.setLevel(saved[1])
        orch_logger.propagate = saved[2]
        for handler in saved_root[0]:
            root.addHandler(handler)
        root.setLevel(saved_root[1])


@contextlib.contextmanager
def _standard_streams(stdin: IO[bytes], stdout: IO[bytes], stderr: IO[bytes]) -> Iterator[None]:
    """fds 0/1/2 on the given files and sys.stdin/stdout/stderr as Python opens them for a
    child whose stdio are pipes (stdout block-buffered, stderr line-buffered)."""
    saved_streams = (sys.stdin, sys.stdout, sys.stderr)
    for stream in saved_streams[1:]:
        stream.flush()
    saved_fds = [os.dup(fd) for fd in (0, 1, 2)]
    try:
        for fd, file in enumerate((stdin, stdout, stderr)):
            os.dup2(file.fileno(), fd)
        with (
            open(0, encoding=_ENCODING, closefd=False) as sys.stdin,
            open(1, "w", encoding=_ENCODING, closefd=False) as sys.stdout,
            open(
                2, "w", encoding=_ENCODING, errors="backslashreplace", closefd=False
            ) as sys.stderr,
        ):
            sys.stderr.reconfigure(line_buffering=True)
            yield  # leaving the block flushes the streams, the fds stay open
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        for fd, saved in enumerate(saved_fds):
            os.dup2(saved, fd)
            os.close(saved)


def tick_actions(out: str) -> list[dict[str, Any]]:
    """The actions of one `orch tick --json` document."""
    document = json.loads(out)
    assert isinstance(document["actions"], list), document
    return list(document["actions"])


def into_a_slot(minutes: int = 5) -> float:
    """An ORCH_TEST_CLOCK_OFFSET (seconds) that puts the wall clock one minute into the
    next `minutes`-long cron slot, so ticks run right after each other share one slot
    whenever the test runs (a real clock crosses a slot boundary now and then)."""
    now = datetime.now(UTC)
    start = now.replace(minute=now.minute - now.minute % minutes, second=0, microsecond=0)
    return (start + timedelta(minutes=minutes + 1) - now).total_seconds()
