"""GitHubStore: the Store protocol over GitHub's REST API (and GraphQL for the snapshot),
through `orch.gh` (the only place that runs gh).

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
  snapshot        1 GraphQL per 100 open orch issues, comments included; the first
                  request also carries recently updated closed orch issues,
                  recently closed/merged PRs, the open PRs with their reviews, inline
                  and conversation comments (aliased connections), and with a mention
                  the search for comments mentioning orch (a root field)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from orch import labels as L
from orch.clock import parse_iso, utc_iso
from orch.errors import NotFound, OrchError
from orch.gh import Gh, GhHTTPError
from orch.status import Status
from orch.store.base import (
    Comment,
    Issue,
    Mention,
    PullRequest,
    PullThread,
    Review,
    ReviewComment,
    Snapshot,
)

log = logging.getLogger("orch")

SNAPSHOT_PAGE = 100  # issues per snapshot request (GitHub's maximum)
SNAPSHOT_COMMENTS = 20  # last comments per issue carried by the snapshot
PERMISSIONS = ("admin", "maintain", "write", "triage", "read", "none")

SNAPSHOT_CLOSED = 50  # closed orch issues updated since the last tick, per snapshot
SNAPSHOT_PULLS = 30  # recently closed or merged pull requests, per snapshot
# Open pull requests with their conversation (SPEC §12), most recently updated first: a
# review or comment bumps a PR's updatedAt, so the PRs with new feedback come first.
SNAPSHOT_OPEN_PULLS = 20
SNAPSHOT_REVIEWS = 5  # last reviews per open PR
SNAPSHOT_REVIEW_COMMENTS = 10  # inline comments per review
SNAPSHOT_PR_COMMENTS = 10  # last conversation comments per open PR
SNAPSHOT_MENTIONS = 10  # issues/PRs found by the mention search, per snapshot
MENTION_LAG = timedelta(minutes=30)  # GitHub's search index trails by seconds to minutes

_ISSUE_FIELDS = """
        number title body state url createdAt updatedAt
        author { __typename login }
        labels(first: 100) { nodes { name } }
        comments(last: $comments) {
          totalCount
          nodes { databaseId body createdAt updatedAt author { __typename login } }
        }"""

_OPEN_ISSUES = (
    """
    issues(first: $page, after: $cursor, states: OPEN, labels: $labels,
           orderBy: {field: CREATED_AT, direction: ASC}) {
      pageInfo { hasNextPage endCursor }
      nodes {"""
    + _ISSUE_FIELDS
    + """
      }
    }"""
)

# Only the first page carries them: closed orch issues updated since the last tick (owner
# feedback and /retry on done tasks) and recently closed PRs (merge watch).
_FIRST_PAGE_EXTRAS = (
    """
    closed: issues(first: $closed, states: CLOSED, labels: $labels,
                   filterBy: {since: $since}, orderBy: {field: UPDATED_AT, direction: DESC}) {
      nodes {"""
    + _ISSUE_FIELDS
    + """
      }
    }
    pulls: pullRequests(first: $pulls, states: [MERGED, CLOSED],
                        orderBy: {field: UPDATED_AT, direction: DESC}) {
      nodes { number title state url headRefName baseRefName headRefOid mergedAt }
    }"""
)


_ACTOR = "author { __typename login }"

# The conversation on open pull requests (first page only; orch.tick.pr_feedback keeps
# orch's own PRs): recent reviews with their inline comments, recent PR comments.
_OPEN_PULLS = f"""
    openPulls: pullRequests(first: $openPulls, states: OPEN,
                            orderBy: {{field: UPDATED_AT, direction: DESC}}) {{
      nodes {{
        number title body url headRefName baseRefName headRefOid {_ACTOR}
        reviews(last: $reviews) {{
          nodes {{
            databaseId state body submittedAt authorAssociation {_ACTOR}
            comments(first: $reviewComments) {{
              nodes {{
                databaseId path line diffHunk body createdAt authorAssociation {_ACTOR}
              }}
            }}
          }}
        }}
        comments(last: $prComments) {{
          nodes {{ databaseId body createdAt updatedAt authorAssociation {_ACTOR} }}
        }}
      }}
    }}"""

# Comments mentioning orch (`workflow.mention`) on open issues and PRs, since the last
# tick: GitHub's issue search, a root field of the same request (first page only).
_MENTIONS = f"""
  mentions: search(query: $mention, type: ISSUE, first: $mentioned) {{
    nodes {{
      __typename
      ... on Issue {{
        number title body state url createdAt updatedAt {_ACTOR}
        labels(first: 20) {{ nodes {{ name }} }}
        comments(last: $prComments) {{
          nodes {{ databaseId body createdAt updatedAt authorAssociation {_ACTOR} }}
        }}
      }}
      ... on PullRequest {{
        number title body state url createdAt updatedAt {_ACTOR}
        headRefName baseRefName headRefOid
        labels(first: 20) {{ nodes {{ name }} }}
        comments(last: $prComments) {{
          nodes {{ databaseId body createdAt updatedAt authorAssociation {_ACTOR} }}
        }}
      }}
    }}
  }}"""


def _snapshot_query(first_page: bool, mentions: bool = False) -> str:
    """The tick's one GraphQL read: open issues, plus the extras on the first page (closed
    tasks, closed PRs, open PRs' conversation) and, when asked, the mention search."""
    variables = "$owner: String!, $name: String!, $labels: [String!], $cursor: String, $page: Int!, $comments: Int!"
    extras = ""
    if first_page:
        variables += ", $since: DateTime, $closed: Int!, $pulls: Int!"
        variables += ", $openPulls: Int!, $reviews: Int!, $reviewComments: Int!, $prComments: Int!"
        extras = _FIRST_PAGE_EXTRAS + _OPEN_PULLS
    search = ""
    if first_page and mentions:
        variables += ", $mention: String!, $mentioned: Int!"
        search = _MENTIONS
    return f"""
query OrchSnapshot({variables}) {{
  rateLimit {{ cost remaining resetAt }}
  repository(owner: $owner, name: $name) {{{_OPEN_ISSUES}{extras}
  }}{search}
}}
"""


