"""WithInternal: a project's store plus its internal tasks, behind the one Store protocol.

Internal tasks never clutter the tracker: they are records of a LocalStore under
`<project>/.orch/internal/` (beside `.orch/local/`, excluded from git by `orch init`),
and they reach GitHub only when `orch task publish` promotes one to an issue. Their ids
are negative (`i7` is -7, orch.taskid), comment ids too, so nothing collides with the
GitHub numbers and ids of the wrapped store.

Routing: an issue number or comment id below zero goes to the internal store (no GitHub
request), every other one to the project's store. Lists and the tick's snapshot merge
both. Labels, pull requests, permissions and the default branch are the project's: an
internal task's branch is pushed and its PR opened on the project like any task's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from orch import taskid
from orch.errors import NotFound, OrchError
from orch.labels import LabelSpec
from orch.store.base import (
    Comment,
    Issue,
    LabelEvent,
    PullRequest,
    Review,
    Snapshot,
    StatusHooks,
    Store,
)
from orch.store.dryrun import DryRunStore
from orch.store.local import LocalStore


class WithInternal:
    """The Store protocol over `primary` (GitHub or local) and internal tasks."""

    def __init__(self, primary: Store, internal: LocalStore) -> None:
        self.primary = primary
        self.internal = internal
        self.repo = primary.repo
        self.status_hooks = StatusHooks()

    @property
    def gh(self) -> Any:
        """The project's gh (the Projects V2 board hook looks for it)."""
        return getattr(self.primary, "gh", None)

    @property
    def _any_internal(self) -> bool:
        """Whether internal tasks were ever made here (reads never create the folder)."""
        return self.internal.root.is_dir()

    # -- internal records <-> task ids ------------------------------------------------

    def _issue(self, issue: Issue) -> Issue:
        number = taskid.internal(issue.number)
        return replace(issue, number=number, url=f"internal:{self.repo}/{taskid.text(number)}")

    def _comment(self, comment: Comment) -> Comment:
        return replace(comment, id=-comment.id, issue=taskid.internal(comment.issue))

    @contextlib.contextmanager
    def _task(self, number: int) -> Iterator[int]:
        """The internal store's record number; NotFound names the task as people do."""
        try:
            yield taskid.local(number)
        except NotFound:
            raise NotFound(
                f"internal task {taskid.text(number)} not found in {self.repo}; "
                "`orch task list` shows the tasks"
            ) from None

    def create_internal(self, title: str, body: str, labels: Sequence[str]) -> Issue:
        """A new internal task (its labels are created in the internal store)."""
        return self._issue(self.internal.create_issue(title, body, labels))

    def list_internal(self, *, state: str = "open", labels: Sequence[str] = ()) -> list[Issue]:
        """The internal tasks alone (no GitHub request), oldest first."""
        if not self._any_internal:
            return []
        return [self._issue(i) for i in self.internal.list_issues(state=state, labels=labels)]

    # -- labels (the project's) --------------------------------------------------------

    def ensure_labels(self, specs: Iterable[LabelSpec]) -> list[str]:
        return self.primary.ensure_labels(specs)

    def list_labels(self) -> list[str]:
        return self.primary.list_labels()

    def delete_label(self, name: str) -> None:
        self.primary.delete_label(name)

    # -- issues ------------------------------------------------------------------------

    def create_issue(self, title: str, body: str, labels: Sequence[str]) -> Issue:
        return self.primary.create_issue(title, body, labels)

    def get_issue(self, number: int) -> Issue:
        if taskid.is_internal(number):
            with self._task(number) as local:
                return self._issue(self.internal.get_issue(local))
        return self.primary.get_issue(number)

    def list_issues(
        self, *, state: str = "open", labels: Sequence[str] = (), author: str | None = None
    ) -> list[Issue]:
        found = self.primary.list_issues(state=state, labels=labels, author=author)
        if not self._any_internal:
            return found
        mine = self.internal.list_issues(state=state, labels=labels, author=author)
        return [*found, *(self._issue(i) for i in mine)]

    def update_issue(
        self,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        state: str | None = None,
    ) -> Issue:
        if taskid.is_internal(number):
            with self._task(number) as local:
                issue = self.internal.update_issue(local, title=title, body=body, state=state)
            return self._issue(issue)
        return self.primary.update_issue(number, title=title, body=body, state=state)

    def set_labels(self, number: int, labels: Sequence[str]) -> Issue:
        if taskid.is_internal(number):
            with self._task(number) as local:
                return self._issue(self.internal.set_labels(local, labels))
        return self.primary.set_labels(number, labels)

    # -- comments ----------------------------------------------------------------------

    def list_comments(self, number: int, since: datetime | None = None) -> list[Comment]:
        if taskid.is_internal(number):
            with self._task(number) as local:
                found = self.internal.list_comments(local, since)
            return [self._comment(c) for c in found]
        return self.primary.list_comments(number, since)

    def create_comment(self, number: int, body: str) -> Comment:
        if taskid.is_internal(number):
            with self._task(number) as local:
                return self._comment(self.internal.create_comment(local, body))
        return self.primary.create_comment(number, body)

    def update_comment(self, comment_id: int, body: str) -> Comment:
        if comment_id < 0:
            return self._comment(self.internal.update_comment(-comment_id, body))
        return self.primary.update_comment(comment_id, body)

    def delete_comment(self, comment_id: int) -> None:
        if comment_id < 0:
            self.internal.delete_comment(-comment_id)
        else:
            self.primary.delete_comment(comment_id)

    def react(self, comment_id: int, content: str) -> None:
        if comment_id < 0:
            self.internal.react(-comment_id, content)
        else:
            self.primary.react(comment_id, content)

    # -- pull requests, people, repository (the project's) ----------------------------

    def find_pr(self, head: str, state: str = "open") -> PullRequest | None:
        return self.primary.find_pr(head, state)

    def create_pr(self, head: str, base: str, title: str, body: str) -> PullRequest:
        return self.primary.create_pr(head, base, title, body)

    def update_pr(
        self, number: int, *, title: str | None = None, body: str | None = None
    ) -> PullRequest:
        return self.primary.update_pr(number, title=title, body=body)

    def get_pr(self, number: int) -> PullRequest:
        return self.primary.get_pr(number)

    def list_reviews(self, number: int) -> list[Review]:
        return self.primary.list_reviews(number)

    def merge_pr(self, number: int, method: str = "squash") -> None:
        self.primary.merge_pr(number, method)

    def permission(self, login: str) -> str:
        return self.primary.permission(login)

    def default_branch(self) -> str:
        return self.primary.default_branch()

    # -- the tick's snapshot -----------------------------------------------------------

    def viewer_login(self) -> str:
        return self.primary.viewer_login()

    def label_events(self, number: int) -> list[LabelEvent]:
        if taskid.is_internal(number):
            return []  # internal tasks are approved by construction (orch.tick.intake)
        return self.primary.label_events(number)

    def snapshot(
        self,
        known: dict[int, datetime] | None = None,
        since: datetime | None = None,
        *,
        delta: bool = False,
        sweep: str | None = None,
        mention: str = "",
    ) -> Snapshot:
        """The project's snapshot (its one request, or a delta) plus the internal tasks'
        (files, always complete: every open internal task comes along). Internal tasks
        have no pull requests and nobody mentions orch on them: PR conversation and
        mentions come from the project alone."""
        if not self._any_internal:
            return self.primary.snapshot(known, since, delta=delta, sweep=sweep, mention=mention)
        outer = {n: t for n, t in (known or {}).items() if n > 0} if known is not None else None
        inner = (
            {taskid.local(n): t for n, t in known.items() if n < 0} if known is not None else None
        )
        mine = self.internal.snapshot(inner, since)
        found = self.primary.snapshot(outer, since, delta=delta, sweep=sweep, mention=mention)
        comments = dict(found.comments)
        for number, listed in mine.comments.items():
            comments[taskid.internal(number)] = tuple(self._comment(c) for c in listed)
        return replace(
            found,
            issues=(*found.issues, *(self._issue(i) for i in mine.issues)),
            comments=comments,
            closed=(*found.closed, *(self._issue(i) for i in mine.closed)),
            stranded=(*found.stranded, *(self._issue(i) for i in mine.stranded)),
        )


def create_internal(store: Store, title: str, body: str, labels: Sequence[str]) -> Issue:
    """Create an internal task through `store` (printed only, under --dry-run)."""
    if isinstance(store, DryRunStore):
        internal_store(store.inner)  # the same refusal as a real run
        return store.create_internal(title, body, labels)
    return internal_store(store).create_internal(title, body, labels)


def internal_store(store: Store) -> WithInternal:
    """The WithInternal inside `store` (a dry-run or hooked store hands it through)."""
    seen: Any = store
    while seen is not None:
        if isinstance(seen, WithInternal):
            return seen
        seen = getattr(seen, "inner", None)
    raise OrchError(f"{store.repo}: this store keeps no internal tasks")
