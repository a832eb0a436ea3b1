"""Cost budgets (SPEC §4 workflow.max_cost_per_task_usd, max_cost_per_day_usd): real
processes, the local store and the GitHub emulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orch.clock import SystemClock
from orch.paths import Paths
from orch.status import Status
from orch.store.local import LocalStore
from orch.task import budget, markers
from tests.emulator.fixtures import write_orch_config
from tests.emulator.server import Emulator
from tests.helpers import Repo, run_orch, tick_actions
from tests.run_helpers import RunProject, claude_envelope, make_run_project, result_obj

REPO = "local/widgets"


def response_marker(cost: float, attempt: int = 1) -> str:
    return markers.render(
        "agent-response",
        {"attempt": attempt, "agent": "claude", "status": "in_progress", "cost_usd": cost},
        "**earlier attempt**",
    )


# ---------------------------------------------------------------------------- pure / ledger


def test_reasons() -> None:
    assert budget.task_budget_reason(0.5, None) is None
    assert budget.task_budget_reason(0.39, 0.4) is None
    assert budget.task_budget_reason(0.4, 0.4) == "cost budget reached ($0.40 of $0.40)"
    assert budget.day_budget_reason(12.5, 10) == (
        "daily budget reached ($12.50 of $10.00 spent today, UTC)"
    )


def test_ledger_counts_each_attempt_once_and_only_today(tmp_path: Path) -> None:
    paths = Paths(config_dir=tmp_path / "c", state_dir=tmp_path / "s")
    now = datetime(2026, 3, 4, 23, 59, tzinfo=UTC)
    budget.record(paths, "a/b", 1, 1, 0.5, now)
    budget.record(paths, "a/b", 1, 1, 0.5, now)  # published twice: counted once
    budget.record(paths, "c/d", 7, 2, 0.25, now)
    budget.record(paths, "a/b", 2, 1, 9.0, now - timedelta(days=1))
    budget.record(paths, "a/b", 3, 1, 0.0, now)  # free attempts are not recorded

    assert budget.spent_on(paths, now) == 0.75
    assert budget.spent_on(paths, now + timedelta(minutes=2)) == 0.0  # a new UTC day
    budget.ledger_file(paths).unlink()
    assert budget.spent_on(paths, now) == 0.0  # lost ledger: the day restarts at 0


# ---------------------------------------------------------------------------- task run


@pytest.fixture
def project(repo: Repo, orch_env: dict[str, str], tmp_path: Path) -> RunProject:
    return make_run_project(repo, orch_env, tmp_path, "--local")


def _add(project: RunProject) -> int:
    done = project.orch("task", "add", "Add a greeting", "--agent", "claude")
    assert done.code == 0, done
    return int(done.out.strip())


def test_task_run_refuses_a_task_at_its_cost_budget(project: RunProject) -> None:
    project.configure(workflow={"max_cost_per_task_usd": 0.04})
    number = _add(project)
    store = LocalStore(project.repo.work / ".orch" / "local", REPO, SystemClock())
    store.create_comment(number, response_marker(0.03, 1))
    store.create_comment(number, response_marker(0.01, 2))
    project.scenario(
        {
            "claude": {
                "record": "calls/claude-{n}.json",
                "steps": [{"stdout": claude_envelope(result_obj())}],
            }
        }
    )

    done = project.orch("task", "run", str(number))

    assert done.code == 0, done
    assert "needs_review" in done.out and "cost budget reached ($0.04 of $0.04)" in done.out
    assert project.calls() == []  # the agent never started
    assert Status.NEEDS_REVIEW.label in store.get_issue(number).labels
    note = markers.parse(store.list_comments(number)[-1].body)
    assert note is not None and note.kind == "status"
    assert note.data["reason"] == "cost budget reached ($0.04 of $0.04)"


def test_a_run_adds_its_cost_to_the_daily_ledger(project: RunProject) -> None:
    number = _add(project)
    project.scenario(
        {
            "claude": {
                "steps": [
                    {"write": "hello.txt", "text": "hello\n"},
                    {"stdout": claude_envelope(result_obj(), cost=0.0123)},
                ]
            }
        }
    )

    assert project.orch("task", "run", str(number)).code == 0

    ledger = json.loads((project.state / "budget.json").read_text())
    today = datetime.now(UTC).date().isoformat()
    assert ledger["entries"] == {f"{REPO}#{number}#1": {"date": today, "cost_usd": 0.0123}}


# ---------------------------------------------------------------------------- dispatch


def tick_json(repo: Repo, env: dict[str, str]) -> list[dict]:  # type: ignore[type-arg]
    done = run_orch("tick", "--json", cwd=repo.work, env=env)
    assert done.code == 0, done
    return tick_actions(done.out)


def test_dispatch_sends_a_task_over_its_budget_to_needs_review(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    write_orch_config(gh_repo.work, emulator, extra={"workflow": {"max_cost_per_task_usd": 1.0}})
    over = int(
        emulator.add_issue("Expensive", "x", [Status.ROUTED.label, "agent:claude"])["number"]
    )
    emulator.add_comment(over, response_marker(1.25))

    actions = tick_json(gh_repo, gh_env)

    mine = [a for a in actions if a["task"] == over]
    assert [(a["phase"], a["action"], a["detail"]) for a in mine] == [
        ("dispatch", "marked needs_review", "cost budget reached ($1.25 of $1.00)")
    ]
    assert emulator.labels_of(over) == ["agent:claude", Status.NEEDS_REVIEW.label]
    bodies = [c["body"] for c in emulator.comments(over)]
    assert not any("orch:claim" in b for b in bodies)  # never claimed, never started
    assert "cost budget reached" in bodies[-1]


def test_daily_budget_stops_dispatch_and_tasks_stay_routed(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    write_orch_config(gh_repo.work, emulator, extra={"workflow": {"max_cost_per_day_usd": 2}})
    first = int(emulator.add_issue("One", "x", [Status.ROUTED.label, "agent:claude"])["number"])
    second = int(emulator.add_issue("Two", "x", [Status.ROUTED.label, "agent:claude"])["number"])
    paths = Paths(
        config_dir=Path(gh_env["ORCH_HOME"]), state_dir=Path(gh_env["ORCH_HOME"]) / "state"
    )
    budget.record(paths, "acme/other", 4, 1, 2.5, datetime.now(UTC))

    actions = tick_json(gh_repo, gh_env)

    dispatch = [a for a in actions if a["phase"] == "dispatch"]
    assert [(a["action"], a["task"]) for a in dispatch] == [("daily budget reached", None)]
    assert dispatch[0]["detail"] == (
        "daily budget reached ($2.50 of $2.00 spent today, UTC); 2 routed task(s) wait"
    )
    for number in (first, second):
        assert emulator.labels_of(number) == ["agent:claude", Status.ROUTED.label]
        assert emulator.comments(number) == []
