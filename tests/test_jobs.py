"""Scheduled jobs: cron due-ness (table-driven), the jobs phase over a real LocalStore,
and `orch job …` end to end through the real CLI."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orch.deps import Deps
from orch.jobs import runs as jobs
from orch.paths import Paths
from tests.helpers import Repo, into_a_slot, make_repo, run_orch


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return self.at.timestamp()

    def sleep(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


# ---------------------------------------------------------------------------------------
# Pure due-ness

NEXT_SLOT = [
    # schedule, zone, after (aware), expected first slot after it (UTC)
    ("*/5 * * * *", "UTC", "2026-11-21T10:04:59+00:00", "2026-11-21T10:05:00+00:00"),
    ("*/5 * * * *", "UTC", "2026-11-21T10:05:00+00:00", "2026-11-21T10:10:00+00:00"),
    ("*/5 * * * *", "UTC", "2026-11-21T23:59:00+00:00", "2026-11-22T00:00:00+00:00"),
    ("@hourly", "UTC", "2026-11-21T10:00:00+00:00", "2026-11-21T11:00:00+00:00"),
    ("@daily", "UTC", "2026-11-21T10:00:00+00:00", "2026-11-22T00:00:00+00:00"),
    ("@weekly", "UTC", "2026-11-21T10:00:00+00:00", "2026-11-22T00:00:00+00:00"),  # Sunday
    ("@monthly", "UTC", "2026-11-21T10:00:00+00:00", "2026-12-01T00:00:00+00:00"),
    ("@yearly", "UTC", "2026-11-21T10:00:00+00:00", "2027-01-01T00:00:00+00:00"),
    # Day of week: 0 and 7 are Sunday, 1-5 is Monday to Friday (2026-11-21 is a Saturday).
    ("0 9 * * 0", "UTC", "2026-11-21T10:00:00+00:00", "2026-11-22T09:00:00+00:00"),
    ("0 9 * * 7", "UTC", "2026-11-21T10:00:00+00:00", "2026-11-22T09:00:00+00:00"),
    ("0 9 * * 1-5", "UTC", "2026-11-21T10:00:00+00:00", "2026-11-23T09:00:00+00:00"),
    # Time zones: 09:00 in the job's zone, whatever the machine's TZ.
    ("0 9 * * *", "Europe/Berlin", "2026-11-21T10:00:00+00:00", "2026-11-22T08:00:00+00:00"),
    ("0 9 * * *", "America/Sao_Paulo", "2026-11-21T10:00:00+00:00", "2026-11-21T12:00:00+00:00"),
    ("0 9 * * *", "Asia/Kolkata", "2026-11-21T03:29:00+00:00", "2026-11-21T03:30:00+00:00"),
    ("@daily", "America/New_York", "2026-11-21T04:59:00+00:00", "2026-11-21T05:00:00+00:00"),
    # DST spring forward (Berlin 2026-03-29 02:00 -> 03:00): 02:30 does not exist that
    # day; the job fires once, at 03:00 local (01:00Z), then normally.
    ("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00+00:00", "2026-03-29T01:00:00+00:00"),
    ("30 2 * * *", "Europe/Berlin", "2026-03-29T01:00:00+00:00", "2026-03-30T00:30:00+00:00"),
    # DST fall back (Berlin 2026-10-25 03:00 -> 02:00): 02:30 happens twice; a daily job
    # fires once (the first), the next slot is the next day.
    ("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00+00:00", "2026-10-25T00:30:00+00:00"),
    ("30 2 * * *", "Europe/Berlin", "2026-10-25T00:30:00+00:00", "2026-10-26T01:30:00+00:00"),
    # ... while an every-30-minutes job runs through both copies of the repeated hour.
    ("*/30 * * * *", "Europe/Berlin", "2026-10-25T00:30:00+00:00", "2026-10-25T01:00:00+00:00"),
    ("*/30 * * * *", "Europe/Berlin", "2026-10-25T01:00:00+00:00", "2026-10-25T01:30:00+00:00"),
    ("@hourly", "Europe/Berlin", "2026-10-25T00:00:00+00:00", "2026-10-25T01:00:00+00:00"),
    # New York fall back (2026-11-01 02:00 -> 01:00): 01:15 daily fires once.
    ("15 1 * * *", "America/New_York", "2026-11-01T05:15:00+00:00", "2026-11-02T06:15:00+00:00"),
]


@pytest.mark.parametrize(("schedule", "zone", "after", "expected"), NEXT_SLOT)
def test_next_slot(schedule: str, zone: str, after: str, expected: str) -> None:
    assert jobs.next_slot(schedule, zone, utc(after)) == utc(expected)


DUE = [
    # schedule, last_run, now, the slot that makes it due (None: not due)
    ("*/5 * * * *", "10:04:59", "10:04:59", None),
    ("*/5 * * * *", "10:04:59", "10:05:00", "10:05:00"),
    ("*/5 * * * *", "10:05:00", "10:05:00", None),  # fired at the slot itself
    ("*/5 * * * *", "10:05:00", "10:09:59", None),
    ("*/5 * * * *", "10:05:00", "10:10:00", "10:10:00"),
    ("*/5 * * * *", "10:05:30", "10:10:30", "10:10:00"),
    # Missed slots coalesce: one run, for the first slot after last_run.
    ("*/5 * * * *", "06:00:00", "10:12:00", "06:05:00"),
]


@pytest.mark.parametrize(("schedule", "last", "now", "slot"), DUE)
def test_due_slot(schedule: str, last: str, now: str, slot: str | None) -> None:
    day = "2026-11-21T"
    got = jobs.due_slot(schedule, "UTC", utc(f"{day}{last}+00:00"), utc(f"{day}{now}+00:00"))
    assert got == (utc(f"{day}{slot}+00:00") if slot else None)


def test_nothing_older_than_24h_is_caught_up() -> None:
    now = utc("2026-11-21T10:00:00+00:00")
    # A daily job last run 3 days ago: the slots of the 19th and 20th are too old; the
    # one within the last 24 h (today 00:00) makes it due, once.
    assert jobs.due_slot("@daily", "UTC", now - timedelta(days=3), now) == utc(
        "2026-11-21T00:00:00+00:00"
    )
    # A weekly job whose only missed slot is 6 days old is not caught up.
    assert jobs.due_slot("0 0 * * 0", "UTC", now - timedelta(days=8), now) is None


def test_task_title_is_dated_in_the_jobs_zone() -> None:
    now = utc("2026-11-21T23:30:00+00:00")
    assert jobs.task_title("Nightly check", now, "UTC") == "Nightly check (2026-11-21)"
    assert jobs.task_title("Nightly check", now, "Europe/Berlin") == "Nightly check (2026-11-22)"


# ---------------------------------------------------------------------------------------
# The jobs phase over a real LocalStore


def write_config(work: Path, jobs_yaml: str) -> None:
    (work / ".orch.yml").write_text(f"store: local\njobs:\n{jobs_yaml}")


def make_deps(tmp_path: Path, work: Path, now: datetime) -> Deps:
    home = tmp_path / "orch-home"
    return Deps(
        paths=Paths(config_dir=home, state_dir=home / "state"),
        clock=FixedClock(now),
        cwd=work,
    )


def tick(tmp_path: Path, work: Path, now: str) -> list[str]:
    """One jobs phase at `now` with fresh deps (config re-read, as a new process would)."""
    deps = make_deps(tmp_path, work, utc(now))
    project = deps.project()
    actions = jobs.run_due_jobs(project, deps.store(project), deps, dry_run=False)
    return [a.line() for a in actions]


def issues(tmp_path: Path, work: Path) -> list[tuple[int, str, list[str], str]]:
    deps = make_deps(tmp_path, work, utc("2026-11-21T00:00:00+00:00"))
    store = deps.store(deps.project())
    return [(i.number, i.title, sorted(i.labels), i.state) for i in store.list_issues(state="all")]


def set_status(tmp_path: Path, work: Path, number: int, status: str) -> None:
    deps = make_deps(tmp_path, work, utc("2026-11-21T00:00:00+00:00"))
    store = deps.store(deps.project())
    labels = [x for x in store.get_issue(number).labels if not x.startswith("status:")]
    store.set_labels(number, [*labels, f"status:{status}"])


NIGHTLY = """\
  - id: nightly
    schedule: "*/5 * * * *"
    title: Nightly check
    labels: [ops]
    agent: codex
    created_at: "2026-11-21T07:22:00Z"
