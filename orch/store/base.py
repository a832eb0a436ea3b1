"""The Store protocol, the plain records it returns, and the status hooks a store carries."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from orch.labels import LabelSpec
from orch.status import Status


@dataclass(frozen=True)
class Comment:
    id: int
    issue: int
    author: str
    body: str
    created_at: datetime
    updated_at: datetime
    author_type: str = "User"  # "Bot" for GitHub Apps / bots
    # GitHub's author association (OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, NONE, …);
    # "" when unknown. Spares a permission lookup for people who cannot have write access.
    association: str = field(default="", compare=False)


@dataclass(frozen=True)
class Issue:
    number: int
    title: str
    body: str
    state: str  # "open" | "closed"
    labels: tuple[str, ...]
    author: str
    created_at: datetime
    updated_at: datetime
    comments: int = 0  # how many comments the issue has
    url: str = ""
    author_type: str = "User"
    # GitHub's global id (Projects V2 board items); "" when unknown. Not part of equality:
    # the snapshot does not read it, REST answers carry it.
    node_id: str = field(default="", compare=False)


@dataclass(frozen=True)
class LabelEvent:
    """Someone applied a label to an issue (GitHub's `labeled` event)."""

    label: str
    actor: str
    actor_type: str = "User"
    created_at: datetime | None = None


@dataclass(frozen=True)
class PullRequest:
    number: int
    title: str
    body: str
    state: str  # "open" | "closed" | "merged"
    head: str
    base: str
    url: str = ""
    head_sha: str = ""
    merged_at: datetime | None = None
    updated_at: datetime | None = None  # when known (the snapshot reads it)


@dataclass(frozen=True)
class ReviewComment:
    """An inline comment of a pull request review: `path:line` and the diff hunk it is on."""

    id: int
    author: str
    path: str
    line: int | None  # None when the line is gone from the current diff (outdated)
    diff_hunk: str
    body: str
    created_at: datetime
    author_type: str = "User"
    association: str = ""


@dataclass(frozen=True)
class Review:
    """A submitted pull request review (state APPROVED | CHANGES_REQUESTED | COMMENTED |
    DISMISSED) with its inline comments."""

    id: int
    author: str
    state: str
    body: str
    submitted_at: datetime
    comments: tuple[ReviewComment, ...] = ()
    author_type: str = "User"
    association: str = ""


@dataclass(frozen=True)
class PullThread:
    """An open pull request with its conversation: recent reviews (oldest first, inline
    comments included) and recent conversation comments (oldest first)."""

    pull: PullRequest
    author: str
    reviews: tuple[Review, ...] = ()
    comments: tuple[Comment, ...] = ()


@dataclass(frozen=True)
class Mention:
    """An open issue or pull request (`pull` set) with recent comments that may start with
    orch's mention (`workflow.mention`), found by the snapshot's search."""

    issue: Issue
    comments: tuple[Comment, ...] = ()
    pull: PullRequest | None = None


@dataclass(frozen=True)
class Snapshot:
    """What one tick reads about a project in as few requests as the store allows.

    A full snapshot (`complete`): `issues` is every open issue carrying a status label.
    A delta (`snapshot(..., delta=True)`, not `complete`): `issues` holds only the open
    ones updated at or after `since`, and `untracked` the numbers of issues updated since
    that carry no status label (any more), so a cached set can be brought up to date.
    `comments`: for each issue whose `updated_at` moved since the caller's `known`, its
    recent comments (oldest first).
    """

    issues: tuple[Issue, ...]
    comments: dict[int, tuple[Comment, ...]] = field(default_factory=dict)
    # Closed orch issues updated at or after the caller's `since` (comments in `comments`
    # like open ones), so feedback, /retry and merges on closed tasks are seen.
    closed: tuple[Issue, ...] = ()
    # Pull requests: full: every open one and the recently closed or merged ones; delta:
    # those updated since `since`.
    pulls: tuple[PullRequest, ...] = ()
    complete: bool = True
    # A full read only: closed tasks still marked in_review, in_progress or routed,
    # however long ago they closed (a merge no tick saw: merge watch looks at them).
    stranded: tuple[Issue, ...] = ()
    untracked: tuple[int, ...] = ()
    # One page of the safety-net sweep over open tasks: (number, updated_at) pairs, and
    # where the next page starts (None: the sweep is over).
    sweep: tuple[tuple[int, datetime], ...] | None = None
    sweep_next: str | None = None
    # The server's time when it answered (next `since`), when the store knows it.
    server_time: datetime | None = None
    # Open pull requests with their latest reviews and comments, for feedback on the PR
    # (SPEC §12): full: every open one; delta: those updated since `since`. The caller
    # keeps those from orch's branches.
    open_pulls: tuple[PullThread, ...] = ()
    # Open issues and PRs with comments mentioning `mention` (asked with `mention`).
    mentions: tuple[Mention, ...] = ()


StatusHook = Callable[[Issue, Status | None, Status, str], None]
"""Called after a task's status changed: (issue after the change, from, to, reason)."""


class StatusHooks:
    """What runs after every status change `set_status` (orch.task.history) makes through
    a store: the Projects V2 board and notify (orch.task.hooks installs them; a dry-run
    store has none). A hook's failure is logged and never fails the change."""

    def __init__(self) -> None:
        self._hooks: list[StatusHook] = []
        self.installed = False  # orch.task.hooks.install ran for this store

    def add(self, hook: StatusHook) -> None:
        self._hooks.append(hook)

    def __len__(self) -> int:
        return len(self._hooks)

    def run(self, issue: Issue, src: Status | None, to: Status, reason: str) -> None:
        for hook in self._hooks:
            try:
                hook(issue, src, to, reason)
            except Exception:  # a hook never fails the status change
                logging.getLogger("orch").exception("#%s: status hook failed", issue.number)


class Store(Protocol):
    """Issues, labels, comments and PRs of one repository (`repo` = OWNER/REPO), and the
    hooks that run after each status change made through it."""

    repo: str
    status_hooks: StatusHooks

    # labels
    def ensure_labels(self, specs: Iterable[LabelSpec]) -> list[str]:
        """Create the labels that are missing; return the names created."""
        ...

    def list_labels(self) -> list[str]: ...

    def delete_label(self, name: str) -> None: ...

    # issues
    def create_issue(self, title: str, body: str, labels: Sequence[str]) -> Issue: ...

    def get_issue(self, number: int) -> Issue:
        """The issue; raises NotFound for a missing number or a pull request."""
        ...

    def list_issues(
        self, *, state: str = "open", labels: Sequence[str] = (), author: str | None = None
    ) -> list[Issue]:
        """Issues (never PRs), oldest first. `labels`: all must be present."""
        ...

    def update_issue(
        self,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        state: str | None = None,
    ) -> Issue: ...

    def set_labels(self, number: int, labels: Sequence[str]) -> Issue:
        """Replace the issue's whole label set in one write (SPEC §2.1)."""
        ...

    # comments
    def list_comments(self, number: int, since: datetime | None = None) -> list[Comment]:
        """Comments oldest first; `since` keeps those updated at or after it."""
        ...

    def create_comment(self, number: int, body: str) -> Comment: ...

    def update_comment(self, comment_id: int, body: str) -> Comment: ...

    def delete_comment(self, comment_id: int) -> None: ...

    def react(self, comment_id: int, content: str) -> None:
        """Add a reaction (e.g. "eyes") to a comment; best effort."""
        ...

    def label_events(self, number: int) -> list[LabelEvent]:
        """Who applied which label to the issue, oldest first (`labeled` events)."""
        ...

    # pull requests
    def find_pr(self, head: str, state: str = "open") -> PullRequest | None:
        """The newest PR from branch `head` in `state` (open | closed | merged | all)."""
        ...

    def create_pr(self, head: str, base: str, title: str, body: str) -> PullRequest: ...

    def update_pr(
        self, number: int, *, title: str | None = None, body: str | None = None
    ) -> PullRequest: ...

    def get_pr(self, number: int) -> PullRequest: ...

    def list_reviews(self, number: int) -> list[Review]:
        """The PR's submitted reviews, oldest first, without their inline comments."""
        ...

    def merge_pr(self, number: int, method: str = "squash") -> None: ...

    # people
    def permission(self, login: str) -> str:
        """The user's permission on the repo: admin | maintain | write | triage | read | none."""
        ...

    def default_branch(self) -> str: ...

    def viewer_login(self) -> str:
        """The login orch itself writes as (its markers count: orch.task.markers)."""
        ...

    # one-request view for tick
    def snapshot(
        self,
        known: dict[int, datetime] | None = None,
        since: datetime | None = None,
        *,
        delta: bool = False,
        sweep: str | None = None,
        mention: str = "",
    ) -> Snapshot:
        """Open orch issues; comments only for issues changed since `known[number]`;
        closed orch issues updated since `since` (all recent ones when None); pull
        requests, the open ones with their reviews and comments (`open_pulls`). `delta`:
        only issues and PRs updated since `since` (a store may answer a full snapshot
        instead: `complete`). `sweep`: also one page of the open tasks' numbers after that
        cursor ("" for the first page). `mention`: also the open issues and PRs commented
        since `since` with comments that mention it."""
        ...
