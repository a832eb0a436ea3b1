"""`orch task get` shows the task's PR: number, URL, state, orch's review verdict (from
orch's own markers) and the reviews people left on GitHub (issues #13 item 4, #14 item 6)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orch.status import Status
from orch.store.base import Review
from orch.task import markers
from orch.task.ops import latest_reviews, review_state
from tests.emulator.server import Emulator
from tests.helpers import Repo
from tests.run_helpers import RunProject, claude_envelope, make_run_project, result_obj


@pytest.fixture
def project(repo: Repo, orch_env: dict[str, str], tmp_path: Path) -> RunProject:
    return make_run_project(repo, orch_env, tmp_path, "--local")


def _ran_with_a_pr(project: RunProject) -> int:
    number = int(project.orch("task", "add", "Add a greeting", "--agent", "claude").out)
    project.scenario(
        {
            "claude": {
                "steps": [
                    {"write": "hello.txt", "text": "hi\n"},
                    {"stdout": claude_envelope(result_obj())},
                ]
            }
        }
    )
    ran = project.orch("task", "run", str(number))
    assert ran.code == 0, ran
    return number


def test_task_get_shows_the_pr(project: RunProject) -> None:
    number = _ran_with_a_pr(project)

    shown = project.orch("task", "get", str(number), "--json")

    pr = json.loads(shown.out)["task"]["pr"]
    # PRs and issues share one number sequence, as on GitHub: the PR is #2.
    assert pr == {
        "number": 2,
        "url": pr["url"],
        "state": "open",
        "review": None,
        "reviewer": None,
        "review_state": None,
        "reviews": [],
    }, shown
    assert pr["url"]
    human = project.orch("task", "get", str(number))
    assert f"pr:         #2 open {pr['url']} (review: none yet)" in human.out.splitlines()


def test_task_get_shows_orchs_review_verdict(project: RunProject) -> None:
    number = _ran_with_a_pr(project)
    issue_file = project.repo.work / ".orch" / "local" / "issues" / f"{number}.json"
    data = json.loads(issue_file.read_text())
    verdict = {"decision": "request_changes", "reviewer": "codex", "pr": 2, "cycle": 1}
    data["comments"].append(
        {
            **data["comments"][-1],
            "id": 999,
            "body": markers.render("review", verdict) + "\nchanges please",
        }
    )
    issue_file.write_text(json.dumps(data))

    pr = json.loads(project.orch("task", "get", str(number), "--json").out)["task"]["pr"]

    assert (pr["review"], pr["reviewer"]) == ("request_changes", "codex")


def test_task_without_a_pr_says_so(project: RunProject) -> None:
    number = int(project.orch("task", "add", "Nothing yet").out)
    assert json.loads(project.orch("task", "get", str(number), "--json").out)["task"]["pr"] is None
    assert "pr:         -" in project.orch("task", "get", str(number)).out.splitlines()


def test_task_get_shows_the_reviews_left_on_github(
    gh_repo: Repo, gh_env: dict[str, str], tmp_path: Path, emulator: Emulator
) -> None:
    project = make_run_project(gh_repo, gh_env, tmp_path, "--repo", "acme/widgets")
    project.scenario(
        {
            "claude": {
                "steps": [
                    {"write": "hello.txt", "text": "hi\n"},
                    {"stdout": claude_envelope(result_obj())},
                ]
            }
        }
    )
    number = int(
        emulator.add_issue("Say hello", "Add hello.txt", [Status.ROUTED.label, "agent:claude"])[
            "number"
        ]
    )
    assert project.orch("task", "run", str(number)).code == 0
    (pull,) = emulator.pulls()
    for login in ("alice", "bob"):
        emulator.set_permission(login, "write")
    emulator.add_review(pull["number"], "APPROVE", "", user="bob")
    emulator.add_review(pull["number"], "REQUEST_CHANGES", "Say hello louder", user="alice")
    emulator.add_review(pull["number"], "COMMENT", "one more thought", user="alice")
    emulator.reset_log()

    shown = project.orch("task", "get", str(number), "--json")

    pr = json.loads(shown.out)["task"]["pr"]
    assert (pr["number"], pr["state"], pr["review_state"]) == (
        pull["number"],
        "open",
        "changes_requested",
    )
    assert pr["reviews"] == [
        {"author": "bob", "state": "APPROVED"},
        {"author": "alice", "state": "CHANGES_REQUESTED"},
    ]
    # the issue, its comments, the PR, its reviews (orch's login is cached from the run)
    assert emulator.count() == 4, emulator.log_lines()
    human = project.orch("task", "get", str(number)).out
    assert "(GitHub reviews: bob approved, alice requested changes)" in human


def _review(author: str, state: str, minute: int) -> Review:
    return Review(1, author, state, "", datetime(2026, 12, 1, 0, minute, tzinfo=UTC))


def test_review_state_is_each_reviewers_standing_review() -> None:
    reviews = [
        _review("ann", "CHANGES_REQUESTED", 1),
        _review("ann", "COMMENTED", 2),  # a comment does not withdraw a change request
        _review("ann", "APPROVED", 3),  # an approval does
        _review("ben", "COMMENTED", 4),
        _review("cy", "APPROVED", 5),
        _review("cy", "DISMISSED", 6),
    ]

    latest = latest_reviews(reviews)

    assert latest == (("ann", "APPROVED"), ("ben", "COMMENTED"))
    assert review_state(latest) == "approved"
    assert review_state((("ben", "COMMENTED"),)) == "commented"
    assert review_state((("a", "APPROVED"), ("b", "CHANGES_REQUESTED"))) == "changes_requested"
    assert review_state(()) is None