SNAPSHOT_QUERY = _snapshot_query(first_page=False)  # later pages: open issues only
SNAPSHOT_FIRST_QUERY = _snapshot_query(first_page=True)
SNAPSHOT_MENTIONS_QUERY = _snapshot_query(first_page=True, mentions=True)


def _first_page_variables(repo: str, since: datetime | None, mention: str) -> dict[str, Any]:
    """The first page's extra variables; `mention` adds the search for it since `since`."""
    variables: dict[str, Any] = {
        "since": utc_iso(since) if since else None,
        "closed": SNAPSHOT_CLOSED,
        "pulls": SNAPSHOT_PULLS,
        "openPulls": SNAPSHOT_OPEN_PULLS,
        "reviews": SNAPSHOT_REVIEWS,
        "reviewComments": SNAPSHOT_REVIEW_COMMENTS,
        "prComments": SNAPSHOT_PR_COMMENTS,
    }
    if mention:
        phrase = mention.replace('"', "")
        query = f'repo:{repo} is:open in:comments "{phrase}"'
        if since is not None:  # GitHub's search dates: THH:MM:SS with a UTC offset
            moment = utc_iso(since - MENTION_LAG).replace("Z", "+00:00")
            query += f" updated:>={moment}"
        variables.update(mention=query + " sort:updated-desc", mentioned=SNAPSHOT_MENTIONS)
    return variables


