"""The text of the tick's GraphQL snapshot query, built from named parts (pure).

One request reads several aliased connections of `repository` at once; each `Part` is
one of them: its alias, the variables it declares and its selection. `query(parts)`
joins the parts a request needs (later pages carry only the parts that still page).

Full read (no cache, or a cache of another version):
  open         every open orch task (pages of 100, created order)
  closed       closed orch tasks updated since the last tick (one page, newest first)
  stranded     closed tasks still marked in_review/in_progress/routed, however old (a
               merge no tick saw; one page)
  openPulls    every open pull request (pages of 100) with its conversation: latest
               reviews with their inline comments, last conversation comments (SPEC §12)
  closedPulls  the recently closed or merged pull requests (one page)
  mentions     (with a mention) GitHub's issue search for open issues commented with
               it since `since` (a root field; one page)
Delta read (a warm cache; GitHub scores it ≤ 2 points, whatever the number of tasks):
  changed      every issue, open or closed, updated since `since` (newest first, pages
               while newer than `since`): the tasks that moved, and issues whose status
               label went away
  pulls        pull requests, most recently updated first (pages until older than
               since), with their conversation. Mentions need no search here: `changed`
               and `pulls` carry the comments of every issue and PR updated since
  sweep        (a safety net, a few hours apart) one page of the open tasks' numbers and
               `updatedAt`, to catch anything a delta missed (a deleted issue)

GitHub's score adds, per connection, one request per parent node and divides by 100
(nested `labels` and `comments` count once per issue of the page; a review's inline
comments once per review): a full read's first request is 11 points (7 of them the open
PRs' conversation), a later page of open tasks 2 (9 with a page of open PRs); the delta's
page of 50 issues with 20 PRs and their conversation is 2.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from orch.clock import utc_iso

PAGE = 100  # open issues / open PRs per page of a full read (GitHub's maximum)
DELTA_PAGE = 50  # issues updated since, per page of a delta read
DELTA_PULLS = 20  # pull requests per page of a delta read
SWEEP_PAGE = 100  # numbers per sweep page (no nested connection: 1 request's worth)
COMMENTS = 20  # last comments per issue
# A delta asks from a little before `since`, so a change GitHub made visible late is not
# missed; only its first page looks back that far (pages go on while they hold changes
# newer than `since`), so a burst of changes just before `since` costs no extra page.
MARGIN_SECONDS = 120
CLOSED = 50  # closed orch issues updated since the last tick, in a full read
CLOSED_PULLS = 50  # recently closed or merged pull requests, in a full read
# The conversation on an open pull request (SPEC §12): its latest reviews, each with its
# first inline comments, and its last conversation comments.
REVIEWS = 5
REVIEW_COMMENTS = 10
PR_COMMENTS = 10
MENTIONS = 10  # open issues found by the mention search, in a full read
MENTION_LAG = timedelta(minutes=30)  # GitHub's search index trails by seconds to minutes

ISSUE_FIELDS = """
        number title body state url createdAt updatedAt
        author { __typename login }
        labels(first: 100) { nodes { name } }
        comments(last: $comments) {
          totalCount
          nodes {
            databaseId body createdAt updatedAt authorAssociation author { __typename login }
          }
        }"""

PULL_FIELDS = """
        number title body state url headRefName baseRefName headRefOid mergedAt updatedAt"""

_ACTOR = "author { __typename login }"

CONVERSATION = f"""
        createdAt {_ACTOR}
        reviews(last: {REVIEWS}) {{
          nodes {{
            databaseId state body submittedAt authorAssociation {_ACTOR}
            comments(first: {REVIEW_COMMENTS}) {{
              nodes {{
                databaseId path line diffHunk body createdAt authorAssociation {_ACTOR}
              }}
            }}
          }}
        }}
        comments(last: {PR_COMMENTS}) {{
          nodes {{ databaseId body createdAt updatedAt authorAssociation {_ACTOR} }}
        }}"""

MENTION_FIELDS = f"""
        ... on Issue {{
          number title body state url createdAt updatedAt {_ACTOR}
          labels(first: 100) {{ nodes {{ name }} }}
          comments(last: {PR_COMMENTS}) {{
            nodes {{ databaseId body createdAt updatedAt authorAssociation {_ACTOR} }}
          }}
        }}"""

PAGE_INFO = "pageInfo { hasNextPage endCursor }"


@dataclass(frozen=True)
class Part:
    """One aliased connection of the snapshot query."""

    alias: str
    variables: tuple[tuple[str, str], ...]  # (name, GraphQL type)
    text: str
    cursor: str | None = None  # the variable holding its `after` cursor, if it pages
    root: bool = False  # a field of the query itself, not of `repository`


def _issues(alias: str, args: str, fields: str, variables: tuple[tuple[str, str], ...]) -> Part:
    cursor = f"{alias}After"
    return Part(
        alias,
        ((cursor, "String"), *variables),
        f"""
    {alias}: issues({args}, after: ${cursor}) {{
      {PAGE_INFO}
      nodes {{{fields}
      }}
    }}""",
        cursor,
    )


def _pulls(alias: str, args: str, fields: str = PULL_FIELDS) -> Part:
    cursor = f"{alias}After"
    return Part(
        alias,
        ((cursor, "String"),),
        f"""
    {alias}: pullRequests({args}, after: ${cursor}) {{
      {PAGE_INFO}
      nodes {{{fields}
      }}
    }}""",
        cursor,
    )


_TASK_VARS = (("labels", "[String!]"), ("comments", "Int!"))

PARTS: dict[str, Part] = {
    part.alias: part
    for part in (
        _issues(
            "open",
            f"first: {PAGE}, states: OPEN, labels: $labels, "
            "orderBy: {field: CREATED_AT, direction: ASC}",
            ISSUE_FIELDS,
            _TASK_VARS,
        ),
        _issues(
            "closed",
            f"first: {CLOSED}, states: CLOSED, labels: $labels, filterBy: {{since: $since}}, "
            "orderBy: {field: UPDATED_AT, direction: DESC}",
            ISSUE_FIELDS,
            (*_TASK_VARS, ("since", "DateTime")),
        ),
        _issues(
            "stranded",
            f"first: {CLOSED}, states: CLOSED, labels: $stranded, "
            "orderBy: {field: UPDATED_AT, direction: DESC}",
            ISSUE_FIELDS,
            (("stranded", "[String!]"), ("comments", "Int!")),
        ),
        _pulls(
            "openPulls",
            f"first: {PAGE}, states: OPEN, orderBy: {{field: CREATED_AT, direction: ASC}}",
            PULL_FIELDS + CONVERSATION,
        ),
        _pulls(
            "closedPulls",
            f"first: {CLOSED_PULLS}, states: [CLOSED, MERGED], "
            "orderBy: {field: UPDATED_AT, direction: DESC}",
        ),
        # No label filter: an issue whose status label was taken away must be seen too.
        _issues(
            "changed",
            f"first: {DELTA_PAGE}, states: [OPEN, CLOSED], filterBy: {{since: $since}}, "
            "orderBy: {field: UPDATED_AT, direction: DESC}",
            ISSUE_FIELDS,
            (("comments", "Int!"), ("since", "DateTime")),
        ),
        _pulls(
            "pulls",
            f"first: {DELTA_PULLS}, orderBy: {{field: UPDATED_AT, direction: DESC}}",
            PULL_FIELDS + CONVERSATION,
        ),
        _issues(
            "sweep",
            f"first: {SWEEP_PAGE}, states: OPEN, labels: $labels, "
            "orderBy: {field: CREATED_AT, direction: ASC}",
            "\n        number updatedAt",
            (("labels", "[String!]"),),
        ),
        Part(
            "mentions",
            (("mention", "String!"),),
            f"""
  mentions: search(query: $mention, type: ISSUE, first: {MENTIONS}) {{
    nodes {{
        __typename{MENTION_FIELDS}
    }}
  }}""",
            root=True,
        ),
    )
}

FULL = ("open", "closed", "stranded", "openPulls", "closedPulls")
DELTA = ("changed", "pulls")
ONE_PAGE = frozenset({"closed", "stranded", "closedPulls", "sweep", "mentions"})  # never paged
THREADS = frozenset({"openPulls", "pulls"})  # the parts that carry the PRs' conversation


def declared(aliases: Iterable[str]) -> dict[str, str]:
    """Variable name -> GraphQL type, for the parts `aliases` (GitHub refuses a query
    that declares a variable it does not use, so only theirs)."""
    found = {"owner": "String!", "name": "String!"}
    for alias in aliases:
        found.update(dict(PARTS[alias].variables))
    return found


def mention_search(repo: str, mention: str, since: datetime | None) -> str:
    """The search for open issues (not PRs: their comments come with `openPulls`) with a
    comment holding `mention`, updated since `since` less GitHub's index lag."""
    phrase = mention.replace('"', "")
    search = f'repo:{repo} is:issue is:open in:comments "{phrase}"'
    if since is not None:  # GitHub's search dates: THH:MM:SS with a UTC offset
        search += f" updated:>={utc_iso(since - MENTION_LAG).replace('Z', '+00:00')}"
    return search + " sort:updated-desc"


def query(aliases: Iterable[str]) -> str:
    """The snapshot query reading `aliases` (PARTS keys), with `rateLimit`."""
    aliases = list(aliases)
    parts = [PARTS[alias] for alias in aliases]
    variables = ", ".join(f"${name}: {kind}" for name, kind in declared(aliases).items())
    body = "".join(part.text for part in parts if not part.root)
    roots = "".join(part.text for part in parts if part.root)
    return f"""
query OrchSnapshot({variables}) {{
  rateLimit {{ cost remaining resetAt }}
  viewer {{ login }}
  repository(owner: $owner, name: $name) {{{body}
  }}{roots}
}}
"""
