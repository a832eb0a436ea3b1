"""`plan` tasks (SPEC §2.1, §2.2): the plan prompt, children created from the result, the
parent blocked, then rejoined by the tick once its children are done. Fake agents, real
git, the local store."""

from __future__ import annotations

from pathlib import Path

import pytest

from orch.agents.result import schema_for, validate_result
from orch.clock import SystemClock
from orch.run.decision import Facts, decide
from orch.status import Status
from orch.store.local import LocalStore
from orch.task import markers
from tests.emulator.server import Emulator
from tests.helpers import Repo
from tests.run_helpers import RunProject, claude_envelope, make_run_project, result_obj

REPO = "local/widgets"
CHILDREN = [
    {"title": "Add the parser", "body": "Parse the config file.", "complexity": "simple"},
    {"title": "Wire it   into the CLI", "body": "Call the parser from main.", "complexity": ""},
]


# ---------------------------------------------------------------------------- pure


def test_result_contract_gains_optional_children() -> None:
    plain, _ = validate_result(result_obj())
    assert plain is not None and "children" not in plain  # ordinary results unchanged
    planned, _ = validate_result(result_obj(children=[*CHILDREN, {"title": " "}, 7, "Write docs"]))
    assert planned is not None
    assert planned["children"] == [
        {"title": "Add the parser", "body": "Parse the config file.", "complexity": "simple"},
        {"title": "Wire it into the CLI", "body": "Call the parser from main.", "complexity": None},
        {"title": "Write docs", "body": "", "complexity": None},
    ]
    schema = schema_for("plan")
    assert (
        schema["required"][-1] == "children" and "children" not in schema_for("run")["properties"]
    )


def test_decision_for_plan_results() -> None:
    done = result_obj(children=CHILDREN)
    blocked = decide(
        Facts(attempt=1, agent="claude", result=done, error_class=None, plan=True, children=2)
    )
    assert (blocked.status, blocked.trigger, blocked.wants_pr) == (Status.BLOCKED, "plan", False)
    assert blocked.warnings == ()
    empty = decide(
        Facts(attempt=1, agent="claude", result=result_obj(), error_class=None, plan=True)
    )
    assert empty.status is Status.NEEDS_REVIEW and "no sub-issues" in empty.reason


# ---------------------------------------------------------------------------- end to end


@pytest.fixture
def project(repo: Repo, orch_env: dict[str, str], tmp_path: Path) -> RunProject:
    return make_run_project(repo, orch_env, tmp_path, "--local")


def store(project: RunProject) -> LocalStore:
    return LocalStore(project.repo.work / ".orch" / "local", REPO, SystemClock())


def add_plan_task(project: RunProject) -> int:
    done = project.orch(
        "task",
        "add",
        "Config support",
        "--body",
        "Read settings from a file.",
        "--label",
        "plan",
        "--agent",
        "claude",
    )
    assert done.code == 0, done
    return int(done.out.strip())


