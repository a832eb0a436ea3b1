"""Intake (SPEC §8): which open issues are tasks, and which wait for a maintainer's yes.

The gate (`gate`, run by the snapshot phase so no `--only` can skip it): a status label
makes an issue a task only when a maintainer said yes: orch acted on the issue before
(one of its markers is there), the issue's author may steer orch (§7.1), an authorized
user commented `/approve`, or an authorized user applied a `status:` label (the labeled
events, read once when the issue first appears). Issue forms apply labels for any
author, so the label alone proves nothing. An issue without that yes waits, silent on
GitHub, left out of every later phase; it is looked at again only when it changes, so a
quiet tick stays one request.

`run` (the intake phase) is `workflow.intake: authored`: every open issue without a
status label whose author is authorized gets `status:new`. That mode costs one extra
list request per tick, since the snapshot only carries issues with orch labels.
"""

from __future__ import annotations

import contextlib

from orch import labels as L
from orch import taskid
from orch.errors import RateLimited
from orch.status import Status
from orch.store.base import Comment, Issue
from orch.task import markers
from orch.task.history import Task, post_marker
from orch.task.owner import parse_command
from orch.tick.context import ProjectTick, log_exception
from orch.tick.owner_phase import authorized

APPROVE_REPLY = "Approved: orch takes this issue as a task."


def run(ctx: ProjectTick) -> None:
    workflow = ctx.project.config.workflow
    if workflow.intake != "authored":
        return
    for issue in ctx.store.list_issues(state="open"):
        if L.statuses_in(issue.labels) or L.NO_AGENT in issue.labels:
            continue
        try:
            _intake(ctx, issue)
        except RateLimited:
            raise
        except Exception as exc:
            log_exception(ctx, exc, issue.number)


def _intake(ctx: ProjectTick, issue: Issue) -> None:
    if not authorized(ctx, issue.author, issue.author_type):
        return
    ctx.move(
        Task.from_issue(issue),
        Status.NEW,
        action="intake",
        trigger="intake",
        reason="",
        detail=f"opened by {issue.author}: status new",
        note=False,
    )
    ctx.changed.add(issue.number)
    ctx.approved.add(issue.number)


# ------------------------------------------------------------------------------ the gate


def gate(ctx: ProjectTick) -> None:
    """Move the open issues no maintainer approved from `ctx.issues` to `ctx.waiting`."""
    for number in sorted(ctx.issues):
        entry = ctx.cache.entries.get(number)
        if entry is not None and entry.approved:
            continue
        if entry is not None and number not in ctx.changed:
            ctx.waiting[number] = ctx.issues.pop(number)  # still waiting, nothing new
            continue
        try:
            approved = _approval(ctx, ctx.issues[number])
        except RateLimited:
            raise
        except Exception as exc:  # looked at again next tick (log_exception marks retry)
            log_exception(ctx, exc, number)
            approved = False
        if approved:
            ctx.approved.add(number)
        else:
            ctx.waiting[number] = ctx.issues.pop(number)


def _approval(ctx: ProjectTick, issue: Issue) -> bool:
    """Whether a maintainer said yes to this issue (cheapest evidence first)."""
    number, logins = issue.number, ctx.orch_logins
    if taskid.is_internal(number):
        return True  # made on this machine (orch task add --internal, a job): never public
    comments = ctx.comments_for(number)
    if any(markers.orch_marker(c, logins) for c in comments):
        return True  # orch acted on it already (routed it, or acked an /approve)
    if markers.written_by_orch(issue.author, logins):
        return True
    if authorized(ctx, issue.author, issue.author_type):
        return True
    command = _approve_command(ctx, comments)
    if command is not None:
        _ack_approve(ctx, number, command)
        return True
    for event in ctx.store.label_events(number):
        if event.label.startswith(L.STATUS_PREFIX) and (
            markers.written_by_orch(event.actor, logins)
            or authorized(ctx, event.actor, event.actor_type)
        ):
            if not markers.written_by_orch(event.actor, logins):
                ctx.act("approved", number, f"{event.label} applied by {event.actor}")
            return True
    ctx.act(
        "awaiting approval",
        number,
        f"opened by {issue.author}, who cannot steer orch; a maintainer approves with "
        "/approve or by applying the status label again",
    )
    return False


def _approve_command(ctx: ProjectTick, comments: tuple[Comment, ...]) -> Comment | None:
    """The first `/approve` comment by someone who may steer orch."""
    for comment in comments:
        command = parse_command(comment.body)
        if command is None or command.name != "approve":
            continue
        if authorized(ctx, comment.author, comment.author_type, comment.association):
            return comment
    return None


def _ack_approve(ctx: ProjectTick, number: int, comment: Comment) -> None:
    data = {"comment_id": comment.id, "command": "approve"}
    post_marker(ctx.store, number, "ack", data, f"@{comment.author} {APPROVE_REPLY}", dedupe=False)
    with contextlib.suppress(Exception):  # a reaction is a courtesy, never a failure
        ctx.store.react(comment.id, "eyes")
    ctx.forget_comments(number)
    ctx.act(ctx.would("ack /approve"), number, f"comment {comment.id} by {comment.author}")
