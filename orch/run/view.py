"""The work behind `orch task kill|live|logs|attach|cost`: running supervisors on this
host (from sidecars), an attempt's readable log, and costs from markers.

Nothing here prints or exits; the commands in orch/commands/task/run.py render.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from orch.agents.transcript import describe, render
from orch.clock import Clock, parse_iso
from orch.errors import NotFound, OrchError
from orch.io import proc
from orch.io.locks import holder
from orch.labels import statuses_in
from orch.paths import Paths
from orch.run.runner import tmux_session
from orch.run.supervisor import kill_group, request_stop
from orch.task.attempt import AttemptDir, attempt_dir, latest, read_sidecar, running_sidecars
from orch.task.history import History, orch_logins

if TYPE_CHECKING:
    from orch.store.base import Store


def supervisor_alive(sidecar: dict[str, Any]) -> bool:
    """THE liveness rule for a task's supervisor, used by `orch task live|kill`, the
    tick (reap, dispatch counting, /stop) and doctor: its pid exists, has the recorded
    start time (not a reused pid) and is not a zombie."""
    return process_alive(sidecar.get("supervisor_pid"), sidecar.get("supervisor_start"))


def agent_alive(sidecar: dict[str, Any]) -> bool:
    """The same rule for the task's agent process."""
    return process_alive(sidecar.get("agent_pid"), sidecar.get("agent_start"))


