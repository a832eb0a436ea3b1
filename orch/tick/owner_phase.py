"""Owner phase: slash commands and feedback from authorized users (SPEC §7.1-7.2).

Only tasks whose issue changed since the last tick are looked at. A comment is handled
once: its effect is made first, then an `orch:ack` comment naming its id is posted, so
a later tick (even after the state directory was deleted) sees the ack and skips it.
Comments from users without write access, and from bots not listed in
`workflow.allowed_users`, change nothing and are never answered. The same rules hold on
orch's pull requests (orch.tick.pr_feedback) and for mentions (orch.tick.mentions).
"""

from __future__ import annotations

import contextlib
from typing import Any

from orch.status import Status
from orch.store.base import Comment, Issue
from orch.task import markers
from orch.task.history import History, Task, post_marker, set_status
from orch.task.owner import (
    Decision,
    decide_command,
    decide_feedback,
    is_authorized,
    needs_permission_lookup,
    parse_command,
)
from orch.tick.context import ProjectTick
from orch.tick.supervisors import stop


def run(ctx: ProjectTick) -> None:
    changed = [t for t in ctx.tasks() if t.number in ctx.changed]
    # Closed tasks too: feedback on a done task, or /retry, moves it back to work.
    changed += sorted(
        (Task.from_issue(i) for n, i in ctx.closed.items() if n in ctx.changed),
        key=lambda t: (t.issue.created_at, t.number),
    )
    ctx.each(changed, lambda task: _task(ctx, task))


def _task(ctx: ProjectTick, task: Task) -> None:
    comments = ctx.comments_for(task.number)
    history = History.from_comments(comments, ctx.orch_logins)
    last_orch = _last_orch_index(comments, ctx.orch_logins)
    issue = task.issue
    for index, comment in enumerate(comments):
        mine = markers.orch_marker(comment, ctx.orch_logins) is not None
        if mine or comment.id in history.acked_comment_ids:
            continue
        command = parse_command(comment.body)
        status = Task.from_issue(issue).status
        # Plain comments are feedback only when newer than orch's last word on the task
        # and the task is finished or stuck; older ones are context, not a request.
        if command is None and (
            index < last_orch
            or decide_feedback(comment.body, status).action == "none"
            or _closed_by_hand(issue, status)
        ):
            continue
        if not _authorized(ctx, comment):
            continue
        if command is None:
            decision = decide_feedback(comment.body, status)
        else:
            decision = decide_command(command, status, ctx.project.config.agents)
        issue = _handle(ctx, issue, comment, decision, requested=command.name if command else "")


def _closed_by_hand(issue: Issue, status: Status | None) -> bool:
    """A closed task not in `done` was closed by a person: a plain comment on it is not
    a request to work on it again (slash commands still are)."""
    return issue.state == "closed" and status is not Status.DONE


def _last_orch_index(comments: tuple[Comment, ...], logins: markers.OrchLogins) -> int:
    """Index of the last orch comment that is not an ack/claim (-1 when none)."""
    for index in range(len(comments) - 1, -1, -1):
        marker = markers.orch_marker(comments[index], logins)
        if marker is not None and marker.kind not in ("ack", "claim"):
            return index
    return -1


def _authorized(ctx: ProjectTick, comment: Comment) -> bool:
    return authorized(ctx, comment.author, comment.author_type, comment.association)


def authorized(ctx: ProjectTick, login: str, author_type: str, association: str = "") -> bool:
    """SPEC §7.1 for one author (issue comment, PR review or PR comment, mention)."""
    allowed = ctx.project.config.workflow.allowed_users
    permission = None
    if needs_permission_lookup(login, author_type, allowed, association):
        permission = ctx.permission(login)
    return is_authorized(login, author_type, permission, allowed)


def _handle(
    ctx: ProjectTick, issue: Issue, comment: Comment, decision: Decision, requested: str
) -> Issue:
    number = issue.number
    issue = apply_decision(ctx, issue, decision)
    data: dict[str, Any] = {"comment_id": comment.id, "command": decision.action}
    if requested and requested != decision.action:
        data["requested"] = requested
    if decision.context:
        data["context"] = decision.context
    if decision.status is not None:
        data["status"] = decision.status.value
    post_marker(ctx.store, number, "ack", data, _reply(comment, decision), dedupe=False)
    with contextlib.suppress(Exception):  # a reaction is a courtesy, never a failure
        ctx.store.react(comment.id, "eyes")
    ctx.forget_comments(number)
    ctx.refresh(issue)
    label = f"/{requested}" if requested else "feedback"
    moved = f" -> {decision.status.value}" if decision.status else ""
    ctx.act(
        ctx.would(f"ack {label}"),
        number,
        f"comment {comment.id} by {comment.author}: {decision.action}{moved}",
    )
    return issue


def _reply(comment: Comment, decision: Decision) -> str:
    return f"@{comment.author} {decision.reply}" if decision.reply else ""


def apply_decision(ctx: ProjectTick, issue: Issue, decision: Decision) -> Issue:
    """Make the decision's effect: one label write (plus closing or stopping)."""
    if decision.status is None:
        return issue
    store, number = ctx.store, issue.number
    if decision.action == "stop" and stop(ctx, number) and not ctx.dry_run:
        issue = store.get_issue(number)  # the supervisor published: start from that
    kwargs: dict[str, Any] = {}
    if decision.clear_agent:
        kwargs["agent"] = None
    if decision.agent:
        kwargs["agent"] = decision.agent
    if decision.complexity:
        kwargs["complexity"] = decision.complexity
    trigger = "feedback" if decision.action == "feedback" else "owner"
    updated = set_status(
        store,
        number,
        decision.status,
        trigger=trigger,
        reason=decision.action,
        issue=issue,
        **kwargs,
    )
    if decision.action == "close" and updated.state != "closed":
        updated = store.update_issue(number, state="closed")
    elif decision.status is not Status.DONE and updated.state == "closed":
        updated = store.update_issue(number, state="open")  # back to work: re-open
    return updated
