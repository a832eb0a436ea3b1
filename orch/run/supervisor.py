"""Runs one agent process under supervision (SPEC §6.3 timeouts, §2.4 artifacts).

The agent starts in its own session (so its own process group) with stdin from a file and
stdout/stderr streamed straight into the attempt directory. The supervisor watches the
wall clock and the output files: past the wall timeout, or with no new output for the
idle timeout, or when the owner asks it to stop (`stop.json` in the attempt directory),
it kills the whole group (SIGTERM, then SIGKILL after a grace period). It records the
real exit code or signal in `exit.json`.

With `workflow.use_tmux` the agent runs inside a detached tmux session instead, so
`orch task attach N` can watch it; the same files, timeouts and exit record apply.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from orch.clock import Clock
from orch.io import proc
from orch.task.attempt import AttemptDir, command_record

GRACE_SECONDS = 5.0
POLL_SECONDS = 0.2
STOP_FILE = "stop.json"


class InvocationLike(Protocol):
    """The shape of orch.agents.Invocation the supervisor needs."""

    @property
    def argv(self) -> Sequence[str]: ...
    @property
    def env(self) -> Mapping[str, str]: ...
    @property
    def stdin(self) -> str | None: ...
    @property
    def cwd(self) -> Path: ...
    @property
    def files(self) -> Mapping[Path, str]: ...


@dataclass(frozen=True)
class Command:
    """A plain invocation (tests, custom callers); orch.agents.Invocation has the same shape."""

    argv: Sequence[str]
    cwd: Path
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    stdin: str | None = None
    files: Mapping[Path, str] = field(default_factory=dict)
    output_file: Path | None = None


@dataclass(frozen=True)
class ExitInfo:
    exit_code: int | None  # the process's own exit code; None when a signal ended it
    signal: int | None
    timed_out: bool
    idle_killed: bool
    stopped: bool  # stopped by the owner (`orch task kill`, `/stop`)
    duration_s: float
    pid: int | None
    reason: str = ""  # why the supervisor killed it, in words
    interrupted: bool = False  # Ctrl-C in the terminal of `orch task run` (SPEC §12)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["signal_name"] = signal_name(self.signal)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExitInfo:
        return cls(
            exit_code=data.get("exit_code"),
            signal=data.get("signal"),
            timed_out=bool(data.get("timed_out")),
            idle_killed=bool(data.get("idle_killed")),
            stopped=bool(data.get("stopped")),
            duration_s=float(data.get("duration_s") or 0),
            pid=data.get("pid"),
            reason=str(data.get("reason") or ""),
            interrupted=bool(data.get("interrupted")),
        )

    @property
    def returncode(self) -> int:
        """A shell-style code for parsers: the exit code, or 128+signal."""
        if self.exit_code is not None:
            return self.exit_code
        return 128 + (self.signal or 0)


def signal_name(number: int | None) -> str | None:
    if not number:
        return None
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"SIG{number}"


@dataclass
class Progress:
    elapsed: float
    idle: float
    last_line: str


class Interrupted(Exception):
    """The supervisor itself was asked to stop (SIGTERM, Ctrl-C)."""


def supervise(
    invocation: InvocationLike,
    adir: AttemptDir,
    *,
    clock: Clock,
    timeout: float,
    idle_timeout: float,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    describe: Callable[[str], str] | None = None,
    grace: float = GRACE_SECONDS,
    use_tmux: bool = False,
    tmux_session: str | None = None,
) -> ExitInfo:
    """Run the agent to completion or until killed; write exit.json; return the facts."""
    _write_inputs(invocation, adir)
    started = clock.monotonic()
    if use_tmux:
        runner: _Runner = _TmuxRunner(invocation, adir, tmux_session or f"orch-{os.getpid()}")
    else:
        runner = _PopenRunner(invocation, adir)
    try:
        pid = runner.start()
    except proc.CommandNotFound as exc:
        info = ExitInfo(127, None, False, False, False, 0.0, None, reason=exc.message)
        adir.stderr.write_text(exc.message + "\n", encoding="utf-8")
        adir.write(adir.exit, info.to_json())
        return info
    if on_start:
        on_start(pid)

    ending = _Ending()
    watch = _Watch(runner, adir, clock, started, timeout, idle_timeout, grace)
    previous = _install_term_handler()
    try:
        watch.run(ending, _OutputWatcher(adir, describe), on_progress)
    except KeyboardInterrupt:
        ending.interrupted, ending.reason = True, "interrupted (Ctrl-C)"
        runner.kill(grace, clock)
    except Interrupted:
        ending.stopped, ending.reason = True, "the supervisor was interrupted"
        runner.kill(grace, clock)
    finally:
        _restore_term_handler(previous)
    exit_code, sig = runner.result()
    runner.sweep()
    info = ExitInfo(
        exit_code=exit_code,
        signal=sig,
        timed_out=ending.timed_out,
        idle_killed=ending.idle_killed,
        stopped=ending.stopped,
        duration_s=round(clock.monotonic() - started, 3),
        pid=pid,
        reason=ending.reason,
        interrupted=ending.interrupted,
    )
    adir.write(adir.exit, info.to_json())
    return info


def _write_inputs(invocation: InvocationLike, adir: AttemptDir) -> None:
    """The attempt directory, the invocation's files, stdin and command record; no stale
    stop request."""
    adir.create()
    for path, content in invocation.files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    adir.stdin.write_text(invocation.stdin or "", encoding="utf-8")
    adir.write(adir.command, command_record(list(invocation.argv), invocation.cwd, invocation.env))
    with contextlib.suppress(FileNotFoundError):
        (adir.path / STOP_FILE).unlink()


@dataclass
class _Ending:
    """Why the agent ended, as far as the supervisor made it end."""

    timed_out: bool = False
    idle_killed: bool = False
    stopped: bool = False
    interrupted: bool = False
    reason: str = ""


@dataclass
class _Watch:
    """The poll loop: output activity, the stop file, the wall and idle timeouts."""

    runner: _Runner
    adir: AttemptDir
    clock: Clock
    started: float
    timeout: float
    idle_timeout: float
    grace: float

    def run(
        self,
        ending: _Ending,
        watcher: _OutputWatcher,
        on_progress: Callable[[Progress], None] | None,
    ) -> None:
        """Poll until the agent exits, or kill it when it must stop (recorded in `ending`)."""
        started, clock = self.started, self.clock
        last_activity = started
        last_report = started - 10.0
        while True:
            code = self.runner.poll()
            now = clock.monotonic()
            if watcher.changed():
                last_activity = now
            if code is not None:
                return
            self._check(ending, now, last_activity)
            if ending.stopped or ending.timed_out or ending.idle_killed:
                self.runner.kill(self.grace, clock)
                return
            if on_progress and now - last_report >= 1.0:
                last_report = now
                on_progress(Progress(now - started, now - last_activity, watcher.last_line))
            clock.sleep(POLL_SECONDS)

    def _check(self, ending: _Ending, now: float, last_activity: float) -> None:
        if (self.adir.path / STOP_FILE).exists():
            ending.reason = _stop_reason(self.adir)
            # The tick's reap asks with "stuck: …" when it sees no output for too long.
            ending.idle_killed = ending.reason.startswith("stuck")
            ending.stopped = not ending.idle_killed
        elif self.timeout and now - self.started > self.timeout:
            ending.timed_out, ending.reason = True, f"wall timeout of {int(self.timeout)}s reached"
        elif self.idle_timeout and now - last_activity > self.idle_timeout:
            ending.idle_killed = True
            ending.reason = f"no output for {int(self.idle_timeout)}s"


def request_stop(adir: AttemptDir, reason: str) -> None:
    """Ask the supervisor of this attempt to kill its agent (it classifies it as stopped)."""
    adir.write(adir.path / STOP_FILE, {"reason": reason})


def _stop_reason(adir: AttemptDir) -> str:
    data = adir.read(adir.path / STOP_FILE) or {}
    return str(data.get("reason") or "stopped by owner")


def kill_group(pgid: int, grace: float, clock: Clock, alive: Callable[[], bool]) -> None:
    """SIGTERM the group, wait up to `grace` for `alive()` to turn false, then SIGKILL."""
    _signal_group(pgid, signal.SIGTERM)
    deadline = clock.monotonic() + grace
    while alive() and clock.monotonic() < deadline:
        clock.sleep(0.05)
    _signal_group(pgid, signal.SIGKILL)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _install_term_handler() -> Any:
    def handler(signum: int, frame: object) -> None:
        raise Interrupted()

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        return None


def _restore_term_handler(previous: Any) -> None:
    if previous is not None:
        with contextlib.suppress(ValueError):
            signal.signal(signal.SIGTERM, previous)


class _OutputWatcher:
    """Notices new output in stdout/stderr and keeps a readable last line."""

    def __init__(self, adir: AttemptDir, describe: Callable[[str], str] | None) -> None:
        self.files = (adir.stdout, adir.stderr)
        self.sizes = [0, 0]
        self.describe = describe
        self.last_line = ""

    def changed(self) -> bool:
        changed = False
        for index, path in enumerate(self.files):
            try:
                size = path.stat().st_size
            except OSError:
                continue
            if size != self.sizes[index]:
                self.sizes[index] = size
                changed = True
                if index == 0:
                    self._update_line(path, size)
        return changed

    def _update_line(self, path: Path, size: int) -> None:
        try:
            with path.open("rb") as handle:
                handle.seek(max(0, size - 16384))
                tail = handle.read().decode("utf-8", errors="replace")
        except OSError:
            return
        for line in reversed(tail.splitlines()):
            if line.strip():
                text = self.describe(line) if self.describe else line.strip()
                if text:
                    self.last_line = text[:200]
                    return


class _Runner(Protocol):
    def start(self) -> int: ...
    def poll(self) -> int | None: ...
    def kill(self, grace: float, clock: Clock) -> None: ...
    def result(self) -> tuple[int | None, int | None]: ...
    def sweep(self) -> None: ...


class _PopenRunner:
    def __init__(self, invocation: InvocationLike, adir: AttemptDir) -> None:
        self.invocation = invocation
        self.adir = adir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> int:
        with (
            self.adir.stdin.open("rb") as stdin,
            self.adir.stdout.open("wb") as out,
            self.adir.stderr.open("wb") as err,
        ):
            self.process = proc.spawn(
                list(self.invocation.argv),
                cwd=self.invocation.cwd,
                env=self.invocation.env,
                stdin=stdin.fileno(),
                stdout=out.fileno(),
                stderr=err.fileno(),
                new_session=True,
            )
        return self.process.pid

    def poll(self) -> int | None:
        assert self.process is not None
        return self.process.poll()

    def kill(self, grace: float, clock: Clock) -> None:
        assert self.process is not None
        process = self.process
        kill_group(process.pid, grace, clock, lambda: process.poll() is None)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)

    def result(self) -> tuple[int | None, int | None]:
        assert self.process is not None
        code = self.process.wait()
        return (None, -code) if code < 0 else (code, None)

    def sweep(self) -> None:
        # Children the agent left behind in its group die with it.
        if self.process is not None:
            _signal_group(self.process.pid, signal.SIGKILL)


class _TmuxRunner:
    """The agent inside a detached tmux session; a tiny shell wrapper records its exit."""

    def __init__(self, invocation: InvocationLike, adir: AttemptDir, session: str) -> None:
        self.invocation = invocation
        self.adir = adir
        self.session = session
        self.exit_file = adir.path / "tmux-exit"
        self.pane_pid: int | None = None

    def start(self) -> int:
        argv = list(self.invocation.argv)
        if (
            proc.which(argv[0], path=self.invocation.env.get("PATH")) is None
            and not Path(argv[0]).exists()
        ):
            raise proc.CommandNotFound(argv[0])
        with contextlib.suppress(FileNotFoundError):
            self.exit_file.unlink()
        script = (
            f"{shlex.join(argv)} <{shlex.quote(str(self.adir.stdin))} "
            f">{shlex.quote(str(self.adir.stdout))} 2>{shlex.quote(str(self.adir.stderr))}; "
            f"echo $? >{shlex.quote(str(self.exit_file))}.tmp && "
            f"mv {shlex.quote(str(self.exit_file))}.tmp {shlex.quote(str(self.exit_file))}"
        )
        proc.run(["tmux", "kill-session", "-t", f"={self.session}"], env=self.invocation.env)
        started = proc.run(
            [
                "tmux",
                "new-session",
                "-d",
                "-s",
                self.session,
                "-x",
                "200",
                "-y",
                "50",
                "-c",
                str(self.invocation.cwd),
                "-P",
                "-F",
                "#{pane_pid}",
                "sh",
                "-c",
                script,
            ],
            env=self.invocation.env,
        )
        if not started.ok or not started.stdout.strip().isdigit():
            raise proc.CommandNotFound("tmux")
        self.pane_pid = int(started.stdout.strip())
        return self.pane_pid

    def poll(self) -> int | None:
        if self.exit_file.exists():
            return self._code()
        if self.pane_pid is not None and not proc.pid_alive(self.pane_pid):
            return self._code() if self.exit_file.exists() else -int(signal.SIGKILL)
        return None

    def _code(self) -> int:
        try:
            return int(self.exit_file.read_text().strip())
        except (OSError, ValueError):
            return -int(signal.SIGKILL)

    def kill(self, grace: float, clock: Clock) -> None:
        if self.pane_pid is not None:
            pid = self.pane_pid
            kill_group(pid, grace, clock, lambda: proc.pid_alive(pid))
        proc.run(["tmux", "kill-session", "-t", f"={self.session}"], env=self.invocation.env)

    def result(self) -> tuple[int | None, int | None]:
        if self.exit_file.exists():
            code = self._code()
            # sh reports a signal-killed child as 128+N.
            if code > 128 and code - 128 < 65:
                return None, code - 128
            return (None, -code) if code < 0 else (code, None)
        return None, int(signal.SIGKILL)

    def sweep(self) -> None:
        if self.pane_pid is not None:
            _signal_group(self.pane_pid, signal.SIGKILL)
        proc.run(["tmux", "kill-session", "-t", f"={self.session}"], env=self.invocation.env)


def read_exit(adir: AttemptDir) -> ExitInfo | None:
    data = adir.read(adir.exit)
    return ExitInfo.from_json(data) if data else None
