"""`orch stream`: the live output of every running agent session on this host, as
readable lines prefixed with the task's `#N`. Nothing here prints.

A session is one agent process a supervisor started (a run attempt or a review), found
through the task sidecars (`supervisor_pid`, `agent_pid`, `attempt_dir`). Its output is
the `stdout.log` the supervisor writes (orch.run.supervisor), read from the start and turned
into lines by orch.agents.transcript. When the agent ends: its exit, then the attempt's result
(status, summary, files changed) from `result.json`. Sessions starting while the stream
runs join it; it ends when no selected supervisor is alive any more (`follow`: never).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orch.agents.transcript import describe
from orch.clock import Clock
from orch.paths import Paths
from orch.run.view import agent_alive, exit_line, supervisor_alive
from orch.task.attempt import AttemptDir, read_sidecar, running_sidecars

POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Line:
    repo: str
    task: int
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"repo": self.repo, "task": self.task, "text": self.text}


@dataclass
class Session:
    repo: str
    task: int
    agent_pid: int
    adir: AttemptDir
    offset: int = 0
    pending: str = ""
    done: bool = field(default=False)

    def read(self) -> tuple[list[str], bool]:
        """Readable lines from the output that arrived since the last read; and whether
        any did arrive."""
        try:
            with self.adir.stdout.open("rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except OSError:
            return [], False
        self.offset += len(chunk)
        self.pending += chunk.decode("utf-8", errors="replace")
        *complete, self.pending = self.pending.split("\n")
        return _readable(complete), bool(chunk)

    def finish(self) -> list[str]:
        """The rest of the output, the agent's exit and the attempt's result."""
        lines = _readable([self.pending])
        self.pending = ""
        exit_info = self.adir.read(self.adir.exit)
        if exit_info:
            lines.append(exit_line(exit_info))
        lines += result_lines(self.adir.read(self.adir.result))
        self.done = True
        return lines


def _readable(raw: list[str]) -> list[str]:
    out: list[str] = []
    for line in raw:
        shown = describe(line)
        if shown:
            out.extend(shown.splitlines())
    return out


def result_lines(data: dict[str, Any] | None) -> list[str]:
    """The attempt's result as one or two lines (pure): status → next status, summary,
    files changed."""
    if not data:
        return []
    outcome = data.get("outcome") or {}
    result = outcome.get("result") or {}
    decision = data.get("decision") or {}
    status = result.get("status") or outcome.get("error_class") or "no result"
    moved = f" → status:{decision['status']}" if decision.get("status") else ""
    summary = str(result.get("summary") or decision.get("reason") or "").strip()
    lines = [f"result: {status}{moved}" + (f" — {summary}" if summary else "")]
    files = [str(f) for f in result.get("files_changed") or []]
    if files:
        lines.append("files changed: " + ", ".join(files))
    return lines


def session_log(paths: Paths, repo: str, task: int, sidecar: dict[str, Any]) -> AttemptDir | None:
    """The directory of the session now running: the sidecar's attempt, or a review's
    folder when that is newer (a review does not move `attempt_dir`)."""
    candidates = []
    if isinstance(sidecar.get("attempt_dir"), str):
        candidates.append(Path(sidecar["attempt_dir"]))
    reviews = paths.reviews_dir(repo, task)
    if reviews.is_dir():
        candidates += [p for p in reviews.iterdir() if p.is_dir()]

    def started(path: Path) -> float:
        try:
            return (path / "stdout.log").stat().st_mtime
        except OSError:
            return -1.0

    found = [p for p in candidates if started(p) >= 0]
    return AttemptDir(max(found, key=started)) if found else None


@dataclass(frozen=True)
class Selection:
    repo: str | None = None  # None: every project on this host
    tasks: frozenset[int] = frozenset()  # empty: every task

    def wants(self, repo: str, task: int) -> bool:
        return (self.repo is None or repo == self.repo) and (not self.tasks or task in self.tasks)


def stream(
    paths: Paths,
    clock: Clock,
    selection: Selection,
    *,
    follow: bool = False,
    poll: float = POLL_SECONDS,
    stop: Callable[[], bool] = lambda: False,
) -> Iterator[Line]:
    """Lines of every selected session, as they come; returns when no selected supervisor
    is alive and every session's output is read (never with `follow`, until `stop()`)."""
    sessions: dict[tuple[str, int, int], Session] = {}
    while not stop():
        supervisors = [
            (repo, task, data)
            for repo, task, data in running_sidecars(paths)
            if selection.wants(repo, task) and supervisor_alive(data)
        ]
        for repo, task, data in supervisors:
            key = (repo, task, int(data.get("agent_pid") or 0))
            if key[2] and key not in sessions and agent_alive(data):
                adir = session_log(paths, repo, task, data)
                if adir is not None:
                    sessions[key] = Session(repo, task, key[2], adir)
        quiet = True
        for session in sessions.values():
            if session.done:
                continue
            lines, arrived = session.read()
            quiet = quiet and not arrived
            yield from (Line(session.repo, session.task, text) for text in lines)
            if not arrived and _ended(paths, session):
                yield from (Line(session.repo, session.task, text) for text in session.finish())
        active = any(not s.done for s in sessions.values())
        if not supervisors and not active and not follow:
            return
        if quiet:
            clock.sleep(poll)


def _ended(paths: Paths, session: Session) -> bool:
    """The agent is gone and its attempt is settled (result written, or its supervisor
    gone too)."""
    data = read_sidecar(paths, session.repo, session.task)
    if data.get("agent_pid") == session.agent_pid and agent_alive(data):
        return False
    if session.adir.result.exists() or not (data.get("supervisor_pid") and supervisor_alive(data)):
        return True
    # A review writes no result.json: its end is the exit record.
    return "reviews" in session.adir.path.parts and session.adir.exit.exists()


def label(repo: str, task: int, repos: set[str]) -> str:
    """`#N`, or `owner/repo#N` once sessions of several projects are shown (pure)."""
    return f"#{task}" if len(repos) <= 1 else f"{repo}#{task}"