"""


@pytest.fixture
def local_repo(tmp_path: Path) -> Repo:
    repo = make_repo(tmp_path)
    write_config(repo.work, NIGHTLY)
    return repo


def test_one_issue_per_slot_with_labels(tmp_path: Path, local_repo: Repo) -> None:
    work = local_repo.work
    assert tick(tmp_path, work, "2026-11-21T07:24:59+00:00") == []  # created 07:22, slot 07:25
    assert tick(tmp_path, work, "2026-11-21T07:25:00+00:00") == [
        "local/widgets jobs #1 created task: job nightly: Nightly check (2026-11-21)"
    ]
    assert tick(tmp_path, work, "2026-11-21T07:27:00+00:00") == []  # same slot: nothing
    assert issues(tmp_path, work) == [
        (
            1,
            "Nightly check (2026-11-21)",
            ["agent:codex", "job:nightly", "ops", "scheduled", "status:new"],
            "open",
        ),
    ]
    # Next slot while the task is still new: skipped (and the slot is used up).
    assert tick(tmp_path, work, "2026-11-21T07:30:05+00:00") == [
        "local/widgets jobs #1 skipped: job nightly: task #1 is still new"
    ]
    # A task that ended needs_review frees the job: it fires again at the next slot.
    set_status(tmp_path, work, 1, "needs_review")
    assert tick(tmp_path, work, "2026-11-21T07:34:00+00:00") == []
    assert tick(tmp_path, work, "2026-11-21T07:35:00+00:00") == [
        "local/widgets jobs #2 created task: job nightly: Nightly check (2026-11-21)"
    ]
    assert [n for n, *_ in issues(tmp_path, work)] == [1, 2]


@pytest.mark.parametrize("status", ["routed", "in_progress"])
def test_active_task_holds_the_job(tmp_path: Path, local_repo: Repo, status: str) -> None:
    work = local_repo.work
    tick(tmp_path, work, "2026-11-21T07:25:00+00:00")
    set_status(tmp_path, work, 1, status)
    assert tick(tmp_path, work, "2026-11-21T07:30:00+00:00") == [
        f"local/widgets jobs #1 skipped: job nightly: task #1 is still {status}"
    ]
    assert len(issues(tmp_path, work)) == 1


def test_catch_up_fires_once(tmp_path: Path, local_repo: Repo) -> None:
    work = local_repo.work
    # Created at 07:22; the machine was off until 11:48: dozens of missed slots, one run.
    assert tick(tmp_path, work, "2026-11-21T11:48:00+00:00") == [
        "local/widgets jobs #1 created task: job nightly: Nightly check (2026-11-21)"
    ]
    set_status(tmp_path, work, 1, "done")
    assert tick(tmp_path, work, "2026-11-21T11:49:00+00:00") == []
    assert tick(tmp_path, work, "2026-11-21T11:50:00+00:00")[0].startswith(
        "local/widgets jobs #2 created"
    )


def test_state_dir_deleted_guard_still_holds(tmp_path: Path, local_repo: Repo) -> None:
    work = local_repo.work
    tick(tmp_path, work, "2026-11-21T07:25:00+00:00")
    shutil.rmtree(tmp_path / "orch-home" / "state")
    # last_run is gone; the open task found by its job:nightly label holds the job.
    assert tick(tmp_path, work, "2026-11-21T07:40:00+00:00") == [
        "local/widgets jobs #1 skipped: job nightly: task #1 is still new"
    ]
    assert len(issues(tmp_path, work)) == 1


def test_state_dir_deleted_no_refire_of_a_finished_slot(tmp_path: Path, local_repo: Repo) -> None:
    work = local_repo.work
    tick(tmp_path, work, "2026-11-21T07:25:00+00:00")
    set_status(tmp_path, work, 1, "done")
    shutil.rmtree(tmp_path / "orch-home" / "state")
    # The job's newest issue (created 07:25) stands in for the lost last_run.
    assert tick(tmp_path, work, "2026-11-21T07:26:00+00:00") == []
    assert tick(tmp_path, work, "2026-11-21T07:30:00+00:00")[0].startswith(
        "local/widgets jobs #2 created"
    )


def test_enable_after_disable_really_fires(tmp_path: Path, local_repo: Repo) -> None:
    from orch.jobs.edit import apply, plan_enable

    work = local_repo.work
    apply(plan_enable(work / ".orch.yml", "nightly", False))
    assert "enabled: false" in (work / ".orch.yml").read_text()
    assert tick(tmp_path, work, "2026-11-21T07:25:00+00:00") == []
    apply(plan_enable(work / ".orch.yml", "nightly", True))
    deps = make_deps(tmp_path, work, utc("2026-11-21T08:01:00+00:00"))
    jobs.restart_from(deps.paths, "local/widgets", "nightly", deps.clock.now())
    assert tick(tmp_path, work, "2026-11-21T08:04:00+00:00") == []  # no catch-up of disabled time
    assert tick(tmp_path, work, "2026-11-21T08:05:00+00:00") == [
        "local/widgets jobs #1 created task: job nightly: Nightly check (2026-11-21)"
    ]


def test_dry_run_writes_nothing(tmp_path: Path, local_repo: Repo) -> None:
    work = local_repo.work
    deps = make_deps(tmp_path, work, utc("2026-11-21T07:25:00+00:00"))
    project = deps.project()
    actions = jobs.run_due_jobs(project, deps.store(project), deps, dry_run=True)
    assert [a.line() for a in actions] == [
        "local/widgets jobs - would create task: job nightly: Nightly check (2026-11-21)"
    ]
    assert issues(tmp_path, work) == []
    assert not deps.paths.jobs_file.exists()


def test_overlapping_ticks_fire_a_slot_once(tmp_path: Path, local_repo: Repo) -> None:
    work = local_repo.work
    deps = make_deps(tmp_path, work, utc("2026-11-21T07:25:00+00:00"))
    last = utc("2026-11-21T07:22:00+00:00")
    slot = utc("2026-11-21T07:25:00+00:00")
    assert jobs.claim(deps.paths, "local/widgets", "nightly", slot, slot, last) is True
    # A second tick that read the same last_run before the first saved must not fire.
    assert jobs.claim(deps.paths, "local/widgets", "nightly", slot, slot, last) is False


def test_jobs_file_keyed_by_repo_and_job(tmp_path: Path, local_repo: Repo) -> None:
    work = local_repo.work
    tick(tmp_path, work, "2026-11-21T07:25:00+00:00")
    data = json.loads((tmp_path / "orch-home" / "state" / "jobs.json").read_text())
    assert data == {
        "schema": 1,
        "repos": {
            "local/widgets": {
                "nightly": {
                    "exit_code": None,
                    "finished_at": "2026-11-21T07:25:00Z",
                    "last_run": "2026-11-21T07:25:00Z",
                    "result": "created #1",
                    "slot": "2026-11-21T07:25:00Z",
                    "task": 1,
                }
            }
        },
    }


def test_bash_job_runs_in_project_dir_and_logs_tail(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    write_config(
        repo.work,
        """\
  - id: report
    type: bash
    schedule: "* * * * *"
    command: "pwd > where.txt; for i in $(seq 1 30); do echo line $i; done; exit 3"
    created_at: "2020-01-01T00:00:00Z"
