"""git: the only module that builds git arguments.

Everything runs real git through orch.proc. Identity for commits orch makes comes from
config (`git.name`, `git.email`) and is passed per command, never written to the user's
git config.
"""

from __future__ import annotations

import os
import re
import time
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
    # Supervisors of one repository run git at the same time; a lock file another git
    # holds for a moment (.git/config, refs) is worth a short wait, not a failed task.
    for pause in _LOCK_RETRY_PAUSES:
        if result.ok or not _LOCK_BUSY.search(result.stderr):
            break
        time.sleep(pause)
        result = run(["git", *args], cwd=cwd, env=git_env(env), input=input, timeout=timeout)
    if check and not result.ok:
        raise GitError(f"git {args[0]} failed: {first_error_line(result)}")
    return result


_LOCK_BUSY = re.compile(r"could not lock config file|\.lock': File exists|cannot lock ref")
_LOCK_RETRY_PAUSES = (0.1, 0.2, 0.4, 0.8, 1.6)


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


# ---------------------------------------------------------------------------------------
# Task worktrees, commits and pushes (used by orch.worktree and orch.publish).


def fetch(root: Path | str, remote: str = "origin", *refs: str) -> None:
    """`git fetch --prune REMOTE [REFS…]`; raises GitError with git's message."""
    git("fetch", "--prune", "--quiet", remote, *refs, cwd=root)


def rev_parse(path: Path | str, ref: str) -> str | None:
    """The commit sha `ref` names, or None when it does not exist."""
    result = git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=path, check=False)
    return result.stdout.strip() or None if result.ok else None


def branch_exists(root: Path | str, branch: str) -> bool:
    return rev_parse(root, f"refs/heads/{branch}") is not None


def worktree_prune(root: Path | str) -> None:
    git("worktree", "prune", cwd=root, check=False)


def worktree_paths(root: Path | str) -> list[Path]:
    """Every worktree the repository knows about (the main checkout first)."""
    result = git("worktree", "list", "--porcelain", cwd=root, check=False)
    return [
        Path(line[len("worktree "):])
        for line in result.stdout.splitlines()
        if line.startswith("worktree ")
    ]


def worktree_add(root: Path | str, path: Path, branch: str, start: str | None = None) -> None:
    """Add a worktree at `path` on `branch`; create the branch from `start` when given."""
    if start is None:
        git("worktree", "add", "--quiet", str(path), branch, cwd=root)
    else:
        git("worktree", "add", "--quiet", "-b", branch, str(path), start, cwd=root)


def worktree_add_detached(root: Path | str, path: Path, commit: str) -> None:
    """Add a worktree at `path` on `commit`, detached: no branch is made or moved."""
    git("worktree", "add", "--quiet", "--detach", str(path), commit, cwd=root)


def worktree_remove(root: Path | str, path: Path) -> None:
    git("worktree", "remove", "--force", str(path), cwd=root, check=False)


def current_branch(path: Path | str) -> str | None:
    result = git("symbolic-ref", "--quiet", "--short", "HEAD", cwd=path, check=False)
    return result.stdout.strip() or None if result.ok else None


def has_changes(path: Path | str) -> bool:
    """True when the work tree has staged, unstaged or untracked changes."""
    result = git("status", "--porcelain", "--untracked-files=all", cwd=path)
    return bool(result.stdout.strip())


def commit_all(path: Path | str, message: str, identity: Mapping[str, str]) -> str | None:
    """`git add -A` and commit everything left in the work tree; the new sha or None."""
    if not has_changes(path):
        return None
    git("add", "-A", cwd=path)
    git("commit", "--quiet", "--no-verify", "-m", message, cwd=path, env=identity)
    return rev_parse(path, "HEAD")


def commits_ahead(path: Path | str, base: str, head: str = "HEAD") -> int:
    """How many commits `head` has that `base` does not."""
    result = git("rev-list", "--count", f"{base}..{head}", cwd=path, check=False)
    return int(result.stdout.strip() or 0) if result.ok else 0


def changed_files(path: Path | str, base: str, head: str = "HEAD") -> list[str]:
    """Files that differ between the merge base of `base` and `head`, and `head`."""
    result = git("diff", "--name-only", f"{base}...{head}", cwd=path, check=False)
    return [line for line in result.stdout.splitlines() if line.strip()] if result.ok else []


def push_branch(path: Path | str, branch: str, remote: str = "origin") -> None:
    """`git push -u REMOTE BRANCH` with git's own credential setup (never a token in a URL)."""
    git("push", "--quiet", "-u", remote, f"{branch}:refs/heads/{branch}", cwd=path, timeout=600)


def remote_branch_sha(path: Path | str, branch: str, remote: str = "origin") -> str | None:
    """The sha of `branch` on the remote (asks the remote, not the local tracking ref)."""
    result = git("ls-remote", "--heads", remote, f"refs/heads/{branch}", cwd=path, check=False, timeout=60)
    for line in result.stdout.splitlines():
        sha, _, ref = line.partition("\t")
        if ref == f"refs/heads/{branch}":
            return sha
    return None


def delete_branch(root: Path | str, branch: str) -> None:
    git("branch", "-D", branch, cwd=root, check=False)


def default_branch(root: Path | str) -> str:
    """origin's default branch as this checkout knows it (no network), else main/master."""
    head = git("symbolic-ref", "--short", "refs/remotes/origin/HEAD", cwd=root, check=False)
    if head.ok and head.stdout.strip().startswith("origin/"):
        return head.stdout.strip().removeprefix("origin/")
    for candidate in ("main", "master"):
        if git("rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{candidate}", cwd=root, check=False).ok:
            return candidate
    current = git("symbolic-ref", "--short", "HEAD", cwd=root, check=False)
    return current.stdout.strip() if current.ok and current.stdout.strip() else "main"



def clone_bare(url: str, dest: Path) -> None:
    """`git clone --bare URL DEST` (for `orch project add OWNER/REPO`); raises GitError."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    git("clone", "--bare", "--quiet", url, str(dest), cwd=dest.parent, timeout=900)


def init(path: Path, *, bare: bool = False, branch: str = "main") -> None:
    """`git init` a new repository at `path` (for `orch demo`)."""
    path.mkdir(parents=True, exist_ok=True)
    git("init", "--quiet", *(["--bare"] if bare else []), "-b", branch, str(path), cwd=path)


def add_remote(root: Path | str, name: str, url: str) -> None:
    git("remote", "add", name, url, cwd=root)


def diff(path: Path | str, base: str, head: str) -> str:
    """`git diff BASE...HEAD` (what `head` changed since it left `base`), as text."""
    return git("diff", "--no-color", "--no-ext-diff", f"{base}...{head}", cwd=path).stdout
