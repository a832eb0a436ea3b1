"""The tick's owner phase end to end through the CLI on a local-store project (SPEC §7)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from orch import labels as L
from orch.status import Status
from orch.task.owner import help_text
from tests.helpers import Repo
from tests.tick_helpers import LocalProject, local_project


@pytest.fixture
def project(repo: Repo, orch_env: dict[str, str]) -> LocalProject:
    p = local_project(repo, orch_env)
    store = p.store
    store.set_permission("alice", "write")
    store.set_permission("reader", "read")
    store.set_permission("triager", "triage")
    return p


def owner_tick(project: LocalProject) -> str:
    done = project.orch("tick", "--only", "owner")
    assert done.code == 0, done
    return done.out


CASES = [
    # body, start status, start labels, expected status, expected labels (sans status), action
    ("/retry\nuse the v2 API", Status.NEEDS_REVIEW, ["agent:claude"], Status.NEW, [], "retry"),
    (
        "/assign codex",
        Status.NEEDS_REVIEW,
        ["agent:claude"],
        Status.ROUTED,
        ["agent:codex"],
        "assign",
    ),
    ("/unblock", Status.BLOCKED, ["agent:claude"], Status.NEW, ["agent:claude"], "unblock"),
    ("/close", Status.IN_REVIEW, [], Status.DONE, [], "close"),
    ("/context mind the tests", Status.NEEDS_REVIEW, [], Status.ROUTED, [], "context"),
    (
        "/priority high",
        Status.NEW,
        ["complexity:simple"],
        Status.ROUTED,
        ["complexity:complex"],
        "priority",
    ),
    ("/stop", Status.IN_PROGRESS, [], Status.NEEDS_REVIEW, [], "stop"),
    ("/help", Status.ROUTED, [], Status.ROUTED, [], "help"),
    ("please also update the docs", Status.IN_REVIEW, [], Status.ROUTED, [], "feedback"),
    ("/retry", Status.IN_PROGRESS, [], Status.IN_PROGRESS, [], "busy"),
]


@pytest.mark.parametrize(("body", "start", "labels", "status", "after", "action"), CASES)
def test_owner_command_from_a_writer_takes_effect_once(
    project: LocalProject,
    body: str,
    start: Status,
    labels: list[str],
    status: Status,
    after: list[str],
    action: str,
) -> None:
    number = project.add_task("Fix the widget", *labels, status=start)
    comment = project.say(number, "alice", body)

    out = owner_tick(project)

    issue = project.issue(number)
    assert sorted(issue.labels) == L.with_status(after, status)
    assert issue.state == ("closed" if action == "close" else "open")
    acks = project.markers(number, "ack")
    assert len(acks) == 1
    assert acks[0]["comment_id"] == comment.id
    assert acks[0]["command"] == action
    label = "feedback" if action == "feedback" else f"/{body.split()[0][1:]}"
    assert (
        f"local/widgets owner #{number} acked {label}: comment {comment.id} by alice: {action}"
        in out
    )
    if action in ("context", "feedback", "retry"):
        assert (
            acks[0]["context"]
            == {
                "context": "mind the tests",
                "feedback": "please also update the docs",
                "retry": "use the v2 API",
            }[action]
        )

    # A second tick (and one after the state dir is gone) handles nothing again.
    before = project.comments(number)
    owner_tick(project)
    shutil.rmtree(Path(project.env["ORCH_HOME"]) / "state")
    owner_tick(project)
    assert project.comments(number) == before
    assert sorted(project.issue(number).labels) == L.with_status(after, status)


def test_help_is_answered_with_the_command_list(project: LocalProject) -> None:
    number = project.add_task("Fix the widget", status=Status.ROUTED)
    comment = project.say(number, "alice", "/HELP")
    owner_tick(project)
    last = project.comments(number)[-1]
    assert last.body.split("\n", 1)[1] == f"@alice {help_text()}"
    assert project.markers(number, "ack")[0]["comment_id"] == comment.id


def test_busy_retry_does_not_reset_attempts(project: LocalProject) -> None:
    number = project.add_task("Fix the widget", status=Status.IN_PROGRESS)
    project.say(number, "alice", "/retry")
    owner_tick(project)
    last = project.comments(number)[-1]
    assert last.body.endswith(
        "@alice `/retry`: the task is running; try again when it finishes (or `/stop` it)."
    )
    assert project.markers(number, "ack")[0] == {
        "v": 1,
        "comment_id": project.comments(number)[0].id,
        "command": "busy",
        "requested": "retry",
    }


@pytest.mark.parametrize(
    ("author", "kind"),
    [("reader", "User"), ("triager", "User"), ("stranger", "User"), ("renovate[bot]", "Bot")],
)
def test_comments_from_others_change_nothing(project: LocalProject, author: str, kind: str) -> None:
    bodies = ["/retry", "/close", "/assign codex", "/stop", "/help", "please rewrite everything"]
    numbers = []
    for body in bodies:
        number = project.add_task("Fix the widget", "agent:claude", status=Status.NEEDS_REVIEW)
        project.say(number, author, body, author_type=kind)
        numbers.append(number)
    before = [project.issue(n) for n in numbers]
    out = owner_tick(project)
    assert out == ""
    for number, issue in zip(numbers, before, strict=True):
        after = project.issue(number)
        assert (after.labels, after.state) == (issue.labels, "open")
        assert [c.author for c in project.comments(number)] == [author]


def test_listed_bot_is_obeyed(project: LocalProject) -> None:
    config = project.repo.work / ".orch.yml"
    config.write_text(config.read_text() + "workflow:\n  allowed_users: ['renovate[bot]']\n")
    number = project.add_task("Fix the widget", status=Status.NEEDS_REVIEW)
    project.say(number, "renovate[bot]", "/close", author_type="Bot")
    owner_tick(project)
    assert project.status(number) is Status.DONE


def test_plain_comment_older_than_orchs_last_word_is_not_feedback(project: LocalProject) -> None:
    number = project.add_task("Fix the widget", status=Status.IN_PROGRESS)
    project.say(number, "alice", "remember the edge case")  # context while it runs
    project.store.create_comment(
        number, '<!-- orch:status {"from":"in_progress","to":"in_review","v":1} -->'
    )
    project.store.set_labels(number, L.with_status([], Status.IN_REVIEW))
    owner_tick(project)
    assert project.status(number) is Status.IN_REVIEW
    assert project.markers(number, "ack") == []


def test_several_commands_are_handled_in_order(project: LocalProject) -> None:
    number = project.add_task("Fix the widget", status=Status.NEEDS_REVIEW)
    first = project.say(number, "alice", "/assign codex")
    second = project.say(number, "alice", "/priority low")
    owner_tick(project)
    assert sorted(project.issue(number).labels) == [
        "agent:codex",
        "complexity:simple",
        "status:routed",
    ]
    assert [a["comment_id"] for a in project.markers(number, "ack")] == [first.id, second.id]
