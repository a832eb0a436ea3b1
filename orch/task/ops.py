"""The work behind `orch task add|list|get|retry|unblock|assign|close`.

Each function takes its collaborators (store, project, paths) and returns a value; the
commands in orch/commands render it. Nothing here prints or exits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from orch import labels as L
from orch import taskid
from orch.config.model import COMPLEXITIES, Config
from orch.errors import ConfigError, InvalidTransition, NotFound, OrchError, UsageError
from orch.io.sidecar import read_json, write_json_atomic
from orch.paths import Paths
from orch.project import Project
from orch.status import Status
from orch.store.base import Issue, Review, Store
from orch.store.dryrun import DryRunStore
from orch.store.internal import create_internal
from orch.task.conversation import REVIEW_WORDS
from orch.task.history import (
    KEEP,
    History,
    Task,
    new_task_labels,
    orch_logins,
    post_marker,
    set_status,
)

PARENT_RE = re.compile(r"^Parent: (#\d+|i\d+)\s*$", re.MULTILINE)


def parent_of(issue: Issue) -> int | None:
    """The parent task named by a `Parent: #N` (or `Parent: iN`, an internal task) line
    in the body (sub-issues, plan tasks)."""
    match = PARENT_RE.search(issue.body or "")
    return taskid.parse(match.group(1)) if match else None


def with_parent(body: str, parent: int) -> str:
    """A sub-task's body: its own text, then the `Parent: #N` line `parent_of` reads."""
    return f"{body.rstrip()}\n\nParent: {taskid.ref(parent)}\n".lstrip()


def check_agent(config: Config, agent: str) -> str:
    if agent not in config.agents:
        raise ConfigError(
            f"unknown agent {agent!r}; configured agents: {', '.join(sorted(config.agents))} "
            "(add one under `agents:` in .orch.yml)"
        )
    return agent


def check_complexity(complexity: str) -> str:
    if complexity not in COMPLEXITIES:
        raise UsageError(f"unknown complexity {complexity!r}; use one of {', '.join(COMPLEXITIES)}")
    return complexity


def ensure_labels_cached(store: Store, names: Iterable[str], paths: Paths) -> list[str]:
    """Create missing orch labels (with their colours), remembering known ones locally
    so that routine writes cost no extra request. The cache is only a shortcut: deleting
    it costs one label listing."""
    wanted = sorted(set(names))
    cache_file = paths.repo_dir(store.repo) / "labels.json"
    known = set(read_json(cache_file, []) or [])
    if set(wanted) <= known:
        return []
    created = store.ensure_labels([L.spec_for(n) for n in wanted if n not in known])
    known |= set(wanted)

    if not isinstance(store, DryRunStore):
        write_json_atomic(cache_file, sorted(known))
    return created


# ---------------------------------------------------------------------------------------
# add / list / get


@dataclass(frozen=True)
class AddOptions:
    title: str
    body: str = ""
    labels: tuple[str, ...] = ()
    agent: str | None = None
    complexity: str | None = None
    parent: int | None = None
    no_agent: bool = False
    internal: bool = False  # an internal task (orch.store.internal): no GitHub issue


def add_task(store: Store, project: Project, paths: Paths, options: AddOptions) -> Task:
    if not options.title.strip():
        raise UsageError("a task needs a non-empty TITLE")
    if options.agent:
        check_agent(project.config, options.agent)
    if options.complexity:
        check_complexity(options.complexity)
    if options.agent and options.no_agent:
        raise UsageError("--agent and --no-agent contradict each other; give one")
    body = options.body
    if options.parent is not None:
        parent = store.get_issue(options.parent)  # NotFound names the number
        body = with_parent(body, parent.number)
    labels = new_task_labels(
        options.labels,
        agent=options.agent,
        complexity=options.complexity,
        no_agent=options.no_agent,
    )
    if options.internal:
        issue = create_internal(store, options.title.strip(), body, labels)
        return Task.from_issue(issue)
    ensure_labels_cached(store, [n for n in labels if L.is_orch_label(n)], paths)
    issue = store.create_issue(options.title.strip(), body, labels)
    return Task.from_issue(issue)


def list_tasks(
    store: Store,
    *,
    statuses: Sequence[Status] = (),
    agent: str | None = None,
    include_closed: bool = False,
) -> list[Task]:
    """Tasks (issues with a status label), oldest first, filtered."""
    state = "all" if include_closed else "open"
    # One status filter can be pushed to the store (one request on GitHub).
    label_filter = [statuses[0].label] if len(statuses) == 1 else []
    if agent:
        label_filter.append(f"{L.AGENT_PREFIX}{agent}")
    issues = store.list_issues(state=state, labels=label_filter)
    tasks = [Task.from_issue(i) for i in issues if L.statuses_in(i.labels)]
    if statuses:
        tasks = [t for t in tasks if t.status in statuses]
    return tasks


