"""The per-project snapshot cache: the open tasks as last seen, task PRs (and the
conversation of those with feedback not handled yet), and where the next read starts.

With it a tick reads only what changed: issues and PRs updated since the last read
(`since`, the server's time of that read), merged into the cached set. It also lets a tick
skip tasks that did not change (no comment reads, no permission checks). It is only a
cache: deleting it (or a file from another version) makes the next tick read everything
once, and acks on GitHub keep owner commands from being handled twice. A sweep a few hours
apart, one page per tick, checks the cached set against GitHub (a deleted issue, a missed
change).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from orch.clock import parse_iso, utc_iso
from orch.io.sidecar import read_versioned, write_versioned
from orch.store.base import Comment, Issue, PullRequest, PullThread, Review, ReviewComment

SCHEMA = 2  # 1 kept updated_at only: it cannot stand for the open set, so it is re-read
SWEEP_EVERY = timedelta(hours=4)  # safety net: a sweep starts this long after the last one
KEEP_PULLS = timedelta(days=3)  # closed task PRs stay this long (merge watch reads them)


@dataclass
class Entry:
    issue: Issue
    status: str | None
    retry: bool = False  # a phase failed on it: look at it again next tick
    approved: bool = True  # False: waits for a maintainer's yes (orch.tick.intake.gate)

    @property
    def updated_at(self) -> datetime:
        return self.issue.updated_at


@dataclass
class SnapshotCache:
    path: Path
    entries: dict[int, Entry] = field(default_factory=dict)  # open tasks
    loaded: bool = False
    # Closed tasks the last read saw (number -> updated_at), to tell a change.
    closed: dict[int, datetime] = field(default_factory=dict)
    # The server's time of the last read that brought a change: the next read asks for
    # what was updated since then (minus a margin).
    since: datetime | None = None
    pulls: dict[int, PullRequest] = field(default_factory=dict)  # PRs from task branches
    # Open task PRs whose feedback is not handled yet, as last read (orch.tick.snapshot).
    threads: dict[int, PullThread] = field(default_factory=dict)
    # Issues and PRs the last read found mentioning orch (number -> updated_at), so the
    # next tick looks again only at those that moved.
    mentions: dict[int, datetime] = field(default_factory=dict)
    swept_at: datetime | None = None  # the last full read or finished sweep
    sweep_cursor: str | None = None  # a sweep in progress: where its next page starts
    sweep_started: datetime | None = None
    sweep_seen: set[int] = field(default_factory=set)
    _raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: Path) -> SnapshotCache:
        try:
            data = read_versioned(path, SCHEMA)
        except Exception:  # a cache from a newer orch is ignored, not fatal
            data = None
        cache = cls(path)
        if not data:
            return cache
        try:
            cache._read(data)
        except (KeyError, TypeError, ValueError, AttributeError):
            return cls(path)  # damaged: as good as missing
        cache.loaded = True
        cache._raw = data
        return cache

    def _read(self, data: dict[str, Any]) -> None:
        for raw in data.get("issues") or []:
            self.entries[int(raw["number"])] = Entry(
                _issue_from(raw), raw.get("status"), bool(raw.get("retry")), not raw.get("waiting")
            )
        self.closed = {int(n): parse_iso(t) for n, t in (data.get("closed") or {}).items()}
        self.pulls = {int(p["number"]): _pull_from(p) for p in data.get("pulls") or []}
        threads = [_thread_from(t) for t in data.get("threads") or []]
        self.threads = {t.pull.number: t for t in threads}
        self.mentions = {int(n): parse_iso(t) for n, t in (data.get("mentions") or {}).items()}
        self.since = _time(data.get("since"))
        self.swept_at = _time(data.get("swept_at"))
        sweep = data.get("sweep")
        if isinstance(sweep, dict):
            self.sweep_cursor = str(sweep.get("cursor") or "")
            self.sweep_started = _time(sweep.get("started"))
            self.sweep_seen = {int(n) for n in sweep.get("seen") or []}

    # -- what changed --------------------------------------------------------------------

    @property
    def warm(self) -> bool:
        """The cache can stand for the open set: a delta read is enough."""
        return self.loaded and self.since is not None

    def known(self) -> dict[int, datetime]:
        """updated_at of every task seen (open or closed), for the snapshot's comments;
        tasks to look at again are left out, so their comments come along."""
        found = dict(self.closed)
        found.update((n, e.updated_at) for n, e in self.entries.items() if not e.retry)
        return found

    def changed(self, issue: Issue) -> bool:
        entry = self.entries.get(issue.number)
        return entry is None or entry.retry or entry.updated_at != issue.updated_at

    def closed_changed(self, issue: Issue) -> bool:
        return self.closed.get(issue.number) != issue.updated_at

    # -- the sweep -----------------------------------------------------------------------

    def sweep_page(self, now: datetime) -> str | None:
        """The cursor of the sweep page this tick reads ("" = the first), or None."""
        if self.sweep_cursor is not None:
            return self.sweep_cursor
        if self.swept_at is None or now - self.swept_at >= SWEEP_EVERY:
            self.sweep_cursor, self.sweep_started, self.sweep_seen = "", self.since, set()
            return ""
        return None

    def sweep_done(self, now: datetime) -> None:
        self.swept_at, self.sweep_cursor, self.sweep_started = now, None, None
        self.sweep_seen = set()

    def awaiting_approval(self) -> list[int]:
        """Open issues with a status label that wait for a maintainer's yes."""
        return sorted(n for n, e in self.entries.items() if not e.approved)

    # -- after the tick ------------------------------------------------------------------

    def update(
        self,
        issues: dict[int, Issue],
        status_of: dict[int, str | None],
        retry: set[int],
        closed: dict[int, Issue] | None = None,
        waiting: dict[int, Issue] | None = None,
    ) -> None:
        """Replace the entries with the tasks open now; tasks in `retry` (a phase failed
        on them) are marked, so the next tick looks at them again even unchanged. A failed
        closed task moves `since` back, so the next read brings it again. `waiting` issues
        are remembered as awaiting a maintainer's approval."""
        waiting = waiting or {}
        self.entries = {
            n: Entry(issue, status_of.get(n), n in retry, n not in waiting)
            for n, issue in {**issues, **waiting}.items()
        }
        closed = closed or {}
        self.closed = {n: i.updated_at for n, i in closed.items() if n not in retry}
        again = [i.updated_at for n, i in closed.items() if n in retry]
        if again and self.since is not None:
            self.since = min([self.since, *again]) - timedelta(seconds=1)

    @staticmethod
    def recent(pulls: dict[int, PullRequest], now: datetime) -> dict[int, PullRequest]:
        """The task PRs worth keeping: open ones, and closed ones for KEEP_PULLS."""
        return {
            n: p
            for n, p in pulls.items()
            if p.state == "open" or p.updated_at is None or now - p.updated_at < KEEP_PULLS
        }

    def save(self) -> None:
        """Write the file, unless nothing in it changed (a quiet tick writes nothing)."""
        data: dict[str, Any] = {
            "issues": [
                _issue_json(e.issue, e.status, e.retry, e.approved)
                for _, e in sorted(self.entries.items())
            ],
            "closed": {str(n): t.isoformat() for n, t in sorted(self.closed.items())},
            "pulls": [_pull_json(p) for _, p in sorted(self.pulls.items())],
            "since": self.since.isoformat() if self.since else None,
            "swept_at": utc_iso(self.swept_at) if self.swept_at else None,
        }
        if self.threads:
            data["threads"] = [_thread_json(t) for _, t in sorted(self.threads.items())]
        if self.mentions:
            data["mentions"] = {str(n): utc_iso(t) for n, t in sorted(self.mentions.items())}
        if self.sweep_cursor is not None:
            data["sweep"] = {
                "cursor": self.sweep_cursor,
                "started": utc_iso(self.sweep_started) if self.sweep_started else None,
                "seen": sorted(self.sweep_seen),
            }
        if self.loaded and {**data, "schema": SCHEMA} == self._raw:
            return
        write_versioned(self.path, SCHEMA, data)
        self._raw, self.loaded = {**data, "schema": SCHEMA}, True


