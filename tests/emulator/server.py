"""A GitHub emulator: the subset of GitHub's REST and GraphQL APIs that orch uses.

It listens with HTTPS on 127.0.0.1 (the real `gh` treats that host as GitHub Enterprise:
REST under `/api/v3/`, GraphQL at `/api/graphql`, token from GH_ENTERPRISE_TOKEN) and
keeps its state in memory, guarded by one lock. Answers use GitHub's JSON shapes (issue
objects with label objects, `pull_request` on PRs in the issues list, ISO `Z` times,
`Link` pagination, `ETag`, `X-RateLimit-*`).

Tests drive it through Python methods (`Emulator.add_issue`, `add_comment`, `merge_pr`,
`rate_limit`, `count`, ...) and read its request log to assert how many requests orch made.
Faults (rate limits, secondary limits, 5xx, latency, bad tokens) are injected per request.
"""

from __future__ import annotations

import email.utils
import fnmatch
import hashlib
import json
import re
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import jwt

from tests.emulator import graphql
from tests.emulator.reviews import ReviewCommentRec, ReviewRec, ReviewRoutes

DEFAULT_REPO = "acme/widgets"
DEFAULT_LOGIN = "owner"
DEFAULT_TOKEN = "emulator-owner-token"
RATE_LIMIT = 5000
DOCS = "https://docs.github.com/rest"
# GitHub's closing keywords, optionally followed by a colon ("Closes: #10").
LINK_RE = re.compile(r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?):?\s+#(\d+)\b", re.IGNORECASE)
JsonDict = dict[str, Any]


def _credential(headers: dict[str, str]) -> tuple[str, str]:
    """(scheme in lower case, token) of the Authorization header; ("", "") without one."""
    parts = headers.get("authorization", "").split(None, 1)
    if len(parts) != 2:
        return "", ""
    return parts[0].lower(), parts[1].strip()


def _is_app_route(path: str) -> bool:
    parts = path.strip("/").split("/")
    return parts[0] == "app" or (
        len(parts) == 4 and parts[0] == "repos" and parts[3] == "installation"
    )


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


