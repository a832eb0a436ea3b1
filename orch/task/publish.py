"""`orch task publish ID`: an internal task becomes a GitHub issue.

The issue gets the task's title, its body, its orch labels (status, agent, complexity)
and a summary of its history (attempts, cost, last error, the PR of its last run,
learnings). The internal record then points to the issue: a `published` marker comment
with its number and URL, and the record is closed, so the tick leaves it alone and the
issue carries the work on. One `POST …/issues` in all (labels are cached since
`orch init`); a task that is running, or already published, is refused.

Never two issues: before the POST the record gets a `published` marker with only a token
(the intent, a local write), and the issue body carries that token. If the POST's answer
is lost (a timeout, a crash, a kill) the next `task publish` finds the issue by its token
among orch's own issues (one list read, only then) instead of creating another.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from orch import labels as L
from orch import taskid
from orch.errors import InvalidTransition, OrchError, UsageError
from orch.paths import Paths
from orch.status import Status
from orch.store.base import Comment, Issue, Store
from orch.task import markers
from orch.task.history import History, Task, post_marker
from orch.task.ops import ensure_labels_cached


@dataclass(frozen=True)
class Published:
    internal: int  # the internal task id (negative)
    issue: Issue  # the new GitHub issue


def published_issue(comments_markers: list[markers.Marker]) -> int | None:
    """The issue an internal task was published as, from its markers."""
    for marker in reversed(comments_markers):
        if marker.kind == "published" and isinstance(marker.data.get("issue"), int):
            return int(marker.data["issue"])
    return None


def publish_intent(comments_markers: list[markers.Marker]) -> str | None:
    """The token of a publish that was started: a `published` marker without an issue."""
    for marker in reversed(comments_markers):
        token = marker.data.get("token")
        if marker.kind == "published" and "issue" not in marker.data and isinstance(token, str):
            return token
    return None


def token_line(token: str) -> str:
    return f"<!-- orch:publish-token {token} -->"


def publish_task(store: Store, paths: Paths, number: int) -> Published:
    """Create the issue, then mark and close the internal record (see module doc)."""
    if not taskid.is_internal(number):
        raise UsageError(f"#{number} is already a GitHub issue; only internal tasks (iN) publish")
    task = Task.from_issue(store.get_issue(number))
    comments = store.list_comments(number)
    found = [m for m in (markers.parse(c.body) for c in comments) if m is not None]
    already = published_issue(found)
    if already is not None:
        raise OrchError(f"{taskid.text(number)} was already published as #{already}")
    if task.status is Status.IN_PROGRESS:
        raise InvalidTransition(
            f"{taskid.text(number)} is running; wait for it (or `orch task kill "
            f"{taskid.text(number)}`), then publish"
        )
    token = publish_intent(found)
    issue = _created_before(store, token) if token else None
    if issue is None:
        if token is None:
            token = secrets.token_hex(8)
            post_marker(store, number, "published", {"token": token}, comments=comments)
        issue = _create(store, paths, task, comments, token)
    post_marker(
        store,
        number,
        "published",
        {"issue": issue.number, "url": issue.url},
        f"**orch**: published as #{issue.number} ({issue.url}); the work goes on there.",
        comments=comments,
        dedupe=False,
    )
    store.update_issue(number, state="closed")
    return Published(number, issue)


def _create(store: Store, paths: Paths, task: Task, comments: list[Comment], token: str) -> Issue:
    labels = [name for name in task.labels if L.is_orch_label(name)]
    ensure_labels_cached(store, labels, paths)
    # An internal task's comments are all orch's (orch.task.markers.orch_marker).
    body = issue_body(task, History.from_comments(comments, frozenset()))
    return store.create_issue(task.title, f"{body}\n{token_line(token)}", labels)


def _created_before(store: Store, token: str) -> Issue | None:
    """The issue an interrupted publish created, found by its token among orch's issues."""
    line = token_line(token)
    mine = store.list_issues(state="all", author=store.viewer_login())
    return next((issue for issue in reversed(mine) if line in issue.body), None)


def issue_body(task: Task, history: History) -> str:
    """The task's own text, then what happened to it while it was internal."""
    lines = [task.issue.body.rstrip(), ""] if task.issue.body.strip() else []
    lines += [f"### History (internal task {taskid.text(task.number)})", ""]
    status = task.status.value if task.status else "?"
    lines.append(f"- Status: `{status}`; agent: {task.agent or '-'}; attempts: {history.attempts}")
    if history.cost_usd:
        lines.append(f"- Cost so far: ${history.cost_usd:.4f}")
    if history.last_error:
        lines.append(f"- Last error: `{history.last_error}`")
    last = history.last_response or {}
    if last.get("pr"):
        lines.append(
            f"- Pull request of the last run: #{last['pr']} (branch `{last.get('branch', '')}`)"
        )
    if last.get("summary"):
        lines.append(f"- Last summary: {str(last['summary']).strip()[:500]}")
    for learning in history.learnings[:5]:
        lines.append(f"- Learned: {learning}")
    lines += ["", f"<sub>Published by orch from internal task {taskid.text(task.number)}.</sub>"]
    return "\n".join(lines).lstrip()
