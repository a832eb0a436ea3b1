"""The task layer over a Store (SPEC §2): task views, status changes, marker comments, history.

Every status change goes through `set_status`, which asks the transition table and then
replaces the whole label set in one write, so there is never a moment with no status.
Attempt counts, errors, learnings and handled owner commands are derived from the marker
comments (`History`), never from local files, and only from comments orch wrote
(`markers.orch_marker`; `orch_logins` says who orch is for a store and project).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from orch import labels as L
from orch import taskid
from orch.status import Status, transition
from orch.store.base import Comment, Issue, Store
from orch.task import markers


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()
"""Leave a label family (agent:, complexity:, model:) as it is."""


@dataclass(frozen=True)
class Task:
    issue: Issue
    status: Status | None  # None: zero or several status labels (repair needed)
    agent: str | None
    complexity: str | None
    model: str | None

    @classmethod
    def from_issue(cls, issue: Issue) -> Task:
        return cls(
            issue=issue,
            status=L.status_of(issue.labels),
            agent=L.value_of(issue.labels, L.AGENT_PREFIX),
            complexity=L.value_of(issue.labels, L.COMPLEXITY_PREFIX),
            model=L.value_of(issue.labels, L.MODEL_PREFIX),
        )

    @property
    def number(self) -> int:
        return self.issue.number

    @property
    def title(self) -> str:
        return self.issue.title

    @property
    def labels(self) -> tuple[str, ...]:
        return self.issue.labels

    @property
    def no_agent(self) -> bool:
        return L.NO_AGENT in self.issue.labels

    @property
    def plan(self) -> bool:
        return L.PLAN in self.issue.labels

    @property
    def is_task(self) -> bool:
        return bool(L.statuses_in(self.issue.labels))

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "id": taskid.text(self.number),  # `7`, or `i7` for an internal task
            "title": self.title,
            "state": self.issue.state,
            "status": self.status.value if self.status else None,
            "agent": self.agent,
            "complexity": self.complexity,
            "model": self.model,
            "labels": list(self.labels),
            "author": self.issue.author,
            "url": self.issue.url,
            "created_at": self.issue.created_at.isoformat(),
            "updated_at": self.issue.updated_at.isoformat(),
        }


def new_task_labels(
    extra: Iterable[str] = (),
    *,
    agent: str | None = None,
    complexity: str | None = None,
    no_agent: bool = False,
) -> list[str]:
    """Labels of a freshly added task: status:new plus the owner's choices."""
    result = set(extra)
    status = Status.NEW
    if agent:
        result.add(f"{L.AGENT_PREFIX}{agent}")
    if complexity:
        result.add(f"{L.COMPLEXITY_PREFIX}{complexity}")
    if no_agent:
        result.add(L.NO_AGENT)
    return L.with_status(result, status)


def planned_labels(
    current: Iterable[str],
    to: Status,
    *,
    agent: str | None | _Keep = KEEP,
    complexity: str | None | _Keep = KEEP,
    model: str | None | _Keep = KEEP,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
) -> list[str]:
    """The whole label set after a status change (pure)."""
    result = L.with_status(current, to)
    for prefix, value in (
        (L.AGENT_PREFIX, agent),
        (L.COMPLEXITY_PREFIX, complexity),
        (L.MODEL_PREFIX, model),
    ):
        if not isinstance(value, _Keep):
            result = L.with_value(result, prefix, value)
    removed = set(remove)
    return sorted((set(result) | set(add)) - removed)