@dataclass(frozen=True)
class TaskDetail:
    task: Task
    history: History
    sidecar: dict[str, Any] | None
    parent: int | None
    pr: PrView | None = None

    def to_json(self) -> dict[str, Any]:
        history = self.history
        return {
            "pr": self.pr.to_json() if self.pr else None,
            **self.task.to_json(),
            "body": self.task.issue.body,
            "parent": self.parent,
            "attempts": history.attempts,
            "last_error": history.last_error,
            "cost_usd": history.cost_usd,
            "tokens_in": history.tokens_in,
            "tokens_out": history.tokens_out,
            "tried_agents": history.tried_agents,
            "learnings": history.learnings,
            # PR feedback the next attempt will work on (SPEC §12)
            "pr_feedback": [waiting_feedback(f) for f in history.pr_feedback],
            "sidecar": self.sidecar,
        }


def waiting_feedback(data: dict[str, Any]) -> dict[str, Any]:
    """One PR feedback ack as `task get` shows it: where, who, what."""
    kind = "review" if data.get("review_id") else "comment"
    return {
        "pr": data.get("pr"),
        "author": data.get("author"),
        "kind": kind,
        "id": data.get(f"{kind}_id"),
        "command": data.get("command"),
    }


def get_task(
    store: Store, paths: Paths, number: int, configured_logins: Iterable[str] = ()
) -> TaskDetail:
    """A task with its history (markers by orch's logins: the store's plus configured;
    an internal task's comments are all orch's, so asking who orch is costs nothing)."""
    issue = store.get_issue(number)
    comments = store.list_comments(number)
    sidecar = read_json(paths.task_sidecar(store.repo, number))
    # An internal task's comments are all orch's: no need to ask GitHub who orch is.
    logins = (
        frozenset(configured_logins)
        if taskid.is_internal(number)
        else orch_logins(store, configured_logins)
    )
    history = History.from_comments(comments, logins)
    return TaskDetail(
        task=Task.from_issue(issue),
        history=history,
        sidecar=sidecar if isinstance(sidecar, dict) else None,
        parent=parent_of(issue),
        pr=task_pr(store, history),
    )


@dataclass(frozen=True)
class PrView:
    """The task's pull request as `task get` shows it: from orch's own markers (the
    number, orch's latest review verdict) plus two reads (the PR; its reviews on GitHub)."""

    number: int
    url: str
    state: str  # open | closed | merged | missing
    review: str | None  # orch's latest verdict on it (approve, request_changes, …)
    reviewer: str | None
    review_state: str | None = None  # GitHub's: changes_requested | approved | commented
    reviews: tuple[tuple[str, str], ...] = ()  # (login, state) of each reviewer's latest

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "url": self.url,
            "state": self.state,
            "review": self.review,
            "reviewer": self.reviewer,
            "review_state": self.review_state,
            "reviews": [{"author": a, "state": s} for a, s in self.reviews],
        }

    def line(self) -> str:
        text = f"#{self.number} {self.state}"
        if self.url:
            text += f" {self.url}"
        review = f"{self.review} by {self.reviewer}" if self.reviewer else self.review
        text += f" (review: {review or 'none yet'})"
        if self.reviews:
            people = ", ".join(f"{a} {REVIEW_WORDS.get(s, s.lower())}" for a, s in self.reviews)
            text += f" (GitHub reviews: {people})"
        return text


def latest_reviews(reviews: Iterable[Review]) -> tuple[tuple[str, str], ...]:
    """Each reviewer's standing review, as GitHub's `latestReviews`: the newest approval,
    change request or dismissal, else the newest comment review; oldest reviewer first."""
    standing: dict[str, str] = {}
    for review in sorted(reviews, key=lambda r: r.submitted_at):
        if review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            standing[review.author] = review.state
        elif review.state == "COMMENTED":
            standing.setdefault(review.author, review.state)
    return tuple((author, state) for author, state in standing.items() if state != "DISMISSED")


def review_state(latest: Sequence[tuple[str, str]]) -> str | None:
    """The PR's review state from its reviewers' standing reviews: one change request
    outweighs any approvals, as on GitHub."""
    states = {state for _, state in latest}
    for state in ("CHANGES_REQUESTED", "APPROVED", "COMMENTED"):
        if state in states:
            return state.lower()
    return None