def _time(text: Any) -> datetime | None:
    return parse_iso(str(text)) if text else None


def _issue_json(issue: Issue, status: str | None, retry: bool, approved: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "number": issue.number,
        "title": issue.title,
        "body": issue.body,
        "state": issue.state,
        "labels": list(issue.labels),
        "author": issue.author,
        "author_type": issue.author_type,
        "created_at": issue.created_at.isoformat(),
        "updated_at": issue.updated_at.isoformat(),
        "comments": issue.comments,
        "url": issue.url,
        "status": status,
    }
    if retry:
        data["retry"] = True
    if not approved:
        data["waiting"] = True
    return data


def _issue_from(raw: dict[str, Any]) -> Issue:
    return Issue(
        number=int(raw["number"]),
        title=str(raw["title"]),
        body=str(raw["body"]),
        state=str(raw["state"]),
        labels=tuple(str(name) for name in raw["labels"]),
        author=str(raw["author"]),
        created_at=parse_iso(raw["created_at"]),
        updated_at=parse_iso(raw["updated_at"]),
        comments=int(raw.get("comments") or 0),
        url=str(raw.get("url") or ""),
        author_type=str(raw.get("author_type") or "User"),
    )


def _pull_json(pr: PullRequest) -> dict[str, Any]:
    return {
        "number": pr.number,
        "title": pr.title,
        "body": pr.body,
        "state": pr.state,
        "head": pr.head,
        "base": pr.base,
        "url": pr.url,
        "head_sha": pr.head_sha,
        "merged_at": pr.merged_at.isoformat() if pr.merged_at else None,
        "updated_at": pr.updated_at.isoformat() if pr.updated_at else None,
    }