def set_status(
    store: Store,
    number: int,
    to: Status,
    *,
    trigger: str,
    reason: str = "",
    agent: str | None | _Keep = KEEP,
    complexity: str | None | _Keep = KEEP,
    model: str | None | _Keep = KEEP,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    note: bool = False,
    issue: Issue | None = None,
    comments: Sequence[Comment] | None = None,
) -> Issue:
    """Move a task to `to` with one label write; raise InvalidTransition if not allowed.

    `issue` may be passed when the caller has just read it (saves a request); otherwise
    the issue is read fresh so the new label set never drops a label someone just added.
    `comments`: the task's latest comments, when the caller has them, so the note's
    dedupe check reads none.
    A task with zero or several status labels is treated as coming from its most
    advanced status for the transition check (repair uses the `owner`/`reap` triggers).
    """
    current = issue if issue is not None else store.get_issue(number)
    src = L.status_of(current.labels)
    if src is None:
        found = L.statuses_in(current.labels)
        src = found[-1] if found else None
    transition(src, to, trigger)
    wanted = planned_labels(
        current.labels, to, agent=agent, complexity=complexity, model=model, add=add, remove=remove
    )
    unchanged = sorted(current.labels) == wanted
    updated = current if unchanged else store.set_labels(number, wanted)
    if src is not to:
        store.status_hooks.run(updated, src, to, reason)
    if note and src is not to:
        post_marker(
            store,
            number,
            "status",
            {"from": src.value if src else None, "to": to.value, "reason": reason},
            status_text(src, to, reason),
            comments=comments,
        )
    return updated


def status_text(src: Status | None, to: Status, reason: str) -> str:
    shown = f"`{src.value}` → `{to.value}`" if src else f"→ `{to.value}`"
    return f"**orch**: {shown}" + (f": {reason}" if reason else "")


def orch_logins(store: Store, configured: Iterable[str] = ()) -> markers.OrchLogins:
    """Who orch is on this store: the login it writes as plus `workflow.orch_logins`."""
    return markers.orch_logins(store.viewer_login(), configured)


def post_marker(
    store: Store,
    number: int,
    kind: str,
    data: dict[str, Any],
    text: str = "",
    *,
    comments: Sequence[Comment] | None = None,
    dedupe: bool = True,
) -> Comment | None:
    """Post an orch marker comment; with dedupe, skip it when the last orch comment of the
    same kind has identical content (SPEC §2.3). Returns the new comment or None."""
    body = markers.render(kind, data, text)
    if dedupe:
        existing = comments if comments is not None else store.list_comments(number)
        mine = orch_logins(store)  # only orch's own comments can make a post redundant
        for comment in reversed(existing):
            marker = markers.orch_marker(comment, mine)
            if marker and marker.kind == kind:
                if markers.body_hash(comment.body) == markers.body_hash(body):
                    return None
                break
    return store.create_comment(number, body)


def _add_feedback(found: list[dict[str, Any]], data: dict[str, Any]) -> None:
    """Keep PR feedback once per review or comment (an ack posted twice counts once)."""
    ident = (data.get("review_id"), data.get("comment_id"))
    if ident != (None, None) and any(
        (f.get("review_id"), f.get("comment_id")) == ident for f in found
    ):
        return
    found.append(data)


