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

from orch import conversation as convo
from orch.conversation import Feedback
from orch.owner import Decision, decide_command, decide_feedback, parse_command
from orch.status import Status
from orch.store.base import Issue, PullThread
from orch.tasks import Task, post_marker
from orch.tick.context import ProjectTick
from orch.tick.owner_phase import apply_decision, authorized

_FEEDBACK_REPLY = "Thanks: your {what} goes to the agent in the next attempt; status routed."


def run(ctx: ProjectTick) -> None:
    prefix = ctx.project.config.git.branch_prefix
    threads: dict[int, PullThread] = {}
    for thread in ctx.open_pulls:
        number = convo.task_of_pull(thread.pull, prefix)
        if number is not None and number in ctx.issues:
            threads.setdefault(number, thread)
    tasks = [Task.from_issue(ctx.issues[n]) for n in threads]
    ctx.each(tasks, lambda task: _pull(ctx, task, threads[task.number]))


def _pull(ctx: ProjectTick, task: Task, thread: PullThread) -> None:
    if task.status not in convo.FEEDBACK_STATUSES:
        return  # running or queued: its feedback waits for the next round
    issue = task.issue
    for item in convo.pending(thread):
        if not authorized(ctx, item.author, item.author_type, item.association):
            continue
        status = Task.from_issue(issue).status
        command = parse_command(item.body) if item.kind == "comment" else None
        asked = convo.mention_text(item.body, ctx.project.config.workflow.mention)
        if item.kind == "comment" and asked is not None and convo.asks_review(asked):
            decision = Decision("review", reply=_review_reply(ctx))
        elif command is not None:
            decision = decide_command(command, status, ctx.project.config.agents)
        elif status in convo.FEEDBACK_STATUSES or status is Status.ROUTED:
            # A second review in the same tick joins the first one's round.
            context = convo.render(item, thread.pull.number)
            decision = Decision(
                "feedback",
                Status.ROUTED,
                context=context,
                reply=_FEEDBACK_REPLY.format(what=item.what),
            )
        else:
            decision = decide_feedback(item.body, status)
        if decision.action == "none":
            continue
        issue = _handle(ctx, issue, thread, item, decision, command.name if command else "")


def _review_reply(ctx: ProjectTick) -> str:
    """`@orch review` on orch's own PR: its review agent's business, not a new attempt."""
    if ctx.project.config.workflow.enable_review_agent:
        return "orch's review agent reviews this pull request at each new head on its own."
    return (
        "orch's review agent is off for this repository "
        "(`workflow.enable_review_agent: true` turns it on); comment what should change instead."
    )


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
