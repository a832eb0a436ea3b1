"""GitHubStore: the Store protocol over GitHub's REST API (and GraphQL for the snapshot),
through `orch.io.gh` (the only place that runs gh).

Requests per method (REST unless said; "pages" = one more per 100 items):
  ensure_labels   1 + pages, plus 1 POST per missing label
  list_labels     1 + pages              delete_label    1
  create_issue    1                      get_issue       1
  list_issues     1 + pages              update_issue    1
  set_labels      1 (PATCH issues/N with the whole label set: one atomic write that
                    also returns the fresh issue, which PUT …/labels does not)
  list_comments   1 + pages              create/update/delete_comment, react   1
  find_pr         1                      create_pr, update_pr, get_pr, merge_pr 1
  permission      1 (404 → "none")       default_branch  1, then cached
  snapshot        full: 1 GraphQL per 100 open orch issues (and per 100 open PRs, with
                  their reviews, inline and conversation comments), comments included;
                  the first request also carries recently updated closed orch issues,
                  recently closed/merged PRs (aliased connections) and, with a mention,
                  the search for issues commented with it (a root field). delta: 1
                  GraphQL (per 50 issues updated since), PRs updated since with their
                  conversation and a sweep page in the same request
                  (orch/store/snapshot_query.py)
  viewer_login    0 after a snapshot (it carries `viewer { login }`), else the host's
                  sidecar, else 1 (GET user), then cached in the sidecar
  label_events    1 + pages (issues/N/events: who applied which label)
"""

from __future__ import annotations

import email.utils
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from orch import labels as L
from orch.clock import parse_iso, utc_iso
from orch.errors import NotFound, OrchError
from orch.io.gh import Gh, GhHTTPError, GhResponse
from orch.io.sidecar import read_json, write_json_atomic
from orch.status import Status
from orch.store import snapshot_query as Q
from orch.store.base import (
    Comment,
    Issue,
    LabelEvent,
    Mention,
    PullRequest,
    PullThread,
    Review,
    ReviewComment,
    Snapshot,
    StatusHooks,
)

log = logging.getLogger("orch")

PERMISSIONS = ("admin", "maintain", "write", "triage", "read", "none")


