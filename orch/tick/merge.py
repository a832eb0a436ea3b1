"""Merge watch: `in_review` tasks whose PR merged become `done`; a PR closed unmerged
sends the task to `needs_review` (SPEC §5.9).

A PR is looked at only when something may have moved, so a quiet tick reads nothing:
the task's issue changed, it left the open set (GitHub closes an issue when a PR that
`Closes #n` merges), the snapshot's recently closed PRs hold one from the task's branch
that merge watch has not looked at yet (a merge is seen on the next tick, without
reading anything more), or its last check is older than CHECK_INTERVAL (a safety net for
PRs that fell out of the snapshot's window; at most CHECKS_PER_TICK per tick).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from orch import taskid
from orch.status import Status
from orch.store.base import Issue, PullRequest
from orch.tasks import History, Task, set_status
from orch.tick.context import ProjectTick

CHECK_INTERVAL = timedelta(hours=2)  # safety net: the snapshot's closed PRs come first
CHECKS_PER_TICK = 10


def run(ctx: ProjectTick) -> None:
    now = ctx.deps.clock.now()
    closed_prs = _closed_prs_by_task(ctx)
    due: list[Task] = []
    stale: list[tuple[datetime, Task]] = []
    for task in ctx.tasks(Status.IN_REVIEW):
        entry = ctx.cache.entries.get(task.number)
        fresh = [n for n in closed_prs.get(task.number, ()) if not entry or n not in entry.pulls]
        if task.number in ctx.changed or fresh:
            due.append(task)
        elif entry is None or entry.checked_at is None:
            stale.append((datetime.min.replace(tzinfo=UTC), task))
        elif now - entry.checked_at >= CHECK_INTERVAL:
            stale.append((entry.checked_at, task))
    # Periodic checks are capped per tick, oldest first, so they spread over ticks.
    due += [task for _, task in sorted(stale, key=lambda p: (p[0], p[1].number))[:CHECKS_PER_TICK]]
    # in_review tasks that left the open set since the last tick: closed, maybe merged.
    gone = [
        n for n, e in ctx.cache.entries.items() if e.status == "in_review" and n not in ctx.issues
    ]
    for number in gone:
        # The snapshot carries recently closed tasks; read only one it missed.
        issue = ctx.closed.get(number) or ctx.store.get_issue(number)
        if issue.state == "closed" and Task.from_issue(issue).status is Status.IN_REVIEW:
            due.append(Task.from_issue(issue))
    ctx.each(due, lambda task: _check(ctx, task, closed_prs.get(task.number, ())))


def _closed_prs_by_task(ctx: ProjectTick) -> dict[int, list[int]]:
    """Task number -> numbers of the snapshot's recently closed or merged PRs whose head
    is one of orch's task branches (`<prefix><number>-…`)."""
    prefix = ctx.project.config.git.branch_prefix
    found: dict[int, list[int]] = {}
    for pr in ctx.pulls:
        if not pr.head.startswith(prefix):
            continue
        head, _, _ = pr.head[len(prefix) :].partition("-")
        number = taskid.from_text(head)
        if number is not None:
            found.setdefault(number, []).append(pr.number)
    return found


def _branch(ctx: ProjectTick, task: Task) -> tuple[str, int | None]:
    from orch.worktree import branch_name

    history = History.from_comments(ctx.comments.get(task.number, ()))
    last = history.last_response or {}
    pr = last.get("pr")
    branch = last.get("branch") or branch_name(
        ctx.project.config.git.branch_prefix, task.number, task.title
    )
    return str(branch), int(pr) if isinstance(pr, int) or (
        isinstance(pr, str) and pr.isdigit()
    ) else None


def _find_pr(ctx: ProjectTick, task: Task) -> PullRequest | None:
    branch, number = _branch(ctx, task)
    if number is not None:
        return ctx.store.get_pr(number)
    return ctx.store.find_pr(branch, state="all")


def _check(ctx: ProjectTick, task: Task, seen: list[int] | tuple[int, ...] = ()) -> None:
    pr = _find_pr(ctx, task)
    entry = ctx.cache.entries.get(task.number)
    if entry is None:  # first sight of the task: remember this check too
        from orch.tick.cache import Entry

        entry = ctx.cache.entries[task.number] = Entry(task.issue.updated_at, "in_review")
    entry.checked_at = ctx.deps.clock.now()
    entry.pulls = tuple(sorted({*entry.pulls, *seen}))  # not a hint again
    if pr is None or pr.state == "open":
        return
    if pr.state == "merged":
        _done(ctx, task.issue, pr)
    else:
        ctx.act(
            ctx.would("mark needs_review"), task.number, f"PR #{pr.number} closed without merging"
        )
        ctx.refresh(
            set_status(
                ctx.store,
                task.number,
                Status.NEEDS_REVIEW,
                trigger="pr_closed",
                reason=f"PR #{pr.number} was closed without merging",
                note=True,
                issue=task.issue,
            )
        )


def _done(ctx: ProjectTick, issue: Issue, pr: PullRequest) -> None:
    number = issue.number
    ctx.act(ctx.would("mark done"), number, f"PR #{pr.number} merged")
    updated = set_status(
        ctx.store,
        number,
        Status.DONE,
        trigger="merged",
        reason=f"PR #{pr.number} merged",
        note=True,
        issue=issue,
    )
    if ctx.project.config.workflow.auto_close and updated.state != "closed":
        ctx.act(ctx.would("close"), number, "workflow.auto_close")
        updated = ctx.store.update_issue(number, state="closed")
    ctx.refresh(updated)
    _clean_up(ctx, number, pr.head)


def _clean_up(ctx: ProjectTick, number: int, branch: str) -> None:
    """Remove the task's worktree and local branch on this host (if it has them)."""
    from orch import git
    from orch.worktree import find_existing, remove

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
