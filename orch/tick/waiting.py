"""`orch tick --wait`: wait for the supervisors this tick started, saying what happens.

The loop polls the supervisor processes through the Clock seam (tests move a fake clock,
nothing sleeps) and reports events: one when a supervisor exits, and a heartbeat every
`heartbeat` seconds naming the tasks still running and for how long. When all have
exited, `ended()` reads how each ended from the files it left (no GitHub request): a run
from its attempt's result.json, a review from its newest verdict. Rendering is the command's business (orch/commands/tick.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from orch.clock import Clock
from orch.paths import Paths
from orch.task.attempt import read_sidecar

POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 15.0


class Process(Protocol):
    def poll(self) -> int | None: ...


class Waited(Protocol):
    """What the loop needs of a started supervisor (orch.tick.context.Started)."""

    @property
    def project(self) -> str: ...
    @property
    def task(self) -> int: ...
    @property
    def process(self) -> Any: ...
    @property
    def started_at(self) -> float: ...


@dataclass(frozen=True)
class Running:
    repo: str
    task: int
    seconds: float


@dataclass(frozen=True)
class WaitEvent:
    """`exited` (repo, task, code) or `waiting` (a heartbeat); `running` is what is left."""

    kind: str
    running: tuple[Running, ...]
    repo: str = ""
    task: int = 0
    code: int | None = None


@dataclass(frozen=True)
class Ended:
    """How one task this tick ran ended: its status after the attempt, and why."""

    repo: str
    task: int
    code: int | None
    status: str | None
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "repo": self.repo,
            "task": self.task,
            "exit_code": self.code,
            "status": self.status,
            "reason": self.reason,
        }


def wait_for(
    started: Sequence[Waited],
    clock: Clock,
    on_event: Callable[[WaitEvent], None],
    *,
    heartbeat: float = HEARTBEAT_SECONDS,
    timeout: float | None = None,
) -> list[tuple[str, int, int | None]]:
    """Wait until every supervisor in `started` exited (or `timeout` passed); return
    (repo, task, exit code) in the order they ended (None: still running at the timeout)."""
    begun = clock.monotonic()
    last_beat = begun - heartbeat  # say at once what it waits for
    pending = list(started)
    done: list[tuple[str, int, int | None]] = []
    while pending:
        now = clock.monotonic()
        for item in list(pending):
            code = item.process.poll()
            if code is None:
                continue
            pending.remove(item)
            done.append((item.project, item.task, code))
            on_event(WaitEvent("exited", _running(pending, now), item.project, item.task, code))
        if not pending:
            break
        if timeout is not None and now - begun >= timeout:
            done += [(item.project, item.task, None) for item in pending]
            break
        if now - last_beat >= heartbeat:
            last_beat = now
            on_event(WaitEvent("waiting", _running(pending, now)))
        clock.sleep(POLL_SECONDS)
    return done


def _running(pending: Sequence[Waited], now: float) -> tuple[Running, ...]:
    return tuple(Running(i.project, i.task, max(0.0, now - i.started_at)) for i in pending)


def ended(
    paths: Paths,
    waited: Sequence[tuple[str, int, int | None]],
    kinds: Mapping[tuple[str, int], str] | None = None,
) -> list[Ended]:
    """How each waited task ended: a run from its latest attempt's decision (result.json),
    a review (`kinds` "review", or "pr-review" for `@orch review` on a PR orch did not
    open) from its newest verdict."""
    kinds = kinds or {}
    found = []
    for repo, task, code in waited:
        kind = kinds.get((repo, task), "run")
        if kind == "run" or code is None:
            found.append(_ended(paths, repo, task, code))
        else:
            folder = (
                paths.reviews_dir(repo, task)
                if kind == "review"
                else paths.pr_reviews_dir(repo, task)
            )
            found.append(_review_ended(folder, paths.review_log(repo, task), repo, task, code))
    return found


def _review_ended(folder: Path, log: Path, repo: str, task: int, code: int) -> Ended:
    numbered = [p for p in folder.glob("*/result.json") if p.parent.name.isdigit()]
    newest = max(numbered, key=lambda p: int(p.parent.name), default=None)
    decision = None
    if newest is not None:
        try:
            data = json.loads(newest.read_text("utf-8"))
            outcome = data.get("outcome") if isinstance(data, dict) else None
            verdict = outcome.get("result") if isinstance(outcome, dict) else None
            decision = verdict.get("decision") if isinstance(verdict, dict) else None
        except (OSError, ValueError):
            decision = None
    if decision:
        return Ended(repo, task, code, "reviewed", f"verdict: {decision}")
    return Ended(repo, task, code, "reviewed", f"no verdict recorded; see {log}")


def _ended(paths: Paths, repo: str, task: int, code: int | None) -> Ended:
    if code is None:
        return Ended(repo, task, None, None, "still running")
    folder = read_sidecar(paths, repo, task).get("attempt_dir")
    decision: dict[str, Any] = {}
    if folder:
        try:
            data = json.loads((paths.state_dir / folder / "result.json").read_text("utf-8"))
            decision = data.get("decision") or {} if isinstance(data, dict) else {}
        except (OSError, ValueError):
            decision = {}
    if not decision:
        why = "no result recorded; see `orch task logs`" if code else "no attempt ran"
        return Ended(repo, task, code, None, why)
    return Ended(
        repo,
        task,
        code,
        str(decision.get("status") or "") or None,
        str(decision.get("reason") or ""),
    )