def task_pr(store: Store, history: History) -> PrView | None:
    """The PR named by the task's latest agent-response that names one."""
    number = next(
        (_pr_number(r.get("pr")) for r in reversed(history.responses) if _pr_number(r.get("pr"))),
        None,
    )
    if number is None:
        return None
    reviews = [r for r in history.reviews if _pr_number(r.get("pr")) == number]
    verdict = reviews[-1] if reviews else {}
    review = str(verdict["decision"]) if verdict.get("decision") else None
    reviewer = str(verdict["reviewer"]) if verdict.get("reviewer") else None
    try:
        pr = store.get_pr(number)
        latest = latest_reviews(store.list_reviews(number))
    except NotFound:
        return PrView(number, "", "missing", review, reviewer)
    return PrView(number, pr.url, pr.state, review, reviewer, review_state(latest), latest)


def _pr_number(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


# ---------------------------------------------------------------------------------------
# owner operations from the command line


@dataclass
class Change:
    number: int
    before: Status | None
    after: Status
    issue: Issue
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "from": self.before.value if self.before else None,
            "to": self.after.value,
            "labels": list(self.issue.labels),
            "state": self.issue.state,
            "notes": self.notes,
        }


def _task(store: Store, number: int) -> Task:
    task = Task.from_issue(store.get_issue(number))
    if not task.is_task:
        raise OrchError(
            f"{taskid.ref(number)} is not an orch task (no status: label); add one with "
            f"`orch task add` or label it status:new"
        )
    return task


def _refuse_running(task: Task, what: str) -> None:
    if task.status is Status.IN_PROGRESS:
        raise InvalidTransition(
            f"{taskid.ref(task.number)} is running; `orch task kill {taskid.text(task.number)}` "
            f"first, then {what}"
        )


def retry_task(store: Store, number: int) -> Change:
    """Back to new with the agent cleared and the attempt count reset (SPEC §7.2 /retry)."""
    return _back_to_new(
        store,
        number,
        "retry",
        {"reset": True},
        "**orch**: retry requested: attempts reset, agent cleared; the task will be routed again.",
        clear_agent=True,
    )


def _back_to_new(
    store: Store, number: int, reason: str, marker: dict[str, Any], note: str, *, clear_agent: bool
) -> Change:
    """The owner sends a task back to work: status new (issue reopened), a status marker
    saying why (`marker` extends it), `note` for people."""
    task = _task(store, number)
    _refuse_running(task, reason)
    agent = None if clear_agent else KEEP
    issue = set_status(store, number, Status.NEW, trigger="owner", agent=agent, issue=task.issue)
    post_marker(
        store,
        number,
        "status",
        {"from": _v(task.status), "to": "new", "reason": reason, **marker},
        note,
        dedupe=False,
    )
    return Change(number, task.status, Status.NEW, _reopen(store, issue))


def _reopen(store: Store, issue: Issue) -> Issue:
    """A task sent back to work must be an open issue again."""
    if issue.state == "closed":
        return store.update_issue(issue.number, state="open")
    return issue


def unblock_task(store: Store, number: int) -> Change:
    """Back to new with errors cleared, the agent kept (SPEC §7.2 /unblock)."""
    return _back_to_new(
        store,
        number,
        "unblock",
        {"clear_errors": True},
        "**orch**: unblocked: errors cleared; the task will run again.",
        clear_agent=False,
    )


def unblock_all(store: Store) -> list[Change]:
    changes = []
    for status in (Status.BLOCKED, Status.NEEDS_REVIEW):
        for task in list_tasks(store, statuses=[status]):
            changes.append(unblock_task(store, task.number))
    return changes


def assign_task(store: Store, project: Project, paths: Paths, number: int, agent: str) -> Change:
    """Set the agent (an owner choice the router respects) and make the task routed."""
    check_agent(project.config, agent)
    task = _task(store, number)
    _refuse_running(task, "assign")
    if not taskid.is_internal(number):  # the internal store creates labels itself
        ensure_labels_cached(store, [f"{L.AGENT_PREFIX}{agent}"], paths)
    issue = set_status(store, number, Status.ROUTED, trigger="owner", agent=agent, issue=task.issue)
    return Change(number, task.status, Status.ROUTED, _reopen(store, issue))


def close_task(store: Store, number: int, note: str | None, auto_close: bool = True) -> Change:
    """Status done, issue closed, and a marker comment carrying the note."""
    task = _task(store, number)
    _refuse_running(task, "close")
    issue = set_status(store, number, Status.DONE, trigger="owner", issue=task.issue)
    text = "**orch**: closed by the owner" + (f": {note}" if note else ".")
    post_marker(
        store,
        number,
        "status",
        {"from": _v(task.status), "to": "done", "reason": note or "closed by owner"},
        text,
        dedupe=False,
    )
    if issue.state != "closed":
        issue = store.update_issue(number, state="closed")
    return Change(number, task.status, Status.DONE, issue)


def _v(status: Status | None) -> str | None:
    return status.value if status else None