class GitHubStore:
    """Issues, labels, comments and PRs of `repo` (OWNER/REPO) on the host of `gh`."""

    def __init__(self, gh: Gh, repo: str) -> None:
        self.gh = gh
        self.repo = repo
        self.owner, self.name = repo.split("/", 1)
        self._base = f"repos/{repo}"
        self._default_branch: str | None = None

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

    # ------------------------------------------------------------------ tick snapshot

    def snapshot(
        self,
        known: dict[int, datetime] | None = None,
        since: datetime | None = None,
        mention: str = "",
    ) -> Snapshot:
        issues: list[Issue] = []
        comments: dict[int, tuple[Comment, ...]] = {}
        closed: list[Issue] = []
        pulls: list[PullRequest] = []
        conversation: tuple[tuple[PullThread, ...], tuple[Mention, ...]] = ((), ())
        cursor: str | None = None
        while True:
            variables: dict[str, Any] = {
                "owner": self.owner,
                "name": self.name,
                "cursor": cursor,
                "labels": [status.label for status in Status],
                "page": SNAPSHOT_PAGE,
                "comments": SNAPSHOT_COMMENTS,
            }
            query = SNAPSHOT_QUERY
            if cursor is None:
                variables.update(_first_page_variables(self.repo, since, mention))
                query = SNAPSHOT_MENTIONS_QUERY if mention else SNAPSHOT_FIRST_QUERY
            data = self.gh.graphql(query, variables)
            repository = (data or {}).get("repository")
            if repository is None:
                raise NotFound(f"repository {self.repo} not found on {self.gh.host}")
            rate = (data or {}).get("rateLimit") or {}
            log.debug(
                "snapshot %s: cost %s, remaining %s",
                self.repo,
                rate.get("cost"),
                rate.get("remaining"),
            )
            nodes = list((repository["issues"] or {}).get("nodes") or [])
            if cursor is None:
                closed_nodes = (repository.get("closed") or {}).get("nodes") or []
                nodes += closed_nodes
                pulls = [
                    _pull_node(node)
                    for node in (repository.get("pulls") or {}).get("nodes") or []
                ]
                conversation = _conversation(data, repository, self.repo)
            for node in nodes:
                issue = _issue_node(node, self.repo)
                (closed if issue.state == "closed" else issues).append(issue)
                if known is None or known.get(issue.number) != issue.updated_at:
                    comments[issue.number] = tuple(
                        _comment_node(c, issue.number)
                        for c in (node.get("comments") or {}).get("nodes") or []
                    )
            page = repository["issues"].get("pageInfo") or {}
            if not page.get("hasNextPage"):
                break
            cursor = page.get("endCursor")
        return Snapshot(
            issues=tuple(issues),
            comments=comments,
            closed=tuple(closed),
            pulls=tuple(pulls),
            open_pulls=conversation[0],
            mentions=conversation[1],
        )


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
        body="",
        state="merged" if merged_at or state == "merged" else state,
        head=str(node.get("headRefName") or ""),
        base=str(node.get("baseRefName") or ""),
        url=str(node.get("url") or ""),
        head_sha=str(node.get("headRefOid") or ""),
        merged_at=merged_at,
    )


def _conversation(
    data: dict[str, Any], repository: dict[str, Any], repo: str
) -> tuple[tuple[PullThread, ...], tuple[Mention, ...]]:
    """The open PRs' conversation and the mention search of the snapshot's first page."""
    threads = tuple(
        _thread_node(node) for node in (repository.get("openPulls") or {}).get("nodes") or []
    )
    found = []
    for node in (data.get("mentions") or {}).get("nodes") or []:
        if node.get("__typename") not in ("Issue", "PullRequest") or "number" not in node:
            continue
        issue = _issue_node(node, repo)
        pull = None
        if node["__typename"] == "PullRequest":  # its body tells orch's PRs from others
            pull = replace(_pull_node(node), body=str(node.get("body") or ""))
        found.append(Mention(issue=issue, comments=_comment_nodes(node, issue.number), pull=pull))
    return threads, tuple(found)


def _comment_nodes(node: dict[str, Any], number: int) -> tuple[Comment, ...]:
    return tuple(
        _comment_node(c, number) for c in (node.get("comments") or {}).get("nodes") or []
    )


def _thread_node(node: dict[str, Any]) -> PullThread:
    pull = _pull_node({**node, "state": "OPEN"})
    author, _ = _actor(node.get("author"))
    reviews = []
    for review in (node.get("reviews") or {}).get("nodes") or []:
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
        pull=replace(pull, body=str(node.get("body") or "")),
        author=author,
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
    )
