"""`orch task review N` by hand, through the local store (`orch init --local`): real git,
real processes, the fake reviewer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orch.clock import SystemClock
from orch.status import Status
from orch.store.local import LocalStore
from orch.task import markers
from tests.helpers import Repo, git
from tests.run_helpers import RunProject, claude_envelope, make_run_project, result_obj
from tests.test_review import reviewer, verdict

REPO = "local/widgets"


@pytest.fixture
def project(repo: Repo, orch_env: dict[str, str], tmp_path: Path) -> RunProject:
    p = make_run_project(repo, orch_env, tmp_path, "--local")
    p.configure(
        workflow={"enable_review_agent": True, "auto_merge": True, "merge_strategy": "merge"}
    )
    return p


def store(project: RunProject) -> LocalStore:
    return LocalStore(project.repo.work / ".orch" / "local", REPO, SystemClock())


def test_review_by_hand_approves_merges_and_the_tick_finishes(project: RunProject) -> None:
    done = project.orch("task", "add", "Say hello", "--body", "Add hello.txt.", "--agent", "claude")
    number = int(done.out.strip())
    project.scenario(
        {
            "claude": {
                "steps": [
                    {"write": "hello.txt", "text": "hello\n"},
                    {"stdout": claude_envelope(result_obj())},
                ]
            },
            "codex": reviewer(verdict("approve", "Does what the issue asks.")),
        }
    )
    assert project.orch("task", "run", str(number)).code == 0
    branch = f"orch/{number}-say-hello"
    pr = store(project).find_pr(branch)
    assert pr is not None
    sha = git("rev-parse", branch, cwd=project.repo.origin).strip()

    dry = project.orch("task", "review", str(number), "--dry-run")
    assert dry.code == 0, dry
    assert dry.out.splitlines()[0] == (
        f"would: review PR #{pr.number} of task #{number} at {sha[:12]} with codex/gpt-5.2"
    )

    done = project.orch("task", "review", str(number), "--json")

    assert done.code == 0, done
    result = json.loads(done.out)["review"]
    assert (result["action"], result["decision"], result["merged"], result["head_sha"]) == (
        "reviewed",
        "approve",
        True,
        sha,
    )
    comments = store(project).list_comments(number)
    review = markers.parse(comments[-1].body)
    assert review is not None and review.kind == "review"
    assert (review.data["reviewer"], review.data["head_sha"]) == ("codex", sha)
    pull = json.loads(
        (project.repo.work / ".orch" / "local" / "pulls" / f"{pr.number}.json").read_text()
    )
    assert (pull["state"], pull["merge_method"]) == ("closed", "merge")
    assert store(project).get_pr(pr.number).state == "merged"

    again = project.orch("task", "review", str(number))
    assert (again.code, again.out) == (
        0,
        f"#{number} nothing: task #{number} has no open pull request\n",
    )

    tick = project.orch("tick")
    assert tick.code == 0, tick
    assert Status.DONE.label in store(project).get_issue(number).labels