@dataclass
class History:
    """What the marker comments of one task say about its past."""

    attempts: int = 0
    responses: list[dict[str, Any]] = field(default_factory=list)
    acked_comment_ids: set[int] = field(default_factory=set)
    route_failures: int = 0
    routes: list[dict[str, Any]] = field(default_factory=list)
    claims: list[tuple[Comment, dict[str, Any]]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    last_orch_comment: Comment | None = None
    reset_at_comment: int | None = None  # id of the last /retry that reset attempts
    errors_cleared: bool = False  # an unblock came after the last attempt
    # Feedback from the PR (acks carrying `pr` and `context`) since the last attempt: what
    # the next prompt holds and `orch task get` shows as waiting (SPEC §12).
    pr_feedback: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_comments(cls, comments: Iterable[Comment], logins: markers.OrchLogins) -> History:
        """What the markers orch wrote (authors in `logins`) say; others' are plain text."""
        history = cls()
        for comment in comments:
            marker = markers.orch_marker(comment, logins)
            if marker is None:
                continue
            history.last_orch_comment = comment
            data = marker.data
            if marker.kind == "agent-response":
                history.errors_cleared = False
                history.pr_feedback = []
                history.responses.append(data)
                history.attempts = max(history.attempts + 1, _int(data.get("attempt")))
            elif marker.kind == "ack":
                ident = _int(data.get("comment_id"))
                if ident:
                    history.acked_comment_ids.add(ident)
                if data.get("command") == "retry":
                    # /retry resets attempts: count only responses after it.
                    history.attempts = 0
                    history.responses = []
                    history.route_failures = 0
                    history.reset_at_comment = ident or None
                if data.get("pr") and isinstance(data.get("context"), str) and data["context"]:
                    _add_feedback(history.pr_feedback, data)
            elif marker.kind == "status":
                if data.get("reset"):
                    # `orch task retry`: attempts start again from zero.
                    history.attempts = 0
                    history.responses = []
                    history.route_failures = 0
                if data.get("clear_errors"):
                    history.errors_cleared = True
            elif marker.kind == "route":
                history.routes.append(data)
                if data.get("failed"):
                    history.route_failures += 1
            elif marker.kind == "claim":
                history.claims.append((comment, data))
            elif marker.kind == "review":
                history.reviews.append(data)
        return history

    @property
    def last_response(self) -> dict[str, Any] | None:
        return self.responses[-1] if self.responses else None

    @property
    def last_error(self) -> str | None:
        last = self.last_response
        if last and last.get("error_class") and not self.errors_cleared:
            return str(last["error_class"])
        return None

    @property
    def tried_agents(self) -> list[str]:
        """Agents already tried for this task, oldest first, without repeats."""
        seen = [str(r["agent"]) for r in self.responses if r.get("agent")]
        return list(dict.fromkeys(seen))

    @property
    def learnings(self) -> list[str]:
        found: list[str] = []
        for response in self.responses:
            for item in response.get("learnings") or []:
                if isinstance(item, str) and item not in found:
                    found.append(item)
        return found

    @property
    def cost_usd(self) -> float:
        return round(sum(float(r.get("cost_usd") or 0) for r in self.responses), 6)

    @property
    def tokens_in(self) -> int:
        return sum(_int(r.get("tokens_in")) for r in self.responses)

    @property
    def tokens_out(self) -> int:
        return sum(_int(r.get("tokens_out")) for r in self.responses)

    def blockers(self, last: int = 3) -> list[tuple[str, ...]]:
        """The blocker lists of the last `last` attempts (for retry-loop detection)."""
        return [tuple(r.get("blockers") or ()) for r in self.responses[-last:]]


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def repair_target(
    issue: Issue, comments: Sequence[Comment], logins: markers.OrchLogins
) -> Status | None:
    """The status a task with zero or several status labels should have, or None if fine.

    Taken from the last orch marker that names a status (a status note's `to`, an
    agent-response's `status` mapped to the task status it implies), else the most
    advanced label present, else `new`.
    """
    found = L.statuses_in(issue.labels)
    if len(found) == 1:
        return None
    for comment in reversed(comments):
        marker = markers.orch_marker(comment, logins)
        if marker is None:
            continue
        target = (
            marker.data.get("to") if marker.kind == "status" else marker.data.get("task_status")
        )
        if isinstance(target, str):
            try:
                return Status(target)
            except ValueError:
                continue
    order = [
        Status.DONE,
        Status.IN_REVIEW,
        Status.NEEDS_REVIEW,
        Status.BLOCKED,
        Status.IN_PROGRESS,
        Status.ROUTED,
        Status.NEW,
    ]
    for status in order:
        if status in found:
            return status
    return Status.NEW


def repair(
    store: Store, issue: Issue, comments: Sequence[Comment], logins: markers.OrchLogins
) -> Issue | None:
    """Fix a task carrying zero or several status labels in one label write (through
    set_status, so the board and notify see the move)."""
    target = repair_target(issue, comments, logins)
    if target is None:
        return None
    return set_status(
        store, issue.number, target, trigger="repair", reason="status labels repaired", issue=issue
    )
