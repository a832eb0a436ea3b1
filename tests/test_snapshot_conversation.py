"""The snapshot's conversation fields through the real gh: open PRs with their reviews
(inline comments with path, line, diff hunk), conversation comments and author
associations, and mentions — all in the one request, in a full read (with GitHub's issue
search) and in a delta (only the PRs updated since; mentions from what it brings)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from orch.clock import SystemClock
from orch.config.model import BackoffConfig
from orch.io.gh import Gh
from orch.paths import Paths
from orch.store.github import GitHubStore
from tests.emulator.server import DEFAULT_REPO, Emulator
from tests.helpers import Repo, git

ORCH_BODY = "Adds a.\n\nCloses #1\n\n<sub>Opened by orch: 🟣 Claude (haiku), attempt 1.</sub>"


@pytest.fixture
def store(emulator: Emulator, gh_env: dict[str, str], tmp_path: Path) -> GitHubStore:
    paths = Paths(config_dir=tmp_path / "config", state_dir=tmp_path / "state")
    gh = Gh(emulator.host, BackoffConfig("skip", 0.3, 3), paths, SystemClock(), gh_env)
    return GitHubStore(gh, DEFAULT_REPO)


def _branch(repo: Repo, name: str, path: str, text: str) -> None:
    git("checkout", "-q", "-b", name, cwd=repo.work)
    (repo.work / path).write_text(text)
    git("add", path, cwd=repo.work)
    git("commit", "-qm", name, cwd=repo.work)
    git("push", "-q", "origin", name, cwd=repo.work)
    git("checkout", "-q", "main", cwd=repo.work)


def test_one_request_carries_reviews_comments_and_mentions(
    emulator: Emulator, store: GitHubStore, gh_repo: Repo
) -> None:
    emulator.add_user("alice", permission="write")
    task = int(emulator.add_issue("Add a", labels=["status:in_review"])["number"])
    _branch(gh_repo, "orch/1-add-a", "a.py", "a = 1\nb = 2\n")
    orch_pr = int(emulator.add_pr("orch/1-add-a", "Add a", ORCH_BODY)["number"])
    emulator.add_review(
        orch_pr,
        "REQUEST_CHANGES",
        "Rename b.",
        [{"path": "a.py", "line": 2, "body": "call it c"}],
        user="alice",
    )
    emulator.add_comment(orch_pr, "and a docstring", user="bob")
    plain = int(emulator.add_issue("Plain", "no labels")["number"])
    emulator.add_comment(plain, "@orch please fix", user="alice")
    _branch(gh_repo, "alice/x", "x.py", "x = 1\n")
    human_pr = int(emulator.add_pr("alice/x", "X", "mine", user="alice")["number"])
    emulator.add_comment(human_pr, "@orch review", user="alice")
    emulator.reset_log()

    snap = store.snapshot(since=emulator.now() - timedelta(minutes=5), mention="@orch")

    assert emulator.log_lines() == ["POST /graphql OrchSnapshot -> 200"]
    assert [i.number for i in snap.issues] == [task]
    thread = next(t for t in snap.open_pulls if t.pull.number == orch_pr)
    assert (thread.pull.head, thread.pull.body, thread.author) == (
        "orch/1-add-a",
        ORCH_BODY,
        "owner",
    )
    (review,) = thread.reviews
    assert (review.author, review.state, review.body, review.association) == (
        "alice",
        "CHANGES_REQUESTED",
        "Rename b.",
        "COLLABORATOR",
    )
    (inline,) = review.comments
    assert (inline.path, inline.line, inline.body) == ("a.py", 2, "call it c")
    assert inline.diff_hunk == "@@ -0,0 +1,2 @@\n+a = 1\n+b = 2"
    (comment,) = thread.comments
    assert (comment.author, comment.body, comment.association) == ("bob", "and a docstring", "NONE")
    found = {m.issue.number: m for m in snap.mentions}
    assert sorted(found) == [plain, human_pr]
    assert found[plain].pull is None
    assert [c.body for c in found[plain].comments] == ["@orch please fix"]
    human = found[human_pr].pull
    assert human is not None and (human.head, human.body) == ("alice/x", "mine")
    query = emulator.requests[0].body["variables"]["mention"]
    assert query.startswith('repo:acme/widgets is:issue is:open in:comments "@orch" updated:>=')
    assert emulator.graphql_points == 11  # GitHub's score of this request

    # A delta: only the PR updated since, and mentions from the issues and PRs it brings.
    since = emulator.advance(600)  # past the delta's margin before `since`
    emulator.advance(60)
    emulator.add_review(orch_pr, "COMMENT", "One more thing", user="alice")
    emulator.add_comment(plain, "@orch also the tests", user="alice")
    emulator.reset_log()
    delta = store.snapshot({}, since, delta=True, mention="@orch")
    assert emulator.log_lines() == ["POST /graphql OrchSnapshot -> 200"]
    assert "search(" not in emulator.requests[0].body["query"]
    assert emulator.graphql_points == 2
    assert [t.pull.number for t in delta.open_pulls] == [orch_pr]
    assert [r.body for r in delta.open_pulls[0].reviews] == ["Rename b.", "One more thing"]
    assert [m.issue.number for m in delta.mentions] == [plain]
    assert [c.body for c in delta.mentions[0].comments][-1] == "@orch also the tests"


def test_no_mention_no_search(emulator: Emulator, store: GitHubStore) -> None:
    emulator.add_issue("Plain")
    emulator.add_comment(1, "@orch please fix")
    emulator.reset_log()
    snap = store.snapshot()
    assert snap.mentions == ()
    assert "search(" not in emulator.requests[-1].body["query"]
    assert emulator.graphql_points == 11
