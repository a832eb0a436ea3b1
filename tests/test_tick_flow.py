"""A task's whole life over ticks: real gh against the emulator, fake claude, real git."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orch.status import Status
from tests.emulator.server import Emulator
from tests.helpers import Repo, git, tick_actions
from tests.run_helpers import RunProject, claude_envelope, make_run_project, result_obj


@pytest.fixture
def project(gh_repo: Repo, gh_env: dict[str, str], tmp_path: Path) -> RunProject:
    p = make_run_project(gh_repo, gh_env, tmp_path, "--repo", "acme/widgets")
    p.scenario(
        {
            "claude": {
                "steps": [
                    {"write": "hello.txt", "text": "hello\n"},
                    {"stdout": claude_envelope(result_obj())},
                ]
            }
        }
    )
    return p


def actions(out: str) -> list[tuple[str, Any, str]]:
    assert json.loads(out)["schema"] == 1
    rows = tick_actions(out)
    assert all(r["project"] == "acme/widgets" for r in rows)
    return [(r["phase"], r["task"], r["action"]) for r in rows]


def test_labeled_issue_goes_to_review_then_done_when_the_pr_merges(
    project: RunProject, emulator: Emulator
) -> None:
    number = int(
        emulator.add_issue(
            "Say hello", "Add hello.txt", [Status.NEW.label, "agent:claude", "complexity:simple"]
        )["number"]
    )
    emulator.reset_log()

    first = project.orch("tick", "--json", "--wait")

    assert first.code == 0, first
    assert actions(first.out) == [
        ("route", number, "routed"),
        ("dispatch", number, "dispatched"),
    ]
    requests_to_review = emulator.count()
    labels = emulator.labels_of(number)
    assert Status.IN_REVIEW.label in labels and "agent:claude" in labels
    (pr,) = emulator.pulls()
    assert pr["state"] == "open" and pr["head"]["ref"] == f"orch/{number}-say-hello"
    worktree = project.state / "worktrees" / "acme" / "widgets" / f"{number}-say-hello"
    assert (worktree / "hello.txt").read_text() == "hello\n"
    # SPEC §9: <= 15 (measured 14: labels exist since `orch init`, so neither the router
    # nor the runner lists or creates labels).
    print("requests new->in_review:", requests_to_review, *emulator.log_lines(), sep="\n")
    assert requests_to_review <= 15, emulator.log_lines()

    # Nothing changed: the next tick only reads the snapshot.
    project.orch("tick")
    emulator.reset_log()
    quiet = project.orch("tick")
    assert (quiet.code, quiet.out) == (0, "")
    assert emulator.count() == 1, emulator.log_lines()

    emulator.merge_pr(pr["number"])
    done = project.orch("tick", "--json")

    assert done.code == 0, done
    assert actions(done.out) == [
        ("merge", number, "marked done"),
        ("merge", number, "cleaned up"),
    ]
    issue = emulator.issue(number)
    assert issue["state"] == "closed"
    assert [label["name"] for label in issue["labels"]] == sorted(
        ["agent:claude", "complexity:simple", Status.DONE.label]
        + [n for n in emulator.labels_of(number) if n.startswith("model:")]
    )
    assert not worktree.exists()
    branches = git("branch", "--format=%(refname:short)", cwd=project.repo.work).split()
    assert branches == ["main"]


def test_pr_closed_unmerged_needs_review(project: RunProject, emulator: Emulator) -> None:
    number = int(
        emulator.add_issue(
            "Say hello", "Add hello.txt", [Status.NEW.label, "agent:claude", "complexity:simple"]
        )["number"]
    )
    assert project.orch("tick", "--wait").code == 0
    (pr,) = emulator.pulls()
    emulator.close_pr(pr["number"])
    # The issue did not change: the PR's closing comes with the snapshot's PRs.
    done = project.orch("tick", "--json")

    assert actions(done.out) == [("merge", number, "marked needs_review")]
    assert Status.NEEDS_REVIEW.label in emulator.labels_of(number)
    assert emulator.issue(number)["state"] == "open"
