"""The emulator answers like GitHub: shapes, filters, errors and pagination, through the
real gh (via orch.io.gh, which passes gh's raw answers through)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orch.clock import SystemClock, parse_iso
from orch.config.model import BackoffConfig
from orch.errors import NotFound
from orch.io.gh import Gh, GhHTTPError
from orch.paths import Paths
from tests.emulator.server import DEFAULT_REPO, Emulator
from tests.helpers import Repo, git

REPO = f"repos/{DEFAULT_REPO}"


@pytest.fixture
def gh(emulator: Emulator, gh_env: dict[str, str], tmp_path: Path) -> Gh:
    paths = Paths(config_dir=tmp_path / "c", state_dir=tmp_path / "s")
    return Gh(emulator.host, BackoffConfig("skip", 0.3, 1), paths, SystemClock(), gh_env)


def test_issue_shape_and_pr_as_issue(emulator: Emulator, gh: Gh) -> None:
    issue = gh.rest("POST", f"{REPO}/issues", body={"title": "T", "labels": ["status:new"]})
    assert issue["number"] == 1
    assert issue["user"] == {
        "login": "owner",
        "id": issue["user"]["id"],
        "node_id": issue["user"]["node_id"],
        "type": "User",
        "site_admin": False,
        "html_url": "https://github.example/owner",
    }
    assert [(lab["name"], lab["color"]) for lab in issue["labels"]] == [("status:new", "ededed")]
    assert issue["created_at"].endswith("Z") and issue["state"] == "open"
    assert issue["html_url"] == f"https://{emulator.host}/acme/widgets/issues/1"
    assert "pull_request" not in issue
    emulator.add_pr("feature", "A PR")
    as_issue = gh.rest("GET", f"{REPO}/issues/2")
    assert as_issue["pull_request"]["url"].endswith("/api/v3/repos/acme/widgets/pulls/2")
    listed = gh.rest("GET", f"{REPO}/issues", params={"direction": "asc"})
    assert [(i["number"], "pull_request" in i) for i in listed] == [(1, False), (2, True)]


def test_list_filters(emulator: Emulator, gh: Gh) -> None:
    emulator.add_issue("a", labels=["x", "y"])
    emulator.add_issue("b", labels=["x"], user="someone")
    emulator.add_issue("c", labels=["y"], state="closed")

    def numbers(**params: Any) -> list[int]:
        return [i["number"] for i in gh.rest("GET", f"{REPO}/issues", params=params)]

    assert numbers() == [2, 1]  # newest first by default, open only
    assert numbers(labels="x,y") == [1]  # comma = AND
    assert numbers(labels="Y", state="all", direction="asc") == [1, 3]
    assert numbers(creator="someone") == [2]
    assert numbers(state="closed") == [3]
    emulator.advance(3600)
    emulator.add_comment(1, "later")
    since = emulator.comments(1)[0]["created_at"]
    assert numbers(since=since) == [1]


def test_pagination_links(emulator: Emulator, gh: Gh) -> None:
    for n in range(5):
        emulator.add_label(f"l{n}")
    page = gh.request("GET", f"{REPO}/labels", params={"per_page": 2, "page": 2})
    assert [lab["name"] for lab in page.data] == ["l2", "l3"]
    base = f"https://{emulator.host}/api/v3/{REPO}/labels"
    assert page.header("link") == (
        f'<{base}?per_page=2&page=1>; rel="prev", <{base}?per_page=2&page=3>; rel="next", '
        f'<{base}?per_page=2&page=3>; rel="last", <{base}?per_page=2&page=1>; rel="first"'
    )
    assert [lab["name"] for lab in gh.rest("GET", f"{REPO}/labels", paginate=True)] == [
        f"l{n}" for n in range(5)
    ]


def test_label_endpoints(emulator: Emulator, gh: Gh) -> None:
    emulator.add_issue("t", labels=["a"])
    gh.rest("PUT", f"{REPO}/issues/1/labels", body={"labels": ["b", "c"]})
    assert emulator.labels_of(1) == ["b", "c"]
    gh.rest("POST", f"{REPO}/issues/1/labels", body={"labels": ["a"]})
    assert emulator.labels_of(1) == ["a", "b", "c"]
    gh.rest("DELETE", f"{REPO}/issues/1/labels/b")
    assert emulator.labels_of(1) == ["a", "c"]
    with pytest.raises(NotFound):
        gh.rest("DELETE", f"{REPO}/issues/1/labels/b")
    gh.rest("PATCH", f"{REPO}/labels/a", body={"new_name": "status:new", "color": "0e8a16"})
    assert emulator.labels_of(1) == ["c", "status:new"]
    gh.rest("DELETE", f"{REPO}/labels/status%3Anew")
    assert emulator.labels_of(1) == ["c"]
    assert emulator.label_names() == ["b", "c"]


def test_every_change_bumps_updated_at(emulator: Emulator, gh: Gh) -> None:
    stamps = [parse_iso(emulator.add_issue("t")["updated_at"])]
    for action in (
        lambda: gh.rest("PUT", f"{REPO}/issues/1/labels", body={"labels": ["x"]}),
        lambda: gh.rest("POST", f"{REPO}/issues/1/comments", body={"body": "hi"}),
        lambda: gh.rest("PATCH", f"{REPO}/issues/1", body={"title": "t2"}),
    ):
        action()
        stamps.append(parse_iso(emulator.issue(1)["updated_at"]))
    assert stamps == sorted(set(stamps))


def test_pull_requests(emulator: Emulator, gh: Gh, repo: Repo) -> None:
    emulator.set_origin(repo.origin)
    issue = emulator.add_issue("Task")
    with pytest.raises(GhHTTPError) as info:  # branch not pushed yet
        gh.rest("POST", f"{REPO}/pulls", body={"title": "x", "head": "orch/1-t", "base": "main"})
    assert info.value.error_codes() == ["invalid"]
    git("push", "-q", "origin", "main:refs/heads/orch/1-t", cwd=repo.work)
    sha = git("rev-parse", "HEAD", cwd=repo.work).strip()
    body = {"title": "Fix", "head": "orch/1-t", "base": "main", "body": "Closes #1"}
    pr = gh.rest("POST", f"{REPO}/pulls", body=body)
    assert (pr["number"], pr["head"]["ref"], pr["head"]["sha"], pr["merged"]) == (
        2,
        "orch/1-t",
        sha,
        False,
    )
    with pytest.raises(GhHTTPError) as dup:
        gh.rest("POST", f"{REPO}/pulls", body=body)
    assert dup.value.error_messages() == ["A pull request already exists for acme:orch/1-t."]
    found = gh.rest("GET", f"{REPO}/pulls", params={"head": "acme:orch/1-t"})
    assert [p["number"] for p in found] == [2]
    assert gh.rest("GET", f"{REPO}/pulls", params={"head": "acme:other"}) == []
    merged = gh.rest("PUT", f"{REPO}/pulls/2/merge", body={"merge_method": "squash"})
    assert merged["merged"] is True
    assert emulator.issue(issue["number"])["state"] == "closed"  # "Closes #1"
    assert gh.rest("GET", f"{REPO}/pulls/2")["merged_at"]
    with pytest.raises(GhHTTPError) as again:
        gh.rest("PUT", f"{REPO}/pulls/2/merge", body={})
    assert again.value.status == 405


def test_permissions_and_read_only_writers(
    emulator: Emulator, gh_env: dict[str, str], tmp_path: Path, gh: Gh
) -> None:
    token = emulator.add_user("reader", permission="read")
    emulator.add_user("stranger")
    got = gh.rest("GET", f"{REPO}/collaborators/reader/permission")
    assert (got["permission"], got["role_name"], got["user"]["login"]) == ("read", "read", "reader")
    emulator.set_permission("lead", "maintain")
    assert gh.rest("GET", f"{REPO}/collaborators/lead/permission")["permission"] == "write"
    with pytest.raises(NotFound):
        gh.rest("GET", f"{REPO}/collaborators/stranger/permission")
    emulator.add_issue("t")
    paths = Paths(config_dir=tmp_path / "c2", state_dir=tmp_path / "s2")
    as_reader = Gh(
        emulator.host,
        BackoffConfig("skip", 0.3, 1),
        paths,
        SystemClock(),
        {**gh_env, "GH_ENTERPRISE_TOKEN": token},
    )
    assert as_reader.rest("GET", "user")["login"] == "reader"
    assert as_reader.rest("GET", REPO)["permissions"]["push"] is False
    with pytest.raises(GhHTTPError) as info:
        as_reader.rest("PUT", f"{REPO}/issues/1/labels", body={"labels": ["status:new"]})
    assert info.value.status == 403
    assert emulator.labels_of(1) == []


def test_bots_in_rest_and_graphql(emulator: Emulator, gh: Gh) -> None:
    emulator.add_issue("t")
    emulator.add_comment(1, "beep", user="helper[bot]")
    assert gh.rest("GET", f"{REPO}/issues/1/comments")[0]["user"]["type"] == "Bot"
    data = gh.graphql(
        'query { repository(owner: "acme", name: "widgets") { issue(number: 1) { '
        "comments(first: 5) { nodes { author { __typename login } } } } } }"
    )
    assert data["repository"]["issue"]["comments"]["nodes"] == [
        {"author": {"__typename": "Bot", "login": "helper"}}  # GraphQL drops "[bot]"
    ]


def test_graphql_cursors_and_errors(emulator: Emulator, gh: Gh) -> None:
    for n in range(5):
        emulator.add_issue(f"i{n}", labels=["status:new"] if n % 2 else ["status:done"])
    query = (
        'query Page($after: String) { repository(owner: "acme", name: "widgets") { '
        'issues(first: 2, after: $after, labels: ["status:new", "status:done"], '
        "states: [OPEN]) { totalCount pageInfo { hasNextPage endCursor } "
        "edges { cursor node { ... on Issue { number } } } } } }"
    )
    seen: list[int] = []
    after = None
    while True:
        conn = gh.graphql(query, {"after": after})["repository"]["issues"]
        assert conn["totalCount"] == 5
        seen += [e["node"]["number"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == [1, 2, 3, 4, 5]
    with pytest.raises(NotFound, match="Could not resolve to an Issue with the number of 99"):
        gh.graphql(
            'query { repository(owner: "acme", name: "widgets") { issue(number: 99) { title } } }'
        )
    with pytest.raises(Exception, match="Field 'nope' doesn't exist on type 'Repository'"):
        gh.graphql('query { repository(owner: "acme", name: "widgets") { nope } }')


def test_latency_and_log(emulator: Emulator, gh: Gh) -> None:
    emulator.latency(0.3, requests=1)
    import time

    started = time.monotonic()
    gh.rest("GET", "user")
    assert time.monotonic() - started >= 0.3
    gh.graphql("query Who { viewer { login } }")
    assert emulator.log_lines() == ["GET /user -> 200", "POST /graphql Who -> 200"]
    assert emulator.count("GET") == 1 and emulator.count(operation="Who") == 1


def test_projects_v2_board(emulator: Emulator, gh: Gh) -> None:
    board = emulator.add_project("Roadmap")
    issue = emulator.add_issue("t")
    listed = gh.graphql(
        'query { organization(login: "acme") { projectsV2(first: 10) { nodes { id title '
        "fields(first: 20) { nodes { ... on ProjectV2SingleSelectField { id name "
        "options { id name } } } } } } } }"
    )["organization"]["projectsV2"]["nodes"]
    assert [(p["id"], p["title"]) for p in listed] == [(board["id"], "Roadmap")]
    status = next(f for f in listed[0]["fields"]["nodes"] if f)
    assert status["id"] == board["status_field_id"]
    assert [o["name"] for o in status["options"]] == ["Todo", "In Progress", "In Review", "Done"]

    add = (
        "mutation Add($project: ID!, $content: ID!) { addProjectV2ItemById(input: "
        "{projectId: $project, contentId: $content}) { item { id } } }"
    )
    item = gh.graphql(add, {"project": board["id"], "content": issue["node_id"]})
    item_id = item["addProjectV2ItemById"]["item"]["id"]
    again = gh.graphql(add, {"project": board["id"], "content": issue["node_id"]})
    assert again["addProjectV2ItemById"]["item"]["id"] == item_id
    gh.graphql(
        "mutation Set($p: ID!, $i: ID!, $f: ID!, $o: String!) { updateProjectV2ItemFieldValue("
        "input: {projectId: $p, itemId: $i, fieldId: $f, value: {singleSelectOptionId: $o}}) "
        "{ projectV2Item { id } } }",
        {
            "p": board["id"],
            "i": item_id,
            "f": board["status_field_id"],
            "o": board["options"]["In Review"],
        },
    )
    assert emulator.project_items(board["id"]) == [{"number": 1, "status": "In Review"}]
    seen = gh.graphql(
        'query { repository(owner: "acme", name: "widgets") { issue(number: 1) { '
        'projectItems(first: 5) { nodes { project { id } fieldValueByName(name: "Status") '
        "{ ... on ProjectV2ItemFieldSingleSelectValue { name optionId } } } } } } }"
    )["repository"]["issue"]["projectItems"]["nodes"]
    assert seen == [
        {
            "project": {"id": board["id"]},
            "fieldValueByName": {"name": "In Review", "optionId": board["options"]["In Review"]},
        }
    ]


@pytest.mark.parametrize(
    ("base", "body", "closed"),
    [
        ("main", "Closes #1", True),
        ("main", "fixes: #1\n\nand RESOLVED #3", True),
        ("release", "Closes #1", False),  # not the default branch: the issue stays open
        ("main", "Related to #1", False),
    ],
)
def test_closing_keywords_act_only_on_the_default_branch(
    emulator: Emulator, gh: Gh, base: str, body: str, closed: bool
) -> None:
    emulator.add_issue("Task")
    pr = emulator.add_pr("orch/1-t", "Fix", body, base=base)
    emulator.add_issue("Other")
    gh.rest("PUT", f"{REPO}/pulls/{pr['number']}/merge", body={"merge_method": "squash"})
    assert gh.rest("GET", f"{REPO}/pulls/{pr['number']}")["merged"] is True
    issue = gh.rest("GET", f"{REPO}/issues/1")
    assert (issue["state"], issue["state_reason"]) == (
        ("closed", "completed") if closed else ("open", None)
    )
    assert gh.rest("GET", f"{REPO}/issues/3")["state"] == ("closed" if "#3" in body else "open")


def test_graphql_filter_by_labels(emulator: Emulator, gh: Gh) -> None:
    emulator.add_issue("a", labels=["status:new"])
    emulator.add_issue("b", labels=["status:done"])
    emulator.add_issue("c", labels=["Status:Routed", "x"])
    emulator.add_issue("d")
    query = (
        'query($labels: [String!]) { repository(owner: "acme", name: "widgets") { '
        "issues(first: 10, filterBy: {labels: $labels}) { nodes { number } } } }"
    )

    def numbers(labels: list[str] | None) -> list[int]:
        nodes = gh.graphql(query, {"labels": labels})["repository"]["issues"]["nodes"]
        return [n["number"] for n in nodes]

    assert numbers(["status:new", "status:routed"]) == [1, 3]  # any of them, any case
    assert numbers(["nope"]) == []
    assert numbers(None) == [1, 2, 3, 4]


def test_graphql_argument_error_has_errors_and_no_data(emulator: Emulator, gh: Gh) -> None:
    """GitHub validates a document before running it: an unknown argument answers
    `errors` only, no `data` (not a null field next to the others)."""
    emulator.add_issue("a")
    done = gh.request(
        "POST",
        "graphql",
        body={
            "query": (
                'query { viewer { login } repository(owner: "acme", name: "widgets") { '
                "issues(first: 10, bogus: 1) { totalCount } } }"
            )
        },
    )
    assert "data" not in done.data, done.data
    (error,) = done.data["errors"]
    assert error["message"] == "Field 'issues' doesn't accept argument 'bogus'"
    assert error["extensions"]["code"] == "argumentNotAccepted"