def process_alive(pid: Any, recorded_start: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0 or not proc.pid_alive(pid) or _zombie(pid):
        return False
    return recorded_start is None or str(proc.process_start_time(pid)) == str(recorded_start)


def _zombie(pid: int) -> bool:
    """A dead process nobody reaped yet (containers often run without an init that reaps
    orphans): it still has a pid, but it is dead. psutil reads this on Linux and macOS
    alike (a /proc parse saw no zombie on macOS)."""
    try:
        return psutil.Process(pid).status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.Error:  # gone meanwhile, or not ours to look at
        return False


@dataclass(frozen=True)
class LiveTask:
    repo: str
    number: int
    agent: str | None
    model: str | None
    attempt: int | None
    elapsed_s: float | None
    pid: int
    agent_pid: int | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def live(paths: Paths, clock: Clock) -> list[LiveTask]:
    """Every task whose supervisor is running on this host."""
    found = []
    now = clock.now()
    for repo, number, data in running_sidecars(paths):
        if not supervisor_alive(data):
            continue
        started = data.get("started_at")
        elapsed = (now - parse_iso(started)).total_seconds() if isinstance(started, str) else None
        found.append(
            LiveTask(
                repo=repo,
                number=number,
                agent=data.get("agent"),
                model=data.get("model"),
                attempt=data.get("attempt"),
                elapsed_s=round(elapsed, 1) if elapsed is not None else None,
                pid=int(data["supervisor_pid"]),
                agent_pid=data.get("agent_pid"),
            )
        )
    return found


@dataclass(frozen=True)
class KillResult:
    number: int
    supervisor_pid: int | None
    agent_pid: int | None
    stopped: bool  # the supervisor confirmed (it released the task's lock)


def kill(paths: Paths, clock: Clock, repo: str, number: int, *, wait_s: float = 30.0) -> KillResult:
    """Stop a running task: its supervisor kills the agent's group and publishes the
    attempt as `needs_review` "stopped by owner". An orphaned agent (supervisor gone) is
    killed directly; the next run or reap publishes what it left."""

    data = read_sidecar(paths, repo, number)
    sup_alive = supervisor_alive(data)
    ag_alive = agent_alive(data)
    if not sup_alive and not ag_alive:
        raise NotFound(f"task #{number} is not running on this host (no live supervisor or agent)")
    deadline = clock.monotonic() + wait_s
    # A supervisor still preparing (worktree, prompt) has not recorded this attempt's
    # directory yet (the sidecar may name the previous one): wait for its agent to start,
    # so the request reaches it and the attempt is published as stopped by the owner.
    while sup_alive and not ag_alive and clock.monotonic() < deadline:
        clock.sleep(0.2)
        data = read_sidecar(paths, repo, number)
        sup_alive, ag_alive = supervisor_alive(data), agent_alive(data)
    if not sup_alive and not ag_alive:
        return KillResult(number, data.get("supervisor_pid"), None, stopped=True)
    adir_path = data.get("attempt_dir")
    if sup_alive and isinstance(adir_path, str):
        request_stop(AttemptDir(Path(adir_path)), "stopped by owner")
    elif sup_alive:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(int(data["supervisor_pid"]), signal.SIGTERM)
    if not sup_alive and ag_alive:
        pid = int(data["agent_pid"])
        kill_group(pid, 5.0, clock, lambda: proc.pid_alive(pid))
        return KillResult(number, None, pid, stopped=True)
    while holder(paths, repo, number) is not None and clock.monotonic() < deadline:
        clock.sleep(0.2)
    return KillResult(
        number,
        data.get("supervisor_pid"),
        data.get("agent_pid"),
        stopped=holder(paths, repo, number) is None,
    )


def find_attempt(paths: Paths, repo: str, number: int, attempt: int | None) -> AttemptDir:
    adir = attempt_dir(paths, repo, number, attempt) if attempt else latest(paths, repo, number)
    if adir is None or not adir.path.is_dir():
        which = f"attempt {attempt} of " if attempt else ""
        raise NotFound(
            f"no log for {which}task #{number} on this host (state dir: {paths.state_dir})"
        )
    return adir


def log_lines(adir: AttemptDir) -> list[str]:
    """The agent's stream as readable lines, then its exit."""

    lines = render(adir.text(adir.stdout).splitlines())
    stderr = adir.text(adir.stderr, 2000).strip()
    if stderr:
        lines += ["--- stderr (tail)", *stderr.splitlines()[-20:]]
    exit_info = adir.read(adir.exit)
    if exit_info:
        lines.append(exit_line(exit_info))
    result = adir.read(adir.result)
    if result:
        lines += result_lines(result)
    return lines


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def result_lines(data: dict[str, Any]) -> list[str]:
    """An attempt's result.json as a short block: the agent's status, summary and files,
    then what orch decided for the task."""
    outcome: dict[str, Any] = _mapping(data.get("outcome"))
    result = outcome.get("result") if isinstance(outcome.get("result"), dict) else None
    decision: dict[str, Any] = _mapping(data.get("decision"))
    lines = ["--- result"]
    if result is None:
        error = outcome.get("error_class") or "no result"
        detail = outcome.get("error_detail") or ""
        lines.append(f"status:   failed ({error}{': ' + str(detail) if detail else ''})")
    else:
        lines.append(f"status:   {result.get('status') or '?'}")
        lines.append(f"summary:  {' '.join(str(result.get('summary') or '-').split())}")
        files = [str(f) for f in result.get("files_changed") or []]
        lines.append(f"files:    {', '.join(files) if files else '-'}")
        for key in ("blockers", "remaining"):
            items = [" ".join(str(x).split()) for x in result.get(key) or []]
            if items:
                lines.append(f"{key + ':':<9} {'; '.join(items)}")
    if decision.get("status"):
        reason = f" ({decision['reason']})" if decision.get("reason") else ""
        lines.append(f"task:     {decision['status']}{reason}")
    return lines


def exit_line(data: dict[str, Any]) -> str:
    how = (
        f"signal {data.get('signal_name') or data.get('signal')}"
        if data.get("signal")
        else f"exit code {data.get('exit_code')}"
    )
    extra = f" ({data['reason']})" if data.get("reason") else ""
    return f"--- agent ended: {how} after {data.get('duration_s', 0)}s{extra}"


def follow(adir: AttemptDir, clock: Clock, running: Any, poll: float = 0.5) -> Iterator[str]:
    """Readable lines as they arrive, until `running()` turns false and the file is read."""

    offset = 0
    pending = ""
    while True:
        still = running()
        try:
            with adir.stdout.open("rb") as handle:
                handle.seek(offset)
                chunk = handle.read()
        except OSError:
            chunk = b""
        offset += len(chunk)
        pending += chunk.decode("utf-8", errors="replace")
        *complete, pending = pending.split("\n")
        for line in complete:
            shown = describe(line)
            if shown:
                yield from shown.splitlines()
        if not still and not chunk:
            if pending.strip():
                yield from describe(pending).splitlines()
            exit_info = adir.read(adir.exit)
            if exit_info:
                yield exit_line(exit_info)
            return
        clock.sleep(poll)


# --- cost -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptCost:
    number: int
    attempt: int
    agent: str
    model: str | None
    tokens_in: int
    tokens_out: int
    cost_usd: float
    status: str

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def costs(
    store: Store, numbers: list[int] | None = None, configured_logins: Iterable[str] = ()
) -> list[AttemptCost]:
    """Per-attempt usage from the `orch:agent-response` markers of the given tasks
    (default: every open task)."""

    logins = orch_logins(store, configured_logins)
    if numbers is None:
        numbers = [i.number for i in store.list_issues(state="open") if statuses_in(i.labels)]
    rows: list[AttemptCost] = []
    for number in numbers:
        history = History.from_comments(store.list_comments(number), logins)
        for data in history.responses:
            rows.append(
                AttemptCost(
                    number=number,
                    attempt=int(data.get("attempt") or 0),
                    agent=str(data.get("agent") or "?"),
                    model=data.get("model"),
                    tokens_in=int(data.get("tokens_in") or 0),
                    tokens_out=int(data.get("tokens_out") or 0),
                    cost_usd=float(data.get("cost_usd") or 0),
                    status=str(data.get("status") or ""),
                )
            )
    return rows


def tmux_target(paths: Paths, repo: str, number: int, use_tmux: bool) -> str:
    """The tmux session of a running task, for `orch task attach`."""

    if not use_tmux:
        raise OrchError(
            "agents do not run in tmux here: set `workflow.use_tmux: true` in .orch.yml, "
            f"or follow the log with `orch task logs {number} -f`"
        )
    data = read_sidecar(paths, repo, number)
    if not supervisor_alive(data):
        raise NotFound(f"task #{number} is not running on this host")
    return tmux_session(repo, number)
