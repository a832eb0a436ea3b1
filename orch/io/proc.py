"""Running external programs: the only module that imports `sh`.

`run()` is for short commands whose output we read (git, gh, `--version` probes). Agent
processes, which need their own process group, live streams and timeouts, are started by
the supervisor through `spawn()`; `run_in_group()` runs a one-shot agent (the router) to
its end with a timeout that kills its whole group. A child started in a directory gets
`PWD` set to it (`child_env`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sh

from orch.errors import OrchError


@dataclass(frozen=True)
class ProcResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


class CommandNotFound(OrchError):
    """The executable is not on PATH."""

    def __init__(self, program: str) -> None:
        super().__init__(f"{program}: command not found; install it or fix PATH")
        self.program = program


def run(
    argv: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    input: str | bytes | None = None,
    timeout: float | None = None,
) -> ProcResult:
    """Run argv to completion and capture its output; never raises on a non-zero exit."""

    program, *args = (str(a) for a in argv)
    try:
        command = sh.Command(program)
    except sh.CommandNotFound as exc:
        raise CommandNotFound(program) from exc
    running = command(
        *args,
        _cwd=str(cwd) if cwd else None,
        _env=child_env(env, cwd or None),
        _in=input if input is not None else "",
        _ok_code=list(range(256)),
        _return_cmd=True,
        _tty_out=False,
        _decode_errors="replace",
        _bg=True,  # waited for below: sh's own `_timeout` adds 0.1 s to every call
        _bg_exc=False,
    )
    expired = threading.Event()
    timer = threading.Timer(timeout, _expire, (running, expired)) if timeout else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        running.wait()
    except sh.SignalException as exc:
        if expired.is_set():
            return ProcResult((program, *args), -signal.SIGKILL, "", "", timed_out=True)
        return ProcResult((program, *args), exc.exit_code, _text(exc.stdout), _text(exc.stderr))
    finally:
        if timer is not None:
            timer.cancel()
    return ProcResult(
        (program, *args), running.exit_code, _text(running.stdout), _text(running.stderr)
    )


def _expire(running: Any, expired: threading.Event) -> None:
    """A `run()` timeout: kill the command (its pid; `run_in_group` kills groups)."""
    expired.set()
    with contextlib.suppress(ProcessLookupError):
        running.signal(signal.SIGKILL)


def child_env(env: Mapping[str, str] | None, cwd: Path | str | None) -> dict[str, str] | None:
    """`env` (None: ours) with PWD naming `cwd`: a child started elsewhere must not inherit
    our PWD, since some programs (opencode, shells) trust $PWD over the OS cwd."""
    if cwd is None:
        return dict(env) if env is not None else None
    return {**(os.environ if env is None else env), "PWD": os.path.abspath(cwd)}


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    return data


def which(program: str, path: str | None = None) -> str | None:

    return shutil.which(program, path=path)


def spawn(
    argv: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    stdin: int | None = subprocess.DEVNULL,
    stdout: int | None = None,
    stderr: int | None = None,
    new_session: bool = True,
) -> subprocess.Popen[bytes]:
    """Start a long-running child in its own session (so its whole group can be killed)."""
    try:
        return subprocess.Popen(
            [str(a) for a in argv],
            cwd=str(cwd) if cwd else None,
            env=child_env(env, cwd or None),
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            start_new_session=new_session,
            close_fds=True,
        )
    except FileNotFoundError as exc:
        raise CommandNotFound(str(argv[0])) from exc


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_start_time(pid: int) -> str | None:
    """A token that changes when a pid is reused (Linux: starttime from /proc/PID/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        result = run(["ps", "-o", "lstart=", "-p", str(pid)]) if which("ps") else None
        return result.stdout.strip() or None if result and result.ok else None
    # Field 22 (starttime) comes after the parenthesised command, which may hold spaces.
    fields = stat.rsplit(")", 1)[1].split()
    return fields[19] if len(fields) > 19 else None


def run_in_group(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], stdin: str | None, timeout: float
) -> ProcResult:
    """Run a one-shot agent (the router) to its end in its own process group, killing the
    whole group on timeout: node launchers (codex.js) leave their real binary behind if
    only they are killed, and codex never exits on a refused connection
    (reference/clients.md §2.3)."""

    child = spawn(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = child.communicate((stdin or "").encode("utf-8"), timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        out, err = child.communicate()
        timed_out = True
    return ProcResult(
        tuple(str(a) for a in argv), child.returncode, _text(out), _text(err), timed_out
    )
