"""Detached `orch task run|review N` processes: the one launch the tick and `--detach` share.

The child is a new `orch` process (same interpreter, same `--config`, the project by its
root) in its own session, so the tick or command that starts it can end without taking
it down. Its output goes to a log in the task's folder, and its pid is recorded in the
task's sidecar at once, so reap, max_parallel and `orch task live` see it before it has
done anything.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from orch import taskid
from orch.io import proc
from orch.task.attempt import record_process

if TYPE_CHECKING:
    from orch.deps import Deps
    from orch.project import Project


def orch_argv(root: Path, config_file: Path | None) -> list[str]:
    """This orch (same interpreter), with the same `--config`, on the project at `root`."""
    argv = [sys.executable, "-m", "orch"]
    if config_file:
        argv += ["--config", str(config_file)]
    return [*argv, "--project", str(root)]


def task_argv(
    deps: Deps,
    project: Project,
    command: Literal["run", "review"],
    number: int,
    *,
    supervisor: bool = False,
    agent: str | None = None,
    model: str | None = None,
) -> list[str]:
    """`orch [--config F] --project ROOT task COMMAND ID [--supervisor] [--agent A] [--model M]`.

    `--supervisor`: a detached run records on the task why it could not start, since
    nobody reads its stderr (RunOptions.detached)."""
    argv = [*orch_argv(project.root, deps.config_file), "task", command, taskid.text(number)]
    if supervisor:
        argv.append("--supervisor")
    if agent:
        argv += ["--agent", agent]
    if model:
        argv += ["--model", model]
    return argv


def spawn_task(
    deps: Deps,
    project: Project,
    number: int,
    argv: list[str],
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start `argv` (from task_argv) in its own session, appending to `log`, and record
    it as the task's supervisor in the sidecar; return the process."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        child = proc.spawn(
            argv,
            cwd=project.root,
            env=dict(env or os.environ),
            stdout=out.fileno(),
            stderr=out.fileno(),
            new_session=True,
        )
    record_process(deps.paths, project.repo, number, "supervisor", child.pid)
    return child
