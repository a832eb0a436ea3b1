"""Editing the `jobs:` list of a YAML config file while keeping the rest of the file.

Only the top-level `jobs:` block is rewritten (re-rendered with yaml, items indented and
keys in a fixed order) through `orch.io.yamledit`, which keeps every other line of the file
byte for byte and refuses an edit that would change anything but `jobs`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from orch.clock import utc_iso
from orch.config.model import JOB_ID_RE, load_yaml_file, schedule_problem, timezone_problem
from orch.errors import ConfigError, NotFound, UsageError
from orch.io.sidecar import write_text_atomic
from orch.io.yamledit import block_text, edited_text

KEY_ORDER = (
    "id",
    "type",
    "schedule",
    "timezone",
    "title",
    "body",
    "labels",
    "agent",
    "internal",
    "command",
    "timeout_seconds",
    "enabled",
    "created_at",
)
ID_MAX = 40


# ---------------------------------------------------------------------------------------
# Pure text splicing


def _dump_jobs(jobs: list[dict[str, Any]]) -> str:

    if not jobs:
        return "jobs: []\n"

    class _Dumper(yaml.SafeDumper):
        # Indent list items under `jobs:` ("  - id: …"), as people write them by hand.
        def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
            super().increase_indent(flow, False)

    ordered = [
        {
            k: job[k]
            for k in sorted(job, key=lambda k: (KEY_ORDER.index(k) if k in KEY_ORDER else 99, k))
        }
        for job in jobs
    ]
    text: str = yaml.dump(
        {"jobs": ordered},
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1000,
    )
    return text


def jobs_block(text: str) -> str:
    """The top-level `jobs:` block of `text` ("" when it has none)."""

    return block_text(text, "jobs")


# ---------------------------------------------------------------------------------------
# Job entries


def slug(title: str) -> str:
    text = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return text[:ID_MAX].rstrip("-") or "job"


def unique_id(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    n = 2
    while f"{base[: ID_MAX - 4]}-{n}" in taken:
        n += 1
    return f"{base[: ID_MAX - 4]}-{n}"


@dataclass(frozen=True)
class NewJob:
    schedule: str
    title: str
    type: str = "task"
    body: str = ""
    labels: tuple[str, ...] = ()
    agent: str | None = None
    internal: bool = False
    command: str | None = None
    timeout_seconds: int | None = None
    job_id: str | None = None
    timezone: str = "UTC"


def make_entry(new: NewJob, taken: set[str], now: datetime) -> dict[str, Any]:
    """Validate a job from `orch job add` and return its YAML mapping (raises UsageError)."""

    problem = schedule_problem(new.schedule)
    if problem:
        raise UsageError(f"schedule: {problem}")
    problem = timezone_problem(new.timezone)
    if problem:
        raise UsageError(f"--timezone: {problem}")
    if new.type not in ("task", "bash"):
        raise UsageError(f"--type must be task or bash (got {new.type!r})")
    if not new.title.strip():
        raise UsageError("TITLE must not be empty")
    if new.type == "bash" and not (new.command or "").strip():
        raise UsageError("a bash job needs --command CMD")
    if new.type == "task" and new.command:
        raise UsageError("--command is for bash jobs: add --type bash")
    if new.type == "task" and new.timeout_seconds is not None:
        raise UsageError("--timeout is for bash jobs: add --type bash")
    if new.timeout_seconds is not None and new.timeout_seconds < 1:
        raise UsageError("--timeout must be at least 1 second")
    if new.job_id is not None:
        if not JOB_ID_RE.match(new.job_id):
            raise UsageError(
                f"--id {new.job_id!r}: use letters, digits, '-', '_' or '.' (starting with a letter or digit)"
            )
        if new.job_id in taken:
            raise UsageError(
                f"--id {new.job_id}: a job with that id exists; pick another or remove it first"
            )
        job_id = new.job_id
    else:
        job_id = unique_id(slug(new.title), taken)
    entry: dict[str, Any] = {"id": job_id, "type": new.type, "schedule": new.schedule.strip()}
    entry["timezone"] = new.timezone
    entry["title"] = new.title.strip()
    if new.body:
        entry["body"] = new.body
    if new.labels:
        entry["labels"] = list(new.labels)
    if new.agent:
        entry["agent"] = new.agent
    if new.internal:
        if new.type != "task":
            raise UsageError("--internal is for task jobs (a bash job makes no task)")
        entry["internal"] = True
    if new.type == "bash":
        entry["command"] = new.command
        entry["timeout_seconds"] = new.timeout_seconds or 600
    entry["enabled"] = True
    entry["created_at"] = utc_iso(now)
    return entry


# ---------------------------------------------------------------------------------------
# File edits


@dataclass(frozen=True)
class JobsEdit:
    """One edit of a config file: what it was, what it becomes, the job concerned."""

    path: Path
    before: str
    after: str
    job: dict[str, Any]
    action: str  # added | removed | enabled | disabled | unchanged

    @property
    def changed(self) -> bool:
        return self.before != self.after


def read_raw(path: Path) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    """The file's text, its parsed document and its raw `jobs` entries."""

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    data = load_yaml_file(path) if text else {}
    jobs = data.get("jobs")
    if jobs is None:
        jobs = []
    if not isinstance(jobs, list) or not all(isinstance(j, dict) for j in jobs):
        raise ConfigError(f"{path}: jobs: must be a list of job mappings; fix the file first")
    return text, data, [dict(j) for j in jobs]


def _edit(path: Path, jobs: list[dict[str, Any]], job: dict[str, Any], action: str) -> JobsEdit:

    text = read_raw(path)[0]
    after = edited_text(text, "jobs", jobs, rendered=_dump_jobs(jobs), source=path)
    return JobsEdit(path, text, after, job, action)


def plan_add(path: Path, new: NewJob, now: datetime) -> JobsEdit:
    _, _, jobs = read_raw(path)
    entry = make_entry(new, {str(j.get("id")) for j in jobs}, now)
    return _edit(path, [*jobs, entry], entry, "added")


def _find(path: Path, job_id: str) -> tuple[list[dict[str, Any]], int]:
    _, _, jobs = read_raw(path)
    for index, job in enumerate(jobs):
        if str(job.get("id")) == job_id:
            return jobs, index
    known = ", ".join(str(j.get("id")) for j in jobs) or "none"
    raise NotFound(f"no job {job_id!r} in {path} (jobs there: {known}); see `orch job list`")


def plan_remove(path: Path, job_id: str) -> JobsEdit:
    jobs, index = _find(path, job_id)
    job = jobs.pop(index)
    return _edit(path, jobs, job, "removed")


def plan_enable(path: Path, job_id: str, enabled: bool) -> JobsEdit:
    jobs, index = _find(path, job_id)
    job = dict(jobs[index])
    action = "enabled" if enabled else "disabled"
    if job.get("enabled", True) is enabled:
        text = read_raw(path)[0]
        return JobsEdit(path, text, text, job, "unchanged")
    job["enabled"] = enabled  # a YAML boolean, which is what the scheduler reads
    jobs[index] = job
    return _edit(path, jobs, job, action)


def apply(edit: JobsEdit) -> None:

    if edit.changed:
        write_text_atomic(edit.path, edit.after)
