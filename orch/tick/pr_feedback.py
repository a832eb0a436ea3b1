"""PR phase: feedback where code review happens, on orch's own pull requests (SPEC §12).

From the snapshot's open PRs (no extra read), for each PR orch opened for a task in
`in_review` or `needs_review`: reviews (CHANGES_REQUESTED or COMMENTED, with a body or
inline comments) and conversation comments by people who may steer orch (SPEC §7.1).
A plain review or comment is feedback: the task goes back to `routed` and the feedback
(review body, inline comments as `path:line` with their diff hunk and text) is written to
the issue in an `orch:ack` carrying `pr` and `context`, which the next prompt holds. A
slash command does what it does on the issue, with the same answer.

Order per item: the issue-side ack (history and prompt), the status change, then the
PR-side ack naming the review or comment — that one makes it handled, so a deleted state
directory repeats nothing. Feedback on a running or queued task waits for the next round;
approvals and other people's words change nothing.
"""

from __future__ import annotations

import contextlib
from typing import Any

from orch.store.base import Issue, PullThread
from orch.task import conversation as convo
from orch.task import markers
from orch.task.conversation import Feedback
from orch.task.history import Task, post_marker
from orch.task.owner import Decision
from orch.tick.context import ProjectTick
from orch.tick.owner_phase import apply_decision, authorized


def run(ctx: ProjectTick) -> None:
    prefix = ctx.project.config.git.branch_prefix
    threads: dict[int, PullThread] = {}
    for thread in ctx.open_pulls:
        number = convo.task_of_pull(thread.pull, prefix)
        if number is not None and number in ctx.issues:
            threads.setdefault(number, thread)
    tasks = [Task.from_issue(ctx.issues[n]) for n in threads]
    ctx.each(tasks, lambda task: _pull(ctx, task, threads[task.number]))


def marker_reader(ctx: ProjectTick) -> convo.MarkerReader:
    """How this tick reads markers on PRs and mentioned issues: only markers orch wrote
    count (SPEC §2.3, `markers.orch_marker`); anyone else's are plain text."""
    return lambda comment: markers.orch_marker(comment, ctx.orch_logins)


def _pull(ctx: ProjectTick, task: Task, thread: PullThread) -> None:
    if task.status not in convo.FEEDBACK_STATUSES:
        return  # running or queued: its feedback waits for the next round
    workflow = ctx.project.config.workflow
    issue = task.issue
    for item in convo.pending(thread, marker_reader(ctx)):
        if not authorized(ctx, item.author, item.author_type, item.association):
            continue
        decision, requested = convo.decide(
            item,
            Task.from_issue(issue).status,
            pr=thread.pull.number,
            mention=workflow.mention,
            agents=ctx.project.config.agents,
            review_agent=workflow.enable_review_agent,
        )
        if decision.action != "none":
            issue = _handle(ctx, issue, thread, item, decision, requested)


def _handle(
    ctx: ProjectTick,
    issue: Issue,
    thread: PullThread,
    item: Feedback,
    decision: Decision,
    requested: str,
) -> Issue:
    number, pr = issue.number, thread.pull.number
    data: dict[str, Any] = {
        item.key: item.id,
        "pr": pr,
        "author": item.author,
        "command": decision.action,
    }
    if requested and requested != decision.action:
        data["requested"] = requested
    if decision.context:
        data["context"] = decision.context
    if decision.status is not None:
        data["status"] = decision.status.value
    note = f"{item.what.capitalize()} by @{item.author} on #{pr}: {decision.reply}".strip()
    post_marker(ctx.store, number, "ack", data, note, dedupe=False)
    issue = apply_decision(ctx, issue, decision)
    reply = f"@{item.author} {decision.reply}" if decision.reply else ""
    ack = convo.ack_data(item, number, decision.action)
    post_marker(ctx.store, pr, "ack", ack, reply, dedupe=False)
    if item.kind == "comment":
        with contextlib.suppress(Exception):  # a reaction is a courtesy, never a failure
            ctx.store.react(item.id, "eyes")
    ctx.forget_comments(number)
    ctx.refresh(issue)
    moved = f" -> {decision.status.value}" if decision.status else ""
    label = f"/{requested}" if requested else "PR feedback"
    ctx.act(
        ctx.would(f"ack {label}"),
        number,
        f"{item.what} {item.id} by {item.author} on PR #{pr}: {decision.action}{moved}",
    )
    return issue
