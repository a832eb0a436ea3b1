"""The emulator scores GraphQL queries like GitHub (docs: "Rate limits and query limits
for the GraphQL API"): one request per connection per parent node, /100, rounded, ≥ 1."""

from __future__ import annotations

import pytest

from orch.store import snapshot_query as Q
from tests.emulator.graphql import _Parser, execute, query_cost
from tests.emulator.server import Emulator


def cost(text: str, variables: dict[str, object] | None = None) -> int:
    operations, fragments = _Parser(text).document()
    return query_cost(operations[0].selections, fragments, variables or {})


@pytest.mark.parametrize(
    ("text", "points"),
    [
        ("query { viewer { login } }", 1),
        (
            'query { repository(owner: "o", name: "r") { issues(first: 100) { nodes { number } } } }',
            1,
        ),
        # GitHub's own example: 1 + 50 + 50 × 10 (= 551 requests) -> 6 points
        (
            "query { viewer { repositories(first: 50) { nodes { issues(first: 10) { nodes {"
            " labels(first: 20) { nodes { name } } } } } } } }",
            6,
        ),
    ],
)
def test_cost_like_github(text: str, points: int) -> None:
    assert cost(text) == points


def test_the_snapshot_queries_cost_what_their_docstring_says() -> None:
    values = {"comments": Q.COMMENTS}
    # 50 issues (labels, comments) + 20 PRs (5 reviews × 10 inline comments, 10 comments)
    assert cost(Q.query(Q.DELTA), values) == 2
    assert cost(Q.query((*Q.DELTA, "sweep")), values) == 2
    assert cost(Q.query(("open",)), values) == 2
    assert cost(Q.query(("open", "openPulls")), values) == 9
    assert cost(Q.query(Q.FULL), values) == 11
    assert cost(Q.query((*Q.FULL, "mentions")), values) == 11


def test_rate_limit_reports_the_cost(emulator: Emulator) -> None:
    # 1 + 100 labels + 100 comments connections = 201 requests -> 2 points
    body = {
        "query": 'query { rateLimit { cost } repository(owner: "acme", name: "widgets") { issues(first: 100) { nodes { labels(first: 100) { nodes { name } } comments(last: 20) { totalCount } } } } }'
    }
    assert execute(emulator, body, "owner")["data"]["rateLimit"]["cost"] == 2
    assert emulator.graphql_points == 2