def _pull_from(raw: dict[str, Any]) -> PullRequest:
    return PullRequest(
        number=int(raw["number"]),
        title=str(raw["title"]),
        body=str(raw["body"]),
        state=str(raw["state"]),
        head=str(raw["head"]),
        base=str(raw["base"]),
        url=str(raw.get("url") or ""),
        head_sha=str(raw.get("head_sha") or ""),
        merged_at=_time(raw.get("merged_at")),
        updated_at=_time(raw.get("updated_at")),
    )


def _thread_json(thread: PullThread) -> dict[str, Any]:
    return {
        "pull": _pull_json(thread.pull),
        "author": thread.author,
        "reviews": [
            {
                "id": r.id,
                "author": r.author,
                "author_type": r.author_type,
                "association": r.association,
                "state": r.state,
                "body": r.body,
                "submitted_at": r.submitted_at.isoformat(),
                "comments": [
                    {
                        "id": c.id,
                        "author": c.author,
                        "author_type": c.author_type,
                        "association": c.association,
                        "path": c.path,
                        "line": c.line,
                        "diff_hunk": c.diff_hunk,
                        "body": c.body,
                        "created_at": c.created_at.isoformat(),
                    }
                    for c in r.comments
                ],
            }
            for r in thread.reviews
        ],
        "comments": [
            {
                "id": c.id,
                "author": c.author,
                "author_type": c.author_type,
                "association": c.association,
                "body": c.body,
                "created_at": c.created_at.isoformat(),
                "updated_at": c.updated_at.isoformat(),
            }
            for c in thread.comments
        ],
    }


def _thread_from(raw: dict[str, Any]) -> PullThread:
    pull = _pull_from(raw["pull"])
    reviews = tuple(
        Review(
            id=int(r["id"]),
            author=str(r["author"]),
            state=str(r["state"]),
            body=str(r["body"]),
            submitted_at=parse_iso(r["submitted_at"]),
            comments=tuple(
                ReviewComment(
                    id=int(c["id"]),
                    author=str(c["author"]),
                    path=str(c["path"]),
                    line=int(c["line"]) if c.get("line") is not None else None,
                    diff_hunk=str(c["diff_hunk"]),
                    body=str(c["body"]),
                    created_at=parse_iso(c["created_at"]),
                    author_type=str(c.get("author_type") or "User"),
                    association=str(c.get("association") or ""),
                )
                for c in r.get("comments") or []
            ),
            author_type=str(r.get("author_type") or "User"),
            association=str(r.get("association") or ""),
        )
        for r in raw.get("reviews") or []
    )
    comments = tuple(
        Comment(
            id=int(c["id"]),
            issue=pull.number,
            author=str(c["author"]),
            body=str(c["body"]),
            created_at=parse_iso(c["created_at"]),
            updated_at=parse_iso(c["updated_at"]),
            author_type=str(c.get("author_type") or "User"),
            association=str(c.get("association") or ""),
        )
        for c in raw.get("comments") or []
    )
    return PullThread(pull=pull, author=str(raw["author"]), reviews=reviews, comments=comments)