""",
    )
    result = run_orch("job", "tick", cwd=repo.work, env=cli_env(tmp_path))
    assert (result.code, result.out, result.err) == (
        0,
        "local/widgets jobs - failed: job report: exit 3: line 30\n",
        "",
    ), result
    assert (repo.work / "where.txt").read_text().strip() == str(repo.work)
    log = (tmp_path / "orch-home" / "state" / "logs" / "orch.log").read_text()
    assert "line 11\nline 12" in log and "line 30" in log and "line 10\n" not in log
    assert "jobs - failed: job report: exit 3: line 30" in log


def test_bash_job_timeout(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    write_config(
        repo.work,
        """\
  - id: slow
    type: bash
    schedule: "@hourly"
    command: "sleep 30"
    timeout_seconds: 1
    created_at: "2026-11-21T06:59:00Z"
""",
    )
    assert tick(tmp_path, repo.work, "2026-11-21T07:00:10+00:00") == [
        "local/widgets jobs - failed: job slow: timed out after 1s"
    ]


# ---------------------------------------------------------------------------------------
# The real CLI


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    from tests.helpers import GIT_IDENTITY

    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("GH_", "GITHUB_", "ORCH_", "XDG_"))
    }
    env.update(GIT_IDENTITY)
    env["ORCH_HOME"] = str(tmp_path / "orch-home")
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env.update(extra)
    return env


def test_bash_job_that_kills_its_tick_runs_once(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    write_config(
        repo.work,
        """\
  - id: restart
    type: bash
    schedule: "* * * * *"
    command: "echo ran >> runs.txt; kill -9 $PPID"
    created_at: "2020-01-01T00:00:00Z"
