"""Internal tasks (`task add --internal`, ids iN) beside a GitHub project's tasks: real gh
against the emulator, fake claude, real git. They cost no GitHub request until they
push a branch and open a PR, and `task publish` promotes one to exactly one issue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orch.status import Status
from orch.task import markers
from orch.task.publish import token_line
from tests.emulator.server import Emulator
from tests.helpers import Repo, git, into_a_slot, tick_actions
from tests.run_helpers import RunProject, claude_envelope, make_run_project, result_obj


@pytest.fixture
def project(gh_repo: Repo, gh_env: dict[str, str], tmp_path: Path) -> RunProject:
    p = make_run_project(gh_repo, gh_env, tmp_path, "--repo", "acme/widgets")
    p.scenario(
        {
            "claude": {
                "record": "calls/claude-{n}.json",
                "steps": [
                    {"write": "hello.txt", "text": "hello\n"},
                    {"stdout": claude_envelope(result_obj())},
                ],
            }
        }
    )
    return p


def internal_comments(project: RunProject, local: int) -> list[dict[str, Any]]:
    path = project.repo.work / ".orch" / "internal" / "issues" / f"{local}.json"
    return list(json.loads(path.read_text())["comments"])


def internal_record(project: RunProject, local: int) -> dict[str, Any]:
    path = project.repo.work / ".orch" / "internal" / "issues" / f"{local}.json"
    return dict(json.loads(path.read_text()))


def test_adding_and_reading_an_internal_task_makes_no_github_request(
    project: RunProject, emulator: Emulator
) -> None:
    emulator.reset_log()

    added = project.orch("task", "add", "Tidy the docs", "--internal", "--body", "Just tidy")
    shown = project.orch("task", "get", "i1")
    as_json = project.orch("task", "get", "i1", "--json")

    assert (added.code, added.out) == (0, "i1\n"), added
    assert emulator.count() == 0, emulator.log_lines()
    assert emulator.issues() == []
    assert shown.code == 0 and shown.out.splitlines()[0] == "i1 Tidy the docs", shown
    assert "status:     new" in shown.out
    task = json.loads(as_json.out)["task"]
    assert task["id"] == "i1" and task["number"] == -1 and task["url"] == "internal:acme/widgets/i1"
    # Listing shows it beside the GitHub tasks (one request: the GitHub list).
    emulator.add_issue("A GitHub task", "", [Status.NEW.label])
    emulator.reset_log()
    listed = project.orch("task", "list")
    assert [line.split()[0] for line in listed.out.splitlines()] == ["#1", "i1"], listed
    assert emulator.count() == 1


def test_every_task_subcommand_takes_an_internal_id(
    project: RunProject, emulator: Emulator
) -> None:
    assert project.orch("task", "add", "Later", "--internal").code == 0
    emulator.reset_log()

    assign = project.orch("task", "assign", "i1", "claude")
    close = project.orch("task", "close", "i1")
    bad = project.orch("task", "get", "x1")
    missing = project.orch("task", "get", "i9")

    assert assign.code == 0 and assign.out.startswith("i1 "), assign
    assert close.code == 0, close
    assert internal_record(project, 1)["state"] == "closed"
    assert bad.code == 2 and "not a task id" in bad.err
    assert missing.code == 1 and "#9" not in missing.err
    assert emulator.count() == 0, emulator.log_lines()


def test_the_tick_runs_an_internal_task_pushes_its_branch_and_opens_a_pr(
    project: RunProject, emulator: Emulator
) -> None:
    assert project.orch("task", "add", "Say hello", "--internal", "--agent", "claude").code == 0
    emulator.reset_log()

    first = project.orch("tick", "--json", "--wait")

    assert first.code == 0, first
    rows = tick_actions(first.out)
    assert [(r["phase"], r["task"], r["action"]) for r in rows] == [
        ("route", "i1", "routed"),
        ("dispatch", "i1", "dispatched"),
    ]
    branch = "orch/i1-say-hello"
    assert branch in git("branch", "--format=%(refname:short)", cwd=project.repo.origin).split()
    (pr,) = emulator.pulls()
    assert pr["head"]["ref"] == branch and "Closes #" not in pr["body"]
    assert emulator.issues() == [pr] or all("pull_request" in i for i in emulator.issues())
    # The local record holds the run's history and links the PR.
    record = internal_record(project, 1)
    assert Status.IN_REVIEW.label in record["labels"]
    found = [markers.parse(c["body"]) for c in record["comments"]]
    (response,) = [m for m in found if m and m.kind == "agent-response"]
    assert response.data["pr"] == pr["number"]
    # No GitHub issue was touched: the snapshot, the PR's calls, nothing else.
    print("requests new->in_review (internal):", emulator.count(), *emulator.log_lines(), sep="\n")
    assert emulator.count(path="/repos/acme/widgets/issues*") == 0, emulator.log_lines()
    assert emulator.count() == 3, emulator.log_lines()  # snapshot, find PR, create PR

    emulator.merge_pr(pr["number"])
    done = project.orch("tick", "--json")

    assert done.code == 0, done
    assert ("merge", "i1", "marked done") in [
        (r["phase"], r["task"], r["action"]) for r in tick_actions(done.out)
    ]
    record = internal_record(project, 1)
    assert Status.DONE.label in record["labels"] and record["state"] == "closed"


def test_publish_promotes_an_internal_task_to_exactly_one_issue(
    project: RunProject, emulator: Emulator
) -> None:
    assert (
        project.orch("task", "add", "Write the FAQ", "--internal", "--body", "Five questions").code
        == 0
    )
    assert project.orch("task", "assign", "i1", "claude").code == 0
    emulator.reset_log()

    done = project.orch("task", "publish", "i1")

    assert done.code == 0, done
    (issue,) = emulator.issues()
    assert done.out == f"{issue['number']}\n"
    assert emulator.count("POST", "/repos/acme/widgets/issues") == 1
    assert issue["title"] == "Write the FAQ"
    assert "Five questions" in issue["body"] and "i1" in issue["body"]
    assert "agent:claude" in [label["name"] for label in issue["labels"]]
    record = internal_record(project, 1)
    assert record["state"] == "closed"
    published = [markers.parse(c["body"]) for c in record["comments"]]
    assert any(
        m and m.kind == "published" and m.data.get("issue") == issue["number"] for m in published
    )
    # Publishing again is refused, and creates nothing.
    again = project.orch("task", "publish", "i1")
    assert again.code == 1 and f"#{issue['number']}" in again.err
    assert emulator.count("POST", "/repos/acme/widgets/issues") == 1


def _publish_intent(project: RunProject) -> str:
    found = [markers.parse(c["body"]) for c in internal_comments(project, 1)]
    (token,) = [m.data["token"] for m in found if m and m.kind == "published"]
    return str(token)


@pytest.mark.parametrize("github_made_it", [True, False])
def test_a_publish_whose_answer_was_lost_never_makes_a_second_issue(
    project: RunProject, emulator: Emulator, github_made_it: bool
) -> None:
    assert project.orch("task", "add", "Write the FAQ", "--internal").code == 0
    assert project.orch("task", "assign", "i1", "claude").code == 0
    emulator.server_error(None, status=500, method="POST", path="/repos/acme/widgets/issues")

    failed = project.orch("task", "publish", "i1")

    assert failed.code != 0 and emulator.issues() == []
    token = _publish_intent(project)  # the intent was written before the POST
    assert internal_record(project, 1)["state"] == "open"
    if github_made_it:  # GitHub created the issue, but its answer never reached orch
        emulator.add_issue("Write the FAQ", f"...\n{token_line(token)}", ["agent:claude"])
    emulator.clear_faults()
    emulator.reset_log()

    done = project.orch("task", "publish", "i1")

    assert done.code == 0, done
    (issue,) = emulator.issues()
    assert done.out == f"{issue['number']}\n" and token_line(token) in issue["body"]
    assert emulator.count("POST", "/repos/acme/widgets/issues") == (0 if github_made_it else 1)
    record = internal_record(project, 1)
    assert record["state"] == "closed"
    assert [
        m.data.get("issue")
        for m in map(markers.parse, (c["body"] for c in record["comments"]))
        if m and m.kind == "published"
    ] == [None, issue["number"]]


def test_an_internal_job_makes_internal_tasks_without_a_github_request(
    project: RunProject, emulator: Emulator
) -> None:
    added = project.orch(
        "job", "add", "*/5 * * * *", "Nightly tidy", "--internal", "--agent", "claude"
    )
    assert added.code == 0, added
    config = project.repo.work / ".orch.yml"
    text = config.read_text()
    assert "internal: true" in text
    created = text.split("created_at: '")[1].split("'")[0]
    config.write_text(text.replace(created, "2020-01-01T00:00:00Z"))
    emulator.reset_log()
    project.env["ORCH_TEST_CLOCK_OFFSET"] = str(into_a_slot(5))  # both ticks in one slot

    first = project.orch("job", "tick")
    second = project.orch("job", "tick")

    assert first.code == 0 and first.out.startswith(
        "acme/widgets jobs i1 created task: job nightly-tidy"
    ), first
    assert (second.code, second.out) == (0, ""), second
    assert emulator.count() == 0, emulator.log_lines()
    record = internal_record(project, 1)
    assert {"job:nightly-tidy", "agent:claude", "status:new"} <= set(record["labels"])
    assert emulator.issues() == []