class GitHubStore:
    """Issues, labels, comments and PRs of `repo` (OWNER/REPO) on the host of `gh`."""

    def __init__(self, gh: Gh, repo: str) -> None:
        self.gh = gh
        self.repo = repo
        self.status_hooks = StatusHooks()
        self.owner, self.name = repo.split("/", 1)
        self._base = f"repos/{repo}"
        self._default_branch: str | None = None
        self._viewer: str | None = None

    def __repr__(self) -> str:
        return f"GitHubStore({self.repo!r} on {self.gh.host})"

    # ------------------------------------------------------------------ labels

    def ensure_labels(self, specs: Iterable[L.LabelSpec]) -> list[str]:
        existing = {name.lower() for name in self.list_labels()}
        created: list[str] = []
        for spec in specs:
            if spec.name.lower() in existing:
                continue
            body = {"name": spec.name, "color": spec.color, "description": spec.description}
            try:
                self.gh.rest("POST", f"{self._base}/labels", body=body)
            except GhHTTPError as exc:
                if "already_exists" not in exc.error_codes():
                    raise
                continue  # created meanwhile by another process: fine
            existing.add(spec.name.lower())
            created.append(spec.name)
        return created

    def list_labels(self) -> list[str]:
        data = self.gh.rest("GET", f"{self._base}/labels", paginate=True)
        return sorted(str(label["name"]) for label in data)

    def delete_label(self, name: str) -> None:
        try:
            self.gh.rest("DELETE", f"{self._base}/labels/{_q(name)}")
        except NotFound:
            raise NotFound(f"label {name!r} not found in {self.repo}") from None

    # ------------------------------------------------------------------ issues

    def create_issue(self, title: str, body: str, labels: Sequence[str]) -> Issue:
        if not title.strip():
            raise OrchError("an issue needs a title")
        data = self.gh.rest(
            "POST",
            f"{self._base}/issues",
            body={"title": title, "body": body, "labels": sorted(set(labels))},
        )
        return _issue(data)

    def get_issue(self, number: int) -> Issue:
        data = self._get_issue_json(number)
        if "pull_request" in data:
            raise NotFound(f"#{number} in {self.repo} is a pull request, not an issue")
        return _issue(data)

    def _get_issue_json(self, number: int) -> dict[str, Any]:
        try:
            data = self.gh.rest("GET", f"{self._base}/issues/{number}")
        except NotFound:
            raise NotFound(f"issue #{number} not found in {self.repo}") from None
        return dict(data)

    def list_issues(
        self, *, state: str = "open", labels: Sequence[str] = (), author: str | None = None
    ) -> list[Issue]:
        params: dict[str, Any] = {"state": state, "sort": "created", "direction": "asc"}
        if labels:
            params["labels"] = ",".join(labels)
        if author:
            params["creator"] = author
        data = self.gh.rest("GET", f"{self._base}/issues", params=params, paginate=True)
        return [_issue(item) for item in data if "pull_request" not in item]

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
        payload: dict[str, Any] = {}
        if title is not None:
            payload["title"] = title
        if body is not None:
            payload["body"] = body
        if state is not None:
            payload["state"] = state
            if state == "closed":
                payload["state_reason"] = "completed"
        return _issue(self._patch_issue(number, payload))

    def set_labels(self, number: int, labels: Sequence[str]) -> Issue:
        # One write that replaces the whole set (SPEC §2.1) and returns the fresh issue.
        data = self._patch_issue(number, {"labels": sorted(set(labels))})
        if "pull_request" in data:
            raise NotFound(f"#{number} in {self.repo} is a pull request, not an issue")
        return _issue(data)

    def _patch_issue(self, number: int, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            return dict(self.gh.rest("PATCH", f"{self._base}/issues/{number}", body=payload))
        except NotFound:
            raise NotFound(f"issue #{number} not found in {self.repo}") from None

    # ------------------------------------------------------------------ comments

    def list_comments(self, number: int, since: datetime | None = None) -> list[Comment]:
        params = {"since": utc_iso(since)} if since is not None else None
        try:
            data = self.gh.rest(
                "GET", f"{self._base}/issues/{number}/comments", params=params, paginate=True
            )
        except NotFound:
            raise NotFound(f"issue #{number} not found in {self.repo}") from None
        comments = [_comment(item, number) for item in data]
        if since is not None:  # GitHub's `since` has whole seconds
            comments = [c for c in comments if c.updated_at >= since]
        return sorted(comments, key=lambda c: (c.created_at, c.id))

    def create_comment(self, number: int, body: str) -> Comment:
        try:
            data = self.gh.rest(
                "POST", f"{self._base}/issues/{number}/comments", body={"body": body}
            )
        except NotFound:
            raise NotFound(f"issue #{number} not found in {self.repo}") from None
        return _comment(data, number)

    def update_comment(self, comment_id: int, body: str) -> Comment:
        try:
            data = self.gh.rest(
                "PATCH", f"{self._base}/issues/comments/{comment_id}", body={"body": body}
            )
        except NotFound:
            raise NotFound(f"comment {comment_id} not found in {self.repo}") from None
        return _comment(data)

    def delete_comment(self, comment_id: int) -> None:
        try:
            self.gh.rest("DELETE", f"{self._base}/issues/comments/{comment_id}")
        except NotFound:
            raise NotFound(f"comment {comment_id} not found in {self.repo}") from None

    def react(self, comment_id: int, content: str) -> None:
        try:
            self.gh.rest(
                "POST",
                f"{self._base}/issues/comments/{comment_id}/reactions",
                body={"content": content},
            )
        except (NotFound, GhHTTPError) as exc:  # best effort: a reaction is a courtesy
            log.debug("reaction %s on comment %s failed: %s", content, comment_id, exc)

    # ------------------------------------------------------------------ pull requests

    def find_pr(self, head: str, state: str = "open") -> PullRequest | None:
        if state not in ("open", "closed", "merged", "all"):
            raise OrchError(f"invalid PR state {state!r}: use open, closed, merged or all")
        params = {
            "head": f"{self.owner}:{head}",
            "state": "closed" if state == "merged" else state,
            "sort": "created",
            "direction": "desc",
            "per_page": 100,
        }
        data = self.gh.rest("GET", f"{self._base}/pulls", params=params)
        pulls = [_pull(item) for item in data]
        if state == "merged":
            pulls = [p for p in pulls if p.merged_at is not None]
        return pulls[0] if pulls else None

    def create_pr(self, head: str, base: str, title: str, body: str) -> PullRequest:
        payload = {"title": title, "head": head, "base": base, "body": body}
        try:
            data = self.gh.rest("POST", f"{self._base}/pulls", body=payload)
        except GhHTTPError as exc:
            if any("already exists" in m for m in exc.error_messages()):
                raise OrchError(
                    f"a pull request for branch {head!r} into {base!r} already "
                    f"exists in {self.repo}"
                ) from None
            if exc.status == 422 and "invalid" in exc.error_codes():
                raise OrchError(
                    f"cannot open a pull request from {head!r} into {base!r} in "
                    f"{self.repo}: push the branch first ({exc})"
                ) from None
            raise
        return _pull(data)

    def update_pr(
        self, number: int, *, title: str | None = None, body: str | None = None
    ) -> PullRequest:
        payload: dict[str, Any] = {}
        if title is not None:
            payload["title"] = title
        if body is not None:
            payload["body"] = body
        try:
            data = self.gh.rest("PATCH", f"{self._base}/pulls/{number}", body=payload)
        except NotFound:
            raise NotFound(f"pull request #{number} not found in {self.repo}") from None
        return _pull(data)

    def get_pr(self, number: int) -> PullRequest:
        try:
            return _pull(self.gh.rest("GET", f"{self._base}/pulls/{number}"))
        except NotFound:
            raise NotFound(f"pull request #{number} not found in {self.repo}") from None

    def list_reviews(self, number: int) -> list[Review]:
        try:
            data = self.gh.rest("GET", f"{self._base}/pulls/{number}/reviews", paginate=True)
        except NotFound:
            raise NotFound(f"pull request #{number} not found in {self.repo}") from None
        reviews: list[Review] = []
        for item in data or []:
            if not isinstance(item, dict) or not item.get("submitted_at"):
                continue  # a pending review is nobody's verdict yet
            login, kind = _login(item.get("user"))
            reviews.append(
                Review(
                    id=int(item["id"]),
                    author=login,
                    state=str(item.get("state") or ""),
                    body=str(item.get("body") or ""),
                    submitted_at=parse_iso(str(item["submitted_at"])),
                    author_type=kind,
                    association=str(item.get("author_association") or ""),
                )
            )
        return reviews

    def merge_pr(self, number: int, method: str = "squash") -> None:
        try:
            self.gh.rest("PUT", f"{self._base}/pulls/{number}/merge", body={"merge_method": method})
        except NotFound:
            raise NotFound(f"pull request #{number} not found in {self.repo}") from None
        except GhHTTPError as exc:
            if exc.status in (405, 409):
                raise OrchError(
                    f"pull request #{number} in {self.repo} cannot be merged: {_message(exc.data)}"
                ) from None
            raise

    def close_pr(self, number: int) -> None:
        try:
            self.gh.rest("PATCH", f"{self._base}/pulls/{number}", body={"state": "closed"})
        except NotFound:
            raise NotFound(f"pull request #{number} not found in {self.repo}") from None

    # ------------------------------------------------------------------ people, repo

    def permission(self, login: str) -> str:
        try:
            data = self.gh.rest("GET", f"{self._base}/collaborators/{_q(login)}/permission")
        except NotFound:
            return "none"
        role = str(data.get("role_name") or "")
        if role in PERMISSIONS:
            return role
        permission = str(data.get("permission") or "none")
        return permission if permission in PERMISSIONS else "none"

    def default_branch(self) -> str:
        if self._default_branch is None:
            try:
                data = self.gh.rest("GET", self._base)
            except NotFound:
                raise NotFound(
                    f"repository {self.repo} not found on {self.gh.host}: check "
                    "gh.repo and that the token can see it"
                ) from None
            self._default_branch = str(data.get("default_branch") or "main")
        return self._default_branch

    def label_events(self, number: int) -> list[LabelEvent]:
        data = self.gh.rest("GET", f"{self._base}/issues/{number}/events", paginate=True)
        found: list[LabelEvent] = []
        for event in data or []:
            if event.get("event") != "labeled" or not isinstance(event.get("label"), dict):
                continue
            actor, actor_type = _login(event.get("actor"))
            found.append(
                LabelEvent(
                    str(event["label"].get("name") or ""),
                    actor,
                    actor_type,
                    parse_iso(str(event.get("created_at"))),
                )
            )
        return found

    # ------------------------------------------------------------------ who orch is

    def viewer_login(self) -> str:
        """The login of the token orch uses: learnt from the snapshot, else the sidecar
        (`<state>/viewer/<host>.json`), else one `GET user`."""
        if self._viewer is None and self.gh.auth is not None:
            # A GitHub App's installation token: GitHub answers 403 on `GET /user`; orch
            # writes as the App's bot, whose login the token minting recorded.
            self._viewer = self.gh.auth.login() or None
        if self._viewer is None:
            path = self.gh.paths.viewer_file(self.gh.host)
            cached = read_json(path, {})
            login = cached.get("login") if isinstance(cached, dict) else None
            if not isinstance(login, str) or not login:
                login = str(self.gh.rest("GET", "user").get("login") or "")
                self._remember_viewer(login)
            self._viewer = login
        return self._viewer

    def _remember_viewer(self, login: str) -> None:
        if not login:
            return
        self._viewer = login
        path = self.gh.paths.viewer_file(self.gh.host)
        cached = read_json(path, {})
        if not isinstance(cached, dict) or cached.get("login") != login:
            try:
                write_json_atomic(path, {"login": login})
            except OSError as exc:  # only a cache: the next command asks again
                log.debug("cannot cache the viewer login in %s: %s", path, exc)

    # ------------------------------------------------------------------ tick snapshot

    def snapshot(
        self,
        known: dict[int, datetime] | None = None,
        since: datetime | None = None,
        *,
        delta: bool = False,
        sweep: str | None = None,
        mention: str = "",
    ) -> Snapshot:
        delta = delta and since is not None
        pending: dict[str, str | None] = dict.fromkeys(Q.DELTA if delta else Q.FULL)
        if delta and sweep is not None:
            pending["sweep"] = sweep or None
        if mention and not delta:  # a delta's issues and PRs carry their comments
            pending["mentions"] = None
        read = _Read(known, since, mention, delta=delta)
        while pending:
            response = self.gh.graphql_response(
                Q.query(pending),
                self._snapshot_variables(pending, since if delta else None)
                | ({} if delta else self._full_since(pending, since))
                | (
                    {"mention": Q.mention_search(self.repo, mention, since)}
                    if "mentions" in pending
                    else {}
                ),
            )
            data = response.data.get("data") if isinstance(response.data, dict) else None
            repository = (data or {}).get("repository")
            if repository is None:
                raise NotFound(f"repository {self.repo} not found on {self.gh.host}")
            viewer = (data or {}).get("viewer") or {}
            if viewer.get("login") and self.gh.auth is None and viewer["login"] != self._viewer:
                self._remember_viewer(str(viewer["login"]))
            rate = (data or {}).get("rateLimit") or {}
            log.debug(
                "snapshot %s: cost %s, remaining %s",
                self.repo,
                rate.get("cost"),
                rate.get("remaining"),
            )
            if read.server_time is None:
                read.server_time = _server_time(response)
            for alias in list(pending):
                connection = ((data or {}) if Q.PARTS[alias].root else repository).get(alias) or {}
                more = read.take(alias, connection.get("nodes") or [], self.repo)
                page = connection.get("pageInfo") or {}
                if alias == "sweep":
                    read.sweep_next = page.get("endCursor") if page.get("hasNextPage") else None
                if alias in Q.ONE_PAGE or not (more and page.get("hasNextPage")):
                    del pending[alias]
                else:
                    pending[alias] = page.get("endCursor")
        return read.result(complete=not delta)

    def _full_since(self, pending: dict[str, str | None], since: datetime | None) -> dict[str, Any]:
        """A full read's `closed` part asks from `since` itself."""
        return (
            {"since": utc_iso(since) if since else None} if "since" in Q.declared(pending) else {}
        )

    def _snapshot_variables(
        self, pending: dict[str, str | None], since: datetime | None
    ) -> dict[str, Any]:
        """The variables of the parts in `pending`; a delta asks from MARGIN before `since`."""
        values: dict[str, Any] = {
            "owner": self.owner,
            "name": self.name,
            "labels": [status.label for status in Status],
            "stranded": [s.label for s in (Status.IN_REVIEW, Status.IN_PROGRESS, Status.ROUTED)],
            "comments": Q.COMMENTS,
            "since": utc_iso(since - timedelta(seconds=Q.MARGIN_SECONDS)) if since else None,
        }
        for alias, cursor in pending.items():
            if Q.PARTS[alias].cursor is not None:
                values[str(Q.PARTS[alias].cursor)] = cursor
        wanted = Q.declared(pending)
        return {name: value for name, value in values.items() if name in wanted}


class _Read:
    """What the pages of one snapshot brought, gathered per part."""

    def __init__(
        self,
        known: dict[int, datetime] | None,
        since: datetime | None,
        mention: str = "",
        *,
        delta: bool = False,
    ) -> None:
        self.known, self.since, self.mention = known, since, mention.lower()
        # A delta's window: what was updated since then is new (`pulls` pages past it).
        self.window = since - timedelta(seconds=Q.MARGIN_SECONDS) if delta and since else None
        self.issues: list[Issue] = []
        self.closed: list[Issue] = []
        self.untracked: list[int] = []
        self.stranded: list[Issue] = []
        self.comments: dict[int, tuple[Comment, ...]] = {}
        self.pulls: dict[int, PullRequest] = {}
        self.threads: dict[int, PullThread] = {}  # open PRs with their conversation
        self.mentions: dict[int, Mention] = {}
        self.sweep: list[tuple[int, datetime]] | None = None
        self.sweep_next: str | None = None
        self.server_time: datetime | None = None

    def take(self, alias: str, nodes: list[dict[str, Any]], repo: str) -> bool:
        """Add one page of `alias`; False when its later pages are not wanted."""
        if alias == "sweep":
            self.sweep = [(int(n["number"]), parse_iso(n["updatedAt"])) for n in nodes]
            return False
        if alias == "mentions":
            for node in nodes:
                if node.get("__typename") == "Issue" and "number" in node:
                    self._mentioned(_issue_node(node, repo), node, None)
            return False
        if alias in ("openPulls", "closedPulls", "pulls"):
            pulls = [_pull_node(node) for node in nodes]
            self.pulls.update((p.number, p) for p in pulls)
            for pull, node in zip(pulls, nodes, strict=True):
                if alias in Q.THREADS and pull.state == "open" and self._in_window(pull):
                    self._thread(node, repo)
            return alias != "pulls" or self._newer(pulls[-1].updated_at if pulls else None)
        issues = [self._issue(node, repo, stranded=alias == "stranded") for node in nodes]
        return alias != "changed" or self._newer(issues[-1].updated_at if issues else None)

    def _thread(self, node: dict[str, Any], repo: str) -> None:
        thread = _thread_node(node)
        self.threads[thread.pull.number] = thread
        self._mentioned(_issue_node(node, repo), node, thread.pull)

    def _mentioned(self, issue: Issue, node: dict[str, Any], pull: PullRequest | None) -> None:
        """Keep an open issue or PR some of whose comments hold the mention."""
        if not self.mention:
            return
        comments = _comment_nodes(node, issue.number)
        if issue.state == "open" and any(self.mention in c.body.lower() for c in comments):
            self.mentions[issue.number] = Mention(issue=issue, comments=comments, pull=pull)

    def _in_window(self, pull: PullRequest) -> bool:
        return self.window is None or pull.updated_at is None or pull.updated_at > self.window

    def _newer(self, oldest: datetime | None) -> bool:
        """Newest first: a page whose oldest item is not newer than `since` ends it."""
        return self.since is None or (oldest is not None and oldest > self.since)

    def _issue(self, node: dict[str, Any], repo: str, *, stranded: bool = False) -> Issue:
        issue = _issue_node(node, repo)
        if not L.statuses_in(issue.labels):
            self.untracked.append(issue.number)
            self._mentioned(issue, node, None)  # a plain issue a delta brings
            return issue
        if stranded:
            self.stranded.append(issue)
        else:
            (self.closed if issue.state == "closed" else self.issues).append(issue)
        if self.known is None or self.known.get(issue.number) != issue.updated_at:
            self.comments[issue.number] = tuple(
                _comment_node(c, issue.number)
                for c in (node.get("comments") or {}).get("nodes") or []
            )
        return issue

    def result(self, *, complete: bool) -> Snapshot:
        closed = sorted(self.closed, key=lambda i: (i.updated_at, i.number), reverse=True)
        return Snapshot(
            issues=tuple(self.issues),
            comments=self.comments,
            closed=tuple(closed),
            pulls=tuple(self.pulls.values()),
            complete=complete,
            stranded=tuple(self.stranded),
            untracked=tuple(self.untracked),
            sweep=tuple(self.sweep) if self.sweep is not None else None,
            sweep_next=self.sweep_next,
            server_time=self.server_time,
            open_pulls=tuple(self.threads.values()),
            mentions=tuple(self.mentions.values()),
        )


def _server_time(response: GhResponse) -> datetime | None:
    """The server's clock from the `Date` header (None when absent or unreadable)."""
    try:
        moment = email.utils.parsedate_to_datetime(response.header("date") or "")
    except (TypeError, ValueError):
        return None
    return moment.astimezone(UTC) if moment.tzinfo else None


# ---------------------------------------------------------------------- JSON → records


def _q(text: str) -> str:
    return quote(text, safe="")


def _message(data: Any) -> str:
    return str(data.get("message") or "") if isinstance(data, dict) else ""


def _login(user: Any) -> tuple[str, str]:
    """(login, "User" | "Bot") from a REST `user` object; deleted users are "ghost"."""
    if not isinstance(user, dict):
        return "ghost", "User"
    kind = "Bot" if user.get("type") == "Bot" else "User"
    return str(user.get("login") or "ghost"), kind


def _actor(author: Any) -> tuple[str, str]:
    """(login, "User" | "Bot") from a GraphQL `author { __typename login }`.

    GraphQL names bots without the `[bot]` suffix REST uses; orch uses the REST form."""
    if not isinstance(author, dict):
        return "ghost", "User"
    login = str(author.get("login") or "ghost")
    if author.get("__typename") == "Bot":
        return (login if login.endswith("[bot]") else f"{login}[bot]"), "Bot"
    return login, "User"


def _issue(data: dict[str, Any]) -> Issue:
    author, author_type = _login(data.get("user"))
    return Issue(
        number=int(data["number"]),
        title=str(data.get("title") or ""),
        body=str(data.get("body") or ""),
        state=str(data.get("state") or "open"),
        labels=tuple(sorted(str(label["name"]) for label in data.get("labels") or [])),
        author=author,
        created_at=parse_iso(data["created_at"]),
        updated_at=parse_iso(data["updated_at"]),
        comments=int(data.get("comments") or 0),
        url=str(data.get("html_url") or ""),
        author_type=author_type,
        node_id=str(data.get("node_id") or ""),
    )


def _issue_node(node: dict[str, Any], repo: str) -> Issue:
    author, author_type = _actor(node.get("author"))
    labels = (node.get("labels") or {}).get("nodes") or []
    return Issue(
        number=int(node["number"]),
        title=str(node.get("title") or ""),
        body=str(node.get("body") or ""),
        state=str(node.get("state") or "OPEN").lower(),
        labels=tuple(sorted(str(label["name"]) for label in labels)),
        author=author,
        created_at=parse_iso(node["createdAt"]),
        updated_at=parse_iso(node["updatedAt"]),
        comments=int((node.get("comments") or {}).get("totalCount") or 0),
        url=str(node.get("url") or ""),
        author_type=author_type,
    )


def _comment(data: dict[str, Any], number: int | None = None) -> Comment:
    author, author_type = _login(data.get("user"))
    if number is None:
        number = int(str(data.get("issue_url") or "0").rstrip("/").rsplit("/", 1)[-1] or 0)
    return Comment(
        id=int(data["id"]),
        issue=number,
        author=author,
        body=str(data.get("body") or ""),
        created_at=parse_iso(data["created_at"]),
        updated_at=parse_iso(data["updated_at"]),
        author_type=author_type,
    )


def _comment_node(node: dict[str, Any], number: int) -> Comment:
    author, author_type = _actor(node.get("author"))
    return Comment(
        id=int(node["databaseId"]),
        issue=number,
        author=author,
        body=str(node.get("body") or ""),
        created_at=parse_iso(node["createdAt"]),
        updated_at=parse_iso(node["updatedAt"]),
        author_type=author_type,
        association=str(node.get("authorAssociation") or ""),
    )


def _pull_node(node: dict[str, Any]) -> PullRequest:
    merged_at = parse_iso(node["mergedAt"]) if node.get("mergedAt") else None
    state = str(node.get("state") or "CLOSED").lower()
    return PullRequest(
        number=int(node["number"]),
        title=str(node.get("title") or ""),
        body=str(node.get("body") or ""),
        state="merged" if merged_at or state == "merged" else state,
        head=str(node.get("headRefName") or ""),
        base=str(node.get("baseRefName") or ""),
        url=str(node.get("url") or ""),
        head_sha=str(node.get("headRefOid") or ""),
        merged_at=merged_at,
        updated_at=parse_iso(node["updatedAt"]) if node.get("updatedAt") else None,
    )


def _comment_nodes(node: dict[str, Any], number: int) -> tuple[Comment, ...]:
    return tuple(_comment_node(c, number) for c in (node.get("comments") or {}).get("nodes") or [])


def _thread_node(node: dict[str, Any]) -> PullThread:
    """An open PR with its latest submitted reviews and last conversation comments."""
    pull = _pull_node(node)
    reviews = []
    for review in (node.get("reviews") or {}).get("nodes") or []:
        if not review.get("submittedAt"):
            continue  # a pending review: not submitted, not feedback yet
        login, kind = _actor(review.get("author"))
        inline = tuple(
            _review_comment_node(c) for c in (review.get("comments") or {}).get("nodes") or []
        )
        reviews.append(
            Review(
                id=int(review["databaseId"]),
                author=login,
                state=str(review.get("state") or ""),
                body=str(review.get("body") or ""),
                submitted_at=parse_iso(review["submittedAt"]),
                comments=inline,
                author_type=kind,
                association=str(review.get("authorAssociation") or ""),
            )
        )
    return PullThread(
        pull=pull,
        author=_actor(node.get("author"))[0],
        reviews=tuple(reviews),
        comments=_comment_nodes(node, pull.number),
    )


def _review_comment_node(node: dict[str, Any]) -> ReviewComment:
    login, kind = _actor(node.get("author"))
    line = node.get("line")
    return ReviewComment(
        id=int(node["databaseId"]),
        author=login,
        path=str(node.get("path") or ""),
        line=int(line) if isinstance(line, int) else None,
        diff_hunk=str(node.get("diffHunk") or ""),
        body=str(node.get("body") or ""),
        created_at=parse_iso(node["createdAt"]),
        author_type=kind,
        association=str(node.get("authorAssociation") or ""),
    )


def _pull(data: dict[str, Any]) -> PullRequest:
    merged_at = parse_iso(data["merged_at"]) if data.get("merged_at") else None
    head = data.get("head") or {}
    base = data.get("base") or {}
    return PullRequest(
        number=int(data["number"]),
        title=str(data.get("title") or ""),
        body=str(data.get("body") or ""),
        state="merged" if merged_at else str(data.get("state") or "open"),
        head=str(head.get("ref") or ""),
        base=str(base.get("ref") or ""),
        url=str(data.get("html_url") or ""),
        head_sha=str(head.get("sha") or ""),
        merged_at=merged_at,
        updated_at=parse_iso(data["updated_at"]) if data.get("updated_at") else None,
    )
