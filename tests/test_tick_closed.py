"""Closed tasks and merged PRs seen by the tick's one snapshot request (SPEC §5, §7.2, §9):
real gh against the emulator, requests counted."""

from __future__ import annotations

from orch.status import Status
from tests.emulator.server import Emulator
from tests.helpers import Repo, Result, run_orch, tick_actions


def tick(repo: Repo, env: dict[str, str], *args: str) -> Result:
    done = run_orch("tick", *args, cwd=repo.work, env=env)
    assert done.code == 0, done
    return done


def closed_done_task(emulator: Emulator) -> int:
    number = int(
        emulator.add_issue("Say hello", "body", [Status.DONE.label, "agent:claude"])["number"]
    )
    emulator.close_issue(number)
    return number


def test_feedback_on_a_closed_done_task_reopens_it(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    number = closed_done_task(emulator)
    emulator.add_user("alice", permission="write")
    tick(gh_repo, gh_env)  # warms the snapshot cache
    emulator.reset_log()
    tick(gh_repo, gh_env)
    assert emulator.count() == 1, emulator.log_lines()  # the closed task costs nothing
    comment = emulator.add_comment(number, "also say goodbye", user="alice")
    emulator.reset_log()

    done = tick(gh_repo, gh_env, "--only", "owner")

    issue = emulator.issue(number)
    assert issue["state"] == "open"
    assert emulator.labels_of(number) == ["agent:claude", Status.ROUTED.label]
    ack = emulator.comments(number)[-1]["body"]
    assert ack.startswith("<!-- orch:ack ") and f'"comment_id":{comment["id"]}' in ack
    assert emulator.reactions(comment["id"]) == [("owner", "eyes")]
    assert f"owner #{number} acked feedback" in done.out
    # snapshot, permission, label write, re-open, ack, reaction
    assert emulator.count() == 6, emulator.log_lines()
    emulator.reset_log()
    tick(gh_repo, gh_env, "--only", "owner")
    assert emulator.count() == 1, emulator.log_lines()  # handled once


def test_retry_on_a_closed_task_reopens_it_as_new(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    number = closed_done_task(emulator)
    emulator.add_user("alice", permission="write")
    tick(gh_repo, gh_env)
    emulator.add_comment(number, "/retry", user="alice")

    tick(gh_repo, gh_env, "--only", "owner")

    assert emulator.issue(number)["state"] == "open"
    assert emulator.labels_of(number) == [Status.NEW.label]


def test_comment_by_a_reader_on_a_closed_task_changes_nothing(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    number = closed_done_task(emulator)
    emulator.add_user("reader", permission="read")
    tick(gh_repo, gh_env)
    emulator.add_comment(number, "/retry", user="reader")

    tick(gh_repo, gh_env, "--only", "owner")

    assert emulator.issue(number)["state"] == "closed"
    assert emulator.labels_of(number) == ["agent:claude", Status.DONE.label]
    assert len(emulator.comments(number)) == 1


def test_a_merge_is_seen_on_the_next_tick_through_the_snapshot(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    number = int(emulator.add_issue("Say hello", "body", [Status.IN_REVIEW.label])["number"])
    other = int(emulator.add_issue("Other", "body", [Status.IN_REVIEW.label])["number"])
    pr = emulator.add_pr(f"orch/{number}-say-hello", body="no closing keyword")
    emulator.add_pr(f"orch/{other}-other")
    emulator.merge_pr(emulator.add_pr("feature/unrelated")["number"])
    tick(gh_repo, gh_env)  # both PRs checked once: open
    emulator.reset_log()
    tick(gh_repo, gh_env)
    assert emulator.count() == 1, emulator.log_lines()  # an unrelated merged PR costs nothing
    emulator.merge_pr(int(pr["number"]))
    emulator.reset_log()

    done = tick(gh_repo, gh_env, "--json")

    rows = tick_actions(done.out)
    assert [(r["phase"], r["task"], r["action"], r["detail"]) for r in rows] == [
        ("merge", number, "marked done", f"PR #{pr['number']} merged"),
        ("merge", number, "closed", "workflow.auto_close"),
    ]
    assert emulator.labels_of(number) == [Status.DONE.label]
    assert emulator.issue(number)["state"] == "closed"
    assert emulator.labels_of(other) == [Status.IN_REVIEW.label]
    # snapshot (the merged PR in it), label write, done note, close
    assert emulator.count() == 4, emulator.log_lines()
    emulator.reset_log()
    tick(gh_repo, gh_env)
    assert emulator.count() == 1, emulator.log_lines()


def test_a_plain_comment_on_a_task_closed_by_hand_is_not_feedback(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    number = int(emulator.add_issue("Give up", "body", [Status.NEEDS_REVIEW.label])["number"])
    emulator.add_user("alice", permission="write")
    tick(gh_repo, gh_env)
    emulator.add_comment(number, "not needed any more", user="alice")
    emulator.close_issue(number, reason="not_planned")
    emulator.reset_log()

    tick(gh_repo, gh_env)

    assert emulator.issue(number)["state"] == "closed"
    assert emulator.labels_of(number) == [Status.NEEDS_REVIEW.label]
    assert emulator.count() == 1, emulator.log_lines()
