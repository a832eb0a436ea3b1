"""DryRunStore: reads go to the real store; writes are printed, not made (`--dry-run`).

Each write is shown as the GitHub REST call it stands for (the same for both stores, so a
user sees what would happen on GitHub), on stderr with a `would:` prefix. Writes return
plausible records so a command can carry on and show its later steps.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from orch.clock import SystemClock
from orch.labels import LabelSpec
from orch.output import Console
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


class DryRunStore:
    def __init__(self, inner: Store, console: Console) -> None:
        self.inner = inner
        self.console = console
        self.repo = inner.repo
        self.status_hooks = StatusHooks()  # a dry run moves nothing: no hooks
        self.writes: list[str] = []

    def _would(self, method: str, path: str, body: dict[str, Any] | None = None) -> None:
        line = f"would: {method} repos/{self.repo}/{path}"
        if body:
            line += " " + json.dumps(body, sort_keys=True, ensure_ascii=False)
        self.writes.append(line)
        # Dry-run output is the point of the command: show it even with --quiet.
        self.console.would(line)

    def _now(self) -> datetime:

        return SystemClock().now()

    # reads
    def list_labels(self) -> list[str]:
        return self.inner.list_labels()

    def get_issue(self, number: int) -> Issue:
        return self.inner.get_issue(number)

    def list_issues(
        self, *, state: str = "open", labels: Sequence[str] = (), author: str | None = None
    ) -> list[Issue]:
        return self.inner.list_issues(state=state, labels=labels, author=author)

    def list_comments(self, number: int, since: datetime | None = None) -> list[Comment]:
        return self.inner.list_comments(number, since)

    def find_pr(self, head: str, state: str = "open") -> PullRequest | None:
        return self.inner.find_pr(head, state)

    def get_pr(self, number: int) -> PullRequest:
        return self.inner.get_pr(number)

    def list_reviews(self, number: int) -> list[Review]:
        return self.inner.list_reviews(number)

    def permission(self, login: str) -> str:
        return self.inner.permission(login)

    def default_branch(self) -> str:
        return self.inner.default_branch()

    def viewer_login(self) -> str:
        return self.inner.viewer_login()

    def label_events(self, number: int) -> list[LabelEvent]:
        return self.inner.label_events(number)

    def snapshot(
        self,
        known: dict[int, datetime] | None = None,
        since: datetime | None = None,
        *,
        delta: bool = False,
        sweep: str | None = None,
        mention: str = "",
    ) -> Snapshot:
        return self.inner.snapshot(known, since, delta=delta, sweep=sweep, mention=mention)

    # writes
    def ensure_labels(self, specs: Iterable[LabelSpec]) -> list[str]:
        existing = set(self.inner.list_labels())
        missing = [s for s in specs if s.name not in existing]
        for spec in missing:
            self._would(
                "POST",
                "labels",
                {"name": spec.name, "color": spec.color, "description": spec.description},
            )
        return [s.name for s in missing]

    def delete_label(self, name: str) -> None:
        self._would("DELETE", f"labels/{name}")

    def create_internal(self, title: str, body: str, labels: Sequence[str]) -> Issue:
        """An internal task (orch.store.internal) that would be created: no request."""
        line = "would: create internal task " + json.dumps(
            {"title": title, "body": body, "labels": list(labels)}, sort_keys=True
        )
        self.writes.append(line)
        self.console.out(line)
        now = self._now()
        return Issue(0, title, body, "open", tuple(labels), "", now, now)

    def create_issue(self, title: str, body: str, labels: Sequence[str]) -> Issue:
        self._would("POST", "issues", {"title": title, "body": body, "labels": list(labels)})
        now = self._now()
        return Issue(0, title, body, "open", tuple(labels), "", now, now)

    def update_issue(
        self,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        state: str | None = None,
    ) -> Issue:
        changes = {
            k: v for k, v in (("title", title), ("body", body), ("state", state)) if v is not None
        }
        self._would("PATCH", f"issues/{number}", changes)
        issue = self.inner.get_issue(number)
        return replace(
            issue,
            title=title if title is not None else issue.title,
            body=body if body is not None else issue.body,
            state=state if state is not None else issue.state,
        )

    def set_labels(self, number: int, labels: Sequence[str]) -> Issue:
        # The same single replacing write GitHubStore makes (it returns the whole issue).
        self._would("PATCH", f"issues/{number}", {"labels": sorted(labels)})
        return replace(self.inner.get_issue(number), labels=tuple(sorted(labels)))

    def create_comment(self, number: int, body: str) -> Comment:
        self._would("POST", f"issues/{number}/comments", {"body": body})
        now = self._now()
        return Comment(0, number, "", body, now, now)

    def update_comment(self, comment_id: int, body: str) -> Comment:
        self._would("PATCH", f"issues/comments/{comment_id}", {"body": body})
        now = self._now()
        return Comment(comment_id, 0, "", body, now, now)

    def delete_comment(self, comment_id: int) -> None:
        self._would("DELETE", f"issues/comments/{comment_id}")

    def react(self, comment_id: int, content: str) -> None:
        self._would("POST", f"issues/comments/{comment_id}/reactions", {"content": content})

    def create_pr(self, head: str, base: str, title: str, body: str) -> PullRequest:
        self._would("POST", "pulls", {"head": head, "base": base, "title": title, "body": body})
        return PullRequest(0, title, body, "open", head, base)

    def update_pr(
        self, number: int, *, title: str | None = None, body: str | None = None
    ) -> PullRequest:
        changes = {k: v for k, v in (("title", title), ("body", body)) if v is not None}
        self._would("PATCH", f"pulls/{number}", changes)
        pr = self.inner.get_pr(number)
        return replace(
            pr,
            title=title if title is not None else pr.title,
            body=body if body is not None else pr.body,
        )

    def merge_pr(self, number: int, method: str = "squash") -> None:
        self._would("PUT", f"pulls/{number}/merge", {"merge_method": method})