def test_plan_creates_children_blocks_the_parent_and_rejoins_when_they_are_done(
    project: RunProject,
) -> None:
    parent = add_plan_task(project)
    project.scenario(
        {
            "claude": [
                {
                    "expect_stdin_contains": ["do not write code", "Read settings from a file."],
                    "record": "calls/claude-{n}.json",
                    "steps": [
                        {
                            "stdout": claude_envelope(
                                result_obj(summary="Two steps", files_changed=[], children=CHILDREN)
                            )
                        }
                    ],
                },
                {
                    "expect_stdin_contains": ["Do the work in the worktree"],
                    "record": "calls/claude-{n}.json",
                    "steps": [
                        {"write": "config.py", "text": "x = 1\n"},
                        {"stdout": claude_envelope(result_obj())},
                    ],
                },
            ]
        }
    )

    done = project.orch("task", "run", str(parent))

    assert done.code == 0, done
    s = store(project)
    assert sorted(s.get_issue(parent).labels) == [
        "agent:claude",
        "model:sonnet",
        "plan",
        "status:blocked",
    ]
    children = [i for i in s.list_issues() if i.number != parent]
    assert [(c.title, c.body, sorted(c.labels)) for c in children] == [
        (
            "Add the parser",
            f"Parse the config file.\n\nParent: #{parent}\n",
            ["complexity:simple", "status:new"],
        ),
        (
            "Wire it into the CLI",
            f"Call the parser from main.\n\nParent: #{parent}\n",
            ["status:new"],
        ),
    ]
    first, second = (c.number for c in children)
    posted = [markers.parse(c.body) for c in s.list_comments(parent)]
    kinds = [m.kind for m in posted if m]
    assert kinds == ["agent-response", "status"]
    note = s.list_comments(parent)[-1].body
    assert f"- [ ] #{first} Add the parser" in note.splitlines()
    assert f"- [ ] #{second} Wire it into the CLI" in note.splitlines()
    (call,) = project.calls()
    assert '"children"' in " ".join(call["argv"])  # the plan result schema was sent
    assert not project.origin_branches()[1:]  # nothing pushed for a plan

    # One child done, one open: the parent stays blocked.
    s.set_labels(first, [Status.DONE.label])
    s.update_issue(first, state="closed")
    assert project.orch("tick", "--only", "rejoin").code == 0
    assert Status.BLOCKED.label in s.get_issue(parent).labels

    s.set_labels(second, [Status.DONE.label])
    s.update_issue(second, state="closed")
    ticked = project.orch("tick", "--only", "rejoin")
    assert ticked.code == 0, ticked
    assert Status.ROUTED.label in s.get_issue(parent).labels

    # Back from the rejoin, the parent runs as an ordinary task (no second plan).
    again = project.orch("task", "run", str(parent))
    assert again.code == 0, again
    assert Status.IN_REVIEW.label in s.get_issue(parent).labels
    assert len(s.list_issues(state="all")) == 3


def test_plan_without_children_goes_to_needs_review(project: RunProject) -> None:
    parent = add_plan_task(project)
    project.scenario(
        {
            "claude": {
                "steps": [{"stdout": claude_envelope(result_obj(files_changed=[], children=[]))}]
            }
        }
    )

    done = project.orch("task", "run", str(parent))

    assert done.code == 0, done
    s = store(project)
    assert Status.NEEDS_REVIEW.label in s.get_issue(parent).labels
    assert [i.number for i in s.list_issues()] == [parent]
    assert "no sub-issues" in done.out


def test_plan_on_github_children_then_a_tick_rejoins_the_parent(
    gh_repo: Repo, gh_env: dict[str, str], tmp_path: Path, emulator: Emulator
) -> None:
    project = make_run_project(gh_repo, gh_env, tmp_path, "--repo", "acme/widgets")
    parent = int(
        emulator.add_issue(
            "Config support", "Read settings.", [Status.NEW.label, "agent:claude", "plan"]
        )["number"]
    )
    project.scenario(
        {
            "claude": {
                "steps": [
                    {"stdout": claude_envelope(result_obj(files_changed=[], children=CHILDREN))}
                ]
            }
        }
    )
    emulator.reset_log()

    done = project.orch("task", "run", str(parent))

    assert done.code == 0, done
    print("requests for a plan run with 2 children:", emulator.count())
    assert emulator.count(method="POST", path="/repos/acme/widgets/issues") == 2
    assert sorted(emulator.labels_of(parent)) == [
        "agent:claude",
        "model:sonnet",
        "plan",
        "status:blocked",
    ]
    children = [i for i in emulator.issues() if i["number"] != parent]
    assert [(c["title"], c["body"].splitlines()[-1]) for c in children] == [
        ("Add the parser", f"Parent: #{parent}"),
        ("Wire it into the CLI", f"Parent: #{parent}"),
    ]
    assert not emulator.pulls()
    for child in children:
        emulator.set_labels(child["number"], [Status.DONE.label])
        emulator.close_issue(child["number"])

    ticked = project.orch("tick")

    assert ticked.code == 0, ticked
    assert Status.ROUTED.label in emulator.labels_of(parent)
    note = markers.parse(emulator.comments(parent)[-1]["body"])
    assert note is not None and note.data["to"] == "routed"
