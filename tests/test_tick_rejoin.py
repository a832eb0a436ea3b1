"""Rejoin (blocked parents whose sub-issues are done) and `orch task tree` (local store)."""

from __future__ import annotations

import json

import pytest

from orch import labels as L
from orch.status import Status
from tests.helpers import Repo, tick_actions
from tests.tick_helpers import LocalProject, local_project


@pytest.fixture
def project(repo: Repo, orch_env: dict[str, str]) -> LocalProject:
    return local_project(repo, orch_env)


def child(project: LocalProject, parent: int, title: str, status: Status) -> int:
    issue = project.store.create_issue(
        title, f"Part of the plan.\n\nParent: #{parent}\n", L.with_status([], status)
    )
    return issue.number


def test_blocked_parent_rejoins_when_every_child_is_done(project: LocalProject) -> None:
    parent = project.add_task("Big feature", "plan", status=Status.BLOCKED)
    first = child(project, parent, "Part one", Status.DONE)
    second = child(project, parent, "Part two", Status.ROUTED)
    project.store.update_issue(first, state="closed")

    waiting = project.orch("tick", "--only", "rejoin", "--json")
    assert (waiting.code, tick_actions(waiting.out)) == (0, [])
    assert project.status(parent) is Status.BLOCKED

    project.store.set_labels(second, L.with_status([], Status.DONE))
    done = project.orch("tick", "--only", "rejoin", "--json")

    assert done.code == 0, done
    (row,) = tick_actions(done.out)
    assert (row["phase"], row["task"], row["action"], row["detail"]) == (
        "rejoin",
        parent,
        "rejoined",
        "all 2 sub-issues done: status routed",
    )
    assert sorted(project.issue(parent).labels) == ["plan", "status:routed"]
    assert project.markers(parent, "status") == [
        {"v": 1, "from": "blocked", "to": "routed", "reason": "all 2 sub-issues are done"}
    ]
    # Nothing moves twice.
    assert project.orch("tick", "--only", "rejoin").out == ""


def test_blocked_task_without_children_stays_blocked(project: LocalProject) -> None:
    number = project.add_task("Needs a tool", status=Status.BLOCKED)
    assert project.orch("tick", "--only", "rejoin").out == ""
    assert project.status(number) is Status.BLOCKED


def test_task_tree(project: LocalProject) -> None:
    parent = project.add_task("Big feature", status=Status.BLOCKED)
    first = child(project, parent, "Part one", Status.DONE)
    second = child(project, parent, "Part two", Status.ROUTED)
    grand = child(project, second, "Part two, step a", Status.NEW)
    other = project.add_task("Unrelated")

    done = project.orch("task", "tree")

    assert done.code == 0, done
    assert done.out.splitlines() == [
        f"#{parent}  blocked  Big feature",
        f"├─ #{first}  done  Part one",
        f"└─ #{second}  routed  Part two",
        f"   └─ #{grand}  new  Part two, step a",
        f"#{other}  new  Unrelated",
    ]
    sub = json.loads(project.orch("task", "tree", str(second), "--json").out)
    assert sub["tasks"] == [
        {
            "number": second,
            "title": "Part two",
            "state": "open",
            "status": "routed",
            "children": [
                {
                    "number": grand,
                    "title": "Part two, step a",
                    "state": "open",
                    "status": "new",
                    "children": [],
                }
            ],
        }
    ]
    missing = project.orch("task", "tree", "99")
    assert (missing.code, missing.err) == (1, "orch: task #99 not found in local/widgets\n")
