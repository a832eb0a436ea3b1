"""Supervisors on this host as the tick sees them: how many run, is one alive, stop one.

The facts live in task sidecars (orch.task.attempt) and the liveness rule (pid alive, the same
process start time, not a zombie) in orch.run.view; this module only adds the tick's view.
"""

from __future__ import annotations

from typing import Any

from orch.errors import NotFound
from orch.io.locks import holder
from orch.paths import Paths
from orch.run.view import kill, supervisor_alive
from orch.task.attempt import read_sidecar, running_sidecars
from orch.tick.context import ProjectTick

STOP_WAIT_SECONDS = 15.0


def is_alive(sidecar: dict[str, Any]) -> bool:
    """The one liveness rule (pid, start time, not a zombie): orch.run.view."""

    return supervisor_alive(sidecar)


def running_tasks(paths: Paths) -> set[tuple[str, int]]:
    """(repo, number) of every live supervisor on this host, across every project."""
    return {(repo, n) for repo, n, data in running_sidecars(paths) if is_alive(data)}


def running(paths: Paths, repo: str, number: int) -> dict[str, Any] | None:
    """The task's sidecar when its supervisor is alive, else None."""
    data = read_sidecar(paths, repo, number)
    return data if data and is_alive(data) else None


def at_work(paths: Paths, repo: str, number: int) -> bool:
    """Whether a run or review works on task (or PR) `number` here: it holds the lock, or
    its process was started and recorded but has not taken the lock yet."""
    return holder(paths, repo, number) is not None or running(paths, repo, number) is not None


def stop(ctx: ProjectTick, number: int) -> bool:
    """Ask the task's supervisor to kill its agent and publish (`/stop`). True if one ran."""

    data = running(ctx.deps.paths, ctx.repo, number)
    if data is None:
        return False
    pid = data.get("supervisor_pid")
    if ctx.dry_run:
        ctx.act("would stop", number, f"supervisor pid {pid}")
        return True
    try:
        result = kill(ctx.deps.paths, ctx.deps.clock, ctx.repo, number, wait_s=STOP_WAIT_SECONDS)
    except NotFound:
        return False
    ctx.act(
        "stopped", number, f"supervisor pid {pid}" + ("" if result.stopped else " (still exiting)")
    )
    return True
