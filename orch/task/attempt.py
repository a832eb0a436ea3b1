"""Attempt artifacts and the task sidecar (SPEC §2.4).

An attempt directory `<state>/repos/<owner>/<repo>/tasks/<n>/attempts/<k>/` holds
everything needed to publish the attempt without the process that ran it:

    meta.json            task, agent, model, branch, worktree, prompt hash, start time
    prompt-system.md     the rendered prompts
    prompt-message.md
    command.json         argv, cwd and environment NAMES (never values)
    stdin.txt            what the agent got on stdin
    stdout.log           the agent's streams, as they came
    stderr.log
    exit.json            exit code, signal, timed_out, idle_killed, duration
    result.json          the parsed result and classification
    usage.json           tokens, cost, turns, session
    publish.json         what publishing already did (commit, push, PR, comment, labels)

The sidecar `<state>/repos/<owner>/<repo>/tasks/<n>.json` (versioned, atomic) caches the
worktree, branch, current attempt and the supervisor's pid + start time.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from orch import taskid
from orch.io.proc import process_start_time
from orch.io.sidecar import read_json, read_versioned, write_json_atomic, write_versioned
from orch.paths import Paths

SIDECAR_VERSION = 1
ARTIFACT_VERSION = 1


@dataclass(frozen=True)
class AttemptDir:
    path: Path

    @property
    def number(self) -> int:
        return int(self.path.name)

    # file names, one place
    @property
    def meta(self) -> Path:
        return self.path / "meta.json"

    @property
    def prompt_system(self) -> Path:
        return self.path / "prompt-system.md"

    @property
    def prompt_message(self) -> Path:
        return self.path / "prompt-message.md"

    @property
    def command(self) -> Path:
        return self.path / "command.json"

    @property
    def stdin(self) -> Path:
        return self.path / "stdin.txt"

    @property
    def stdout(self) -> Path:
        return self.path / "stdout.log"

    @property
    def stderr(self) -> Path:
        return self.path / "stderr.log"

    @property
    def exit(self) -> Path:
        return self.path / "exit.json"

    @property
    def result(self) -> Path:
        return self.path / "result.json"

    @property
    def usage(self) -> Path:
        return self.path / "usage.json"

    @property
    def publish(self) -> Path:
        return self.path / "publish.json"

    def create(self) -> AttemptDir:
        self.path.mkdir(parents=True, exist_ok=True)
        return self

    def write(self, path: Path, data: Mapping[str, Any]) -> None:
        write_json_atomic(path, {"schema": ARTIFACT_VERSION, **data})

    def read(self, path: Path) -> dict[str, Any] | None:
        data = read_json(path)
        return data if isinstance(data, dict) else None

    def text(self, path: Path, limit: int | None = None) -> str:
        """A text artifact (the last `limit` characters); missing is empty."""
        try:
            data = path.read_bytes()
        except OSError:
            return ""
        if limit is not None and len(data) > limit:
            data = data[-limit:]
        return data.decode("utf-8", errors="replace")

    def publish_state(self) -> dict[str, Any]:
        return self.read(self.publish) or {}

    def record_publish(self, **facts: Any) -> dict[str, Any]:
        state = {**self.publish_state(), **facts}
        self.write(self.publish, state)
        return state


def attempt_dir(paths: Paths, repo: str, number: int, attempt: int) -> AttemptDir:
    return AttemptDir(paths.attempt_dir(repo, number, attempt))


def attempts(paths: Paths, repo: str, number: int) -> list[AttemptDir]:
    """Every attempt directory of a task, oldest first."""
    root = paths.task_dir(repo, number) / "attempts"
    if not root.is_dir():
        return []
    found = [AttemptDir(p) for p in root.iterdir() if p.is_dir() and p.name.isdigit()]
    return sorted(found, key=lambda a: a.number)


def latest(paths: Paths, repo: str, number: int) -> AttemptDir | None:
    found = attempts(paths, repo, number)
    return found[-1] if found else None


def command_record(argv: list[str], cwd: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """command.json: never environment values, only names."""
    return {"argv": list(argv), "cwd": str(cwd), "env_names": sorted(env)}


# --- the task sidecar ------------------------------------------------------------------


def read_sidecar(paths: Paths, repo: str, number: int) -> dict[str, Any]:
    return read_versioned(paths.task_sidecar(repo, number), SIDECAR_VERSION) or {}


def update_sidecar(paths: Paths, repo: str, number: int, **fields: Any) -> dict[str, Any]:
    """Merge `fields` into the sidecar (None removes a key) and write it atomically.

    The read-modify-write holds an exclusive flock on `<n>.json.lock`, so two processes
    updating one task at once (the tick or `--detach` recording the supervisor's pid
    while the supervisor records its attempt) never lose each other's fields."""

    path = paths.task_sidecar(repo, number)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        data = read_sidecar(paths, repo, number)
        for key, value in fields.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        data.pop("schema", None)
        write_versioned(path, SIDECAR_VERSION, data)
    return data


ProcessRole = Literal["supervisor", "agent"]


def record_process(
    paths: Paths,
    repo: str,
    number: int,
    role: ProcessRole,
    pid: int,
    **fields: Any,
) -> dict[str, Any]:
    """Record the task's supervisor or agent process in the sidecar (with `fields`): its
    pid and the start-time token that tells a reused pid from it (orch.run.view)."""
    return update_sidecar(
        paths,
        repo,
        number,
        **fields,
        **{f"{role}_pid": pid, f"{role}_start": process_start_time(pid)},
    )


def forget_processes(
    paths: Paths, repo: str, number: int, roles: tuple[ProcessRole, ...] = ("supervisor", "agent")
) -> dict[str, Any]:
    """Remove the task's processes in `roles` from the sidecar (the run has ended)."""
    gone: dict[str, None] = {}
    for role in roles:
        gone.update({f"{role}_pid": None, f"{role}_start": None})
    return update_sidecar(paths, repo, number, **gone)


def running_sidecars(paths: Paths) -> list[tuple[str, int, dict[str, Any]]]:
    """(repo, number, sidecar) of every task whose sidecar names a supervisor pid."""
    found: list[tuple[str, int, dict[str, Any]]] = []
    repos = paths.state_dir / "repos"
    if not repos.is_dir():
        return found
    for sidecar in sorted(repos.glob("*/*/tasks/*.json")):
        number = taskid.from_text(sidecar.stem)
        if number is None:
            continue
        repo = f"{sidecar.parents[2].name}/{sidecar.parents[1].name}"
        with contextlib.suppress(Exception):
            data = read_sidecar(paths, repo, number)
            if data.get("supervisor_pid"):
                found.append((repo, number, data))
    return found
