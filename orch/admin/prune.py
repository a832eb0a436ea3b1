"""`orch prune`: remove what finished tasks left on this host (SPEC §6.1 worktrees).

Candidates, for the current project: the folders under `<state>/worktrees/<owner>/<repo>/`
(registered git worktrees or stray folders) and the local branches named
`<branch_prefix><n>-…`. One `list_issues(state=open)` read says which tasks are still
open. A candidate is removed when its task is done, closed or does not exist (a folder
with no task number: no task owns it); it is kept when its task is open and not done,
when a supervisor of it is alive on this host or its task lock is held (never a running
task's), and a branch whose commits are on no remote-tracking ref is kept (deleting it
would lose work). `plan()` decides without writing; `apply()` removes exactly what the
plan lists.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orch.io import git
from orch.io.locks import holder
from orch.paths import Paths
from orch.run.view import supervisor_alive
from orch.status import Status
from orch.store.base import Store
from orch.task.attempt import running_sidecars
from orch.task.history import Task

_NUMBERED = re.compile(r"^(\d+)-")


@dataclass(frozen=True)
class Item:
    kind: str  # "worktree" (registered with git) | "folder" (stray) | "branch"
    name: str  # the path (worktree, folder) or the branch name
    task: int | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "task": self.task, "reason": self.reason}


@dataclass(frozen=True)
class Plan:
    remove: tuple[Item, ...]
    keep: tuple[Item, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "remove": [i.to_json() for i in self.remove],
            "keep": [i.to_json() for i in self.keep],
        }


def task_number(name: str, prefix: str = "") -> int | None:
    """The task number a worktree folder or a branch name carries (pure)."""
    if not name.startswith(prefix):
        return None
    found = _NUMBERED.match(name[len(prefix) :])
    return int(found.group(1)) if found else None


def running(paths: Paths, repo: str) -> tuple[set[int], set[Path], set[str]]:
    """Tasks of `repo` with a live supervisor on this host: numbers, worktrees, branches."""
    numbers: set[int] = set()
    trees: set[Path] = set()
    branches: set[str] = set()
    for sidecar_repo, number, data in running_sidecars(paths):
        if sidecar_repo != repo or not supervisor_alive(data):
            continue
        numbers.add(number)
        if data.get("worktree"):
            trees.add(Path(str(data["worktree"])).resolve())
        if data.get("branch"):
            branches.add(str(data["branch"]))
    return numbers, trees, branches


def plan(paths: Paths, root: Path, repo: str, store: Store, branch_prefix: str) -> Plan:
    """What prune removes and keeps (reads git, the sidecars and one open-issues list)."""
    open_tasks = {i.number: Task.from_issue(i) for i in store.list_issues(state="open")}
    live_numbers, live_trees, live_branches = running(paths, repo)
    git.worktree_prune(root)
    registered = {p.resolve() for p in git.worktree_paths(root)}
    remove: list[Item] = []
    keep: list[Item] = []

    def verdict(number: int | None, live: bool) -> str | None:
        """Why it goes, or None when it stays (the reason for keeping goes in `kept`)."""
        if live or (number is not None and holder(paths, repo, number) is not None):
            return None
        if number is None:
            return "no task owns it"
        task = open_tasks.get(number)
        if task is None:
            return f"task #{number} is closed or does not exist"
        return f"task #{number} is done" if task.status is Status.DONE else None

    def kept_reason(number: int | None, live: bool) -> str:
        if live or (number is not None and holder(paths, repo, number) is not None):
            return "a supervisor is running it"
        task = open_tasks[number] if number is not None else None
        return f"task #{number} is {task.status.value if task and task.status else 'open'}"

    base = paths.worktrees_dir(repo)
    for folder in sorted(base.iterdir()) if base.is_dir() else []:
        if not folder.is_dir():
            continue
        number = task_number(folder.name)
        is_registered = folder.resolve() in registered
        kind = "worktree" if is_registered else "folder"
        if number is None and is_registered:
            keep.append(
                Item(
                    kind,
                    str(folder),
                    None,
                    "a git worktree with no task number (not orch's to judge)",
                )
            )
            continue
        live = folder.resolve() in live_trees or number in live_numbers
        why = verdict(number, live)
        target = remove if why else keep
        target.append(Item(kind, str(folder), number, why or kept_reason(number, live)))

    for branch in git.local_branches(root, branch_prefix):
        number = task_number(branch, branch_prefix)
        if number is None:
            continue
        live = branch in live_branches or number in live_numbers
        why = verdict(number, live)
        if why and not git.on_a_remote(root, f"refs/heads/{branch}"):
            keep.append(
                Item(
                    "branch",
                    branch,
                    number,
                    "has commits on no remote (push or delete it yourself)",
                )
            )
        elif why:
            remove.append(Item("branch", branch, number, why))
        else:
            keep.append(Item("branch", branch, number, kept_reason(number, live)))
    return Plan(tuple(remove), tuple(keep))


def apply(paths: Paths, root: Path, repo: str, pruned: Plan) -> list[Item]:
    """Remove what `pruned` lists (worktrees first, so their branches are free); the
    items actually removed. A task that started since the plan was made is skipped."""
    live_numbers, live_trees, live_branches = running(paths, repo)

    def started(item: Item) -> bool:
        if item.task is not None and (item.task in live_numbers or holder(paths, repo, item.task)):
            return True
        return Path(item.name).resolve() in live_trees or item.name in live_branches

    done: list[Item] = []
    for item in pruned.remove:
        if started(item):
            continue
        if item.kind == "worktree":
            git.worktree_remove(root, Path(item.name))
        if item.kind in ("worktree", "folder"):
            shutil.rmtree(item.name, ignore_errors=True)
            if not Path(item.name).exists():
                done.append(item)
    git.worktree_prune(root)
    for item in pruned.remove:
        if item.kind == "branch" and not started(item):
            git.delete_branch(root, item.name)
            if not git.branch_exists(root, item.name):
                done.append(item)
    return done