""",
    )
    # Both ticks in one minute's slot, whatever the real clock says.
    env = cli_env(tmp_path, ORCH_TEST_CLOCK_OFFSET=str(into_a_slot(1)))
    # The job kills its parent: each tick is a process of its own.
    first = run_orch("job", "tick", cwd=repo.work, env=env, subprocess=True)
    assert first.code == -9, first
    state = json.loads((tmp_path / "orch-home" / "state" / "jobs.json").read_text())
    assert state["repos"]["local/widgets"]["restart"]["result"] == "running"
    second = run_orch("job", "tick", cwd=repo.work, env=env, subprocess=True)
    # The slot was saved before the job ran: the same slot never fires it again.
    assert (second.code, second.out, second.err) == (0, "", "no job due\n"), second
    assert (repo.work / "runs.txt").read_text().splitlines() == ["ran"]


@pytest.mark.parametrize("tz", ["UTC", "America/Sao_Paulo", "Pacific/Chatham"])
def test_cli_add_then_tick_creates_one_issue_in_any_tz(tmp_path: Path, tz: str) -> None:
    repo = make_repo(tmp_path)
    (repo.work / ".orch.yml").write_text("# project config\nstore: local\n")
    env = cli_env(tmp_path, TZ=tz)
    added = run_orch(
        "job", "add", "*/5 * * * *", "Nightly check", "--label", "ops", cwd=repo.work, env=env
    )
    assert (added.code, added.out, added.err) == (0, "nightly-check\n", ""), added
    # Pretend it was added an hour ago, so a slot has passed.
    text = (repo.work / ".orch.yml").read_text()
    created = text.split("created_at: '")[1].split("'")[0]
    earlier = (utc(created.replace("Z", "+00:00")) - timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    (repo.work / ".orch.yml").write_text(text.replace(created, earlier))
    env["ORCH_TEST_CLOCK_OFFSET"] = str(into_a_slot(5))  # both ticks in one slot
    first = run_orch("job", "tick", cwd=repo.work, env=env)
    assert first.code == 0, first
    today = first.out.split("(")[1].split(")")[0]
    assert (
        first.out
        == f"local/widgets jobs #1 created task: job nightly-check: Nightly check ({today})\n"
    )
    second = run_orch("job", "tick", cwd=repo.work, env=env)
    assert second.code == 0 and second.out == "", second
    listed = run_orch("task", "list", "--json", cwd=repo.work, env=env)
    assert listed.code == 0, listed
    assert [t["title"] for t in json.loads(listed.out)["tasks"]] == [f"Nightly check ({today})"], (
        listed
    )


def test_cli_add_refuses_a_bad_schedule(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    (repo.work / ".orch.yml").write_text("store: local\n")
    env = cli_env(tmp_path)
    bad = run_orch("job", "add", "61 * * * *", "Broken", cwd=repo.work, env=env)
    assert bad.code == 2, bad
    assert bad.out == ""
    assert bad.err.startswith("orch: schedule: invalid cron line '61 * * * *': ")
    bad = run_orch("job", "add", "@sometimes", "Broken", cwd=repo.work, env=env)
    assert (bad.code, bad.err) == (
        2,
        "orch: schedule: unknown schedule '@sometimes'; use 5-field cron or one of "
        "@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly\n",
    )
    bad = run_orch(
        "job", "add", "@daily", "Zone", "--timezone", "Mars/Base", cwd=repo.work, env=env
    )
    assert bad.code == 2 and "unknown time zone 'Mars/Base'" in bad.err
    bad = run_orch("job", "add", "@daily", "B", "--type", "bash", cwd=repo.work, env=env)
    assert (bad.code, bad.err) == (2, "orch: a bash job needs --command CMD\n")
    assert (repo.work / ".orch.yml").read_text() == "store: local\n"


def test_cli_list_info_disable_remove(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    (repo.work / ".orch.yml").write_text("store: local\n")
    env = cli_env(tmp_path)

    def orch(*args: str) -> tuple[int, str, str]:
        r = run_orch(*args, cwd=repo.work, env=env)
        return r.code, r.out, r.err

    assert orch(
        "job", "add", "@daily", "Backup", "--type", "bash", "--command", "true", "--id", "bk"
    )[:2] == (0, "bk\n")
    _, out, _ = orch("job", "list", "--json")
    data = json.loads(out)
    assert data["schema"] == 1
    assert [
        (j["id"], j["type"], j["schedule"], j["enabled"], j["command"]) for j in data["jobs"]
    ] == [("bk", "bash", "@daily", True, "true")]
    assert orch("job", "disable", "bk") == (0, "disabled bk\n", "")
    assert orch("job", "disable", "bk") == (0, "", "job bk is already disabled\n")
    assert json.loads(orch("job", "info", "bk", "--json")[1])["job"]["enabled"] is False
    assert orch("job", "enable", "bk") == (0, "enabled bk\n", "")
    assert orch("job", "remove", "bk", "--dry-run") == (
        0,
        "jobs: []\n",
        f"would write {repo.work / '.orch.yml'} (removed job bk); its jobs: block:\n",
    )
    assert orch("job", "remove", "bk") == (0, "removed bk\n", "")
    assert (repo.work / ".orch.yml").read_text() == "store: local\njobs: []\n"
    assert orch("job", "remove", "bk") == (
        1,
        "",
        f"orch: no job 'bk' in {repo.work / '.orch.yml'} (jobs there: none); see `orch job list`\n",
    )


def test_task_job_against_github_emulator(
    gh_repo: Repo, gh_env: dict[str, str], emulator: object
) -> None:
    from tests.emulator.server import Emulator

    assert isinstance(emulator, Emulator)
    from orch.labels import base_labels

    for spec in base_labels():  # as `orch init` leaves the repository
        emulator.add_label(spec.name, spec.color, spec.description)
    work = gh_repo.work
    # Both ticks in one slot, whatever the real clock says.
    env = {**gh_env, "TZ": "America/Sao_Paulo", "ORCH_TEST_CLOCK_OFFSET": str(into_a_slot(5))}
    added = run_orch(
        "job", "add", "*/5 * * * *", "Nightly check", "--label", "ops", cwd=work, env=env
    )
    assert added.code == 0, added
    text = (work / ".orch.yml").read_text()
    created = text.split("created_at: '")[1].split("'")[0]
    (work / ".orch.yml").write_text(text.replace(created, "2020-01-01T00:00:00Z"))
    emulator.reset_log()
    first = run_orch("job", "tick", cwd=work, env=env)
    assert first.code == 0, first
    assert first.out.startswith(
        "acme/widgets jobs #1 created task: job nightly-check: Nightly check ("
    )
    issue = emulator.issue(1)
    assert sorted(label["name"] for label in issue["labels"]) == [
        "job:nightly-check",
        "ops",
        "scheduled",
        "status:new",
    ]
    fire_log = emulator.log_lines()
    emulator.reset_log()
    second = run_orch("job", "tick", cwd=work, env=env)
    assert (second.code, second.out) == (0, ""), second
    # Same slot: decided from jobs.json alone, no GitHub request at all.
    assert emulator.count() == 0, emulator.log_lines()
    assert len(emulator.issues()) == 1
    # No local record yet: one read of the job's issues (state=all) stands in for the
    # lost last_run; then the two labels orch init does not make, then the issue.
    assert [line.split("?")[0].rsplit(" -> ", 1)[0] for line in fire_log] == [
        "GET /repos/acme/widgets/issues",
        "GET /repos/acme/widgets/labels",
        "POST /repos/acme/widgets/labels",
        "POST /repos/acme/widgets/labels",
        "POST /repos/acme/widgets/issues",
    ], fire_log
