"""What a tick costs at scale (issue #12) and merges seen from the snapshot alone (#10.3):
real gh against the emulator, seeded in bulk, requests and GraphQL points counted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from orch.status import Status
from tests.emulator.server import Emulator
from tests.helpers import Repo, git, run_orch

ORCH_BODY = "Closes #{n}\n\n---\nOpened by orch"


def tick(repo: Repo, env: dict[str, str], emulator: Emulator) -> tuple[int, int, int]:
    """Run one tick; (requests, writes, GraphQL points) it cost."""
    emulator.reset_log()
    done = run_orch("tick", cwd=repo.work, env=env)
    assert done.code == 0, done
    writes = [r for r in emulator.requests if r.method != "GET" and r.path != "/graphql"]
    return len(emulator.requests), len(writes), emulator.graphql_points


def seed(emulator: Emulator, n: int, reviewing: int) -> list[int]:
    """`n` open tasks, `reviewing` of them in review with an open orch PR each."""
    in_review = emulator.add_issues(reviewing, [Status.IN_REVIEW.label])
    emulator.add_issues(n - reviewing, [Status.NEEDS_REVIEW.label])
    for number in in_review:
        emulator.add_pr(f"orch/{number}-task-{number}", body=ORCH_BODY.format(n=number))
    return in_review


def pr_of(emulator: Emulator, number: int) -> int:
    return next(
        int(p["number"]) for p in emulator.pulls() if p["head"]["ref"].startswith(f"orch/{number}-")
    )


def state_dir(env: dict[str, str]) -> Path:
    return Path(env["ORCH_HOME"]) / "state"


@pytest.mark.parametrize("n", [20, 1000])
def test_a_quiet_tick_is_one_request_of_at_most_two_points(
    n: int, gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    seed(emulator, n, n // 4)
    tick(gh_repo, gh_env, emulator)  # cold: reads everything once

    # 2 points: the delta's 20 PRs carry their reviews and comments (SPEC §12).
    assert tick(gh_repo, gh_env, emulator) == (1, 0, 2)
    assert tick(gh_repo, gh_env, emulator) == (1, 0, 2)


def test_a_cold_tick_costs_only_pages(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    seed(emulator, 200, 50)

    requests, writes, _ = tick(gh_repo, gh_env, emulator)

    assert requests == 2, emulator.log_lines()  # two pages of open tasks, PRs in the first
    assert writes == 0
    shutil.rmtree(state_dir(gh_env))
    assert tick(gh_repo, gh_env, emulator)[:2] == (2, 0)  # again without the cache


def test_a_merge_costs_three_requests_then_one(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    number, *_ = seed(emulator, 200, 50)
    git("branch", f"orch/{number}-task-{number}", cwd=gh_repo.work)
    tick(gh_repo, gh_env, emulator)
    tick(gh_repo, gh_env, emulator)
    emulator.merge_pr(pr_of(emulator, number))  # `Closes #n`: GitHub closes the issue
    assert emulator.issue(number)["state"] == "closed"

    requests, writes, _ = tick(gh_repo, gh_env, emulator)

    assert requests == 3, emulator.log_lines()
    assert writes == 2  # the label write and the note: GitHub already closed the issue
    assert emulator.labels_of(number) == [Status.DONE.label]
    assert "PR #" in emulator.comments(number)[-1]["body"]
    assert git("branch", "--list", f"orch/{number}-*", cwd=gh_repo.work) == ""  # cleaned up
    assert tick(gh_repo, gh_env, emulator)[0] == 1


def test_a_merge_no_tick_saw_is_found_with_an_empty_state_dir(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    merged, unmerged, waiting = seed(emulator, 3, 3)
    tick(gh_repo, gh_env, emulator)
    shutil.rmtree(state_dir(gh_env))
    emulator.merge_pr(pr_of(emulator, merged))  # closes the issue, still in_review
    emulator.close_pr(pr_of(emulator, unmerged))
    emulator.close_issue(unmerged)
    emulator.advance(3 * 24 * 3600)  # long before the next tick

    requests, _, _ = tick(gh_repo, gh_env, emulator)

    assert emulator.labels_of(merged) == [Status.DONE.label]
    assert emulator.labels_of(unmerged) == [Status.NEEDS_REVIEW.label]
    assert emulator.labels_of(waiting) == [Status.IN_REVIEW.label]
    assert requests == 5, emulator.log_lines()  # snapshot, 2 × (labels + note)
    assert tick(gh_repo, gh_env, emulator)[0] == 1


def test_a_task_closed_or_relabelled_leaves_the_cached_set(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    first, second = emulator.add_issues(2, [Status.BLOCKED.label])
    tick(gh_repo, gh_env, emulator)
    emulator.set_labels(first, ["bug"])  # no status label: not a task any more
    emulator.close_issue(second)
    tick(gh_repo, gh_env, emulator)

    cache = (state_dir(gh_env) / "repos" / "acme" / "widgets" / "snapshot.json").read_text()
    assert '"number": 1,' not in cache and '"number": 2,' not in cache


def test_the_sweep_forgets_a_deleted_task_within_the_one_request(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    kept, deleted = emulator.add_issues(2, [Status.NEEDS_REVIEW.label])
    tick(gh_repo, gh_env, emulator)
    path = state_dir(gh_env) / "repos" / "acme" / "widgets" / "snapshot.json"
    data = json.loads(path.read_text())
    data["swept_at"] = "2000-01-01T00:00:00Z"  # the sweep is due
    path.write_text(json.dumps(data))
    with emulator.lock:
        del emulator.repo().issues[deleted]  # GitHub deletes without an update

    assert tick(gh_repo, gh_env, emulator) == (1, 0, 2)

    numbers = [issue["number"] for issue in json.loads(path.read_text())["issues"]]
    assert numbers == [kept]
    assert "sweep" in emulator.requests[0].body["query"]
