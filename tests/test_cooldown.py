"""Cooldowns: backoff, reset times, agent vs agent:model, clearing, the shared file, CLI."""

from __future__ import annotations

import json
import multiprocessing
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orch.agents.cooldown import Cooldowns, backoff, parse_key
from orch.errors import UsageError
from orch.paths import Paths
from tests.helpers import run_orch

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return 0.0

    def sleep(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(config_dir=tmp_path / "config", state_dir=tmp_path / "state")


def test_backoff_doubles_from_five_minutes_and_caps() -> None:
    assert [backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (5, 10, 20, 40)]
    assert backoff(30) == timedelta(hours=6)


def test_record_backs_off_per_strike_and_uses_the_reset_time(paths: Paths) -> None:
    clock = Clock()
    cd = Cooldowns(paths, clock)
    first = cd.record("codex", None, error_class="auth", reason="401")
    assert (first.until, first.strikes) == (T0 + timedelta(minutes=5), 1)
    clock.at = T0 + timedelta(minutes=6)  # expired, but remembered: next strike doubles
    second = cd.record("codex", None, error_class="auth", reason="401 again")
    assert (second.until, second.strikes) == (clock.at + timedelta(minutes=10), 2)
    reset = T0 + timedelta(hours=3)
    third = cd.record("codex", None, error_class="usage_limit", reason="limit", reset_at=reset)
    assert (third.until, third.strikes) == (reset, 3)
    clock.at = T0 + timedelta(days=2)  # a day after expiry the strikes are forgotten
    assert cd.record("codex", None, error_class="auth", reason="x").strikes == 1


def test_agent_and_model_scopes(paths: Paths) -> None:
    clock = Clock()
    cd = Cooldowns(paths, clock)
    cd.record("claude", "opus", error_class="usage_limit", reason="opus limit")
    assert cd.blocking("claude", "opus") is not None
    assert cd.blocking("claude", "sonnet") is None
    assert cd.blocking("claude") is None
    cd.record("claude", None, error_class="auth", reason="401")
    blocking = cd.blocking("claude", "sonnet")
    assert blocking is not None and blocking.key == "claude"
    assert [c.key for c in cd.active()] == ["claude", "claude:opus"]
    clock.at = T0 + timedelta(minutes=6)
    assert cd.active() == []
    assert cd.blocking("claude", "opus") is None


def test_clear(paths: Paths) -> None:
    cd = Cooldowns(paths, Clock())
    for agent, model in (("claude", None), ("claude", "opus"), ("codex", "gpt-5.2")):
        cd.record(agent, model, error_class="usage_limit", reason="r")
    assert [c.key for c in cd.clear("codex:gpt-5.2")] == ["codex:gpt-5.2"]
    assert [c.key for c in cd.matching("claude")] == ["claude", "claude:opus"]
    assert [c.key for c in cd.clear("claude")] == ["claude", "claude:opus"]
    assert cd.all() == []
    assert parse_key("opencode:openrouter/qwen:free") == ("opencode", "openrouter/qwen:free")
    with pytest.raises(UsageError):
        parse_key(":opus")


def test_file_is_versioned_and_survives_damage(paths: Paths) -> None:
    cd = Cooldowns(paths, Clock())
    cd.record("codex", None, error_class="auth", reason="401")
    data = json.loads(paths.cooldowns_file.read_text())
    assert data == {
        "schema": 1,
        "cooldowns": {
            "codex": {
                "until": "2026-11-21T08:05:00Z",
                "since": "2026-11-21T08:00:00Z",
                "reason": "401",
                "error_class": "auth",
                "strikes": 1,
            }
        },
    }
    paths.cooldowns_file.write_text("{broken")
    assert cd.all() == []


def _strike(state: str) -> None:
    paths = Paths(config_dir=Path(state), state_dir=Path(state))
    Cooldowns(paths, Clock()).record("codex", None, error_class="auth", reason="r")


def test_processes_share_the_file_without_losing_updates(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_strike, args=(str(tmp_path),)) for _ in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    paths = Paths(config_dir=tmp_path, state_dir=tmp_path)
    (entry,) = Cooldowns(paths, Clock()).all()
    assert entry.strikes == 6


def test_cli_list_and_clear(tmp_path: Path, orch_env: dict[str, str]) -> None:
    home = Path(orch_env["ORCH_HOME"])
    paths = Paths(config_dir=home, state_dir=home / "state")
    future = datetime.now(UTC) + timedelta(hours=2, minutes=30)  # the CLI runs on the real clock
    cd = Cooldowns(paths, Clock(datetime.now(UTC)))
    cd.record(
        "claude", "opus", error_class="usage_limit", reason="You've hit your limit", reset_at=future
    )
    before = datetime.now(UTC)
    listed = run_orch("cooldown", "list", cwd=tmp_path, env=orch_env)
    after = datetime.now(UTC)
    assert listed.code == 0
    key, until, left, cls, reason = listed.out.rstrip("\n").split("\t")
    assert (key, cls, reason) == ("claude:opus", "usage_limit", "You've hit your limit")
    assert until == future.strftime("%Y-%m-%dT%H:%M:%SZ")
    # What is left when the CLI looked, in the PR body's `2h 29m 59s` form.
    hours, minutes, seconds = (int(part[:-1]) for part in left.split())
    shown = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    assert future - after - timedelta(seconds=1) <= shown <= future - before + timedelta(seconds=1)
    assert re.fullmatch(r"2h [23]\dm \d\ds", left), left
    as_json = json.loads(run_orch("cooldown", "list", "--json", cwd=tmp_path, env=orch_env).out)
    assert as_json["schema"] == 1
    assert [c["key"] for c in as_json["cooldowns"]] == ["claude:opus"]
    dry = run_orch("cooldown", "clear", "claude", "--dry-run", cwd=tmp_path, env=orch_env)
    assert (dry.code, dry.out) == (0, "would clear claude:opus\n")
    assert len(cd.active()) == 1
    done = run_orch("cooldown", "clear", "claude:opus", cwd=tmp_path, env=orch_env)
    assert (done.code, done.out) == (0, "cleared claude:opus\n")
    assert cd.active() == []
    none = run_orch("cooldown", "clear", "claude", cwd=tmp_path, env=orch_env)
    assert (none.code, none.out, none.err) == (0, "", "no cooldown for claude\n")
