"""`orch task get` shows the task's PR: number, URL, state and orch's review verdict,
read from orch's own markers plus one read of the PR (issue #14 item 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orch.task import markers
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
