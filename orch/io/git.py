"""git: the only module that builds git arguments.

Everything runs real git through orch.io.proc. Identity for commits orch makes comes from
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
from orch.io.proc import ProcResult, run


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
# Task worktrees, commits and pushes (used by orch.run.worktree and orch.run.publish).


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
        Path(line[len("worktree ") :])
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


def push_branch(
    path: Path | str, branch: str, remote: str = "origin", env: Mapping[str, str] | None = None
) -> None:
    """`git push -u REMOTE BRANCH` with git's own credential setup (never a token in a URL);
    `env` adds variables for this one git process (the App's scoped auth header)."""
    git(
        "push",
        "--quiet",
        "-u",
        remote,
        f"{branch}:refs/heads/{branch}",
        cwd=path,
        env=env,
        timeout=600,
    )


def remote_branch_sha(path: Path | str, branch: str, remote: str = "origin") -> str | None:
    """The sha of `branch` on the remote (asks the remote, not the local tracking ref)."""
    result = git(
        "ls-remote", "--heads", remote, f"refs/heads/{branch}", cwd=path, check=False, timeout=60
    )
    for line in result.stdout.splitlines():
        sha, _, ref = line.partition("\t")
        if ref == f"refs/heads/{branch}":
            return sha
    return None


def local_branches(root: Path | str, prefix: str = "") -> list[str]:
    """Local branch names starting with `prefix`, sorted."""
    result = git("for-each-ref", "--format=%(refname)", "refs/heads/", cwd=root, check=False)
    names = [
        line.strip().removeprefix("refs/heads/")
        for line in result.stdout.splitlines()
        if line.strip()
    ]
    return sorted(n for n in names if n.startswith(prefix))


def on_a_remote(root: Path | str, ref: str) -> bool:
    """True when the commit `ref` names is reachable from a remote-tracking ref (its work
    is on the remote, so deleting the local branch loses nothing)."""
    sha = rev_parse(root, ref)
    if sha is None:
        return False
    result = git(
        "for-each-ref",
        "--contains",
        sha,
        "--format=%(refname)",
        "refs/remotes/",
        cwd=root,
        check=False,
    )
    return result.ok and bool(result.stdout.strip())


def delete_branch(root: Path | str, branch: str) -> None:
    git("branch", "-D", branch, cwd=root, check=False)


def default_branch(root: Path | str) -> str:
    """origin's default branch as this checkout knows it (no network), else main/master."""
    head = git("symbolic-ref", "--short", "refs/remotes/origin/HEAD", cwd=root, check=False)
    if head.ok and head.stdout.strip().startswith("origin/"):
        return head.stdout.strip().removeprefix("origin/")
    for candidate in ("main", "master"):
        if git(
            "rev-parse",
            "--verify",
            "--quiet",
            f"refs/remotes/origin/{candidate}",
            cwd=root,
            check=False,
        ).ok:
            return candidate
    current = git("symbolic-ref", "--short", "HEAD", cwd=root, check=False)
    return current.stdout.strip() if current.ok and current.stdout.strip() else "main"


EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's well-known empty tree
# File names are names, not patterns: a file called `*.py` or `:(top)` means only itself.
_LITERAL = {"GIT_LITERAL_PATHSPECS": "1"}


def status_entries(root: Path | str) -> list[tuple[str, str, str | None]]:
    """Every staged, unstaged and untracked change: (XY code, path, original path of a
    rename or None), from `git status --porcelain -z` (paths exactly as git has them)."""
    out = git("status", "--porcelain=v1", "-z", "--untracked-files=all", cwd=root).stdout
    fields = out.split("\0")
    entries: list[tuple[str, str, str | None]] = []
    index = 0
    while index < len(fields):
        item = fields[index]
        index += 1
        if len(item) < 4:
            continue
        code, path = item[:2], item[3:]
        original = None
        if "R" in code or "C" in code:
            original = fields[index] if index < len(fields) else None
            index += 1
        entries.append((code, path, original))
    return entries


def diff_worktree(root: Path | str, paths: list[str]) -> str:
    """What the work tree changed in `paths` since HEAD (staged and unstaged), as text."""
    base = "HEAD" if rev_parse(root, "HEAD") else EMPTY_TREE
    return git(
        "diff", "--no-color", "--no-ext-diff", base, "--", *paths, cwd=root, env=_LITERAL
    ).stdout


def commit_paths(
    root: Path | str, paths: list[str], message: str, *, stage: list[str]
) -> str | None:
    """Stage `stage` as it is in the work tree, then commit only `paths` (other staged
    changes stay staged), with the user's own identity and hooks; the new sha. `stage`
    leaves out paths git no longer has anywhere (a staged deletion, a rename's old name):
    `git add` refuses those, and the commit takes them from HEAD."""
    if stage:
        git("add", "-A", "--", *stage, cwd=root, env=_LITERAL)
    git("commit", "--quiet", "-m", message, "--", *paths, cwd=root, env=_LITERAL)
    return rev_parse(root, "HEAD")


def commit_everything(root: Path | str, message: str) -> str | None:
    """`git add -A` and one commit of every change, with the user's identity and hooks."""
    git("add", "-A", cwd=root)
    git("commit", "--quiet", "-m", message, cwd=root)
    return rev_parse(root, "HEAD")


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


def unpushed_commits(path: Path | str, base: str, branch: str, remote: str = "origin") -> list[str]:
    """Commits `git push` of `branch` would send: on HEAD, not on `base`, not already on
    the remote's copy of the branch (as this clone last saw it), oldest first."""
    args = ["rev-list", "--reverse", "HEAD", f"^{base}"]
    tracking = f"refs/remotes/{remote}/{branch}"
    if rev_parse(path, tracking):
        args.append(f"^{tracking}")
    result = git(*args, cwd=path)
    return result.stdout.split()


def commit_fields(path: Path | str, sha: str) -> tuple[str, str]:
    """(author and committer names and emails on one line, the full message) of a commit."""
    result = git("show", "--no-patch", "--format=%an <%ae> %cn <%ce>%x00%B", sha, cwd=path)
    people, _, message = result.stdout.partition("\x00")
    return people.strip(), message


def commit_patch(path: Path | str, sha: str) -> str:
    """What one commit changed, with no context lines (`+` lines are what it adds)."""
    return git(
        "show",
        "--format=",
        "--unified=0",
        "--no-color",
        "--no-ext-diff",
        "--no-renames",
        "--first-parent",
        sha,
        cwd=path,
    ).stdout


def status_porcelain(path: Path | str) -> str:
    """`git status --porcelain` with every untracked file listed (a checkout's state)."""
    return git("status", "--porcelain", "--untracked-files=all", cwd=path).stdout
