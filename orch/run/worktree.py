"""Task worktrees and branches (SPEC §6.1): one per task, re-used across attempts.

`<state>/worktrees/<owner>/<repo>/<n>-<slug>` on branch `<prefix><n>-<slug>`, created
from the up-to-date default branch of `origin`. Never the main checkout: a worktree that
cannot be created is an error the runner turns into `blocked`.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from orch import taskid
from orch.errors import OrchError
from orch.io import git
from orch.io.locks import file_lock

SLUG_MAX = 40


class WorktreeError(OrchError):
    """The task's worktree could not be prepared; the message carries git's error."""


@dataclass(frozen=True)
class Worktree:
    path: Path
    branch: str
    default_branch: str
    base_ref: str  # what "not on the default branch" is measured against
    has_remote: bool
    created: bool


def slugify(title: str) -> str:
    """Lowercase `[a-z0-9-]`, dashes collapsed, at most 40 characters; never empty."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    slug = slug[:SLUG_MAX].rstrip("-")
    return slug or "task"


def branch_name(prefix: str, number: int, title: str) -> str:
    """`<prefix><id>-<slug>`: `orch/7-fix-it`, or `orch/i7-fix-it` for an internal task."""
    return f"{prefix}{taskid.text(number)}-{slugify(title)}"


def worktree_path(worktrees_dir: Path, number: int, title: str) -> Path:
    return worktrees_dir / f"{taskid.text(number)}-{slugify(title)}"


def find_existing(root: Path, worktrees_dir: Path, number: int) -> Path | None:
    """A registered worktree of this task from an earlier attempt (the title may differ)."""
    registered = {p.resolve() for p in git.worktree_paths(root)}
    if not worktrees_dir.is_dir():
        return None
    for candidate in sorted(worktrees_dir.glob(f"{taskid.text(number)}-*")):
        if candidate.resolve() in registered and candidate.is_dir():
            return candidate
    return None


def ensure(
    root: Path,
    worktrees_dir: Path,
    number: int,
    title: str,
    *,
    branch_prefix: str,
    default_branch: str,
) -> Worktree:
    """The task's worktree, created or re-used; raises WorktreeError with git's message,
    OSError for a host problem."""
    try:
        with _repository_lock(root):
            return _ensure(root, worktrees_dir, number, title, branch_prefix, default_branch)
    except git.GitError as exc:
        raise WorktreeError(
            f"cannot prepare the worktree for task #{number}: {exc.message}"
        ) from exc
    # An OSError (disk full, permission denied, a file where a folder should be) is the
    # host's problem, not the task's: it propagates, and the task stays routed (orch.run.runner).


def _ensure(
    root: Path, worktrees_dir: Path, number: int, title: str, prefix: str, default_branch: str
) -> Worktree:
    git.worktree_prune(root)
    has_remote = git.remote_url(root) is not None
    if has_remote:
        git.fetch(
            root, "origin", f"+refs/heads/{default_branch}:refs/remotes/origin/{default_branch}"
        )
        base_ref = f"refs/remotes/origin/{default_branch}"
    else:
        base_ref = f"refs/heads/{default_branch}"
    if git.rev_parse(root, base_ref) is None:
        raise WorktreeError(f"the default branch {default_branch!r} does not exist in {root}")

    existing = find_existing(root, worktrees_dir, number)
    if existing is not None:
        branch = git.current_branch(existing) or branch_name(prefix, number, title)
        return Worktree(existing, branch, default_branch, base_ref, has_remote, created=False)

    path = worktree_path(worktrees_dir, number, title)
    branch = branch_name(prefix, number, title)
    if path.resolve() == root.resolve() or root.resolve() in path.resolve().parents:
        raise WorktreeError(f"refusing to create the worktree for task #{number} inside {root}")
    if path.exists():
        # Left over from a worktree git no longer knows about (pruned): it is ours to clear.
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if git.branch_exists(root, branch):
        git.worktree_add(root, path, branch)
    elif has_remote and git.remote_branch_sha(root, branch):
        # Another host (or a deleted state dir) pushed this task's branch before: continue it.
        git.fetch(root, "origin", f"+refs/heads/{branch}:refs/remotes/origin/{branch}")
        git.worktree_add(root, path, branch, start=f"refs/remotes/origin/{branch}")
    else:
        git.worktree_add(root, path, branch, start=base_ref)
    return Worktree(path, branch, default_branch, base_ref, has_remote, created=True)


def remove(root: Path, path: Path, branch: str | None = None) -> None:
    """Remove a task's worktree (and its local branch); never fails."""
    git.worktree_remove(root, path)
    git.worktree_prune(root)
    if branch:
        git.delete_branch(root, branch)


def _repository_lock(root: Path) -> contextlib.AbstractContextManager[None]:
    """One worktree creation at a time per repository: concurrent `git worktree add -b`
    race on .git/config, and the loser is left with its branch but no worktree."""

    return file_lock(git.common_dir(root) / "orch-worktree.lock")
