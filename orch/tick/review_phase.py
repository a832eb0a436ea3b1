"""Review phase (SPEC §5.8): PRs of `in_review` tasks without a verdict for their head SHA.

Runs only with `workflow.enable_review_agent`. It looks at `in_review` tasks whose issue
changed since the last tick (a task that just arrived in review, a verdict just posted)
or that an earlier tick left a `review-pending` file for (a reviewer it started, a review
that had to wait), so a quiet tick reads nothing. The file is a cache: without it (state
directory deleted) every task counts as changed once anyway.

- another orch process holds the task's lock (a review or a run): look again next tick;
- the PR's head SHA already has an `orch:review` verdict: finish acting on it if the
  process that posted it died first (merge, `routed`, `needs_review`), else nothing;
- the reviewer gave no verdict MAX_NO_VERDICT times for this head: `needs_review`;
- else, while the agents running on this host are fewer than `workflow.max_parallel`,
  start `orch task review N` detached and look again next tick. The tick never waits
  for the reviewer (except `--wait`).
"""

from __future__ import annotations

from pathlib import Path

from orch import taskid
from orch.review.task import (
    ReviewOptions,
    apply_verdict,
    find_target,
    no_verdict_runs,
    reviewer_for,
    spawn_review,
)
from orch.status import Status
from orch.store.base import Comment
from orch.task.history import Task
from orch.task.verdict import verdict_for
from orch.tick.context import ProjectTick
from orch.tick.dispatch import busy
from orch.tick.supervisors import at_work

MAX_NO_VERDICT = 3  # reviews of one head SHA without a verdict before a human is asked


def run(ctx: ProjectTick) -> None:
    if not ctx.project.config.workflow.enable_review_agent:
        return
    pending = _pending(ctx)
    in_review = {t.number: t for t in ctx.tasks(Status.IN_REVIEW)}
    for number in pending - set(in_review):
        _done_with(ctx, number)  # left review (merged, rerouted, closed)
    due = [t for n, t in in_review.items() if n in ctx.changed or n in pending]
    ctx.each(due, lambda task: _review(ctx, task))


def _pending_file(ctx: ProjectTick, number: int) -> Path:
    return ctx.deps.paths.task_dir(ctx.repo, number) / "review-pending"


def _pending(ctx: ProjectTick) -> set[int]:
    tasks = ctx.deps.paths.repo_dir(ctx.repo) / "tasks"
    found = tasks.glob("*/review-pending") if tasks.is_dir() else []
    numbers = (taskid.from_text(p.parent.name) for p in found)
    return {n for n in numbers if n is not None}


def _again(ctx: ProjectTick, number: int) -> None:
    """Look at the task again next tick, even if its issue does not change."""
    if not ctx.dry_run:
        path = _pending_file(ctx, number)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()


def _done_with(ctx: ProjectTick, number: int) -> None:
    if not ctx.dry_run:
        _pending_file(ctx, number).unlink(missing_ok=True)


def _comments(ctx: ProjectTick, task: Task) -> tuple[Comment, ...]:
    """All the task's comments: the snapshot's when it carried every one, else read."""
    comments = ctx.comments_for(task.number)
    if task.issue.comments > len(comments):
        comments = tuple(ctx.store.list_comments(task.number))
        ctx.comments[task.number] = comments
    return comments


def _review(ctx: ProjectTick, task: Task) -> None:

    number, paths = task.number, ctx.deps.paths
    if at_work(paths, ctx.repo, number):
        _again(ctx, number)  # a reviewer or a run works on it now (or is starting up)
        return
    target, _ = find_target(
        ctx.project,
        ctx.store,
        number,
        issue=task.issue,
        comments=_comments(ctx, task),
        pulls=ctx.pulls,
    )
    if target is None:
        _done_with(ctx, number)
        return  # no open PR: merge watch deals with it
    sha = target.head_sha[:12]
    existing = verdict_for(target.history.reviews, target.head_sha)
    if existing is not None:
        _done_with(ctx, number)
        result = apply_verdict(ctx.deps, ctx.project, ctx.store, target, existing)
        if result.merged:
            ctx.act("would merge" if ctx.dry_run else "merged", number, result.reason)
        elif result.status:
            verb = "would mark" if ctx.dry_run else "marked"
            ctx.act(f"{verb} {result.status}", number, result.reason)
        return
    failures = no_verdict_runs(paths, ctx.repo, number, target.head_sha)
    if failures >= MAX_NO_VERDICT:
        reason = (
            f"the reviewer gave no verdict {failures} times for PR #{target.pr.number} at {sha}"
        )
        _done_with(ctx, number)
        ctx.move(
            task, Status.NEEDS_REVIEW, action="mark needs_review", trigger="review", reason=reason
        )
        return
    agent = reviewer_for(ctx.deps, ctx.project, task.agent)
    if agent is None:
        _again(ctx, number)
        ctx.act("wait", number, "no agent can review now (disabled, missing or cooling down)")
        return
    limit = ctx.project.config.workflow.max_parallel
    running = busy(ctx)
    if running >= limit:
        _again(ctx, number)
        ctx.act("wait", number, f"{running} of max_parallel {limit} agents running on this host")
        return
    model = ctx.project.config.model_for("review", agent)
    who = agent + (f"/{model}" if model else "")
    if ctx.dry_run:
        ctx.shared.dispatched_dry += 1
        ctx.act("would review", number, f"PR #{target.pr.number} at {sha} with {who}")
        return
    child = spawn_review(ctx.deps, ctx.project, ReviewOptions(number, agent=agent))
    ctx.track(number, child, kind="review")
    _again(ctx, number)  # look again next tick, whatever the reviewer does
    ctx.act("reviewing", number, f"PR #{target.pr.number} at {sha} with {who}, pid {child.pid}")
