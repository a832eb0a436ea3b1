"""Notifications (SPEC §4 `notify: {command: …}`): one JSON event on a command's stdin.

Events are sent for status changes into in_review, needs_review, blocked and done, and
for tick errors:

    {"schema": 1, "event": "status", "repo", "task", "title", "from", "to", "reason", "url"}
    {"schema": 1, "event": "error",  "repo", "task", "title", "from", "to", "reason", "url",
     "phase"}

The command is a shell string (run by /bin/sh -c) or an argv list. It runs with a
timeout (10 s) and its failure (exit code, timeout, missing program) is logged and never
fails or stops what orch was doing.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from orch.status import Status

log = logging.getLogger("orch")

NOTIFY_STATUSES = (Status.IN_REVIEW, Status.NEEDS_REVIEW, Status.BLOCKED, Status.DONE)
TIMEOUT_SECONDS = 10.0


def status_event(
    repo: str,
    number: int,
    title: str,
    src: Status | None,
    to: Status,
    reason: str = "",
    url: str = "",
) -> dict[str, Any] | None:
    """The event for a status change, or None when that change is not notified (pure)."""
    if to not in NOTIFY_STATUSES or src is to:
        return None
    return {
        "schema": 1,
        "event": "status",
        "repo": repo,
        "task": number,
        "title": title,
        "from": src.value if src else None,
        "to": to.value,
        "reason": reason,
        "url": url,
    }


def error_event(repo: str, phase: str, task: int | None, detail: str) -> dict[str, Any]:
    """The event for a tick error (pure)."""
    return {
        "schema": 1,
        "event": "error",
        "repo": repo,
        "task": task,
        "title": "",
        "from": None,
        "to": None,
        "reason": detail,
        "url": "",
        "phase": phase,
    }


def argv_of(command: str | Sequence[str]) -> list[str]:
    if isinstance(command, str):
        return ["/bin/sh", "-c", command]
    return [str(part) for part in command]


def send(
    command: str | Sequence[str] | None,
    event: Mapping[str, Any],
    *,
    cwd: Path | None = None,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
) -> bool:
    """Run the notify command with `event` as JSON on stdin; True when it exited 0.
    Never raises: a failure is logged (and returns False)."""
    if not command:
        return False
    from orch import proc

    argv = argv_of(command)
    timeout = TIMEOUT_SECONDS if timeout is None else timeout
    payload = json.dumps(dict(event), ensure_ascii=False) + "\n"
    what = f"notify ({event.get('event')} #{event.get('task')})"
    try:
        done = proc.run(
            argv,
            cwd=cwd,
            env=dict(env if env is not None else os.environ),
            input=payload,
            timeout=timeout,
        )
    except Exception as exc:  # a missing program, an OS error: never fail orch
        log.warning("%s: cannot run %s: %s", what, argv[0], exc)
        return False
    if done.timed_out:
        log.warning("%s: the command did not finish within %gs and was stopped", what, timeout)
        return False
    if done.returncode != 0:
        tail = " ".join(done.stderr.split())[-300:]
        log.warning("%s: the command exited %s: %s", what, done.returncode, tail)
        return False
    return True


def status_hook(command: str | Sequence[str], repo: str, cwd: Path | None = None) -> Any:
    """A tasks.set_status hook that sends the status event."""
    from orch.store.base import Issue

    def hook(issue: Issue, src: Status | None, to: Status, reason: str) -> None:
        event = status_event(repo, issue.number, issue.title, src, to, reason, issue.url)
        if event is not None:
            send(command, event, cwd=cwd)

    return hook