class HttpError(Exception):
    """An error answer: status, GitHub-shaped body and extra headers."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[JsonDict] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: JsonDict = {"message": message, "documentation_url": DOCS}
        if errors is not None:
            self.body["errors"] = errors
        self.headers = headers or {}


def validation_failed(
    resource: str, code: str, field_name: str = "", message: str = ""
) -> HttpError:
    error: JsonDict = {"resource": resource, "code": code}
    if field_name:
        error["field"] = field_name
    if message:
        error["message"] = message
    return HttpError(422, "Validation Failed", errors=[error])


@dataclass
class User:
    login: str
    id: int
    type: str = "User"  # "Bot" for apps and bots

    def json(self) -> JsonDict:
        return {
            "login": self.login,
            "id": self.id,
            "node_id": f"U_{self.id}",
            "type": self.type,
            "site_admin": False,
            "html_url": f"https://github.example/{self.login}",
        }


@dataclass
class Label:
    id: int
    name: str
    color: str
    description: str


@dataclass
class IssueRec:
    id: int
    number: int
    title: str
    body: str
    user: str
    labels: list[str]
    created_at: datetime
    updated_at: datetime
    state: str = "open"
    state_reason: str | None = None
    closed_at: datetime | None = None
    is_pr: bool = False
    # labeled/unlabeled events, oldest first: (event, label name, actor login, when)
    events: list[tuple[str, str, str, datetime]] = field(default_factory=list)


@dataclass
class PullRec:
    number: int
    head: str
    base: str
    draft: bool = False
    merged_at: datetime | None = None
    merge_commit_sha: str | None = None
    fake_sha: str = ""


@dataclass
class CommentRec:
    id: int
    issue: int
    body: str
    user: str
    created_at: datetime
    updated_at: datetime
    reactions: list[tuple[str, str]] = field(default_factory=list)  # (login, content)


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    default_branch: str = "main"
    origin: Path | None = None
    labels: dict[str, Label] = field(default_factory=dict)  # key: lower-case name
    issues: dict[int, IssueRec] = field(default_factory=dict)
    pulls: dict[int, PullRec] = field(default_factory=dict)
    comments: dict[int, CommentRec] = field(default_factory=dict)
    reviews: dict[int, ReviewRec] = field(default_factory=dict)
    review_comments: dict[int, ReviewCommentRec] = field(default_factory=dict)
    collaborators: dict[str, str] = field(default_factory=dict)  # login -> role name
    next_number: int = 1

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class ProjectField:
    id: str
    name: str
    options: list[tuple[str, str]] = field(default_factory=list)  # (option id, name)


@dataclass
class ProjectItem:
    id: str
    content_id: str  # node id of the issue or PR ("I_…", "PR_…")
    values: dict[str, str] = field(default_factory=dict)  # field id -> option id


@dataclass
class Project:
    """A Projects V2 board (GraphQL only, as on GitHub)."""

    id: str
    number: int
    title: str
    owner: str
    fields: list[ProjectField] = field(default_factory=list)
    items: dict[str, ProjectItem] = field(default_factory=dict)
    closed: bool = False


@dataclass
class App:
    """A GitHub App installed on some repositories (one installation)."""

    id: int
    slug: str
    public_key: str  # PEM
    installation_id: int
    repos: set[str] = field(default_factory=set)  # lower-case owner/name
    tokens: dict[str, float] = field(default_factory=dict)  # installation token -> expiry

    @property
    def bot_login(self) -> str:
        return f"{self.slug}[bot]"


@dataclass(frozen=True)
class Request:
    """One request as the emulator saw it (paths without the /api/v3 prefix)."""

    method: str
    path: str
    query: dict[str, str]
    operation: str | None
    status: int
    login: str | None
    body: Any = None
    token: str = ""  # the credential the request carried ("" for none)


@dataclass
class Fault:
    kind: str  # primary | secondary | error | latency
    remaining: int | None  # requests left to affect (None: until `until`)
    until: float | None = None  # epoch seconds
    status: int = 403
    retry_after: int | None = None
    reset: int = 0
    delay: float = 0.0
    method: str | None = None
    path: str | None = None  # fnmatch pattern against the logged path

    def matches(self, method: str, path: str) -> bool:
        if self.until is not None and time.time() >= self.until:
            return False
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.method and self.method.upper() != method:
            return False
        return not (self.path and not fnmatch.fnmatchcase(path, self.path))


ROLE_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
    "none": "none",
}


class Emulator(ReviewRoutes):
    """In-memory GitHub. Every public method is safe to call from tests while gh runs."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.host = ""  # set by serve(): "127.0.0.1:PORT"
        self.cert_path: Path | None = None
        self.reset()

    # ----------------------------------------------------------------- state control

    def reset(self) -> None:
        """Forget everything; recreate the default repo and its admin user."""
        with self.lock:
            self._ids = 1000
            self._now = datetime.now(UTC).replace(microsecond=0)
            self.users: dict[str, User] = {}
            self.tokens: dict[str, str] = {}
            self.repos: dict[str, Repo] = {}
            self.requests: list[Request] = []
            self.faults: list[Fault] = []
            self.projects: dict[str, Project] = {}
            self.graphql_points = 0  # rate-limit score of every GraphQL query so far
            self.apps: dict[int, App] = {}
            self.add_user(DEFAULT_LOGIN, token=DEFAULT_TOKEN)
            self.create_repo(DEFAULT_REPO)
            self.token = DEFAULT_TOKEN

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def now(self) -> datetime:
        with self.lock:
            return self._now

    def _tick(self) -> datetime:
        """The time of a change: strictly after the previous one, never behind real time."""
        real = datetime.now(UTC).replace(microsecond=0)
        self._now = max(self._now + timedelta(seconds=1), real)
        return self._now

    def advance(self, seconds: float) -> datetime:
        """Move the emulator's clock forward (timestamps of later changes)."""
        with self.lock:
            self._now += timedelta(seconds=seconds)
            return self._now

    def add_user(
        self,
        login: str,
        *,
        type: str = "User",
        token: str | None = None,
        permission: str | None = None,
        repo: str = DEFAULT_REPO,
    ) -> str:
        """Create a user (or bot with type="Bot"); return its token. `permission` makes it a
        collaborator of `repo` with that role (admin|maintain|write|triage|read|none)."""
        with self.lock:
            if login not in self.users:
                self.users[login] = User(login, self._next_id(), type)
            token = token or f"token-{login}"
            self.tokens[token] = login
            if permission is not None:
                self.set_permission(login, permission, repo=repo)
            return token

    def add_app(
        self,
        app_id: int,
        slug: str,
        public_key: str,
        *,
        installation_id: int = 4242,
        repo: str | None = DEFAULT_REPO,
        permission: str = "write",
    ) -> App:
        """Register a GitHub App (its PEM public key verifies JWTs) installed on `repo`
        (None: installed nowhere); its bot `<slug>[bot]` gets `permission` there."""
        with self.lock:
            app = App(app_id, slug, public_key, installation_id)
            self.apps[app_id] = app
            self.users.setdefault(app.bot_login, User(app.bot_login, self._next_id(), "Bot"))
            if repo is not None:
                app.repos.add(repo.lower())
                self.set_permission(app.bot_login, permission, repo=repo)
            return app

    def expire_app_tokens(self) -> None:
        """Make every installation token minted so far expire now."""
        with self.lock:
            for app in self.apps.values():
                for token in app.tokens:
                    app.tokens[token] = 0.0

    def set_permission(self, login: str, role: str, *, repo: str = DEFAULT_REPO) -> None:
        with self.lock:
            if login not in self.users:
                self.add_user(login)
            self.repo(repo).collaborators[login] = role

    def create_repo(
        self,
        full_name: str,
        *,
        default_branch: str = "main",
        origin: Path | None = None,
        admin: str = DEFAULT_LOGIN,
    ) -> Repo:
        with self.lock:
            owner, name = full_name.split("/", 1)
            repo = Repo(owner, name, self._next_id(), default_branch, origin)
            repo.collaborators[admin] = "admin"
            self.repos[full_name.lower()] = repo
            return repo

    def repo(self, full_name: str = DEFAULT_REPO) -> Repo:
        try:
            return self.repos[full_name.lower()]
        except KeyError:
            raise KeyError(f"emulator has no repository {full_name}") from None

    def set_origin(self, origin: Path, repo: str = DEFAULT_REPO) -> None:
        """Read PR head SHAs from this bare repository (git rev-parse)."""
        with self.lock:
            self.repo(repo).origin = Path(origin)

    def add_label(
        self, name: str, color: str = "ededed", description: str = "", repo: str = DEFAULT_REPO
    ) -> JsonDict:
        with self.lock:
            r = self.repo(repo)
            label = r.labels.get(name.lower()) or self._create_label(r, name, color, description)
            return self._label_json(r, label)

    def add_issue(
        self,
        title: str,
        body: str = "",
        labels: list[str] | tuple[str, ...] = (),
        *,
        user: str = DEFAULT_LOGIN,
        state: str = "open",
        repo: str = DEFAULT_REPO,
    ) -> JsonDict:
        """Create an issue as `user` (labels created if missing); return its REST JSON."""
        with self.lock:
            r = self.repo(repo)
            self._ensure_user(user)
            issue = self._new_issue(r, title, body, list(labels), user)
            if state == "closed":
                self._close(issue, "completed")
            return self._issue_json(r, issue)

    def add_issues(
        self,
        count: int,
        labels: list[str] | tuple[str, ...] = (),
        *,
        title: str = "task",
        body: str = "",
        user: str = DEFAULT_LOGIN,
        repo: str = DEFAULT_REPO,
    ) -> list[int]:
        """Seed `count` open issues at once (one timestamp, no API request); their numbers.

        For scale tests and the bench: a thousand issues take milliseconds, and the clock
        moves one second, not a thousand."""
        with self.lock:
            r = self.repo(repo)
            self._ensure_user(user)
            names = self._label_names(r, list(labels))
            now = self._tick()
            numbers = []
            for _ in range(count):
                number = r.next_number
                r.issues[number] = IssueRec(
                    self._next_id(), number, f"{title} {number}", body, user, list(names), now, now
                )
                r.next_number += 1
                numbers.append(number)
            return numbers

    def add_comment(
        self, number: int, body: str, *, user: str = DEFAULT_LOGIN, repo: str = DEFAULT_REPO
    ) -> JsonDict:
        with self.lock:
            r = self.repo(repo)
            self._ensure_user(user)
            issue = self._issue(r, number, any_kind=True)  # a PR's conversation too
            comment = self._new_comment(r, issue, body, user)
            return self._comment_json(r, comment)

    def add_pr(
        self,
        head: str,
        title: str = "PR",
        body: str = "",
        *,
        base: str | None = None,
        user: str = DEFAULT_LOGIN,
        repo: str = DEFAULT_REPO,
    ) -> JsonDict:
        with self.lock:
            r = self.repo(repo)
            self._ensure_user(user)
            return self._pull_json(
                r, self._new_pull(r, head, base or r.default_branch, title, body, user)
            )

    def add_review(
        self,
        number: int,
        event: str = "COMMENT",
        body: str = "",
        comments: list[JsonDict] | None = None,
        *,
        user: str = DEFAULT_LOGIN,
        repo: str = DEFAULT_REPO,
    ) -> JsonDict:
        """Submit a review as `user` (event APPROVE | REQUEST_CHANGES | COMMENT); each of
        `comments` is {path, line, body}. Same rules as POST pulls/{n}/reviews."""
        with self.lock:
            r = self.repo(repo)
            self._ensure_user(user)
            payload = {"event": event, "body": body, "comments": comments or []}
            return self._review_json(r, self._submit_review(r, number, user, payload))

    def reviews(self, number: int, repo: str = DEFAULT_REPO) -> list[JsonDict]:
        with self.lock:
            r = self.repo(repo)
            found = sorted((v for v in r.reviews.values() if v.pull == number), key=lambda v: v.id)
            return [self._review_json(r, v) for v in found]

    def review_comments(self, number: int, repo: str = DEFAULT_REPO) -> list[JsonDict]:
        with self.lock:
            r = self.repo(repo)
            found = sorted(
                (c for c in r.review_comments.values() if c.pull == number), key=lambda c: c.id
            )
            return [self._review_comment_json(r, c) for c in found]

    def merge_pr(self, number: int, repo: str = DEFAULT_REPO) -> None:
        with self.lock:
            r = self.repo(repo)
            self._merge(r, number)

    def close_pr(self, number: int, repo: str = DEFAULT_REPO) -> None:
        with self.lock:
            r = self.repo(repo)
            self._close(self._issue(r, number, pr=True), None)

    def close_issue(self, number: int, reason: str = "completed", repo: str = DEFAULT_REPO) -> None:
        with self.lock:
            self._close(self._issue(self.repo(repo), number), reason)

    def set_labels(
        self,
        number: int,
        labels: list[str],
        repo: str = DEFAULT_REPO,
        *,
        user: str = DEFAULT_LOGIN,
    ) -> None:
        """Replace the labels as `user` would in the web UI (recorded as label events)."""
        with self.lock:
            r = self.repo(repo)
            self._ensure_user(user)
            issue = self._issue(r, number, any_kind=True)
            self._relabel(r, issue, labels, user)

    # readers (REST-shaped JSON)
    def issue(self, number: int, repo: str = DEFAULT_REPO) -> JsonDict:
        with self.lock:
            r = self.repo(repo)
            return self._issue_json(r, self._issue(r, number, any_kind=True))

    def issues(self, repo: str = DEFAULT_REPO) -> list[JsonDict]:
        """Every issue (not PRs), oldest first."""
        with self.lock:
            r = self.repo(repo)
            return [self._issue_json(r, i) for i in r.issues.values() if not i.is_pr]

    def labels_of(self, number: int, repo: str = DEFAULT_REPO) -> list[str]:
        with self.lock:
            return sorted(self._issue(self.repo(repo), number, any_kind=True).labels)

    def label_names(self, repo: str = DEFAULT_REPO) -> list[str]:
        with self.lock:
            return sorted(label.name for label in self.repo(repo).labels.values())

    def comments(self, number: int, repo: str = DEFAULT_REPO) -> list[JsonDict]:
        with self.lock:
            r = self.repo(repo)
            return [self._comment_json(r, c) for c in r.comments.values() if c.issue == number]

    def pulls(self, repo: str = DEFAULT_REPO) -> list[JsonDict]:
        with self.lock:
            r = self.repo(repo)
            return [self._pull_json(r, p) for p in r.pulls.values()]

    def pull(self, number: int, repo: str = DEFAULT_REPO) -> JsonDict:
        with self.lock:
            r = self.repo(repo)
            return self._pull_json(r, self._pull(r, number))

    def reactions(self, comment_id: int, repo: str = DEFAULT_REPO) -> list[tuple[str, str]]:
        with self.lock:
            return list(self.repo(repo).comments[comment_id].reactions)

    # projects V2
    def add_project(
        self,
        title: str = "Board",
        *,
        owner: str = "acme",
        statuses: tuple[str, ...] = ("Todo", "In Progress", "In Review", "Done"),
    ) -> JsonDict:
        """A Projects V2 board with a single-select "Status" field; returns its ids:
        {"id", "number", "status_field_id", "options": {status name: option id}}."""
        with self.lock:
            number = len(self.projects) + 1
            project = Project(f"PVT_{self._next_id()}", number, title, owner)
            project.fields.append(ProjectField(f"PVTF_{self._next_id()}", "Title"))
            status = ProjectField(
                f"PVTSSF_{self._next_id()}",
                "Status",
                [(f"opt_{self._next_id()}", name) for name in statuses],
            )
            project.fields.append(status)
            self.projects[project.id] = project
            return {
                "id": project.id,
                "number": number,
                "status_field_id": status.id,
                "options": {name: ident for ident, name in status.options},
            }

    def project_items(self, project_id: str, repo: str = DEFAULT_REPO) -> list[JsonDict]:
        """The board's items: [{"number": issue or PR number, "status": name or None}]."""
        with self.lock:
            project = self.projects[project_id]
            r = self.repo(repo)
            by_node = {f"{'PR_' if i.is_pr else 'I_'}{i.id}": i for i in r.issues.values()}
            out = []
            for item in project.items.values():
                issue = by_node.get(item.content_id)
                status = None
                for fld in project.fields:
                    chosen = item.values.get(fld.id)
                    if fld.name == "Status" and chosen:
                        status = dict(fld.options).get(chosen)
                out.append({"number": issue.number if issue else None, "status": status})
            return out

    # ----------------------------------------------------------------- request log

    def reset_log(self) -> None:
        """Forget the requests seen so far (and the GraphQL points they cost)."""
        with self.lock:
            self.requests.clear()
            self.graphql_points = 0

    def count(
        self,
        method: str | None = None,
        path: str | None = None,
        operation: str | None = None,
        *,
        status: int | None = None,
    ) -> int:
        """Requests matching all given filters; `path` is an fnmatch pattern such as
        "/repos/acme/widgets/issues*" (paths are logged without /api/v3, GraphQL as
        "/graphql" with its operation name)."""
        with self.lock:
            return len(self.matching(method, path, operation, status=status))

    def matching(
        self,
        method: str | None = None,
        path: str | None = None,
        operation: str | None = None,
        *,
        status: int | None = None,
    ) -> list[Request]:
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method.upper())
                and (path is None or fnmatch.fnmatchcase(r.path, path))
                and (operation is None or r.operation == operation)
                and (status is None or r.status == status)
            ]

    def log_lines(self) -> list[str]:
        """The log as readable lines, e.g. for assertion messages."""
        with self.lock:
            return [
                f"{r.method} {r.path}{'?' + urlencode(r.query) if r.query else ''}"
                f"{' ' + r.operation if r.operation else ''} -> {r.status}"
                for r in self.requests
            ]

    # ----------------------------------------------------------------- faults

    def rate_limit(
        self,
        requests: int | None = 1,
        *,
        reset_in: float = 60,
        until: float | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> int:
        """Primary rate limit for the next `requests` requests (None: every request until
        `until`, epoch seconds). REST: 403 + X-RateLimit-Remaining: 0; GraphQL: 200 with
        errors[type=RATE_LIMITED]. Returns the X-RateLimit-Reset epoch it announces."""
        with self.lock:
            reset = int(until if until is not None else time.time() + reset_in)
            if requests is None and until is None:
                until = reset
            self.faults.append(
                Fault("primary", requests, until, reset=reset, method=method, path=path)
            )
            return reset

    def secondary_rate_limit(
        self,
        requests: int | None = 1,
        *,
        retry_after: int | None = 60,
        status: int = 403,
        until: float | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        with self.lock:
            self.faults.append(
                Fault(
                    "secondary",
                    requests,
                    until,
                    status=status,
                    retry_after=retry_after,
                    method=method,
                    path=path,
                )
            )

    def server_error(
        self,
        requests: int | None = 1,
        *,
        status: int = 502,
        until: float | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        with self.lock:
            self.faults.append(
                Fault("error", requests, until, status=status, method=method, path=path)
            )

    def latency(
        self,
        seconds: float,
        requests: int | None = None,
        *,
        until: float | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        with self.lock:
            self.faults.append(
                Fault("latency", requests, until, delay=seconds, method=method, path=path)
            )

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    # ----------------------------------------------------------------- HTTP entry point

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], raw_body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one HTTP request: (status, headers, body)."""
        split = urlsplit(raw_path)
        path = split.path
        if path.startswith("/api/v3"):
            path = path[len("/api/v3") :] or "/"
        elif path == "/api/graphql":
            path = "/graphql"
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        body: Any = None
        if raw_body:
            try:
                body = json.loads(raw_body)
            except ValueError:
                body = None
        operation = graphql.operation_name(body) if path == "/graphql" else None
        login = self._login(headers)
        token = _credential(headers)[1]

        delay = 0.0
        with self.lock:
            for fault in self.faults:
                if fault.kind == "latency" and fault.matches(method, path):
                    delay += fault.delay
                    if fault.remaining is not None:
                        fault.remaining -= 1
        if delay:
            time.sleep(delay)

        with self.lock:
            if _is_app_route(path):
                status, out_headers, payload = self._app_answer(method, path, headers)
            else:
                status, out_headers, payload = self._answer(
                    method, path, query, headers, body, login
                )
            self.requests.append(
                Request(method, path, query, operation, status, login, body, token)
            )
            out_headers.setdefault("Content-Type", "application/json; charset=utf-8")
            out_headers.update(self._rate_headers(status, out_headers, path))
            out_headers["X-GitHub-Request-Id"] = f"EMU:{len(self.requests)}"
            data = b"" if payload is None else json.dumps(payload).encode()
            return status, out_headers, data

    def _login(self, headers: dict[str, str]) -> str | None:
        scheme, token = _credential(headers)
        if scheme in ("token", "bearer"):
            for app in self.apps.values():
                if token in app.tokens and app.tokens[token] <= time.time():
                    return ""  # an expired installation token
            return self.tokens.get(token, "")  # "" = a token we do not know
        return None

    # ----------------------------------------------------------------- GitHub Apps

    def _app_answer(
        self, method: str, path: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], Any]:
        """`GET /app`, `GET /repos/{o}/{r}/installation`, `POST /app/installations/{id}/
        access_tokens`: JWT (RS256, Bearer) only, as on GitHub."""
        try:
            app = self._jwt_app(headers)
            parts = path.strip("/").split("/")
            if parts == ["app"] and method == "GET":
                return 200, {}, {"id": app.id, "slug": app.slug, "name": app.slug}
            if len(parts) == 4 and parts[0] == "repos" and method == "GET":
                if f"{parts[1]}/{parts[2]}".lower() not in app.repos:
                    raise HttpError(404, "Not Found")
                return (
                    200,
                    {},
                    {
                        "id": app.installation_id,
                        "app_id": app.id,
                        "app_slug": app.slug,
                        "account": {"login": parts[1]},
                    },
                )
            if (
                len(parts) == 4
                and parts[1] == "installations"
                and parts[3] == "access_tokens"
                and method == "POST"
            ):
                if parts[2] != str(app.installation_id):
                    raise HttpError(404, "Not Found")
                return 201, {}, self._mint(app)
            raise HttpError(404, "Not Found")
        except HttpError as exc:
            return exc.status, dict(exc.headers), exc.body

    def _jwt_app(self, headers: dict[str, str]) -> App:
        scheme, token = _credential(headers)
        if scheme != "bearer" or token.count(".") != 2:
            raise HttpError(401, "A JSON web token could not be decoded")
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
            app = self.apps[int(issuer)]
            claims = jwt.decode(
                token,
                app.public_key,
                algorithms=["RS256"],
                options={"require": ["iat", "exp", "iss"]},
                leeway=0,
            )
        except (jwt.PyJWTError, KeyError, TypeError, ValueError):
            raise HttpError(401, "A JSON web token could not be decoded") from None
        if int(claims["exp"]) - int(claims["iat"]) > 660 or int(claims["iat"]) > time.time() + 60:
            raise HttpError(401, "'Expiration time' claim ('exp') is too far in the future")
        return app

    def _mint(self, app: App) -> JsonDict:
        token = (
            "ghs_"
            + hashlib.sha1(f"{app.id}:{len(app.tokens)}:{time.time()}".encode()).hexdigest()[:36]
        )
        expires = time.time() + 3600
        app.tokens[token] = expires
        self.tokens[token] = app.bot_login
        when = datetime.fromtimestamp(int(expires), UTC)
        return {
            "token": token,
            "expires_at": iso(when),
            "permissions": {"issues": "write"},
            "repository_selection": "selected",
        }

    def _rate_headers(self, status: int, headers: dict[str, str], path: str) -> dict[str, str]:
        if "X-RateLimit-Remaining" in headers:
            return {}
        used = len(self.requests)
        return {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(max(RATE_LIMIT - used, 0)),
            "X-RateLimit-Reset": str(int(time.time()) + 3600),
            "X-RateLimit-Used": str(used),
            "X-RateLimit-Resource": "graphql" if path == "/graphql" else "core",
        }

    def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: Any,
        login: str | None,
    ) -> tuple[int, dict[str, str], Any]:
        try:
            if login is None:
                raise HttpError(401, "Requires authentication")
            if login == "":
                raise HttpError(401, "Bad credentials")
            fault = self._take_fault(method, path)
            if fault is not None:
                return self._fault_answer(fault, path)
            if path == "/graphql":
                if method != "POST":
                    raise HttpError(404, "Not Found")
                return 200, {}, graphql.execute(self, body, login)
            status, out_headers, payload = self._route(method, path, query, body, login)
            if method == "GET" and status == 200:
                etag = 'W/"' + hashlib.sha1(json.dumps(payload).encode()).hexdigest() + '"'
                out_headers["ETag"] = etag
                if headers.get("if-none-match") == etag:
                    return 304, out_headers, None
            return status, out_headers, payload
        except HttpError as exc:
            return exc.status, dict(exc.headers), exc.body

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.kind != "latency" and fault.matches(method, path):
                if path == "/rate_limit" and fault.kind == "primary":
                    continue  # GitHub answers /rate_limit even when limited
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault
        return None

    def _fault_answer(self, fault: Fault, path: str) -> tuple[int, dict[str, str], Any]:
        if fault.kind == "primary":
            headers = {
                "X-RateLimit-Limit": str(RATE_LIMIT),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(fault.reset),
                "X-RateLimit-Used": str(RATE_LIMIT),
                "X-RateLimit-Resource": "graphql" if path == "/graphql" else "core",
            }
            login_id = 1
            if path == "/graphql":
                return (
                    200,
                    headers,
                    {
                        "errors": [
                            {
                                "type": "RATE_LIMITED",
                                "message": f"API rate limit exceeded for user ID {login_id}.",
                            }
                        ]
                    },
                )
            return (
                403,
                headers,
                {
                    "message": f"API rate limit exceeded for user ID {login_id}.",
                    "documentation_url": DOCS + "/overview/resources-in-the-rest-api#rate-limiting",
                },
            )
        if fault.kind == "secondary":
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            return (
                fault.status,
                headers,
                {
                    "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                    "before you try again. If you reach out to GitHub Support for help, "
                    "please include the request ID EMU.",
                    "documentation_url": DOCS + "/overview/rate-limits-for-the-rest-api",
                },
            )
        return fault.status, {}, {"message": "Server Error"}

    # ----------------------------------------------------------------- REST routing

    def _route(
        self, method: str, path: str, query: dict[str, str], body: Any, login: str
    ) -> tuple[int, dict[str, str], Any]:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts == ["user"] and method == "GET":
            if any(app.bot_login == login for app in self.apps.values()):
                # An installation token is not a user: GitHub answers 403 here.
                raise HttpError(403, "Resource not accessible by integration")
            return 200, {}, self._user_json(login)
        if parts == ["rate_limit"] and method == "GET":
            return 200, {}, self._rate_limit_json()
        if len(parts) == 2 and parts[0] == "users" and method == "GET":
            if parts[1] not in self.users:
                raise HttpError(404, "Not Found")
            return 200, {}, self._user_json(parts[1])
        if len(parts) < 3 or parts[0] != "repos":
            raise HttpError(404, "Not Found")
        repo = self.repos.get(f"{parts[1]}/{parts[2]}".lower())
        if repo is None or not self._can_read(repo, login):
            raise HttpError(404, "Not Found")
        rest = parts[3:]
        body = body if isinstance(body, dict) else {}
        for pattern, verb, handler in self._routes:
            if verb != method or len(pattern) != len(rest):
                continue
            args: list[str] = []
            for want, got in zip(pattern, rest, strict=True):
                if want == "*":
                    args.append(got)
                elif want != got:
                    break
            else:
                writes = method != "GET"
                open_to_all = self._open_to_anyone(repo, handler, args, login)
                if writes and not open_to_all and not self._can_write(repo, login):
                    raise HttpError(403, "Resource not accessible by personal access token")
                return handler(self, repo, args, query, body, login)
        raise HttpError(404, "Not Found")

    def _can_read(self, repo: Repo, login: str) -> bool:
        return True  # public repositories

    def _open_to_anyone(
        self, repo: Repo, handler: Callable[..., Any], args: list[str], login: str
    ) -> bool:
        """On a public repository anyone signed in opens issues, comments and reacts,
        reviews pull requests and comments on their diff, and edits or deletes their own
        comments (as on GitHub)."""
        if handler in (
            Emulator._create_issue,
            Emulator._create_comment,
            Emulator._react,
            ReviewRoutes._create_review,
            ReviewRoutes._create_pull_comment,
        ):
            return True
        if handler in (Emulator._update_comment, Emulator._delete_comment):
            comment = repo.comments.get(_int(args[0]))
            return comment is not None and comment.user == login
        return False

    def _can_write(self, repo: Repo, login: str) -> bool:
        return repo.collaborators.get(login, "none") in ("admin", "maintain", "write", "triage")

    # repository
    def _get_repo(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        return 200, {}, self._repo_json(repo, login)

    def _get_permission(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        user = args[0]
        role = repo.collaborators.get(user)
        if user not in self.users or role is None:
            raise HttpError(404, f"{user} is not a user")
        return (
            200,
            {},
            {
                "permission": ROLE_PERMISSION[role],
                "role_name": role,
                "user": {**self.users[user].json(), "permissions": self._perms(role)},
            },
        )

    # labels
    def _list_labels(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        items = [self._label_json(repo, label) for label in repo.labels.values()]
        return self._page(repo, f"/repos/{repo.full_name}/labels", items, query)

    def _create_label_route(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        name = str(body.get("name") or "")
        if not name:
            raise validation_failed("Label", "missing_field", "name")
        if name.lower() in repo.labels:
            raise validation_failed("Label", "already_exists", "name")
        color = str(body.get("color") or "ededed").lstrip("#")
        label = self._create_label(repo, name, color, str(body.get("description") or ""))
        return 201, {}, self._label_json(repo, label)

    def _get_label(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        return 200, {}, self._label_json(repo, self._label(repo, args[0]))

    def _update_label(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        label = self._label(repo, args[0])
        new_name = body.get("new_name")
        if new_name and new_name != label.name:
            if new_name.lower() in repo.labels and new_name.lower() != label.name.lower():
                raise validation_failed("Label", "already_exists", "name")
            del repo.labels[label.name.lower()]
            for issue in repo.issues.values():
                issue.labels = [new_name if n == label.name else n for n in issue.labels]
            label.name = str(new_name)
            repo.labels[label.name.lower()] = label
        if "color" in body:
            label.color = str(body["color"]).lstrip("#")
        if "description" in body:
            label.description = str(body["description"] or "")
        return 200, {}, self._label_json(repo, label)

    def _delete_label(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        label = self._label(repo, args[0])
        del repo.labels[label.name.lower()]
        for issue in repo.issues.values():
            if label.name in issue.labels:
                issue.labels.remove(label.name)
        return 204, {}, None

    # issues
    def _list_issues(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        state = query.get("state", "open")
        if state not in ("open", "closed", "all"):
            raise validation_failed("Issue", "invalid", "state")
        wanted = [n.strip().lower() for n in query.get("labels", "").split(",") if n.strip()]
        creator = query.get("creator")
        since = parse_time(query["since"]) if query.get("since") else None
        items = []
        for issue in repo.issues.values():
            if state != "all" and issue.state != state:
                continue
            have = {n.lower() for n in issue.labels}
            if any(w not in have for w in wanted):
                continue
            if creator and issue.user.lower() != creator.lower():
                continue
            if since and issue.updated_at < since:
                continue
            items.append(issue)
        sort = query.get("sort", "created")
        key: Callable[[IssueRec], Any] = {
            "created": lambda i: (i.created_at, i.number),
            "updated": lambda i: (i.updated_at, i.number),
            "comments": lambda i: (self._comment_count(repo, i.number), i.number),
        }.get(sort, lambda i: (i.created_at, i.number))
        items.sort(key=key, reverse=query.get("direction", "desc") != "asc")
        return self._page(
            repo,
            f"/repos/{repo.full_name}/issues",
            [self._issue_json(repo, i) for i in items],
            query,
        )

    def _create_issue(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        title = body.get("title")
        if not title:
            raise validation_failed("Issue", "missing_field", "title")
        labels = [str(n) for n in body.get("labels") or []]
        if not self._can_write(repo, login):
            labels = []  # GitHub drops labels a user without triage rights sends, silently
        issue = self._new_issue(repo, str(title), str(body.get("body") or ""), labels, login)
        return (
            201,
            {"Location": self._api(repo, f"issues/{issue.number}")},
            self._issue_json(repo, issue),
        )

    def _get_issue(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        return 200, {}, self._issue_json(repo, self._issue(repo, _int(args[0]), any_kind=True))

    def _update_issue(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        issue = self._issue(repo, _int(args[0]), any_kind=True)
        if "title" in body:
            if not body["title"]:
                raise validation_failed("Issue", "missing_field", "title")
            issue.title = str(body["title"])
        if "body" in body:
            issue.body = str(body["body"] or "")
        if "labels" in body:
            self._relabel(repo, issue, [str(n) for n in body["labels"] or []], login)
        state = body.get("state")
        if state == "closed" and issue.state != "closed":
            self._close(issue, body.get("state_reason") or "completed")
        elif state == "open" and issue.state != "open":
            issue.state, issue.closed_at = "open", None
            issue.state_reason = "reopened"
        elif state not in (None, "open", "closed"):
            raise validation_failed("Issue", "invalid", "state")
        issue.updated_at = self._tick()
        return 200, {}, self._issue_json(repo, issue)

    def _put_labels(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        issue = self._issue(repo, _int(args[0]), any_kind=True)
        self._relabel(repo, issue, _label_arg(body), login)
        return 200, {}, [self._label_json(repo, repo.labels[n.lower()]) for n in issue.labels]

    def _add_labels(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        issue = self._issue(repo, _int(args[0]), any_kind=True)
        self._relabel(repo, issue, [*issue.labels, *_label_arg(body)], login)
        return 200, {}, [self._label_json(repo, repo.labels[n.lower()]) for n in issue.labels]

    def _remove_label(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        issue = self._issue(repo, _int(args[0]), any_kind=True)
        kept = [n for n in issue.labels if n.lower() != args[1].lower()]
        if len(kept) == len(issue.labels):
            raise HttpError(404, "Label does not exist")
        self._relabel(repo, issue, kept, login)
        return 200, {}, [self._label_json(repo, repo.labels[n.lower()]) for n in issue.labels]

    def _list_events(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        number = _int(args[0])
        issue = self._issue(repo, number, any_kind=True)
        items = [
            {
                "id": number * 1000 + index,
                "node_id": f"LE_{number}_{index}",
                "url": self._api(repo, f"issues/events/{number * 1000 + index}"),
                "actor": self._user_json(actor),
                "event": event,
                "commit_id": None,
                "commit_url": None,
                "created_at": iso(when),
                "label": {"name": name, "color": self._label(repo, name).color},
                "performed_via_github_app": None,
            }
            for index, (event, name, actor, when) in enumerate(issue.events)
        ]
        return self._page(repo, f"/repos/{repo.full_name}/issues/{number}/events", items, query)

    # comments
    def _list_comments(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        number = _int(args[0])
        self._issue(repo, number, any_kind=True)
        since = parse_time(query["since"]) if query.get("since") else None
        items = [
            self._comment_json(repo, c)
            for c in repo.comments.values()
            if c.issue == number and (since is None or c.updated_at >= since)
        ]
        return self._page(repo, f"/repos/{repo.full_name}/issues/{number}/comments", items, query)

    def _create_comment(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        issue = self._issue(repo, _int(args[0]), any_kind=True)
        text = body.get("body")
        if not text:
            raise validation_failed("IssueComment", "missing_field", "body")
        comment = self._new_comment(repo, issue, str(text), login)
        return 201, {}, self._comment_json(repo, comment)

    def _get_comment(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        return 200, {}, self._comment_json(repo, self._comment(repo, args[0]))

    def _update_comment(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        comment = self._comment(repo, args[0])
        if not body.get("body"):
            raise validation_failed("IssueComment", "missing_field", "body")
        comment.body = str(body["body"])
        comment.updated_at = self._tick()
        repo.issues[comment.issue].updated_at = comment.updated_at
        return 200, {}, self._comment_json(repo, comment)

    def _delete_comment(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        comment = self._comment(repo, args[0])
        del repo.comments[comment.id]
        repo.issues[comment.issue].updated_at = self._tick()
        return 204, {}, None

    def _react(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        comment = self._comment(repo, args[0])
        content = str(body.get("content") or "")
        if content not in ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"):
            raise validation_failed("Reaction", "invalid", "content")
        status = 200 if (login, content) in comment.reactions else 201
        if status == 201:
            comment.reactions.append((login, content))
        return (
            status,
            {},
            {
                "id": comment.id * 10 + len(comment.reactions),
                "node_id": f"REA_{comment.id}",
                "user": self.users[login].json(),
                "content": content,
                "created_at": iso(self._now),
            },
        )

    # pulls
    def _list_pulls(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        state = query.get("state", "open")
        head = query.get("head")
        base = query.get("base")
        items = []
        for pull in repo.pulls.values():
            issue = repo.issues[pull.number]
            if state != "all" and issue.state != state:
                continue
            if head:
                owner, _, branch = head.rpartition(":")
                if branch != pull.head or (owner and owner.lower() != repo.owner.lower()):
                    continue
            if base and pull.base != base:
                continue
            items.append(pull)
        items.sort(key=lambda p: p.number, reverse=query.get("direction", "desc") != "asc")
        return self._page(
            repo, f"/repos/{repo.full_name}/pulls", [self._pull_json(repo, p) for p in items], query
        )

    def _create_pull(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        for key in ("head", "base"):
            if not body.get(key):
                raise validation_failed("PullRequest", "missing_field", key)
        if not body.get("title"):
            raise validation_failed("PullRequest", "missing_field", "title")
        head = str(body["head"]).rpartition(":")[2]
        base = str(body["base"])
        for pull in repo.pulls.values():
            if pull.head == head and pull.base == base and repo.issues[pull.number].state == "open":
                raise validation_failed(
                    "PullRequest",
                    "custom",
                    message=f"A pull request already exists for {repo.owner}:{head}.",
                )
        if repo.origin is not None and self._branch_sha(repo, head) is None:
            raise validation_failed("PullRequest", "invalid", "head")
        pull = self._new_pull(
            repo,
            head,
            base,
            str(body["title"]),
            str(body.get("body") or ""),
            login,
            bool(body.get("draft")),
        )
        return 201, {}, self._pull_json(repo, pull)

    def _get_pull(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        return 200, {}, self._pull_json(repo, self._pull(repo, _int(args[0])))

    def _update_pull(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        pull = self._pull(repo, _int(args[0]))
        issue = repo.issues[pull.number]
        if body.get("title"):
            issue.title = str(body["title"])
        if "body" in body:
            issue.body = str(body["body"] or "")
        if body.get("base"):
            pull.base = str(body["base"])
        if body.get("state") == "closed" and issue.state == "open":
            self._close(issue, None)
        elif body.get("state") == "open" and issue.state == "closed" and not pull.merged_at:
            issue.state, issue.closed_at = "open", None
        issue.updated_at = self._tick()
        return 200, {}, self._pull_json(repo, pull)

    def _merge_route(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        number = _int(args[0])
        pull = self._pull(repo, number)
        if body.get("merge_method", "merge") not in ("merge", "squash", "rebase"):
            raise validation_failed("PullRequest", "invalid", "merge_method")
        if repo.issues[number].state != "open":
            raise HttpError(405, "Pull Request is not mergeable")
        self._merge(repo, number)
        return (
            200,
            {},
            {
                "sha": pull.merge_commit_sha,
                "merged": True,
                "message": "Pull Request successfully merged",
            },
        )

    def _merged_route(
        self, repo: Repo, args: list[str], query: dict[str, str], body: JsonDict, login: str
    ) -> tuple[int, dict[str, str], Any]:
        if self._pull(repo, _int(args[0])).merged_at is None:
            raise HttpError(404, "Not Found")
        return 204, {}, None

    _routes: ClassVar[
        list[tuple[list[str], str, Callable[..., tuple[int, dict[str, str], Any]]]]
    ] = [
        ([], "GET", _get_repo),
        (["collaborators", "*", "permission"], "GET", _get_permission),
        (["labels"], "GET", _list_labels),
        (["labels"], "POST", _create_label_route),
        (["labels", "*"], "GET", _get_label),
        (["labels", "*"], "PATCH", _update_label),
        (["labels", "*"], "DELETE", _delete_label),
        (["issues"], "GET", _list_issues),
        (["issues"], "POST", _create_issue),
        (["issues", "comments", "*"], "GET", _get_comment),
        (["issues", "comments", "*"], "PATCH", _update_comment),
        (["issues", "comments", "*"], "DELETE", _delete_comment),
        (["issues", "comments", "*", "reactions"], "POST", _react),
        (["issues", "*"], "GET", _get_issue),
        (["issues", "*"], "PATCH", _update_issue),
        (["issues", "*", "labels"], "PUT", _put_labels),
        (["issues", "*", "labels"], "POST", _add_labels),
        (["issues", "*", "labels", "*"], "DELETE", _remove_label),
        (["issues", "*", "comments"], "GET", _list_comments),
        (["issues", "*", "events"], "GET", _list_events),
        (["issues", "*", "comments"], "POST", _create_comment),
        (["pulls"], "GET", _list_pulls),
        (["pulls"], "POST", _create_pull),
        (["pulls", "*"], "GET", _get_pull),
        (["pulls", "*"], "PATCH", _update_pull),
        (["pulls", "*", "merge"], "PUT", _merge_route),
        (["pulls", "*", "merge"], "GET", _merged_route),
        (["pulls", "*", "reviews"], "GET", ReviewRoutes._list_reviews),
        (["pulls", "*", "reviews"], "POST", ReviewRoutes._create_review),
        (["pulls", "*", "reviews", "*"], "GET", ReviewRoutes._get_review),
        (["pulls", "*", "reviews", "*", "comments"], "GET", ReviewRoutes._list_review_comments_of),
        (["pulls", "*", "comments"], "GET", ReviewRoutes._list_pull_comments),
        (["pulls", "*", "comments"], "POST", ReviewRoutes._create_pull_comment),
    ]

    # ----------------------------------------------------------------- state helpers

    def _ensure_user(self, login: str) -> User:
        if login not in self.users:
            bot = login.endswith("[bot]")
            self.add_user(login, type="Bot" if bot else "User")
        return self.users[login]

    def _create_label(self, repo: Repo, name: str, color: str, description: str) -> Label:
        label = Label(self._next_id(), name, color, description)
        repo.labels[name.lower()] = label
        return label

    def _label(self, repo: Repo, name: str) -> Label:
        label = repo.labels.get(name.lower())
        if label is None:
            raise HttpError(404, "Not Found")
        return label

    def _label_names(self, repo: Repo, names: list[str]) -> list[str]:
        """Canonical names; unknown labels are created, as GitHub does."""
        out: list[str] = []
        for name in names:
            label = repo.labels.get(name.lower()) or self._create_label(repo, name, "ededed", "")
            if label.name not in out:
                out.append(label.name)
        return out

    def _new_issue(
        self,
        repo: Repo,
        title: str,
        body: str,
        labels: list[str],
        user: str,
        *,
        is_pr: bool = False,
    ) -> IssueRec:
        now = self._tick()
        issue = IssueRec(
            self._next_id(),
            repo.next_number,
            title,
            body,
            user,
            self._label_names(repo, labels),
            now,
            now,
            is_pr=is_pr,
        )
        issue.events = [("labeled", name, user, now) for name in issue.labels]
        repo.issues[issue.number] = issue
        repo.next_number += 1
        return issue

    def _relabel(self, repo: Repo, issue: IssueRec, names: list[str], actor: str) -> None:
        """Replace an issue's labels as `actor`, recording labeled/unlabeled events."""
        new = self._label_names(repo, names)
        now = self._tick()
        before = {n.lower() for n in issue.labels}
        after = {n.lower() for n in new}
        issue.events += [
            ("unlabeled", n, actor, now) for n in issue.labels if n.lower() not in after
        ]
        issue.events += [("labeled", n, actor, now) for n in new if n.lower() not in before]
        issue.labels = new
        issue.updated_at = now

    def _new_comment(self, repo: Repo, issue: IssueRec, body: str, user: str) -> CommentRec:
        now = self._tick()
        comment = CommentRec(self._next_id(), issue.number, body, user, now, now)
        repo.comments[comment.id] = comment
        issue.updated_at = now
        return comment

    def _new_pull(
        self,
        repo: Repo,
        head: str,
        base: str,
        title: str,
        body: str,
        user: str,
        draft: bool = False,
    ) -> PullRec:
        issue = self._new_issue(repo, title, body, [], user, is_pr=True)
        pull = PullRec(
            issue.number,
            head,
            base,
            draft,
            fake_sha=hashlib.sha1(f"{head}:{issue.number}".encode()).hexdigest(),
        )
        repo.pulls[issue.number] = pull
        return pull

    def _close(self, issue: IssueRec, reason: str | None) -> None:
        now = self._tick()
        issue.state, issue.state_reason, issue.closed_at, issue.updated_at = (
            "closed",
            reason,
            now,
            now,
        )

    def _merge(self, repo: Repo, number: int) -> None:
        pull = self._pull(repo, number)
        issue = repo.issues[number]
        self._close(issue, None)
        pull.merged_at = issue.closed_at
        pull.merge_commit_sha = hashlib.sha1(f"merge:{number}".encode()).hexdigest()
        # Closing keywords act only when the PR merges into the default branch.
        linked = LINK_RE.findall(issue.body or "") if pull.base == repo.default_branch else []
        for number_text in linked:
            target = repo.issues.get(int(number_text))
            if target is not None and not target.is_pr and target.state == "open":
                self._close(target, "completed")

    def _issue(
        self, repo: Repo, number: int, *, any_kind: bool = False, pr: bool = False
    ) -> IssueRec:
        issue = repo.issues.get(number)
        if issue is None or (pr and not issue.is_pr) or (not any_kind and not pr and issue.is_pr):
            raise HttpError(404, "Not Found")
        return issue

    def _pull(self, repo: Repo, number: int) -> PullRec:
        pull = repo.pulls.get(number)
        if pull is None:
            raise HttpError(404, "Not Found")
        return pull

    def _comment(self, repo: Repo, comment_id: str) -> CommentRec:
        comment = repo.comments.get(_int(comment_id))
        if comment is None:
            raise HttpError(404, "Not Found")
        return comment

    def _comment_count(self, repo: Repo, number: int) -> int:
        return sum(1 for c in repo.comments.values() if c.issue == number)

    def _branch_sha(self, repo: Repo, branch: str) -> str | None:
        if repo.origin is None:
            return None
        done = subprocess.run(
            [
                "git",
                "--git-dir",
                str(repo.origin),
                "rev-parse",
                "--verify",
                "-q",
                f"refs/heads/{branch}^{{commit}}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip() or None if done.returncode == 0 else None

    # ----------------------------------------------------------------- JSON shapes

    def _base_url(self) -> str:
        return f"https://{self.host or '127.0.0.1'}"

    def _api(self, repo: Repo, rest: str = "") -> str:
        url = f"{self._base_url()}/api/v3/repos/{repo.full_name}"
        return f"{url}/{rest}" if rest else url

    def _html(self, repo: Repo, rest: str) -> str:
        return f"{self._base_url()}/{repo.full_name}/{rest}"

    def _user_json(self, login: str) -> JsonDict:
        return self.users[login].json()

    def _perms(self, role: str) -> JsonDict:
        order = ["read", "triage", "write", "maintain", "admin"]
        level = order.index(role) if role in order else -1
        return {
            "admin": level >= 4,
            "maintain": level >= 3,
            "push": level >= 2,
            "triage": level >= 1,
            "pull": level >= 0,
        }

    def _repo_json(self, repo: Repo, login: str) -> JsonDict:
        return {
            "id": repo.id,
            "node_id": f"R_{repo.id}",
            "name": repo.name,
            "full_name": repo.full_name,
            "private": False,
            "owner": {"login": repo.owner, "id": repo.id, "type": "Organization"},
            "html_url": f"{self._base_url()}/{repo.full_name}",
            "url": self._api(repo),
            "default_branch": repo.default_branch,
            "has_issues": True,
            "archived": False,
            "visibility": "public",
            "permissions": self._perms(repo.collaborators.get(login, "read")),
        }

    def _label_json(self, repo: Repo, label: Label) -> JsonDict:
        return {
            "id": label.id,
            "node_id": f"LA_{label.id}",
            "url": self._api(repo, f"labels/{quote(label.name, safe='')}"),
            "name": label.name,
            "color": label.color,
            "default": False,
            "description": label.description or None,
        }

    def _issue_json(self, repo: Repo, issue: IssueRec) -> JsonDict:
        kind = "pull" if issue.is_pr else "issues"
        data: JsonDict = {
            "id": issue.id,
            "node_id": f"{'PR_' if issue.is_pr else 'I_'}{issue.id}",
            "url": self._api(repo, f"issues/{issue.number}"),
            "repository_url": self._api(repo),
            "labels_url": self._api(repo, f"issues/{issue.number}/labels{{/name}}"),
            "comments_url": self._api(repo, f"issues/{issue.number}/comments"),
            "html_url": self._html(repo, f"{kind}/{issue.number}"),
            "number": issue.number,
            "state": issue.state,
            "state_reason": issue.state_reason,
            "title": issue.title,
            "body": issue.body or None,
            "user": self._user_json(issue.user),
            "labels": [self._label_json(repo, repo.labels[n.lower()]) for n in issue.labels],
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "locked": False,
            "comments": self._comment_count(repo, issue.number),
            "created_at": iso(issue.created_at),
            "updated_at": iso(issue.updated_at),
            "closed_at": iso(issue.closed_at) if issue.closed_at else None,
            "author_association": self._association(repo, issue.user),
        }
        if issue.is_pr:
            pull = repo.pulls[issue.number]
            data["pull_request"] = {
                "url": self._api(repo, f"pulls/{issue.number}"),
                "html_url": self._html(repo, f"pull/{issue.number}"),
                "diff_url": self._html(repo, f"pull/{issue.number}.diff"),
                "patch_url": self._html(repo, f"pull/{issue.number}.patch"),
                "merged_at": iso(pull.merged_at) if pull.merged_at else None,
            }
            data["draft"] = pull.draft
        return data

    def _association(self, repo: Repo, login: str) -> str:
        role = repo.collaborators.get(login)
        if login.lower() == repo.owner.lower():
            return "OWNER"
        return "COLLABORATOR" if role and role != "none" else "NONE"

    def _comment_json(self, repo: Repo, comment: CommentRec) -> JsonDict:
        return {
            "id": comment.id,
            "node_id": f"IC_{comment.id}",
            "url": self._api(repo, f"issues/comments/{comment.id}"),
            "html_url": self._html(repo, f"issues/{comment.issue}#issuecomment-{comment.id}"),
            "issue_url": self._api(repo, f"issues/{comment.issue}"),
            "body": comment.body,
            "user": self._user_json(comment.user),
            "created_at": iso(comment.created_at),
            "updated_at": iso(comment.updated_at),
            "author_association": self._association(repo, comment.user),
        }

    def _pull_json(self, repo: Repo, pull: PullRec) -> JsonDict:
        issue = repo.issues[pull.number]
        sha = self._branch_sha(repo, pull.head) or pull.fake_sha
        base_sha = self._branch_sha(repo, pull.base) or hashlib.sha1(pull.base.encode()).hexdigest()
        repo_min = {"id": repo.id, "name": repo.name, "full_name": repo.full_name}
        return {
            "id": issue.id,
            "node_id": f"PR_{issue.id}",
            "url": self._api(repo, f"pulls/{pull.number}"),
            "html_url": self._html(repo, f"pull/{pull.number}"),
            "issue_url": self._api(repo, f"issues/{pull.number}"),
            "number": pull.number,
            "state": issue.state,
            "locked": False,
            "title": issue.title,
            "body": issue.body or None,
            "user": self._user_json(issue.user),
            "labels": [self._label_json(repo, repo.labels[n.lower()]) for n in issue.labels],
            "created_at": iso(issue.created_at),
            "updated_at": iso(issue.updated_at),
            "closed_at": iso(issue.closed_at) if issue.closed_at else None,
            "merged_at": iso(pull.merged_at) if pull.merged_at else None,
            "merge_commit_sha": pull.merge_commit_sha,
            "draft": pull.draft,
            "merged": pull.merged_at is not None,
            "head": {
                "label": f"{repo.owner}:{pull.head}",
                "ref": pull.head,
                "sha": sha,
                "user": {"login": repo.owner},
                "repo": repo_min,
            },
            "base": {
                "label": f"{repo.owner}:{pull.base}",
                "ref": pull.base,
                "sha": base_sha,
                "user": {"login": repo.owner},
                "repo": repo_min,
            },
            "author_association": self._association(repo, issue.user),
        }

    def _rate_limit_json(self) -> JsonDict:
        used = len(self.requests)
        core = {
            "limit": RATE_LIMIT,
            "used": used,
            "remaining": max(RATE_LIMIT - used, 0),
            "reset": int(time.time()) + 3600,
        }
        for fault in self.faults:
            if fault.kind == "primary" and fault.matches("GET", "/rate_limit"):
                core = {**core, "remaining": 0, "used": RATE_LIMIT, "reset": fault.reset}
        return {
            "resources": {"core": core, "graphql": dict(core), "search": dict(core)},
            "rate": core,
        }

    def _page(
        self, repo: Repo, path: str, items: list[Any], query: dict[str, str]
    ) -> tuple[int, dict[str, str], Any]:
        per_page = max(1, min(_int(query.get("per_page", "30")), 100))
        page = max(1, _int(query.get("page", "1")))
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers: dict[str, str] = {}
        if last > 1:

            def link(n: int, rel: str) -> str:
                q = {**query, "per_page": str(per_page), "page": str(n)}
                return f'<{self._base_url()}/api/v3{path}?{urlencode(q)}>; rel="{rel}"'

            links = []
            if page > 1:
                links.append(link(page - 1, "prev"))
            if page < last:
                links.append(link(page + 1, "next"))
                links.append(link(last, "last"))
            if page > 1:
                links.append(link(1, "first"))
            headers["Link"] = ", ".join(links)
        return 200, headers, chunk


def _int(text: str) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        raise HttpError(404, "Not Found") from None


def _label_arg(body: JsonDict) -> list[str]:
    labels = body.get("labels", [])
    if not isinstance(labels, list):
        raise validation_failed("Label", "invalid", "labels")
    return [str(n["name"]) if isinstance(n, dict) else str(n) for n in labels]


# --------------------------------------------------------------------------- HTTPS server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        self.request.settimeout(30)
        super().setup()

    def handle(self) -> None:
        try:
            self.request.do_handshake()
        except (OSError, ssl.SSLError):
            return  # a client that went away or did not trust us (x509 tests)
        super().handle()

    def _serve(self) -> None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            raw = self._read_chunked()  # gh streams `--input -` bodies this way
        else:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, out_headers, data = self.server.emulator.handle(
            self.command, self.path, headers, raw
        )
        self.send_response(status)
        for key, value in out_headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    def _read_chunked(self) -> bytes:
        data = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return data
            data += self.rfile.read(size)
            self.rfile.readline()  # the CRLF after each chunk

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The `Date` header in the emulator's clock, like GitHub's: the server's time,
        never behind the `updated_at` of the changes it already made."""
        if timestamp is None:
            real = datetime.now(UTC).timestamp()
            timestamp = max(real, self.server.emulator.now().timestamp())
        return email.utils.formatdate(timestamp, usegmt=True)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    emulator: Emulator


def make_cert(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1 (openssl CLI)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "30",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class EmulatorServer:
    """The emulator behind HTTPS on a free port of 127.0.0.1, served by a daemon thread."""

    def __init__(self, cert_dir: Path) -> None:
        self.cert, self.key = make_cert(cert_dir)
        self.emulator = Emulator()
        self.emulator.cert_path = self.cert
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.emulator = self.emulator
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(self.cert), str(self.key))
        # The TLS handshake runs in the request's thread (see _Handler.setup), so one slow
        # client never blocks the accept loop.
        self._httpd.socket = context.wrap_socket(
            self._httpd.socket, server_side=True, do_handshake_on_connect=False
        )
        self.port = self._httpd.server_address[1]
        self.emulator.host = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, daemon=True, name="github-emulator"
        )

    def start(self) -> EmulatorServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
