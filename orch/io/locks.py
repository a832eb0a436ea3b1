"""Advisory `flock` locks: per task, and around short edits of shared files.

Per-task: one orch process works on a (repo, issue) at a time (exit 5 otherwise), through
`<state>/locks/<owner>__<repo>__<n>.lock`. The kernel drops it when the holder dies, so a
crashed supervisor never leaves a stale lock behind; the file also records the holder's
pid for messages and `orch task live`. `file_lock` is the blocking kind, held for the
read-modify-write of a state file (jobs, cooldowns, the local store, worktree creation).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from orch.errors import OrchError, TaskLocked
from orch.paths import Paths


def lock_path(paths: Paths, repo: str, number: int) -> Path:
    owner, name = repo.split("/", 1)
    return paths.locks_dir / f"{owner}__{name}__{number}.lock"


class TaskLock:
    """Non-blocking exclusive lock on one task; use as a context manager or acquire/release."""

    def __init__(self, paths: Paths, repo: str, number: int) -> None:
        self.path = lock_path(paths, repo, number)
        self.repo = repo
        self.number = number
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> TaskLock:
        if self._fd is not None:
            return self
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # a full disk or a file where the folder belongs: one line
            raise OrchError(
                f"task #{self.number}: cannot take its lock {self.path}: {exc.strerror}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f" (pid {holder})" if holder else ""
            raise TaskLocked(
                f"task #{self.number} of {self.repo} is locked by another orch process{who}; "
                f"wait for it to finish or stop it with `orch task kill {self.number}`"
            ) from None
        with contextlib.suppress(OSError):  # the pid is for messages only
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        with contextlib.suppress(OSError):
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> TaskLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def holder(paths: Paths, repo: str, number: int) -> int | None:
    """The pid holding the task's lock, or None when nobody holds it."""
    path = lock_path(paths, repo, number)
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(fd) or -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_pid(fd: int) -> int | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 64).decode().strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created, with its directory) for the block;
    waits for other holders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
