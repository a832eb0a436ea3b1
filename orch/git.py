"""git: the only module that builds git arguments.

Everything runs real git through orch.proc. Identity for commits orch makes comes from
config (`git.name`, `git.email`) and is passed per command, never written to the user's
git config.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from orch.errors import OrchError
from orch.proc import ProcResult, run


class GitError(OrchError):
    """A git command failed; the message carries git's own first error line."""


# Keep git from ever asking for anything on a terminal (cron has none).
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": "", "LC_ALL": "C"}


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, **_GIT_ENV}
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    if extra:
        env.update(extra)
    return env


def git(
    *args: str,
    cwd: Path | str,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    timeout: float | None = 300,
) -> ProcResult:
    """Run `git ARGS` in `cwd`; raise GitError with git's message when `check` and it fails."""
    result = run(["git", *args], cwd=cwd, env=git_env(env), input=input, timeout=timeout)
    if check and not result.ok:
        raise GitError(f"git {args[0]} failed: {first_error_line(result)}")
    return result


def first_error_line(result: ProcResult) -> str:
    if result.timed_out:
        return "timed out"
    for line in (result.stderr + "\n" + result.stdout).splitlines():
        line = line.strip()
        if line:
            return line
    return f"exit code {result.returncode}"


def identity_env(name: str, email: str) -> dict[str, str]:
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }


def toplevel(path: Path | str) -> Path | None:
    """The root of the work tree containing `path`, or None outside a git checkout."""
    result = git("rev-parse", "--show-toplevel", cwd=path, check=False)
    if not result.ok:
        return None
    return Path(result.stdout.strip())


def common_dir(path: Path | str) -> Path:
    """The repository's shared .git directory (the main one, also from a worktree)."""
    out = git("rev-parse", "--path-format=absolute", "--git-common-dir", cwd=path).stdout.strip()
    return Path(out)


def remote_url(path: Path | str, remote: str = "origin") -> str | None:
    result = git("remote", "get-url", remote, cwd=path, check=False)
    return result.stdout.strip() if result.ok else None


_REMOTE_RE = re.compile(
    r"^(?:(?:https?|ssh|git)://(?:[^@/]+@)?(?P<h1>[^/:]+)(?::\d+)?/|[^@/]+@(?P<h2>[^:/]+):)"
    r"(?P<repo>[^/]+/[^/]+?)(?:\.git)?/?$"
)


def repo_from_url(url: str) -> tuple[str, str] | None:
    """(host, OWNER/REPO) from an https or ssh remote URL; None for paths and others."""
    match = _REMOTE_RE.match(url.strip())
    if not match:
        return None
    return (match.group("h1") or match.group("h2") or "", match.group("repo"))


def is_ignored(root: Path, relpath: str) -> bool:
    return git("check-ignore", "-q", relpath, cwd=root, check=False).returncode == 0


def exclude_locally(root: Path, pattern: str) -> bool:
    """Add `pattern` to .git/info/exclude (never touching tracked files). True if added."""
    exclude = common_dir(root) / "info" / "exclude"
    existing = exclude.read_text(encoding="utf-8") if exclude.exists() else ""
    if pattern in existing.splitlines():
        return False
    exclude.parent.mkdir(parents=True, exist_ok=True)
    prefix = "" if not existing or existing.endswith("\n") else "\n"
    exclude.write_text(existing + prefix + pattern + "\n", encoding="utf-8")
    return True
