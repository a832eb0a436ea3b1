"""The one error hierarchy. Every expected failure is an OrchError carrying its exit code.

`orch.cli.main` is the only place that turns these into process exits (SPEC §3.1).
Messages are one line that says what is wrong and what to do.
"""

from __future__ import annotations

from datetime import datetime

# SPEC §3.1 exit codes.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_AUTH = 4
EXIT_LOCKED = 5
EXIT_DEFERRED = 75
EXIT_INTERRUPTED = 130

EXIT_CODES: tuple[tuple[int, str], ...] = (
    (EXIT_OK, 'success, including "nothing to do" and "another tick is already running"'),
    (EXIT_FAILED, "the operation failed (message on stderr)"),
    (EXIT_USAGE, "usage error or invalid configuration (names file, key and valid values)"),
    (EXIT_INTERNAL, "internal error (a bug: traceback in the log, short message on stderr)"),
    (EXIT_AUTH, "GitHub authentication missing or rejected (same as gh)"),
    (EXIT_LOCKED, "the task is locked by another running orch process"),
    (EXIT_DEFERRED, "deferred: GitHub rate limit active in skip mode; nothing was changed"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C); a running task goes back to routed"),
)


class OrchError(Exception):
    """An expected failure: a one-line message and the exit code to leave with."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class Interrupted(OrchError):
    """Ctrl-C: what was running was recorded as interrupted (exit 130, as shells do)."""

    exit_code = EXIT_INTERRUPTED


class UsageError(OrchError):
    """Bad flags or arguments."""

    exit_code = EXIT_USAGE


class ConfigError(OrchError):
    """Invalid configuration: the message names the file, the key path and valid values."""

    exit_code = EXIT_USAGE


class NotFound(OrchError):
    """An issue, comment, pull request or file that does not exist."""


class TaskLocked(OrchError):
    """Another orch process holds the task's lock."""

    exit_code = EXIT_LOCKED


class InvalidTransition(OrchError):
    """A status change the transition table forbids."""


# --- GitHub access (SPEC §9). Raised by orch.io.gh, understood everywhere. ---


class GitHubError(OrchError):
    """Any failure talking to GitHub through gh."""


class GhMissing(GitHubError):
    """The gh executable is not on PATH."""


class AuthError(GitHubError):
    """GitHub authentication missing or rejected."""

    exit_code = EXIT_AUTH


class RateLimited(GitHubError):
    """Primary rate limit; `reset_at` is when GitHub lets us in again (None if unknown)."""

    exit_code = EXIT_DEFERRED

    def __init__(self, message: str, reset_at: datetime | None = None) -> None:
        super().__init__(message)
        self.reset_at = reset_at


class SecondaryRateLimited(RateLimited):
    """Secondary (abuse) rate limit; `retry_after` seconds from the Retry-After header."""

    def __init__(
        self, message: str, retry_after: float | None = None, reset_at: datetime | None = None
    ) -> None:
        super().__init__(message, reset_at)
        self.retry_after = retry_after


class Transient(GitHubError):
    """5xx, connection refused, timeouts: worth retrying a little later."""


def os_reason(exc: OSError) -> str:
    """`No space left on device: /path` from an OSError: one line for a message."""
    what = exc.strerror or str(exc)
    return f"{what}: {exc.filename}" if exc.filename is not None else what
