"""GitHubStore specifics beyond the shared contract (tests/test_store_contract.py): paging
of the snapshot, races, GitHub-only errors and request counts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from orch.clock import SystemClock
from orch.config.model import BackoffConfig
from orch.errors import NotFound, OrchError, RateLimited
from orch.io.gh import Gh
from orch.labels import LabelSpec
from orch.paths import Paths
from orch.store import snapshot_query as Q
from orch.store.github import GitHubStore
from tests.emulator.server import DEFAULT_REPO, Emulator
from tests.helpers import Repo


@pytest.fixture
def store(emulator: Emulator, gh_env: dict[str, str], tmp_path: Path) -> GitHubStore:
    paths = Paths(config_dir=tmp_path / "config", state_dir=tmp_path / "state")
    gh = Gh(emulator.host, BackoffConfig("skip", 0.3, 3), paths, SystemClock(), gh_env)
    return GitHubStore(gh, DEFAULT_REPO)


def test_snapshot_pages_per_hundred_tasks(emulator: Emulator, store: GitHubStore) -> None:
    for n in range(150):
        emulator.add_issue(f"task {n}", labels=["status:routed"])
    emulator.add_issue("not a task", labels=["bug"])
    emulator.reset_log()
    snap = store.snapshot()
    assert [i.number for i in snap.issues] == list(range(1, 151))
    assert emulator.log_lines() == [
        "POST /graphql OrchSnapshot -> 200",
        "POST /graphql OrchSnapshot -> 200",
    ]
    assert emulator.requests[1].body["variables"]["openAfter"] == "cursor:99"
    # The second page asks only for what still pages: the open tasks.
    assert "openPulls" not in emulator.requests[1].body["query"]


@pytest.mark.parametrize("aliases", [Q.FULL, Q.DELTA, (*Q.DELTA, "sweep"), ("open",)])
def test_snapshot_query_declares_exactly_the_variables_it_uses(aliases: tuple[str, ...]) -> None:
    text = Q.query(aliases)
    assert text.count("query ") == 1
    declared = set(re.findall(r"\$(\w+):", text))
    used = set(re.findall(r"\$(\w+)\b(?!:)", text))
    assert declared == used  # GitHub refuses a query declaring a variable it never uses


def test_set_labels_on_a_pull_request_is_refused(emulator: Emulator, store: GitHubStore) -> None:
    emulator.add_pr("feature")
    with pytest.raises(NotFound, match="is a pull request"):
        store.set_labels(1, ["status:new"])


def test_ensure_labels_tolerates_a_concurrent_creator(
    emulator: Emulator, store: GitHubStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.add_label("status:new", "0e8a16")
    # Another process created the label between our list and our POST.
    monkeypatch.setattr(store, "list_labels", lambda: [])
    emulator.reset_log()
    assert store.ensure_labels([LabelSpec("status:new", "0e8a16", "x")]) == []
    assert emulator.log_lines() == ["POST /repos/acme/widgets/labels -> 422"]


def test_react_on_a_missing_comment_is_best_effort(emulator: Emulator, store: GitHubStore) -> None:
    store.react(424242, "eyes")
    assert emulator.log_lines() == [
        "POST /repos/acme/widgets/issues/comments/424242/reactions -> 404"
    ]


def test_create_pr_for_an_unpushed_branch(
    emulator: Emulator, store: GitHubStore, repo: Repo
) -> None:
    emulator.set_origin(repo.origin)
    with pytest.raises(OrchError, match="push the branch first"):
        store.create_pr("orch/9-nowhere", "main", "t", "")
    pr = store.create_pr("main", "main", "same branch", "")  # exists on origin
    assert len(pr.head_sha) == 40


def test_permission_roles(emulator: Emulator, store: GitHubStore) -> None:
    emulator.set_permission("helper", "triage")
    emulator.set_permission("gone", "none")
    assert store.permission("helper") == "triage"
    assert store.permission("gone") == "none"
    assert store.permission("no-such-user") == "none"


def test_default_branch_is_read_once(emulator: Emulator, store: GitHubStore) -> None:
    emulator.repo().default_branch = "trunk"
    assert store.default_branch() == "trunk"
    assert store.default_branch() == "trunk"
    assert emulator.count("GET", f"/repos/{DEFAULT_REPO}") == 1


def test_list_issues_reads_every_page(emulator: Emulator, store: GitHubStore) -> None:
    for n in range(120):
        emulator.add_issue(f"t{n}", labels=["status:new"])
    emulator.add_pr("feature")
    emulator.reset_log()
    issues = store.list_issues(labels=["status:new"])
    assert [i.number for i in issues] == list(range(1, 121))
    assert emulator.count("GET", f"/repos/{DEFAULT_REPO}/issues") == 2


def test_rate_limit_in_skip_mode_writes_nothing(emulator: Emulator, store: GitHubStore) -> None:
    emulator.add_issue("t", labels=["status:new"])
    emulator.rate_limit(1, reset_in=600)
    with pytest.raises(RateLimited):
        store.get_issue(1)
    emulator.reset_log()
    with pytest.raises(RateLimited):
        store.set_labels(1, ["status:routed"])
    with pytest.raises(RateLimited):
        store.create_comment(1, "hello")
    assert emulator.requests == []
    assert emulator.labels_of(1) == ["status:new"]
    assert emulator.comments(1) == []
