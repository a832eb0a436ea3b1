"""`orch tick --wait` says what it waits for and how each task ended (issue #14 item 6).

The waiting loop runs on the Clock seam: a fake clock and fake processes drive it here
without sleeping; one end-to-end tick runs the real supervisor with the demo agent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from orch.commands.tick import summary_line
from orch.paths import Paths
from orch.status import Status
from orch.task.attempt import update_sidecar
from orch.tick.waiting import Ended, WaitEvent, ended, wait_for
from tests.helpers import Repo
from tests.tick_helpers import LocalProject, local_project

AGENT = Path(__file__).parent.parent / "bin" / "orch-demo-agent"


@dataclass
class FakeClock:
    t: float = 100.0
    slept: list[float] = field(default_factory=list)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


@dataclass
class FakeProcess:
    """Exits with `code` once the clock reaches `ends_at`."""

    clock: FakeClock
    ends_at: float
    code: int = 0

    def poll(self) -> int | None:
        return self.code if self.clock.t >= self.ends_at else None


@dataclass
class FakeStarted:
    project: str
    task: int
    process: FakeProcess
    started_at: float


def test_waiting_reports_at_least_every_15_seconds_and_each_exit() -> None:
    clock = FakeClock()
    started = [
        FakeStarted("acme/widgets", 3, FakeProcess(clock, 120.0), started_at=95.0),
        FakeStarted("acme/widgets", 4, FakeProcess(clock, 140.0, code=1), started_at=100.0),
    ]
    events: list[WaitEvent] = []

    waited = wait_for(started, clock, events.append, heartbeat=15.0)

    assert waited == [("acme/widgets", 3, 0), ("acme/widgets", 4, 1)]
    shown = [(e.kind, e.task, [(r.task, r.seconds) for r in e.running]) for e in events]
    assert shown == [
        ("waiting", 0, [(3, 5.0), (4, 0.0)]),
        ("waiting", 0, [(3, 20.0), (4, 15.0)]),
        ("exited", 3, [(4, 20.0)]),
        ("waiting", 0, [(4, 30.0)]),
        ("exited", 4, []),
    ]
    assert clock.t == 140.0  # only the fake clock moved: nothing slept


def test_waiting_stops_at_the_timeout() -> None:
    clock = FakeClock()
    started = [FakeStarted("acme/widgets", 3, FakeProcess(clock, 10_000.0), started_at=100.0)]
    waited = wait_for(started, clock, lambda e: None, heartbeat=15.0, timeout=60.0)
    assert waited == [("acme/widgets", 3, None)]
    assert clock.t == 160.0


def test_ended_reads_each_attempts_decision(tmp_path: Path) -> None:
    paths = Paths(config_dir=tmp_path, state_dir=tmp_path / "state")
    attempt = paths.attempt_dir("acme/widgets", 3, 1)
    attempt.mkdir(parents=True)
    (attempt / "result.json").write_text(
        json.dumps(
            {"decision": {"status": "needs_review", "reason": "the agent asked for a human"}}
        )
    )
    update_sidecar(paths, "acme/widgets", 3, attempt_dir=str(attempt))

    found = ended(
        paths, [("acme/widgets", 3, 0), ("acme/widgets", 4, 2), ("acme/widgets", 5, None)]
    )

    assert found == [
        Ended("acme/widgets", 3, 0, "needs_review", "the agent asked for a human"),
        Ended("acme/widgets", 4, 2, None, "no result recorded; see `orch task logs`"),
        Ended("acme/widgets", 5, None, None, "still running"),
    ]
    assert [summary_line(e) for e in found] == [
        "orch: acme/widgets#3: needs_review (the agent asked for a human)",
        "orch: acme/widgets#4: unknown (no result recorded; see `orch task logs`); "
        "supervisor exit 2",
        "orch: acme/widgets#5: unknown (still running)",
    ]


def test_ended_reads_a_reviews_verdict(tmp_path: Path) -> None:
    paths = Paths(config_dir=tmp_path, state_dir=tmp_path / "state")
    for k, decision in ((1, "request_changes"), (2, "approve")):
        review = paths.task_dir("acme/widgets", 3) / "reviews" / str(k)
        review.mkdir(parents=True)
        outcome = {"outcome": {"result": {"decision": decision, "summary": "ok"}}}
        (review / "result.json").write_text(json.dumps(outcome))
    kinds = {("acme/widgets", 3): "review", ("acme/widgets", 9): "pr-review"}

    found = ended(paths, [("acme/widgets", 3, 0), ("acme/widgets", 9, 1)], kinds)

    log = paths.task_dir("acme/widgets", 9) / "review.log"
    assert found == [
        Ended("acme/widgets", 3, 0, "reviewed", "verdict: approve"),
        Ended("acme/widgets", 9, 1, "reviewed", f"no verdict recorded; see {log}"),
    ]
    assert summary_line(found[0]) == "orch: acme/widgets#3: reviewed (verdict: approve)"


@pytest.fixture
def project(repo: Repo, orch_env: dict[str, str]) -> LocalProject:
    p = local_project(repo, {**orch_env, "ORCH_DEMO_DELAY": "0.2"})
    config = p.repo.work / ".orch.yml"
    config.write_text(
        config.read_text()
        + yaml.safe_dump(
            {
                "router": {"mode": "fixed", "agent": "demo", "fallback_executor": "demo"},
                "agents": {"demo": {"command": [str(AGENT)], "output": "json"}},
            }
        )
    )
    return p


def test_tick_wait_narrates_on_stderr_and_ends_with_each_tasks_status(
    project: LocalProject,
) -> None:
    number = project.add_task("Say hello", "agent:demo", status=Status.ROUTED)

    done = project.orch("tick", "--wait")

    assert done.code == 0, done
    assert project.status(number) is Status.IN_REVIEW
    lines = done.err.splitlines()
    assert lines[0].startswith(f"orch: waiting for local/widgets#{number} ("), done.err
    assert lines[-2:] == [
        f"orch: local/widgets#{number}: supervisor exited 0",
        f"orch: local/widgets#{number}: in_review",
    ], done.err
