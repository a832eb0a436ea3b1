"""Pull request reviews and review comments answer like GitHub, through the real gh.

GitHub's documented behaviour these tests hold the emulator to
(docs.github.com/rest/pulls/reviews, /rest/pulls/comments, GraphQL PullRequest):
- POST pulls/{n}/reviews with event APPROVE | REQUEST_CHANGES | COMMENT submits a review
  whose `state` is APPROVED | CHANGES_REQUESTED | COMMENTED; `comments[]` ({path, line,
  body}) become review comments with `pull_request_review_id`, `diff_hunk`, `line`,
  `side` RIGHT; REQUEST_CHANGES without a body is 422; the PR's author cannot approve or
  request changes on their own pull request (422).
- POST pulls/{n}/comments needs `commit_id` (422 without) and makes a COMMENTED review.
- A review bumps the pull request's `updated_at`.
- GraphQL: PullRequest.reviews / latestReviews (one per author, the latest) /
  reviewThreads, PullRequestReview {databaseId state body author submittedAt comments},
  PullRequestReviewComment {databaseId path line diffHunk body author}.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orch.clock import SystemClock
from orch.config.model import BackoffConfig
from orch.io.gh import Gh, GhHTTPError
from orch.paths import Paths
from tests.emulator.server import DEFAULT_REPO, Emulator
from tests.helpers import Repo, git

REPO = f"repos/{DEFAULT_REPO}"


def _gh(emulator: Emulator, env: dict[str, str], tmp: Path, token: str | None = None) -> Gh:
    paths = Paths(config_dir=tmp / "c", state_dir=tmp / "s")
    if token:
        env = {**env, "GH_ENTERPRISE_TOKEN": token}
    return Gh(emulator.host, BackoffConfig("skip", 0.3, 1), paths, SystemClock(), env)


@pytest.fixture
def pr(gh_repo: Repo, emulator: Emulator) -> int:
    """PR #1 from branch `feature`, which changes line 2 of app.py."""
    work = gh_repo.work
    git("checkout", "-q", "-b", "feature", cwd=work)
    (work / "app.py").write_text("import os\nprint('hi')\nx = 1\n")
    git("add", "app.py", cwd=work)
    git("commit", "-q", "-m", "add app", cwd=work)
    git("push", "-q", "origin", "feature", cwd=work)
    git("checkout", "-q", "main", cwd=work)
    return int(emulator.add_pr("feature", "Add app", "Closes #9")["number"])


def test_review_with_inline_comment_rest_shapes(
    emulator: Emulator, gh_env: dict[str, str], tmp_path: Path, pr: int
) -> None:
    token = emulator.add_user("alice", permission="write")
    alice = _gh(emulator, gh_env, tmp_path / "a", token)
    before = emulator.pull(pr)["updated_at"]
    emulator.advance(5)
    review = alice.rest(
        "POST",
        f"{REPO}/pulls/{pr}/reviews",
        body={
            "event": "REQUEST_CHANGES",
            "body": "Please rename",
            "comments": [{"path": "app.py", "line": 2, "body": "say hello"}],
        },
    )
    assert review["state"] == "CHANGES_REQUESTED"
    assert review["user"]["login"] == "alice" and review["body"] == "Please rename"
    assert review["submitted_at"].endswith("Z") and len(review["commit_id"]) == 40
    assert emulator.pull(pr)["updated_at"] > before
    owner = _gh(emulator, gh_env, tmp_path / "o")
    listed = owner.rest("GET", f"{REPO}/pulls/{pr}/reviews")
    assert [r["id"] for r in listed] == [review["id"]]
    (inline,) = owner.rest("GET", f"{REPO}/pulls/{pr}/comments")
    assert inline["pull_request_review_id"] == review["id"]
    assert (inline["path"], inline["line"], inline["side"], inline["body"]) == (
        "app.py",
        2,
        "RIGHT",
        "say hello",
    )
    assert inline["diff_hunk"] == "@@ -0,0 +1,3 @@\n+import os\n+print('hi')"
    of_review = owner.rest("GET", f"{REPO}/pulls/{pr}/reviews/{review['id']}/comments")
    assert [c["id"] for c in of_review] == [inline["id"]]


