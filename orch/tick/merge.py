"""Merge watch: a task whose PR merged becomes `done` (its worktree cleaned up); a PR
closed unmerged sends the task to `needs_review` (SPEC §5.9).

PR states come from the snapshot (`ctx.pulls`: every open PR of a task branch and the
recently closed ones, kept current by each tick's read), so a quiet tick reads nothing
and a merge costs the label write and the note. Looked at on every tick:

- open `in_review` tasks, by their PR in the snapshot (the one the last agent response
  names when the snapshot carried the comments, else the newest from the task's branch);
- closed tasks in the snapshot (updated since the last read, or, on a read without the
  cache, still marked `in_review`/`in_progress`/`routed`) that are still `in_review`, or
  `in_progress`/`routed` with a PR from their branch: GitHub closes the issue when a PR
  that says `Closes #n` merges, before any tick may have seen the task in review. This
  holds whatever the cache says, and with an empty state directory.

A task with no PR in the snapshot (a PR on a branch orch did not name) is looked up with
one REST read, only when the task changed.
"""

from __future__ import annotations

from pathlib import Path

from orch.io import git
from orch.io.locks import holder
from orch.run.worktree import branch_name, find_existing, remove
from orch.status import Status
from orch.store.base import Comment, Issue, PullRequest
from orch.task.history import History, Task
from orch.tick.context import ProjectTick
from orch.tick.snapshot import task_of

WATCHED_CLOSED = (Status.IN_REVIEW, Status.IN_PROGRESS, Status.ROUTED)


def run(ctx: ProjectTick) -> None:
    by_task = _pulls_by_task(ctx)
    due = [(t, by_task.get(t.number, [])) for t in ctx.tasks(Status.IN_REVIEW)]
    closed = [Task.from_issue(i) for i in [*ctx.closed.values(), *ctx.stranded.values()]]
    for task in sorted({t.number: t for t in closed}.values(), key=lambda t: t.number):
        pulls = by_task.get(task.number, [])
        if task.status is Status.IN_REVIEW or (task.status in WATCHED_CLOSED and pulls):
            due.append((task, pulls))
    pulls_of = {task.number: pulls for task, pulls in due}
    ctx.each([task for task, _ in due], lambda task: _check(ctx, task, pulls_of[task.number]))


def _pulls_by_task(ctx: ProjectTick) -> dict[int, list[PullRequest]]:
    """Task number -> the snapshot's PRs from its branches, newest first."""
    prefix = ctx.project.config.git.branch_prefix
    found: dict[int, list[PullRequest]] = {}
    for pr in sorted(ctx.pulls, key=lambda p: p.number, reverse=True):
        number = task_of(pr, prefix)
        if number is not None:
            found.setdefault(number, []).append(pr)
    return found


def _check(ctx: ProjectTick, task: Task, pulls: list[PullRequest]) -> None:
    pr = _the_pr(ctx, task, pulls)
    if pr is None or pr.state == "open":
        return
    if task.status is Status.IN_PROGRESS and holder(ctx.deps.paths, ctx.repo, task.number):
        return  # its attempt still runs here: publish decides
    if pr.state == "merged":
        _done(ctx, task, pr)
    else:
        _closed_unmerged(ctx, task, pr)


def _the_pr(ctx: ProjectTick, task: Task, pulls: list[PullRequest]) -> PullRequest | None:
    """The task's PR: the one its last agent response names (when the snapshot carried
    the comments), else the newest from its branch; a REST read only for a changed task
    whose PR the snapshot does not hold."""
    named = _named_pr(ctx, task)
    for pr in pulls:
        if named is None or pr.number == named:
            return pr
    if task.number not in ctx.changed:
        return None
    if named is not None:
        return ctx.store.get_pr(named)
    history = History.from_comments(ctx.comments.get(task.number, ()), ctx.orch_logins)
    branch = (history.last_response or {}).get("branch") or branch_name(
        ctx.project.config.git.branch_prefix, task.number, task.title
    )
    return ctx.store.find_pr(str(branch), state="all")


def _named_pr(ctx: ProjectTick, task: Task) -> int | None:
    comments = ctx.comments.get(task.number)
    if not comments:
        return None
    number = (History.from_comments(comments, ctx.orch_logins).last_response or {}).get("pr")
    if isinstance(number, int) or (isinstance(number, str) and number.isdigit()):
        return int(number)
    return None


def _done(ctx: ProjectTick, task: Task, pr: PullRequest) -> None:
    number = task.number
    updated = ctx.move(
        task,
        Status.DONE,
        action="mark done",
        trigger="merged",
        reason=f"PR #{pr.number} merged",
        comments=_known_comments(ctx, number),
    )
    if ctx.project.config.workflow.auto_close and updated.state != "closed":
        ctx.act(ctx.would("close"), number, "workflow.auto_close")
        updated = ctx.store.update_issue(number, state="closed")
    _refresh(ctx, updated)
    _clean_up(ctx, number, pr.head)


def _closed_unmerged(ctx: ProjectTick, task: Task, pr: PullRequest) -> None:
    updated = ctx.move(
        task,
        Status.NEEDS_REVIEW,
        action="mark needs_review",
        trigger="pr_closed",
        reason=f"PR #{pr.number} was closed without merging",
        detail=f"PR #{pr.number} closed without merging",
        comments=_known_comments(ctx, task.number),
    )
    _refresh(ctx, updated)


def _known_comments(ctx: ProjectTick, number: int) -> tuple[Comment, ...]:
    """What the note's dedupe check compares with: the snapshot's comments, else none.
    No read is needed: the label write comes first, so a note for this very move cannot
    be on the issue yet (a tick that died before its note leaves the task moved)."""
    return ctx.comments.get(number, ())


def _refresh(ctx: ProjectTick, issue: Issue) -> None:
    ctx.stranded.pop(issue.number, None)
    ctx.refresh(issue)


def _clean_up(ctx: ProjectTick, number: int, branch: str) -> None:
    """Remove the task's worktree and local branch on this host (if it has them)."""
    root = ctx.project.root
    worktrees = ctx.deps.paths.worktrees_dir(ctx.repo)
    path: Path | None = find_existing(root, worktrees, number)
    has_branch = git.branch_exists(root, branch)
    if path is None and not has_branch:
        return
    shown = str(path) if path else f"branch {branch}"
    ctx.act(ctx.would("clean up"), number, shown)
    if ctx.dry_run:
        return
    if path is not None:
        remove(root, path, branch)
    else:
        git.delete_branch(root, branch)
