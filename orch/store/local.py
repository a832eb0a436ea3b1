"""LocalStore: issues, labels, comments and PR records as files under `.orch/local/`.

The same semantics as GitHub (SPEC §11): issue and PR numbers share one increasing
sequence, labels must exist before use on update (they are created on issue creation,
as GitHub does), comments have repository-wide ids, and every change bumps the issue's
`updated_at`. Safe under concurrent orch processes: every operation holds an exclusive
file lock, and every file is written atomically.

Layout: `meta.json` (counters, collaborators), `labels.json`, `issues/<n>.json` (the
issue with its comments), `pulls/<n>.json`.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from orch import labels as L
from orch.clock import Clock, parse_iso, utc_iso
from orch.errors import NotFound, OrchError
from orch.io import git
from orch.io.sidecar import read_json, write_json_atomic
from orch.labels import LabelSpec
from orch.status import Status
from orch.store.base import (
    Comment,
    Issue,
    LabelEvent,
    Mention,
    PullRequest,
    Review,
    Snapshot,
    StatusHooks,
)

SCHEMA = 1
PERMISSIONS = ("admin", "maintain", "write", "triage", "read", "none")


class LocalStore:
    """The Store protocol on local files (see module docstring)."""

    def __init__(self, root: Path, repo: str, clock: Clock, user: str | None = None) -> None:
        self.root = root
        self.repo = repo
        self.status_hooks = StatusHooks()
        self.clock = clock
        self.user = user or _local_user()

    # -- plumbing ------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            handle = open(self.root / ".lock", "a+")  # noqa: SIM115 - held for the block
        except OSError as exc:
            raise OrchError(f"cannot use the local store at {self.root}: {exc.strerror}") from exc
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _meta(self) -> dict[str, Any]:
        meta = read_json(self.root / "meta.json", {})
        if not isinstance(meta, dict):
            meta = {}
        if meta.get("schema", SCHEMA) > SCHEMA:
            raise OrchError(f"{self.root} was written by a newer orch; upgrade orch")
        meta.setdefault("schema", SCHEMA)
        meta.setdefault("next_number", 1)
        meta.setdefault("next_comment", 1)
        meta.setdefault("collaborators", {self.user: "admin"})
        return meta

    def _save_meta(self, meta: dict[str, Any]) -> None:
        write_json_atomic(self.root / "meta.json", meta)

    def _take_number(self, counter: str) -> int:
        """The next value of a meta.json counter, taken for good (call under the lock).
        `next_number` is shared by issues and pull requests, as on GitHub."""
        meta = self._meta()
        value = int(meta[counter])
        meta[counter] = value + 1
        self._save_meta(meta)
        return value

    def _labels(self) -> dict[str, dict[str, str]]:
        data = read_json(self.root / "labels.json", {})
        return data if isinstance(data, dict) else {}

    def _issue_path(self, number: int) -> Path:
        return self.root / "issues" / f"{number}.json"

    def _pull_path(self, number: int) -> Path:
        return self.root / "pulls" / f"{number}.json"

    def _load_issue(self, number: int) -> dict[str, Any]:
        data = read_json(self._issue_path(number))
        if not isinstance(data, dict):
            raise NotFound(f"issue #{number} not found in {self.repo} (local store)")
        return data

    def _save_issue(self, data: dict[str, Any]) -> None:
        write_json_atomic(self._issue_path(int(data["number"])), data)

    def _now(self) -> str:
        return utc_iso(self.clock.now())

    def _touch(self, data: dict[str, Any]) -> None:
        """Bump updated_at, strictly increasing so that caches always see a change."""
        now = self._now()
        previous = data.get("updated_at", "")
        if now <= previous:
            now = utc_iso(parse_iso(previous).replace(microsecond=0) + _ONE_SECOND)
        data["updated_at"] = now

    def _all_issue_numbers(self) -> list[int]:
        folder = self.root / "issues"
        if not folder.is_dir():
            return []
        return sorted(int(p.stem) for p in folder.glob("*.json") if p.stem.isdigit())

    # -- labels --------------------------------------------------------------------------

    def ensure_labels(self, specs: Iterable[LabelSpec]) -> list[str]:
        created = []
        with self._locked():
            known = self._labels()
            for spec in specs:
                if spec.name not in known:
                    known[spec.name] = {"color": spec.color, "description": spec.description}
                    created.append(spec.name)
            if created:
                write_json_atomic(self.root / "labels.json", known)
        return created

    def list_labels(self) -> list[str]:
        with self._locked():
            return sorted(self._labels())

    def delete_label(self, name: str) -> None:
        with self._locked():
            known = self._labels()
            if name not in known:
                raise NotFound(f"label {name!r} not found in {self.repo} (local store)")
            del known[name]
            write_json_atomic(self.root / "labels.json", known)

    def _create_missing_labels(self, names: Iterable[str]) -> None:
        known = self._labels()
        missing = [n for n in names if n not in known]
        if missing:
            for name in missing:
                spec = L.spec_for(name)
                known[name] = {"color": spec.color, "description": spec.description}
            write_json_atomic(self.root / "labels.json", known)

    # -- issues --------------------------------------------------------------------------

    def create_issue(self, title: str, body: str, labels: Sequence[str]) -> Issue:
        return self.add_issue(title, body, labels, author=self.user)

    def add_issue(self, title: str, body: str, labels: Sequence[str], *, author: str) -> Issue:
        """Create an issue as `author`, its labels applied by them (as an issue form does)."""
        if not title.strip():
            raise OrchError("an issue needs a title")
        with self._locked():
            number = self._take_number("next_number")
            self._create_missing_labels(labels)
            now = self._now()
            data = {
                "number": number,
                "title": title,
                "body": body,
                "state": "open",
                "labels": sorted(set(labels)),
                "author": author,
                "author_type": "User",
                "created_at": now,
                "updated_at": now,
                "comments": [],
                "label_events": _labeled(sorted(set(labels)), author, now),
            }
            self._save_issue(data)
        return _issue(data, self.repo)

    def get_issue(self, number: int) -> Issue:
        with self._locked():
            return _issue(self._load_issue(number), self.repo)

    def list_issues(
        self, *, state: str = "open", labels: Sequence[str] = (), author: str | None = None
    ) -> list[Issue]:
        wanted = set(labels)
        found = []
        with self._locked():
            for number in self._all_issue_numbers():
                data = read_json(self._issue_path(number))
                if not isinstance(data, dict):
                    continue
                if state != "all" and data["state"] != state:
                    continue
                if wanted and not wanted <= set(data["labels"]):
                    continue
                if author and data.get("author") != author:
                    continue
                found.append(_issue(data, self.repo))
        return found

    def update_issue(
        self,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        state: str | None = None,
    ) -> Issue:
        if state not in (None, "open", "closed"):
            raise OrchError(f"invalid issue state {state!r}: use open or closed")
        with self._locked():
            data = self._load_issue(number)
            for key, value in (("title", title), ("body", body), ("state", state)):
                if value is not None:
                    data[key] = value
            self._touch(data)
            self._save_issue(data)
            return _issue(data, self.repo)

    def set_labels(self, number: int, labels: Sequence[str]) -> Issue:
        with self._locked():
            data = self._load_issue(number)
            self._create_missing_labels(labels)
            added = sorted(set(labels) - set(data["labels"]))
            data.setdefault("label_events", []).extend(_labeled(added, self.user, self._now()))
            data["labels"] = sorted(set(labels))
            self._touch(data)
            self._save_issue(data)
            return _issue(data, self.repo)

    def label_events(self, number: int) -> list[LabelEvent]:
        with self._locked():
            data = self._load_issue(number)
        return [
            LabelEvent(str(e["label"]), str(e["actor"]), "User", parse_iso(e["created_at"]))
            for e in data.get("label_events", [])
        ]

    # -- comments ------------------------------------------------------------------------

    def list_comments(self, number: int, since: datetime | None = None) -> list[Comment]:
        with self._locked():
            data = self._load_issue(number)
        comments = [_comment(c, number) for c in data.get("comments", [])]
        if since is not None:
            comments = [c for c in comments if c.updated_at >= since]
        return comments

    def create_comment(self, number: int, body: str) -> Comment:
        return self.add_comment(number, body, author=self.user)

    def add_comment(
        self, number: int, body: str, *, author: str, author_type: str = "User"
    ) -> Comment:
        """Create a comment as `author` (the local store's way of letting others speak)."""
        with self._locked():
            data = self._load_issue(number)
            ident = self._take_number("next_comment")
            now = self._now()
            record = {
                "id": ident,
                "author": author,
                "author_type": author_type,
                "body": body,
                "created_at": now,
                "updated_at": now,
            }
            data.setdefault("comments", []).append(record)
            self._touch(data)
            self._save_issue(data)
        return _comment(record, number)

    def _find_comment(self, comment_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
        for number in self._all_issue_numbers():
            data = read_json(self._issue_path(number))
            if not isinstance(data, dict):
                continue
            for record in data.get("comments", []):
                if record["id"] == comment_id:
                    return data, record
        raise NotFound(f"comment {comment_id} not found in {self.repo} (local store)")

    def update_comment(self, comment_id: int, body: str) -> Comment:
        with self._locked():
            data, record = self._find_comment(comment_id)
            record["body"] = body
            record["updated_at"] = self._now()
            self._touch(data)
            self._save_issue(data)
        return _comment(record, int(data["number"]))

    def delete_comment(self, comment_id: int) -> None:
        with self._locked():
            data, record = self._find_comment(comment_id)
            data["comments"].remove(record)
            self._touch(data)
            self._save_issue(data)

    def react(self, comment_id: int, content: str) -> None:
        with self._locked():
            data, record = self._find_comment(comment_id)
            reactions = record.setdefault("reactions", [])
            if content not in reactions:
                reactions.append(content)
                self._save_issue(data)

    # -- pull requests -------------------------------------------------------------------

    def _pulls(self) -> list[dict[str, Any]]:
        folder = self.root / "pulls"
        if not folder.is_dir():
            return []
        found = []
        for path in sorted(folder.glob("*.json"), key=lambda p: int(p.stem)):
            data = read_json(path)
            if isinstance(data, dict):
                found.append(data)
        return found

    def find_pr(self, head: str, state: str = "open") -> PullRequest | None:
        with self._locked():
            matches = [p for p in self._pulls() if p["head"] == head and _pr_matches(p, state)]
        return _pull(matches[-1]) if matches else None

    def create_pr(self, head: str, base: str, title: str, body: str) -> PullRequest:
        with self._locked():
            for existing in self._pulls():
                if existing["head"] == head and existing["state"] == "open":
                    raise OrchError(
                        f"a pull request for branch {head!r} into {existing['base']!r} "
                        f"already exists: #{existing['number']}"
                    )
            number = self._take_number("next_number")
            now = self._now()
            data = {
                "number": number,
                "title": title,
                "body": body,
                "state": "open",
                "head": head,
                "base": base,
                "created_at": now,
                "updated_at": now,
                "merged_at": None,
            }
            write_json_atomic(self._pull_path(number), data)
        return _pull(data)

    def _load_pull(self, number: int) -> dict[str, Any]:
        data = read_json(self._pull_path(number))
        if not isinstance(data, dict):
            raise NotFound(f"pull request #{number} not found in {self.repo} (local store)")
        return data

    def update_pr(
        self, number: int, *, title: str | None = None, body: str | None = None
    ) -> PullRequest:
        with self._locked():
            data = self._load_pull(number)
            if title is not None:
                data["title"] = title
            if body is not None:
                data["body"] = body
            data["updated_at"] = self._now()
            write_json_atomic(self._pull_path(number), data)
        return _pull(data)

    def get_pr(self, number: int) -> PullRequest:
        with self._locked():
            return _pull(self._load_pull(number))

    def list_reviews(self, number: int) -> list[Review]:
        """Local pull requests are reviewed by orch's own markers only: no reviews."""
        with self._locked():
            self._load_pull(number)  # NotFound names the number
        return []

    def merge_pr(self, number: int, method: str = "squash") -> None:
        with self._locked():
            data = self._load_pull(number)
            if data["state"] != "open":
                raise OrchError(f"pull request #{number} is not open")
            data["state"] = "closed"
            data["merged_at"] = self._now()
            data["merge_method"] = method
            write_json_atomic(self._pull_path(number), data)

    def close_pr(self, number: int) -> None:
        with self._locked():
            data = self._load_pull(number)
            data["state"] = "closed"
            write_json_atomic(self._pull_path(number), data)

    # -- people and repository -----------------------------------------------------------

    def permission(self, login: str) -> str:
        with self._locked():
            permission = self._meta()["collaborators"].get(login, "none")
        return str(permission)

    def set_permission(self, login: str, permission: str) -> None:
        if permission not in PERMISSIONS:
            raise OrchError(f"invalid permission {permission!r}: use {', '.join(PERMISSIONS)}")
        with self._locked():
            meta = self._meta()
            meta["collaborators"][login] = permission
            self._save_meta(meta)

    def viewer_login(self) -> str:
        """orch itself: the local store writes every comment of orch's as this user."""
        return self.user

    def default_branch(self) -> str:

        return git.default_branch(self.root.parent.parent)

    # -- tick snapshot -------------------------------------------------------------------

    def snapshot(
        self,
        known: dict[int, datetime] | None = None,
        since: datetime | None = None,
        *,
        delta: bool = False,
        sweep: str | None = None,
        mention: str = "",
    ) -> Snapshot:
        """What GitHubStore.snapshot reads: open orch issues, closed ones updated since
        `since` (newest first, at most 50), open PRs and recently closed ones (30), open
        non-task issues with comments mentioning `mention` since `since`. Always complete
        (reading local files costs no request), so `delta` and `sweep` are moot. Local PRs
        have no reviews: `open_pulls` stays empty."""
        every = [i for i in self.list_issues(state="all") if L.statuses_in(i.labels)]
        issues = [i for i in every if i.state == "open"]
        closed = sorted(
            (i for i in every if i.state == "closed" and (since is None or i.updated_at >= since)),
            key=lambda i: (i.updated_at, i.number),
            reverse=True,
        )[:50]
        watched = {s.label for s in (Status.IN_REVIEW, Status.IN_PROGRESS, Status.ROUTED)}
        stranded = [i for i in every if i.state == "closed" and watched & set(i.labels)][-50:]
        comments: dict[int, tuple[Comment, ...]] = {}
        for issue in [*issues, *closed, *stranded]:
            if known is None or known.get(issue.number) != issue.updated_at:
                comments[issue.number] = tuple(self.list_comments(issue.number)[-20:])
        with self._locked():
            every_pull = [_pull(p) for p in reversed(self._pulls())]
        pulls = [p for p in every_pull if p.state == "open"]
        pulls += [p for p in every_pull if p.state != "open"][:30]
        return Snapshot(
            issues=tuple(issues),
            comments=comments,
            closed=tuple(closed),
            pulls=tuple(pulls),
            stranded=tuple(stranded),
            mentions=self._mentions(mention, since) if mention else (),
        )

    def _mentions(self, mention: str, since: datetime | None) -> tuple[Mention, ...]:
        found = []
        for issue in self.list_issues(state="open"):
            if L.statuses_in(issue.labels):
                continue
            recent = tuple(self.list_comments(issue.number, since)[-10:])
            if any(mention.lower() in c.body.lower() for c in recent):
                found.append(Mention(issue=issue, comments=recent))
        return tuple(found)


_ONE_SECOND = parse_iso("2000-01-01T00:00:01Z") - parse_iso("2000-01-01T00:00:00Z")


def _local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "owner"


def _issue(data: dict[str, Any], repo: str) -> Issue:
    return Issue(
        number=int(data["number"]),
        title=data["title"],
        body=data.get("body") or "",
        state=data["state"],
        labels=tuple(data.get("labels", ())),
        author=data.get("author", ""),
        created_at=parse_iso(data["created_at"]),
        updated_at=parse_iso(data["updated_at"]),
        comments=len(data.get("comments", [])),
        url=f"local:{repo}#{data['number']}",
        author_type=data.get("author_type", "User"),
    )


def _labeled(labels: Sequence[str], actor: str, when: str) -> list[dict[str, str]]:
    return [{"label": name, "actor": actor, "created_at": when} for name in labels]


def _comment(record: dict[str, Any], number: int) -> Comment:
    return Comment(
        id=int(record["id"]),
        issue=number,
        author=record.get("author", ""),
        body=record.get("body", ""),
        created_at=parse_iso(record["created_at"]),
        updated_at=parse_iso(record["updated_at"]),
        author_type=record.get("author_type", "User"),
    )


def _pr_matches(data: dict[str, Any], state: str) -> bool:
    """GitHub's filters: closed includes merged PRs; merged only those merged."""
    if state == "all":
        return True
    if state == "merged":
        return bool(data.get("merged_at"))
    return bool(data["state"] == state)


def _pr_state(data: dict[str, Any]) -> str:
    if data.get("merged_at"):
        return "merged"
    return str(data["state"])


def _pull(data: dict[str, Any]) -> PullRequest:
    return PullRequest(
        number=int(data["number"]),
        title=data["title"],
        body=data.get("body") or "",
        state=_pr_state(data),
        head=data["head"],
        base=data["base"],
        url=f"local:pull/{data['number']}",
        merged_at=parse_iso(data["merged_at"]) if data.get("merged_at") else None,
    )
