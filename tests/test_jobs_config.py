"""Editing the `jobs:` block of a YAML file while keeping the rest of it byte for byte."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from orch.errors import ConfigError, NotFound, UsageError
from orch.jobs.edit import (
    NewJob,
    apply,
    jobs_block,
    make_entry,
    plan_add,
    plan_enable,
    plan_remove,
    slug,
    unique_id,
)

NOW = datetime(2026, 11, 21, 7, 30, tzinfo=UTC)

USER_FILE = """\
# orch config for widgets — hand written
store: local   # files, not GitHub

# Scheduled work
jobs:
  # the morning review
  - id: morning
    schedule: "0 9 * * 1-5"   # weekdays
    title: Morning review

# Git identity (keep!)
git:
  name: "Widget Bot"
  email: bot@example.com
"""


def test_add_keeps_everything_outside_the_block(tmp_path: Path) -> None:
    path = tmp_path / ".orch.yml"
    path.write_text(USER_FILE)
    edit = plan_add(path, NewJob("*/5 * * * *", "Nightly check", labels=("ops",)), NOW)
    apply(edit)
    assert (
        path.read_text()
        == """\
# orch config for widgets — hand written
store: local   # files, not GitHub

# Scheduled work
jobs:
  - id: morning
    schedule: 0 9 * * 1-5
    title: Morning review
  - id: nightly-check
    type: task
    schedule: '*/5 * * * *'
    timezone: UTC
    title: Nightly check
    labels:
      - ops
    enabled: true
    created_at: '2026-11-21T07:30:00Z'

# Git identity (keep!)
git:
  name: "Widget Bot"
  email: bot@example.com
"""
    )


def test_no_jobs_key_appends_a_block(tmp_path: Path) -> None:
    path = tmp_path / ".orch.yml"
    path.write_text("store: local\n# last line comment")
    apply(plan_add(path, NewJob("@daily", "Backup", type="bash", command="make backup"), NOW))
    text = path.read_text()
    assert text.startswith("store: local\n# last line comment\njobs:\n  - id: backup\n")
    assert yaml.safe_load(text)["jobs"][0] == {
        "id": "backup",
        "type": "bash",
        "schedule": "@daily",
        "timezone": "UTC",
        "title": "Backup",
        "command": "make backup",
        "timeout_seconds": 600,
        "enabled": True,
        "created_at": "2026-11-21T07:30:00Z",
    }


def test_missing_file_is_created(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    apply(plan_add(path, NewJob("@hourly", "Ping", job_id="ping"), NOW))
    assert yaml.safe_load(path.read_text())["jobs"][0]["id"] == "ping"


def test_remove_last_job_leaves_empty_list(tmp_path: Path) -> None:
    path = tmp_path / ".orch.yml"
    path.write_text(USER_FILE)
    edit = plan_remove(path, "morning")
    assert edit.job["id"] == "morning"
    apply(edit)
    assert jobs_block(path.read_text()) == "jobs: []\n"
    assert path.read_text().endswith(
        '# Git identity (keep!)\ngit:\n  name: "Widget Bot"\n  email: bot@example.com\n'
    )


def test_enable_disable_write_booleans(tmp_path: Path) -> None:
    path = tmp_path / ".orch.yml"
    path.write_text(USER_FILE)
    apply(plan_enable(path, "morning", False))
    assert yaml.safe_load(path.read_text())["jobs"][0]["enabled"] is False
    assert plan_enable(path, "morning", False).action == "unchanged"
    apply(plan_enable(path, "morning", True))
    assert yaml.safe_load(path.read_text())["jobs"][0]["enabled"] is True


def test_unknown_id_names_the_known_ones(tmp_path: Path) -> None:
    path = tmp_path / ".orch.yml"
    path.write_text(USER_FILE)
    with pytest.raises(NotFound, match=r"no job 'x' in .* \(jobs there: morning\)"):
        plan_remove(path, "x")


def test_unusual_layout_is_refused_not_corrupted(tmp_path: Path) -> None:
    path = tmp_path / ".orch.yml"
    original = "jobs: [\n  {id: a, schedule: '@daily'}\n]\nstore: local\n"
    path.write_text(original)
    with pytest.raises(ConfigError, match="edit the file by hand"):
        plan_add(path, NewJob("@daily", "B"), NOW)
    assert path.read_text() == original


def test_broken_yaml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / ".orch.yml"
    path.write_text("jobs: [\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        plan_add(path, NewJob("@daily", "B"), NOW)


@pytest.mark.parametrize(
    ("new", "message"),
    [
        (NewJob("* * *", "T"), "has 3 fields"),
        (NewJob("60 * * * *", "T"), "invalid cron line"),
        (NewJob("@daily", "T", timezone="Nowhere/City"), "unknown time zone"),
        (NewJob("@daily", "T", type="python"), "--type must be task or bash"),
        (NewJob("@daily", "  "), "TITLE must not be empty"),
        (NewJob("@daily", "T", type="bash"), "needs --command"),
        (NewJob("@daily", "T", command="ls"), "--command is for bash jobs"),
        (NewJob("@daily", "T", timeout_seconds=5), "--timeout is for bash jobs"),
        (NewJob("@daily", "T", job_id="bad id"), "--id 'bad id'"),
        (NewJob("@daily", "T", job_id="taken"), "a job with that id exists"),
    ],
)
def test_make_entry_refuses(new: NewJob, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        make_entry(new, {"taken"}, NOW)


def test_ids() -> None:
    assert slug("Nightly check: the DB!") == "nightly-check-the-db"
    assert slug("!!!") == "job"
    assert len(slug("x" * 100)) == 40
    assert unique_id("nightly", {"nightly", "nightly-2"}) == "nightly-3"
    assert unique_id("fresh", {"nightly"}) == "fresh"
