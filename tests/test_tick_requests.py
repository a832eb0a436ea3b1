"""What a tick costs on GitHub: real gh against the emulator, requests counted (SPEC §9)."""

from __future__ import annotations

import shutil
from pathlib import Path

from orch.status import Status
from tests.emulator.server import Emulator
from tests.helpers import Repo, Result, run_orch, tick_actions


def tick(repo: Repo, env: dict[str, str], *args: str) -> Result:
    done = run_orch("tick", *args, cwd=repo.work, env=env)
    assert done.code == 0, done
    return done


def add_tasks(emulator: Emulator, count: int, status: Status) -> list[int]:
    return [
        int(emulator.add_issue(f"Task {i}", "body", [status.label])["number"]) for i in range(count)
    ]


def test_quiet_tick_costs_one_request(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    add_tasks(emulator, 3, Status.NEEDS_REVIEW)
    add_tasks(emulator, 2, Status.BLOCKED)
    tick(gh_repo, gh_env)  # warms the snapshot cache
    emulator.reset_log()

    done = tick(gh_repo, gh_env)

    assert (done.out, done.err) == ("", "")  # cron mails any output: a quiet tick has none
    assert emulator.count() == 1, emulator.log_lines()
    assert emulator.count(method="POST", path="/graphql") == 1


def test_quiet_tick_with_200_open_tasks_costs_one_request(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    add_tasks(emulator, 200, Status.NEEDS_REVIEW)
    tick(gh_repo, gh_env)
    emulator.reset_log()

    tick(gh_repo, gh_env)

    assert emulator.count() == 1, emulator.log_lines()  # the delta query, however many tasks
    assert emulator.count(method="POST", path="/graphql") == 1


def test_changed_task_is_the_only_one_looked_at(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    numbers = add_tasks(emulator, 5, Status.NEEDS_REVIEW)
    emulator.add_user("reader", permission="read")
    tick(gh_repo, gh_env)
    emulator.reset_log()
    emulator.add_comment(numbers[2], "/retry", user="reader")

    tick(gh_repo, gh_env)

    # One snapshot, one permission check for the commenter; nothing else.
    assert emulator.count() == 2, emulator.log_lines()
    assert emulator.count(path="/repos/acme/widgets/collaborators/reader/permission") == 1
    assert emulator.labels_of(numbers[2]) == [Status.NEEDS_REVIEW.label]


def test_deleting_the_state_dir_loses_nothing_and_repeats_nothing(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    (number,) = add_tasks(emulator, 1, Status.NEEDS_REVIEW)
    emulator.add_user("alice", permission="write")
    emulator.add_comment(number, "/priority high", user="alice")
    tick(gh_repo, gh_env, "--only", "owner")
    assert emulator.labels_of(number) == ["complexity:complex", Status.ROUTED.label]
    comments = emulator.comments(number)
    assert len(comments) == 2

    shutil.rmtree(Path(gh_env["ORCH_HOME"]) / "state")
    tick(gh_repo, gh_env, "--only", "owner")

    assert emulator.comments(number) == comments
    assert emulator.labels_of(number) == ["complexity:complex", Status.ROUTED.label]
    assert emulator.reactions(comments[0]["id"]) == [("owner", "eyes")]


def test_owner_commands_over_github(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    emulator.add_user("alice", permission="write")
    emulator.add_user("reader", permission="read")
    emulator.add_user("helper[bot]", type="Bot", permission="admin")
    cases = {
        "/retry": (Status.NEEDS_REVIEW, ["agent:claude"], [Status.NEW.label]),
        "/assign codex": (Status.NEEDS_REVIEW, [], ["agent:codex", Status.ROUTED.label]),
        "/close": (Status.IN_REVIEW, [], [Status.DONE.label]),
        "/unblock": (Status.BLOCKED, [], [Status.NEW.label]),
        "looks wrong, use tabs": (Status.IN_REVIEW, [], [Status.ROUTED.label]),
    }
    numbers: dict[str, tuple[int, int, int]] = {}
    for body, (status, extra, _) in cases.items():
        by_alice = int(emulator.add_issue("T", "", [status.label, *extra])["number"])
        by_reader = int(emulator.add_issue("T", "", [status.label, *extra])["number"])
        by_bot = int(emulator.add_issue("T", "", [status.label, *extra])["number"])
        emulator.add_comment(by_alice, body, user="alice")
        emulator.add_comment(by_reader, body, user="reader")
        emulator.add_comment(by_bot, body, user="helper[bot]")
        numbers[body] = (by_alice, by_reader, by_bot)

    tick(gh_repo, gh_env, "--only", "owner")

    for body, (status, extra, after) in cases.items():
        by_alice, by_reader, by_bot = numbers[body]
        assert emulator.labels_of(by_alice) == sorted(after), body
        comments = emulator.comments(by_alice)
        assert len(comments) == 2 and comments[1]["body"].startswith("<!-- orch:ack "), body
        assert f'"comment_id":{comments[0]["id"]}' in comments[1]["body"]
        assert emulator.reactions(comments[0]["id"]) == [("owner", "eyes")]
        for other in (by_reader, by_bot):
            assert emulator.labels_of(other) == sorted([status.label, *extra]), body
            assert len(emulator.comments(other)) == 1
    assert emulator.issue(numbers["/close"][0])["state"] == "closed"
    # One permission lookup per commenter per tick; the bot is never looked up.
    assert emulator.count(path="/repos/acme/widgets/collaborators/alice/permission") == 1
    assert emulator.count(path="/repos/acme/widgets/collaborators/reader/permission") == 1
    assert emulator.count(path="*helper*") == 0


def test_rejected_token_ends_the_tick_with_exit_4(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    done = run_orch(
        "tick", "--json", cwd=gh_repo.work, env={**gh_env, "GH_ENTERPRISE_TOKEN": "bad"}
    )
    assert done.code == 4, done
    (row,) = tick_actions(done.out)
    assert (row["project"], row["phase"], row["action"]) == ("acme/widgets", "snapshot", "error")
    assert done.err.endswith("orch: tick finished with 1 error(s); see above and `orch log`\n")
