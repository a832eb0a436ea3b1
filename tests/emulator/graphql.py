"""A small GraphQL engine for the emulator: parses the query orch (or a test) sends and
resolves exactly the fields it asks for over the emulator's state, with GitHub's type and
field names (repository, issues, comments, labels, pullRequests, rateLimit, viewer, ...).

Not a full GraphQL implementation: no validation beyond unknown fields, no directives,
no subscriptions. Enough to answer real GitHub-shaped documents with real-shaped data.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.emulator.server import (
        CommentRec,
        Emulator,
        IssueRec,
        Project,
        ProjectField,
        ProjectItem,
        Repo,
    )

JsonDict = dict[str, Any]
_OP_RE = re.compile(r"^\s*(?:query|mutation)\s+([_A-Za-z][_0-9A-Za-z]*)")


def operation_name(body: Any) -> str | None:
    """The operation name of a GraphQL request body (for the request log)."""
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("operationName"), str) and body["operationName"]:
        return str(body["operationName"])
    match = _OP_RE.match(str(body.get("query") or ""))
    return match.group(1) if match else None


# ------------------------------------------------------------------------ parsing

_TOKEN_RE = re.compile(
    r"(?P<ws>[\s,\ufeff]+|#[^\n]*)"
    r"|(?P<spread>\.\.\.)"
    r'|(?P<block>"""(?:[^"\\]|\\.|"(?!""))*""")'
    r'|(?P<str>"(?:[^"\\\n]|\\.)*")'
    r"|(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[_A-Za-z][_0-9A-Za-z]*)"
    r"|(?P<punct>[!$():=@\[\]{}|&])"
)


class GraphQLError(Exception):
    def __init__(
        self, message: str, type: str | None = None, path: list[Any] | None = None
    ) -> None:
        super().__init__(message)
        self.type = type
        self.path = path

    def json(self) -> JsonDict:
        out: JsonDict = {"message": str(self)}
        if self.type:
            out["type"] = self.type
        if self.path:
            out["path"] = self.path
        return out


@dataclass
class Field:
    name: str
    alias: str
    args: dict[str, Any]
    selections: list[Any] = field(default_factory=list)


@dataclass
class Spread:
    name: str


@dataclass
class Inline:
    type_condition: str | None
    selections: list[Any]


@dataclass
class Variable:
    name: str


@dataclass
class Operation:
    kind: str
    name: str | None
    defaults: dict[str, Any]
    selections: list[Any]


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            match = _TOKEN_RE.match(text, pos)
            if not match:
                raise GraphQLError(f'Parse error on "{text[pos : pos + 10]}"')
            pos = match.end()
            kind = match.lastgroup or ""
            if kind != "ws":
                self.tokens.append((kind, match.group()))
        self.i = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("eof", "")

    def take(self, value: str | None = None) -> str:
        kind, text = self.peek()
        if kind == "eof" or (value is not None and text != value):
            raise GraphQLError(f"Parse error: expected {value or 'token'}, got {text or 'EOF'}")
        self.i += 1
        return text

    def accept(self, value: str) -> bool:
        if self.peek()[1] == value and self.peek()[0] != "str":
            self.i += 1
            return True
        return False

    def document(self) -> tuple[list[Operation], dict[str, Inline]]:
        operations: list[Operation] = []
        fragments: dict[str, Inline] = {}
        while self.peek()[0] != "eof":
            if self.peek()[1] == "{":
                operations.append(Operation("query", None, {}, self.selection_set()))
                continue
            keyword = self.take()
            if keyword == "fragment":
                name = self.take()
                self.take("on")
                fragments[name] = Inline(self.take(), self.selection_set())
            elif keyword in ("query", "mutation"):
                name = self.take() if self.peek()[0] == "name" else None
                defaults = self.variable_definitions()
                operations.append(Operation(keyword, name, defaults, self.selection_set()))
            else:
                raise GraphQLError(f'Parse error on "{keyword}"')
        return operations, fragments

    def variable_definitions(self) -> dict[str, Any]:
        defaults: dict[str, Any] = {}
        if not self.accept("("):
            return defaults
        while not self.accept(")"):
            self.take("$")
            name = self.take()
            self.take(":")
            self.type_ref()
            if self.accept("="):
                defaults[name] = self.value()
        return defaults

    def type_ref(self) -> None:
        if self.accept("["):
            self.type_ref()
            self.take("]")
        else:
            self.take()
        self.accept("!")

    def selection_set(self) -> list[Any]:
        self.take("{")
        selections: list[Any] = []
        while not self.accept("}"):
            if self.peek()[0] == "spread":
                self.take()
                if self.accept("on"):
                    selections.append(Inline(self.take(), self.selection_set()))
                elif self.peek()[1] == "{":
                    selections.append(Inline(None, self.selection_set()))
                else:
                    selections.append(Spread(self.take()))
                continue
            name = self.take()
            alias = name
            if self.accept(":"):
                name = self.take()
            args: dict[str, Any] = {}
            if self.accept("("):
                while not self.accept(")"):
                    key = self.take()
                    self.take(":")
                    args[key] = self.value()
            while self.accept("@"):  # directives are ignored
                self.take()
                if self.accept("("):
                    while not self.accept(")"):
                        self.take()
                        self.take(":")
                        self.value()
            sub = self.selection_set() if self.peek()[1] == "{" else []
            selections.append(Field(name, alias, args, sub))
        return selections

    def value(self) -> Any:
        kind, text = self.peek()
        if text == "$" and kind == "punct":
            self.take()
            return Variable(self.take())
        if text == "[" and kind == "punct":
            self.take()
            items = []
            while not self.accept("]"):
                items.append(self.value())
            return items
        if text == "{" and kind == "punct":
            self.take()
            obj = {}
            while not self.accept("}"):
                key = self.take()
                self.take(":")
                obj[key] = self.value()
            return obj
        self.take()
        if kind == "str":
            import json

            return json.loads(text)
        if kind == "block":
            return text[3:-3]
        if kind == "num":
            return float(text) if any(c in text for c in ".eE") else int(text)
        if text == "true":
            return True
        if text == "false":
            return False
        if text == "null":
            return None
        return text  # enum value


def _substitute(value: Any, variables: dict[str, Any]) -> Any:
    if isinstance(value, Variable):
        return variables.get(value.name)
    if isinstance(value, list):
        return [_substitute(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, variables) for k, v in value.items()}
    return value


# ------------------------------------------------------------------------ execution


class Node:
    """A GraphQL object: a type name and a resolver per field."""

    typename = "Node"
    interfaces: tuple[str, ...] = ()

    def resolve(self, name: str, args: dict[str, Any]) -> Any:
        method: Callable[..., Any] | None = getattr(self, "f_" + name, None)
        if method is None:
            raise GraphQLError(
                f"Field '{name}' doesn't exist on type '{self.typename}'", type="undefinedField"
            )
        accepted = inspect.signature(method).parameters
        open_ended = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
        for arg in args:
            if arg not in accepted and not open_ended:
                raise ValidationError(
                    f"Field '{name}' doesn't accept argument '{arg}'", "argumentNotAccepted"
                )
        return method(**args)


class ValidationError(GraphQLError):
    """A document GitHub refuses before running it: the answer is `errors` and no `data`."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code

    def json(self) -> JsonDict:
        return {"message": str(self), "path": self.path or [], "extensions": {"code": self.code}}


def execute(emulator: Emulator, body: Any, login: str) -> JsonDict:
    """Run one GraphQL request body against the emulator (caller holds the lock)."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return {
            "errors": [{"message": "A query attribute must be specified and must be a string."}]
        }
    try:
        operations, fragments = _Parser(body["query"]).document()
    except GraphQLError as exc:
        return {"errors": [exc.json()]}
    wanted = body.get("operationName")
    chosen = [op for op in operations if not wanted or op.name == wanted]
    if not chosen:
        return {"errors": [{"message": f"Unknown operation named '{wanted}'."}]}
    op = chosen[0]
    variables = {**op.defaults, **(body.get("variables") or {})}
    cost = query_cost(op.selections, fragments, variables) if op.kind == "query" else 1
    emulator.graphql_points += cost
    root: Node = Mutation(emulator, login) if op.kind == "mutation" else Query(emulator, login)
    root.cost = cost  # type: ignore[attr-defined]
    errors: list[JsonDict] = []
    try:
        data = _select(root, op.selections, fragments, variables, errors, [])
    except ValidationError as exc:
        return {"errors": [exc.json()]}
    out: JsonDict = {"data": data}
    if errors:
        out["errors"] = errors
    return out


def query_cost(
    selections: list[Any], fragments: dict[str, Inline], variables: dict[str, Any]
) -> int:
    """GitHub's rate-limit score of a query: add up the requests needed to fill each
    connection, assuming every one reaches its `first`/`last` limit (a connection nested in
    another counts once per parent node), divide by 100, round, at least 1 (GitHub docs,
    "Rate limits and query limits for the GraphQL API")."""
    return max(1, round(_requests(selections, fragments, variables, 1) / 100))


def _requests(
    selections: list[Any], fragments: dict[str, Inline], variables: dict[str, Any], parents: int
) -> int:
    total = 0
    for sel in selections:
        if isinstance(sel, Spread):
            frag = fragments.get(sel.name)
            inner = frag.selections if frag else []
            total += _requests(inner, fragments, variables, parents)
            continue
        if isinstance(sel, Inline):
            total += _requests(sel.selections, fragments, variables, parents)
            continue
        args = _substitute(sel.args, variables)
        size = args.get("first") if args.get("first") is not None else args.get("last")
        if isinstance(size, int):  # a connection: one request per parent node
            total += parents
            total += _requests(sel.selections, fragments, variables, parents * size)
        else:
            total += _requests(sel.selections, fragments, variables, parents)
    return total


def _select(
    node: Node,
    selections: list[Any],
    fragments: dict[str, Inline],
    variables: dict[str, Any],
    errors: list[JsonDict],
    path: list[Any],
) -> JsonDict:
    out: JsonDict = {}
    for sel in selections:
        if isinstance(sel, Spread):
            frag = fragments.get(sel.name)
            if frag and _applies(node, frag.type_condition):
                out.update(_select(node, frag.selections, fragments, variables, errors, path))
            continue
        if isinstance(sel, Inline):
            if _applies(node, sel.type_condition):
                out.update(_select(node, sel.selections, fragments, variables, errors, path))
            continue
        here = [*path, sel.alias]
        if sel.name == "__typename":
            out[sel.alias] = node.typename
            continue
        try:
            value = node.resolve(sel.name, _substitute(sel.args, variables))
        except ValidationError as exc:
            exc.path = exc.path or here
            raise
        except GraphQLError as exc:
            exc.path = exc.path or here
            errors.append(exc.json())
            out[sel.alias] = None
            continue
        except TypeError as exc:
            errors.append({"message": f"Argument error on '{sel.name}': {exc}", "path": here})
            out[sel.alias] = None
            continue
        out[sel.alias] = _complete(value, sel, fragments, variables, errors, here)
    return out


def _complete(
    value: Any,
    sel: Field,
    fragments: dict[str, Inline],
    variables: dict[str, Any],
    errors: list[JsonDict],
    path: list[Any],
) -> Any:
    if isinstance(value, Node):
        return _select(value, sel.selections, fragments, variables, errors, path)
    if isinstance(value, list):
        return [
            _complete(v, sel, fragments, variables, errors, [*path, i]) for i, v in enumerate(value)
        ]
    return value


def _applies(node: Node, type_condition: str | None) -> bool:
    return type_condition is None or type_condition in (node.typename, *node.interfaces)


# ------------------------------------------------------------------------ GitHub types


def _iso(moment: Any) -> str | None:
    from tests.emulator.server import iso

    return iso(moment) if moment else None


class Connection(Node):
    typename = "Connection"

    def __init__(
        self,
        items: list[Any],
        first: int | None = None,
        last: int | None = None,
        after: str | None = None,
        before: str | None = None,
    ) -> None:
        start = int(after.split(":")[-1]) + 1 if after else 0
        end = int(before.split(":")[-1]) if before else len(items)
        window = list(enumerate(items))[start:end]
        for limit in (first, last):
            if limit is not None and not 0 <= limit <= 100:
                raise GraphQLError(
                    "Requesting more than 100 records on a connection is not "
                    "allowed; use first or last between 0 and 100.",
                    type="EXCESSIVE_PAGINATION" if limit > 100 else None,
                )
        if first is None and last is None:
            raise GraphQLError(
                "You must provide a `first` or `last` value to properly paginate the connection.",
                type="MISSING_PAGINATION_BOUNDARIES",
            )
        has_prev = bool(window) and window[0][0] > 0
        has_next = bool(window) and window[-1][0] < len(items) - 1
        if first is not None:
            has_next = has_next or len(window) > first
            window = window[:first]
        if last is not None:
            has_prev = has_prev or len(window) > last
            window = window[-last:] if last else []
        self.window = window
        self.total = len(items)
        self.has_next, self.has_prev = has_next, has_prev

    def f_nodes(self) -> list[Any]:
        return [item for _, item in self.window]

    def f_edges(self) -> list[Node]:
        return [Edge(item, f"cursor:{index}") for index, item in self.window]

    def f_totalCount(self) -> int:
        return self.total

    def f_pageInfo(self) -> Node:
        return PageInfo(self)


class Edge(Node):
    typename = "Edge"

    def __init__(self, item: Any, cursor: str) -> None:
        self.item, self.cursor = item, cursor

    def f_node(self) -> Any:
        return self.item

    def f_cursor(self) -> str:
        return self.cursor


class PageInfo(Node):
    typename = "PageInfo"

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def f_hasNextPage(self) -> bool:
        return self.conn.has_next

    def f_hasPreviousPage(self) -> bool:
        return self.conn.has_prev

    def f_endCursor(self) -> str | None:
        return f"cursor:{self.conn.window[-1][0]}" if self.conn.window else None

    def f_startCursor(self) -> str | None:
        return f"cursor:{self.conn.window[0][0]}" if self.conn.window else None


class Actor(Node):
    interfaces = ("Actor",)

    def __init__(self, emulator: Emulator, login: str) -> None:
        self.emulator = emulator
        user = emulator.users[login]
        self.typename = "Bot" if user.type == "Bot" else "User"
        self.user = user

    def f_login(self) -> str:
        # GraphQL names bots without the "[bot]" suffix their REST login carries.
        login = self.user.login
        return (
            login[: -len("[bot]")] if self.typename == "Bot" and login.endswith("[bot]") else login
        )

    def f_id(self) -> str:
        return f"U_{self.user.id}"

    def f_databaseId(self) -> int:
        return self.user.id

    def f_name(self) -> str | None:
        return None

    def f_url(self) -> str:
        return f"https://github.example/{self.user.login}"

    def f_projectsV2(self, **args: Any) -> Connection:
        return _projects_of(self.emulator, self.user.login)(**args)

    def f_projectV2(self, number: int) -> Node:
        return _project_number(self.emulator, self.user.login)(number)


class LabelNode(Node):
    typename = "Label"

    def __init__(self, label: Any) -> None:
        self.label = label

    def f_name(self) -> str:
        return str(self.label.name)

    def f_color(self) -> str:
        return str(self.label.color)

    def f_description(self) -> str | None:
        return self.label.description or None

    def f_id(self) -> str:
        return f"LA_{self.label.id}"


class RateLimitNode(Node):
    typename = "RateLimit"

    def __init__(self, emulator: Emulator, cost: int = 1) -> None:
        self.data = emulator._rate_limit_json()["resources"]["graphql"]
        self.cost = cost

    def f_cost(self, dryRun: bool = False) -> int:
        return self.cost

    def f_limit(self) -> int:
        return int(self.data["limit"])

    def f_remaining(self) -> int:
        return int(self.data["remaining"])

    def f_used(self) -> int:
        return int(self.data["used"])

    def f_nodeCount(self) -> int:
        return 0

    def f_resetAt(self) -> str:
        from datetime import UTC, datetime

        return _iso(datetime.fromtimestamp(self.data["reset"], UTC)) or ""


class CommentNode(Node):
    typename = "IssueComment"

    def __init__(self, emulator: Emulator, repo: Repo, comment: CommentRec) -> None:
        self.emulator, self.repo, self.comment = emulator, repo, comment

    def f_id(self) -> str:
        return f"IC_{self.comment.id}"

    def f_databaseId(self) -> int:
        return self.comment.id

    def f_body(self) -> str:
        return self.comment.body

    def f_createdAt(self) -> str | None:
        return _iso(self.comment.created_at)

    def f_updatedAt(self) -> str | None:
        return _iso(self.comment.updated_at)

    def f_lastEditedAt(self) -> str | None:
        c = self.comment
        return _iso(c.updated_at) if c.updated_at != c.created_at else None

    def f_author(self) -> Node:
        return Actor(self.emulator, self.comment.user)

    def f_authorAssociation(self) -> str:
        return self.emulator._association(self.repo, self.comment.user)

    def f_url(self) -> str:
        return self.emulator._html(
            self.repo, f"issues/{self.comment.issue}#issuecomment-{self.comment.id}"
        )


class IssueNode(Node):
    typename = "Issue"

    def __init__(self, emulator: Emulator, repo: Repo, issue: IssueRec) -> None:
        self.emulator, self.repo, self.issue = emulator, repo, issue
        if issue.is_pr:
            self.typename = "PullRequest"

    def f_id(self) -> str:
        return ("PR_" if self.issue.is_pr else "I_") + str(self.issue.id)

    def f_databaseId(self) -> int:
        return self.issue.id

    def f_number(self) -> int:
        return self.issue.number

    def f_title(self) -> str:
        return self.issue.title

    def f_body(self) -> str:
        return self.issue.body

    def f_state(self) -> str:
        if self.issue.is_pr and self.repo.pulls[self.issue.number].merged_at:
            return "MERGED"
        return self.issue.state.upper()

    def f_stateReason(self) -> str | None:
        return self.issue.state_reason.upper() if self.issue.state_reason else None

    def f_closed(self) -> bool:
        return self.issue.state == "closed"

    def f_createdAt(self) -> str | None:
        return _iso(self.issue.created_at)

    def f_updatedAt(self) -> str | None:
        return _iso(self.issue.updated_at)

    def f_closedAt(self) -> str | None:
        return _iso(self.issue.closed_at)

    def f_url(self) -> str:
        kind = "pull" if self.issue.is_pr else "issues"
        return self.emulator._html(self.repo, f"{kind}/{self.issue.number}")

    def f_author(self) -> Node:
        return Actor(self.emulator, self.issue.user)

    def f_authorAssociation(self) -> str:
        return self.emulator._association(self.repo, self.issue.user)

    def f_labels(
        self,
        first: int | None = None,
        last: int | None = None,
        after: str | None = None,
        before: str | None = None,
        orderBy: Any = None,
    ) -> Connection:
        labels = [LabelNode(self.repo.labels[n.lower()]) for n in self.issue.labels]
        return Connection(labels, first, last, after, before)

    def f_comments(
        self,
        first: int | None = None,
        last: int | None = None,
        after: str | None = None,
        before: str | None = None,
        orderBy: Any = None,
    ) -> Connection:
        items = [
            CommentNode(self.emulator, self.repo, c)
            for c in self.repo.comments.values()
            if c.issue == self.issue.number
        ]
        return Connection(items, first, last, after, before)

    def f_projectItems(
        self,
        first: int | None = None,
        last: int | None = None,
        after: str | None = None,
        before: str | None = None,
        includeArchived: bool = True,
    ) -> Connection:
        mine = self.f_id()
        items = [
            _item_node(self.emulator, project, item)
            for project in self.emulator.projects.values()
            for item in project.items.values()
            if item.content_id == mine
        ]
        return Connection(items, first, last, after, before)

    # pull request fields
    def _pull(self) -> Any:
        if not self.issue.is_pr:
            raise GraphQLError(
                f"Field doesn't exist on type '{self.typename}'", type="undefinedField"
            )
        return self.repo.pulls[self.issue.number]

    def f_headRefName(self) -> str:
        return str(self._pull().head)

    def f_baseRefName(self) -> str:
        return str(self._pull().base)

    def f_headRefOid(self) -> str:
        pull = self._pull()
        return self.emulator._branch_sha(self.repo, pull.head) or str(pull.fake_sha)

    def f_merged(self) -> bool:
        return self._pull().merged_at is not None

    def f_mergedAt(self) -> str | None:
        return _iso(self._pull().merged_at)

    def f_isDraft(self) -> bool:
        return bool(self._pull().draft)

    def _reviews(self) -> list[Any]:
        self._pull()
        return sorted(
            (r for r in self.repo.reviews.values() if r.pull == self.issue.number),
            key=lambda r: r.id,
        )

    def f_reviews(
        self,
        first: int | None = None,
        last: int | None = None,
        after: str | None = None,
        before: str | None = None,
        states: Any = None,
        author: str | None = None,
    ) -> Connection:
        wanted = [states] if isinstance(states, str) else states
        found = [
            ReviewNode(self.emulator, self.repo, r)
            for r in self._reviews()
            if r.state != "PENDING"
            and (not wanted or r.state in wanted)
            and (not author or r.user == author)
        ]
        return Connection(found, first, last, after, before)

    def f_latestReviews(
        self,
        first: int | None = None,
        last: int | None = None,
        after: str | None = None,
        before: str | None = None,
    ) -> Connection:
        # GitHub: the latest submitted review of each reviewer, in submission order.
        latest: dict[str, Any] = {}
        for review in self._reviews():
            if review.state != "PENDING":
                latest.pop(review.user, None)
                latest[review.user] = review
        found = [ReviewNode(self.emulator, self.repo, r) for r in latest.values()]
        return Connection(found, first, last, after, before)

    def f_reviewThreads(
        self,
        first: int | None = None,
        last: int | None = None,
        after: str | None = None,
        before: str | None = None,
    ) -> Connection:
        self._pull()
        comments = sorted(
            (c for c in self.repo.review_comments.values() if c.pull == self.issue.number),
            key=lambda c: c.id,
        )
        threads: dict[int, list[Any]] = {}
        for c in comments:
            root = c.in_reply_to if c.in_reply_to in threads else c.id
            threads.setdefault(root, []).append(c)
        found = [ThreadNode(self.emulator, self.repo, group) for group in threads.values()]
        return Connection(found, first, last, after, before)


class ReviewNode(Node):
    typename = "PullRequestReview"

    def __init__(self, emulator: Emulator, repo: Repo, review: Any) -> None:
        self.emulator, self.repo, self.review = emulator, repo, review

    def f_id(self) -> str:
        return f"PRR_{self.review.id}"

    def f_databaseId(self) -> int:
        return int(self.review.id)

    def f_state(self) -> str:
        return str(self.review.state)

    def f_body(self) -> str:
        return str(self.review.body)

    def f_author(self) -> Node:
        return Actor(self.emulator, self.review.user)

    def f_authorAssociation(self) -> str:
        return self.emulator._association(self.repo, self.review.user)

    def f_submittedAt(self) -> str | None:
        return _iso(self.review.submitted_at)

    def f_createdAt(self) -> str | None:
        return _iso(self.review.submitted_at)

    def f_updatedAt(self) -> str | None:
        return _iso(self.review.submitted_at)

    def f_url(self) -> str:
        review = self.review
        return self.emulator._html(self.repo, f"pull/{review.pull}#pullrequestreview-{review.id}")

    def f_commit(self) -> Node:
        return Obj("Commit", oid=self.review.commit_id)

    def f_comments(
        self,
        first: int | None = None,
        last: int | None = None,
        after: str | None = None,
        before: str | None = None,
    ) -> Connection:
        found = [
            ReviewCommentNode(self.emulator, self.repo, c)
            for c in sorted(self.repo.review_comments.values(), key=lambda c: c.id)
            if c.review_id == self.review.id
        ]
        return Connection(found, first, last, after, before)


class ReviewCommentNode(Node):
    typename = "PullRequestReviewComment"

    def __init__(self, emulator: Emulator, repo: Repo, comment: Any) -> None:
        self.emulator, self.repo, self.comment = emulator, repo, comment

    def f_id(self) -> str:
        return f"PRRC_{self.comment.id}"

    def f_databaseId(self) -> int:
        return int(self.comment.id)

    def f_body(self) -> str:
        return str(self.comment.body)

    def f_path(self) -> str:
        return str(self.comment.path)

    def f_line(self) -> int | None:
        return int(self.comment.line)

    def f_originalLine(self) -> int | None:
        return int(self.comment.line)

    def f_diffHunk(self) -> str:
        return str(self.comment.diff_hunk)

    def f_author(self) -> Node:
        return Actor(self.emulator, self.comment.user)

    def f_authorAssociation(self) -> str:
        return self.emulator._association(self.repo, self.comment.user)

    def f_createdAt(self) -> str | None:
        return _iso(self.comment.created_at)

    def f_updatedAt(self) -> str | None:
        return _iso(self.comment.updated_at)

    def f_url(self) -> str:
        c = self.comment
        return self.emulator._html(self.repo, f"pull/{c.pull}#discussion_r{c.id}")

    def f_replyTo(self) -> Node | None:
        parent = self.repo.review_comments.get(self.comment.in_reply_to or 0)
        return ReviewCommentNode(self.emulator, self.repo, parent) if parent else None

    def f_pullRequestReview(self) -> Node | None:
        review = self.repo.reviews.get(self.comment.review_id)
        return ReviewNode(self.emulator, self.repo, review) if review else None


class ThreadNode(Node):
    typename = "PullRequestReviewThread"

    def __init__(self, emulator: Emulator, repo: Repo, comments: list[Any]) -> None:
        self.emulator, self.repo, self.items = emulator, repo, comments

    def f_id(self) -> str:
        return f"PRRT_{self.items[0].id}"

    def f_isResolved(self) -> bool:
        return False

    def f_isOutdated(self) -> bool:
        return False

    def f_path(self) -> str:
        return str(self.items[0].path)

    def f_line(self) -> int | None:
        return int(self.items[0].line)

    def f_comments(
        self,
        first: int | None = None,
        last: int | None = None,
        after: str | None = None,
        before: str | None = None,
    ) -> Connection:
        found = [ReviewCommentNode(self.emulator, self.repo, c) for c in self.items]
        return Connection(found, first, last, after, before)


class RefNode(Node):
    typename = "Ref"

    def __init__(self, name: str) -> None:
        self.name = name

    def f_name(self) -> str:
        return self.name


class RepositoryNode(Node):
    typename = "Repository"

    def __init__(self, emulator: Emulator, repo: Repo, login: str) -> None:
        self.emulator, self.repo, self.login = emulator, repo, login

    def f_id(self) -> str:
        return f"R_{self.repo.id}"

    def f_databaseId(self) -> int:
        return self.repo.id

    def f_name(self) -> str:
        return self.repo.name

    def f_nameWithOwner(self) -> str:
        return self.repo.full_name

    def f_url(self) -> str:
        return f"{self.emulator._base_url()}/{self.repo.full_name}"

    def f_hasIssuesEnabled(self) -> bool:
        return True

    def f_isArchived(self) -> bool:
        return False

    def f_defaultBranchRef(self) -> Node:
        return RefNode(self.repo.default_branch)

    def f_viewerPermission(self) -> str:
        return self.repo.collaborators.get(self.login, "read").upper()

    def _issues(
        self,
        prs: bool,
        states: Any,
        labels: Any,
        orderBy: Any,
        filterBy: Any,
        headRefName: str | None = None,
        baseRefName: str | None = None,
    ) -> list[Any]:
        if isinstance(states, str):
            states = [states]  # GraphQL coerces a single value into a list
        if isinstance(labels, str):
            labels = [labels]
        states = [s.lower() for s in states] if states else None
        wanted = {str(n).lower() for n in labels or []}
        filters = filterBy or {}
        since = filters.get("since")
        # IssueFilters.labels, like the `labels` argument: issues carrying ANY of them.
        also = {str(n).lower() for n in filters.get("labels") or []}
        items = []
        for issue in self.repo.issues.values():
            if issue.is_pr != prs:
                continue
            node = IssueNode(self.emulator, self.repo, issue)
            if states is not None and node.f_state().lower() not in states:
                continue
            # GitHub's `labels` argument keeps issues carrying ANY of the labels.
            if wanted and not wanted & {n.lower() for n in issue.labels}:
                continue
            if also and not also & {n.lower() for n in issue.labels}:
                continue
            if filters.get("createdBy") and filters["createdBy"] != issue.user:
                continue
            if since and _iso(issue.updated_at) and str(_iso(issue.updated_at)) < since:
                continue
            if headRefName and self.repo.pulls[issue.number].head != headRefName:
                continue
            if baseRefName and self.repo.pulls[issue.number].base != baseRefName:
                continue
            items.append(node)
        order = orderBy or {"field": "CREATED_AT", "direction": "ASC"}
        key = {"UPDATED_AT": lambda n: (n.issue.updated_at, n.issue.number)}.get(
            order.get("field", "CREATED_AT"), lambda n: (n.issue.created_at, n.issue.number)
        )
        items.sort(key=key, reverse=order.get("direction") == "DESC")
        return items

    def f_issues(
        self,
        first: int | None = None,
        last: int | None = None,
        after: str | None = None,
        before: str | None = None,
        states: Any = None,
        labels: Any = None,
        orderBy: Any = None,
        filterBy: Any = None,
    ) -> Connection:
        return Connection(
            self._issues(False, states, labels, orderBy, filterBy), first, last, after, before
        )

    def f_pullRequests(
        self,
        first: int | None = None,
        last: int | None = None,
        after: str | None = None,
        before: str | None = None,
        states: Any = None,
        labels: Any = None,
        orderBy: Any = None,
        headRefName: str | None = None,
        baseRefName: str | None = None,
    ) -> Connection:
        return Connection(
            self._issues(True, states, labels, orderBy, None, headRefName, baseRefName),
            first,
            last,
            after,
            before,
        )

    def _by_number(self, number: int, kind: str) -> Node | None:
        issue = self.repo.issues.get(number)
        wrong = (
            issue is None
            or (kind == "Issue" and issue.is_pr)
            or (kind == "PullRequest" and not issue.is_pr)
        )
        if issue is None or wrong:
            article = "an" if kind[0] in "AEIOU" else "a"
            raise GraphQLError(
                f"Could not resolve to {article} {kind} with the number of {number}.",
                type="NOT_FOUND",
            )
        return IssueNode(self.emulator, self.repo, issue)

    def f_issue(self, number: int) -> Node | None:
        return self._by_number(number, "Issue")

    def f_pullRequest(self, number: int) -> Node | None:
        return self._by_number(number, "PullRequest")

    def f_issueOrPullRequest(self, number: int) -> Node | None:
        return self._by_number(number, "IssueOrPullRequest")

    def f_labels(
        self,
        first: int | None = None,
        last: int | None = None,
        after: str | None = None,
        before: str | None = None,
        query: str | None = None,
        orderBy: Any = None,
    ) -> Connection:
        items = [
            LabelNode(lab)
            for lab in self.repo.labels.values()
            if not query or query.lower() in lab.name.lower()
        ]
        return Connection(items, first, last, after, before)

    def f_label(self, name: str) -> Node | None:
        label = self.repo.labels.get(name.lower())
        return LabelNode(label) if label else None

    def f_projectsV2(self, **args: Any) -> Connection:
        return _projects_of(self.emulator, self.repo.owner)(**args)


class Obj(Node):
    """A plain object: fixed values or callables (called with the field's arguments)."""

    def __init__(self, typename: str, interfaces: tuple[str, ...] = (), **fields: Any) -> None:
        self.typename = typename
        self.interfaces = interfaces
        self.fields = fields

    def resolve(self, name: str, args: dict[str, Any]) -> Any:
        if name not in self.fields:
            raise GraphQLError(
                f"Field '{name}' doesn't exist on type '{self.typename}'", type="undefinedField"
            )
        value = self.fields[name]
        return value(**args) if callable(value) else value


# Projects V2 -------------------------------------------------------------------------


def _field_node(emulator: Emulator, project: Project, fld: ProjectField) -> Node:
    common = ("ProjectV2FieldCommon", "ProjectV2FieldConfiguration")
    if fld.options:
        options = [Obj("ProjectV2SingleSelectFieldOption", id=i, name=n) for i, n in fld.options]
        return Obj(
            "ProjectV2SingleSelectField",
            common,
            id=fld.id,
            name=fld.name,
            dataType="SINGLE_SELECT",
            options=lambda names=None: options,
        )
    return Obj("ProjectV2Field", common, id=fld.id, name=fld.name, dataType=fld.name.upper())


def _project_node(emulator: Emulator, project: Project) -> Node:
    def fields(
        first: int | None = None,
        last: int | None = None,
        after: str | None = None,
        before: str | None = None,
        orderBy: Any = None,
    ) -> Connection:
        nodes = [_field_node(emulator, project, f) for f in project.fields]
        return Connection(nodes, first, last, after, before)

    def field_by_name(name: str) -> Node | None:
        for fld in project.fields:
            if fld.name == name:
                return _field_node(emulator, project, fld)
        return None

    def items(
        first: int | None = None,
        last: int | None = None,
        after: str | None = None,
        before: str | None = None,
        orderBy: Any = None,
        query: str | None = None,
    ) -> Connection:
        nodes = [_item_node(emulator, project, i) for i in project.items.values()]
        return Connection(nodes, first, last, after, before)

    return Obj(
        "ProjectV2",
        ("Node",),
        id=project.id,
        number=project.number,
        title=project.title,
        closed=project.closed,
        public=False,
        shortDescription="",
        url=f"{emulator._base_url()}/orgs/{project.owner}/projects/{project.number}",
        fields=fields,
        field=field_by_name,
        items=items,
    )


def _item_node(emulator: Emulator, project: Project, item: ProjectItem) -> Node:
    def value_node(fld: ProjectField) -> Node | None:
        chosen = item.values.get(fld.id)
        if not chosen:
            return None
        return Obj(
            "ProjectV2ItemFieldSingleSelectValue",
            ("ProjectV2ItemFieldValueCommon",),
            name=dict(fld.options).get(chosen),
            optionId=chosen,
            field=_field_node(emulator, project, fld),
        )

    def by_name(name: str) -> Node | None:
        for fld in project.fields:
            if fld.name == name:
                return value_node(fld)
        return None

    def values(
        first: int | None = None,
        last: int | None = None,
        after: str | None = None,
        before: str | None = None,
        orderBy: Any = None,
    ) -> Connection:
        found = [v for v in (value_node(f) for f in project.fields) if v is not None]
        return Connection(found, first, last, after, before)

    content = _find_node(emulator, item.content_id)
    return Obj(
        "ProjectV2Item",
        ("Node",),
        id=item.id,
        type="PULL_REQUEST" if item.content_id.startswith("PR_") else "ISSUE",
        isArchived=False,
        content=content,
        project=lambda: _project_node(emulator, project),
        fieldValueByName=by_name,
        fieldValues=values,
    )


def _find_node(emulator: Emulator, node_id: str) -> Node | None:
    if node_id in emulator.projects:
        return _project_node(emulator, emulator.projects[node_id])
    for project in emulator.projects.values():
        if node_id in project.items:
            return _item_node(emulator, project, project.items[node_id])
    for repo in emulator.repos.values():
        for issue in repo.issues.values():
            if node_id == f"{'PR_' if issue.is_pr else 'I_'}{issue.id}":
                return IssueNode(emulator, repo, issue)
    return None


def _need_node(emulator: Emulator, node_id: str) -> Node:
    node = _find_node(emulator, str(node_id))
    if node is None:
        raise GraphQLError(
            f"Could not resolve to a node with the global id of '{node_id}'", type="NOT_FOUND"
        )
    return node


def _projects_of(emulator: Emulator, owner: str) -> Callable[..., Any]:
    def projects(
        first: int | None = None,
        last: int | None = None,
        after: str | None = None,
        before: str | None = None,
        orderBy: Any = None,
        query: str | None = None,
    ) -> Connection:
        mine = [
            _project_node(emulator, p)
            for p in emulator.projects.values()
            if p.owner.lower() == owner.lower()
        ]
        return Connection(mine, first, last, after, before)

    return projects


def _project_number(emulator: Emulator, owner: str) -> Callable[..., Any]:
    def project(number: int) -> Node:
        for p in emulator.projects.values():
            if p.owner.lower() == owner.lower() and p.number == number:
                return _project_node(emulator, p)
        raise GraphQLError(
            f"Could not resolve to a ProjectV2 with the number {number}.", type="NOT_FOUND"
        )

    return project


class Query(Node):
    typename = "Query"

    def __init__(self, emulator: Emulator, login: str) -> None:
        self.emulator, self.login = emulator, login

    def f_repository(self, owner: str, name: str, followRenames: bool = True) -> Node | None:
        repo = self.emulator.repos.get(f"{owner}/{name}".lower())
        if repo is None:
            raise GraphQLError(
                f"Could not resolve to a Repository with the name '{owner}/{name}'.",
                type="NOT_FOUND",
            )
        return RepositoryNode(self.emulator, repo, self.login)

    def f_viewer(self) -> Node:
        return Actor(self.emulator, self.login)

    def f_user(self, login: str) -> Node | None:
        if login not in self.emulator.users:
            raise GraphQLError(
                f"Could not resolve to a User with the login of '{login}'.", type="NOT_FOUND"
            )
        return Actor(self.emulator, login)

    def f_search(
        self,
        query: str,
        type: str,
        first: int | None = None,
        last: int | None = None,
        after: str | None = None,
        before: str | None = None,
    ) -> Node:
        if type != "ISSUE":
            raise GraphQLError(f"search type {type} is not emulated", type="INTERNAL")
        found = search_issues(self.emulator, query)
        conn = Connection(found, first, last, after, before)
        return Obj(
            "SearchResultItemConnection",
            issueCount=len(found),
            nodes=conn.f_nodes,
            edges=conn.f_edges,
            pageInfo=conn.f_pageInfo,
        )

    def f_rateLimit(self, dryRun: bool = False) -> Node:
        return RateLimitNode(self.emulator, getattr(self, "cost", 1))

    def f_node(self, id: str) -> Node | None:
        return _find_node(self.emulator, id)

    def f_nodes(self, ids: list[str]) -> list[Node | None]:
        return [_find_node(self.emulator, i) for i in ids]

    def f_organization(self, login: str) -> Node:
        return Obj(
            "Organization",
            login=login,
            projectsV2=_projects_of(self.emulator, login),
            projectV2=_project_number(self.emulator, login),
        )


class Mutation(Node):
    typename = "Mutation"

    def __init__(self, emulator: Emulator, login: str) -> None:
        self.emulator, self.login = emulator, login

    def _project(self, project_id: str) -> Project:
        project = self.emulator.projects.get(str(project_id))
        if project is None:
            raise GraphQLError(
                f"Could not resolve to a node with the global id of '{project_id}'",
                type="NOT_FOUND",
            )
        return project

    def _item(self, project: Project, item_id: str) -> ProjectItem:
        item = project.items.get(str(item_id))
        if item is None:
            raise GraphQLError(
                f"Could not resolve to a node with the global id of '{item_id}'",
                type="NOT_FOUND",
            )
        return item

    def f_addProjectV2ItemById(self, input: dict[str, Any]) -> Node:
        from tests.emulator.server import ProjectItem

        project = self._project(input.get("projectId", ""))
        content_id = str(input.get("contentId", ""))
        _need_node(self.emulator, content_id)
        for item in project.items.values():
            if item.content_id == content_id:
                break  # GitHub answers with the existing item
        else:
            item = ProjectItem(f"PVTI_{self.emulator._next_id()}", content_id)
            project.items[item.id] = item
        return Obj("AddProjectV2ItemByIdPayload", item=_item_node(self.emulator, project, item))

    def f_updateProjectV2ItemFieldValue(self, input: dict[str, Any]) -> Node:
        project = self._project(input.get("projectId", ""))
        item = self._item(project, input.get("itemId", ""))
        fld = next((f for f in project.fields if f.id == input.get("fieldId")), None)
        if fld is None:
            raise GraphQLError(
                f"Could not resolve to a node with the global id of '{input.get('fieldId')}'",
                type="NOT_FOUND",
            )
        option = (input.get("value") or {}).get("singleSelectOptionId")
        if option not in dict(fld.options):
            raise GraphQLError(
                f"The single select option Id does not belong to the field '{fld.name}'",
                type="UNPROCESSABLE",
            )
        item.values[fld.id] = str(option)
        return Obj(
            "UpdateProjectV2ItemFieldValuePayload",
            projectV2Item=_item_node(self.emulator, project, item),
        )

    def f_clearProjectV2ItemFieldValue(self, input: dict[str, Any]) -> Node:
        project = self._project(input.get("projectId", ""))
        item = self._item(project, input.get("itemId", ""))
        item.values.pop(str(input.get("fieldId")), None)
        return Obj(
            "ClearProjectV2ItemFieldValuePayload",
            projectV2Item=_item_node(self.emulator, project, item),
        )

    def f_deleteProjectV2Item(self, input: dict[str, Any]) -> Node:
        project = self._project(input.get("projectId", ""))
        item = self._item(project, input.get("itemId", ""))
        del project.items[item.id]
        return Obj("DeleteProjectV2ItemPayload", deletedItemId=item.id)


_SEARCH_TERM_RE = re.compile(r'(-?)(?:(\w+):)?("[^"]*"|\S+)')


def search_issues(emulator: Emulator, query: str) -> list[Node]:
    """GitHub issue search, the qualifiers orch uses: repo:, is:open|closed|issue|pr,
    in:title|body|comments, updated:>=|>|<=|<DATE, sort:updated-desc|updated-asc|created-*,
    and words or "phrases" (case-insensitive; punctuation such as `@` is not indexed).
    Results are sorted by `sort:` (default: newest updated first)."""
    repos, states, kinds, where, dates, words = [], [], [], [], [], []
    order = "updated-desc"
    for negate, key, value in _SEARCH_TERM_RE.findall(query):
        value = value.strip('"')
        if key == "repo":
            repos.append(value.lower())
        elif key == "is":
            (states if value in ("open", "closed") else kinds).append(value)
        elif key == "in":
            where.append(value)
        elif key in ("updated", "created"):
            op = next((o for o in (">=", "<=", ">", "<") if value.startswith(o)), "")
            dates.append((key, op or ">=", value[len(op) :]))
        elif key == "sort":
            order = value
        elif not negate:
            words.append(re.sub(r"[^\w\s]", " ", value).lower().split())
    found = []
    for repo in emulator.repos.values():
        if repos and repo.full_name.lower() not in repos:
            continue
        for issue in repo.issues.values():
            if states and issue.state not in states:
                continue
            if ("pr" in kinds and not issue.is_pr) or ("issue" in kinds and issue.is_pr):
                continue
            if not all(_date_ok(issue, *d) for d in dates):
                continue
            texts = _search_texts(repo, issue, where or ["title", "body", "comments"])
            if all(any(_has_words(t, w) for t in texts) for w in words):
                found.append(IssueNode(emulator, repo, issue))
    field, _, direction = order.partition("-")
    key = "created_at" if field == "created" else "updated_at"
    found.sort(key=lambda n: (getattr(n.issue, key), n.issue.number), reverse=direction != "asc")
    return list(found)


def _search_texts(repo: Repo, issue: IssueRec, where: list[str]) -> list[str]:
    texts = []
    if "title" in where:
        texts.append(issue.title)
    if "body" in where:
        texts.append(issue.body)
    if "comments" in where:
        texts += [c.body for c in repo.comments.values() if c.issue == issue.number]
    return texts


def _has_words(text: str, words: list[str]) -> bool:
    tokens = re.sub(r"[^\w\s]", " ", text).lower().split()
    size = len(words)
    return any(tokens[i : i + size] == words for i in range(len(tokens) - size + 1))


def _date_ok(issue: IssueRec, key: str, op: str, moment: str) -> bool:
    """`YYYY-MM-DD`, or with `THH:MM:SS` and a UTC offset (`+00:00`, or `Z`)."""
    from datetime import datetime

    value = issue.created_at if key == "created" else issue.updated_at
    if "T" not in moment:
        moment += "T00:00:00+00:00" if ">" in op else "T23:59:59+00:00"
    when = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return {">=": value >= when, ">": value > when, "<=": value <= when, "<": value < when}[op]