def test_review_errors_like_github(
    emulator: Emulator, gh_env: dict[str, str], tmp_path: Path, pr: int
) -> None:
    owner = _gh(emulator, gh_env, tmp_path / "o")
    with pytest.raises(GhHTTPError) as own:
        owner.rest("POST", f"{REPO}/pulls/{pr}/reviews", body={"event": "APPROVE"})
    assert own.value.status == 422
    assert "Can not approve your own pull request" in str(own.value.data)
    token = emulator.add_user("alice", permission="write")
    alice = _gh(emulator, gh_env, tmp_path / "a", token)
    with pytest.raises(GhHTTPError) as empty:
        alice.rest("POST", f"{REPO}/pulls/{pr}/reviews", body={"event": "REQUEST_CHANGES"})
    assert empty.value.status == 422
    with pytest.raises(GhHTTPError) as no_commit:
        alice.rest(
            "POST",
            f"{REPO}/pulls/{pr}/comments",
            body={"body": "x", "path": "app.py", "line": 1},
        )
    assert no_commit.value.status == 422
    assert emulator.reviews(pr) == []


def test_single_comment_makes_a_commented_review(
    emulator: Emulator, gh_env: dict[str, str], tmp_path: Path, pr: int
) -> None:
    token = emulator.add_user("stranger")  # no collaborator role: public repos allow reviews
    stranger = _gh(emulator, gh_env, tmp_path / "s", token)
    sha = emulator.pull(pr)["head"]["sha"]
    made = stranger.rest(
        "POST",
        f"{REPO}/pulls/{pr}/comments",
        body={"body": "nit", "commit_id": sha, "path": "app.py", "line": 3, "side": "RIGHT"},
    )
    (review,) = emulator.reviews(pr)
    assert review["state"] == "COMMENTED" and review["body"] == ""
    assert made["pull_request_review_id"] == review["id"]
    assert made["author_association"] == "NONE"


QUERY = """
query($owner: String!, $name: String!, $n: Int!) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $n) {
      updatedAt
      reviews(last: 10) { nodes { databaseId state body submittedAt author { login }
        comments(first: 10) { nodes { databaseId path line diffHunk body author { login } } } } }
      latestReviews(first: 10) { nodes { databaseId state author { login } } }
      reviewThreads(first: 10) { nodes { path line comments(first: 10) { nodes { body } } } }
    }
  }
}
"""


def test_graphql_review_fields(
    emulator: Emulator, gh_env: dict[str, str], tmp_path: Path, pr: int
) -> None:
    emulator.add_user("alice", permission="write")
    first = emulator.add_review(pr, "COMMENT", "looks odd", user="alice")
    second = emulator.add_review(
        pr,
        "REQUEST_CHANGES",
        "fix it",
        [{"path": "app.py", "line": 1, "body": "drop os"}],
        user="alice",
    )
    emulator.add_review(pr, "APPROVE", "", user="bob")
    gh = _gh(emulator, gh_env, tmp_path / "o")
    data = gh.graphql(QUERY, {"owner": "acme", "name": "widgets", "n": pr})
    node = data["repository"]["pullRequest"]
    reviews = node["reviews"]["nodes"]
    assert [(r["databaseId"], r["state"], r["author"]["login"]) for r in reviews] == [
        (first["id"], "COMMENTED", "alice"),
        (second["id"], "CHANGES_REQUESTED", "alice"),
        (reviews[2]["databaseId"], "APPROVED", "bob"),
    ]
    (inline,) = reviews[1]["comments"]["nodes"]
    assert (inline["path"], inline["line"], inline["body"]) == ("app.py", 1, "drop os")
    assert inline["diffHunk"] == "@@ -0,0 +1,3 @@\n+import os"
    latest = node["latestReviews"]["nodes"]
    assert [(r["state"], r["author"]["login"]) for r in latest] == [
        ("CHANGES_REQUESTED", "alice"),
        ("APPROVED", "bob"),
    ]
    (thread,) = node["reviewThreads"]["nodes"]
    assert (thread["path"], thread["line"]) == ("app.py", 1)
    assert thread["comments"]["nodes"] == [{"body": "drop os"}]


def test_search_finds_comments_mentioning(
    emulator: Emulator, gh_env: dict[str, str], tmp_path: Path
) -> None:
    emulator.add_issue("plain")
    emulator.add_issue("other")
    emulator.add_comment(1, "@orch please fix this", user="alice")
    emulator.add_comment(2, "no mention here")
    gh = _gh(emulator, gh_env, tmp_path / "o")
    query = "query($q: String!) { search(query: $q, type: ISSUE, first: 5) { issueCount nodes { ... on Issue { number } } } }"
    found = gh.graphql(query, {"q": 'repo:acme/widgets is:open in:comments "@orch"'})
    assert found["search"] == {"issueCount": 1, "nodes": [{"number": 1}]}
    later = gh.graphql(query, {"q": 'repo:acme/widgets "@orch" updated:>=2999-01-01T00:00:00Z'})
    assert later["search"]["issueCount"] == 0
