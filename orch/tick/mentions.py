"""Mention phase: `workflow.mention` (default `@orch`) where orch is not yet at work (SPEC §12).

The snapshot brings open issues and PRs commented since the last tick whose comments
mention orch (no extra read: GitHub's issue search in a full read, the issues and PRs a
delta brings anyway otherwise); the snapshot phase keeps those that moved. Only comments whose first word is the mention, by
people who may steer orch (SPEC §7.1), count; anyone else's mention does nothing.

- On an open issue that is not a task: it becomes one (`status:new`), with an `orch:ack`
  naming the comment and carrying the mention's text as context. The next phases route
  and dispatch it like any new task.
- On an open PR that is not orch's: `@orch review` starts a detached
  `orch task review PR --mention ID` (the tick does not wait for the agent), which runs
  the review agent once on the PR's head and posts its verdict as one `orch:review`
  comment naming the comment (orch.review.pr) — it never merges and never pushes. Its
  process is recorded like a run's, so max_parallel and `orch task live` see it.

Handled once: the ack or review comment names the mention's comment id.
"""

from __future__ import annotations

import contextlib

from orch import labels as L
from orch.errors import RateLimited
from orch.run.spawn import spawn_task, task_argv
from orch.status import Status
from orch.store.base import Comment, Mention
from orch.task import conversation as convo
from orch.task.history import post_marker, set_status
from orch.tick.context import ProjectTick, log_exception
from orch.tick.owner_phase import authorized
from orch.tick.pr_feedback import marker_reader
from orch.tick.supervisors import at_work

TASK_REPLY = "On it: this issue is now an orch task (status new)."


def run(ctx: ProjectTick) -> None:
    mention = ctx.project.config.workflow.mention
    prefix = ctx.project.config.git.branch_prefix
    for found in ctx.mentions:
        issue = found.issue
        if issue.state != "open" or L.statuses_in(issue.labels) or issue.number in ctx.issues:
            continue  # a task already: the owner and PR phases answer there
        if found.pull is not None and convo.task_of_pull(found.pull, prefix) is not None:
            continue  # orch's own PR: the review phase reviews it
        try:
            _answer(ctx, found, mention)
        except RateLimited:
            raise
        except Exception as exc:  # isolation: one mention never stops the others
            ctx.cache.mentions.pop(issue.number, None)  # looked at again next tick
            log_exception(ctx, exc, issue.number)


def _answer(ctx: ProjectTick, found: Mention, mention: str) -> None:
    request = _first_request(ctx, found, mention)
    if request is None:
        return
    comment, text = request
    if found.pull is None:
        _make_task(ctx, found, comment, text)
    else:
        _review(ctx, found, comment)


def _first_request(ctx: ProjectTick, found: Mention, mention: str) -> tuple[Comment, str] | None:
    """The oldest unanswered mention by an authorized user, with its text."""
    read = marker_reader(ctx)
    answered: set[int] = set()
    for comment in found.comments:
        marker = read(comment)
        if marker is not None and isinstance(marker.data.get("comment_id"), int):
            answered.add(int(marker.data["comment_id"]))
    for comment in found.comments:
        if comment.id in answered or read(comment) is not None:
            continue
        text = convo.mention_text(comment.body, mention)
        if text is None:
            continue
        if found.pull is not None and not convo.asks_review(text):
            continue
        if authorized(ctx, comment.author, comment.author_type, comment.association):
            return comment, text
    return None


def _make_task(ctx: ProjectTick, found: Mention, comment: Comment, text: str) -> None:
    number = found.issue.number
    issue = set_status(
        ctx.store, number, Status.NEW, trigger="intake", reason="mention", issue=found.issue
    )
    data = {"comment_id": comment.id, "command": "mention", "status": Status.NEW.value}
    if text:
        data["context"] = text
    post_marker(ctx.store, number, "ack", data, f"@{comment.author} {TASK_REPLY}", dedupe=False)
    with contextlib.suppress(Exception):  # a reaction is a courtesy, never a failure
        ctx.store.react(comment.id, "eyes")
    ctx.refresh(issue)
    ctx.changed.add(number)
    ctx.act(ctx.would("intake"), number, f"mention by {comment.author}: status new")


def _review(ctx: ProjectTick, found: Mention, comment: Comment) -> None:
    assert found.pull is not None
    if ctx.dry_run:
        ctx.act("would review", found.issue.number, f"PR #{found.pull.number} for {comment.author}")
        return
    number, paths = found.pull.number, ctx.deps.paths
    if at_work(paths, ctx.repo, number):
        return  # a review of this PR is under way; its comment moves the PR again
    argv = [*task_argv(ctx.deps, ctx.project, "review", number), "--mention", str(comment.id)]
    child = spawn_task(ctx.deps, ctx.project, number, argv, paths.review_log(ctx.repo, number))
    ctx.track(number, child, kind="pr-review")
    ctx.act("reviewing", number, f"PR #{number} for {comment.author}, pid {child.pid}")
