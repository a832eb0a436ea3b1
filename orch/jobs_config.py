"""Editing the `jobs:` list of a YAML config file while keeping the rest of the file.

Only the top-level `jobs:` block is rewritten (re-rendered with yaml); every other line of
the file — comments, blank lines, key order, quoting — is kept byte for byte. Comments
*inside* the `jobs:` block are not kept. After splicing, the new text is parsed again and
must equal the old document with only `jobs` changed, or nothing is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from orch.errors import ConfigError, NotFound, UsageError

KEY_ORDER = (
    "id", "type", "schedule", "timezone", "title", "body", "labels", "agent", "command",
    "timeout_seconds", "enabled", "created_at",
)
_JOBS_KEY = re.compile(r"^jobs\s*:")
ID_MAX = 40


# ---------------------------------------------------------------------------------------
# Pure text splicing


def _dump_jobs(jobs: list[dict[str, Any]]) -> str:
    import yaml

    if not jobs:
        return "jobs: []\n"

    class _Dumper(yaml.SafeDumper):
        # Indent list items under `jobs:` ("  - id: …"), as people write them by hand.
        def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
            super().increase_indent(flow, False)

    ordered = [
        {k: job[k] for k in sorted(job, key=lambda k: (KEY_ORDER.index(k) if k in KEY_ORDER else 99, k))}
        for job in jobs
    ]
    text: str = yaml.dump(
        {"jobs": ordered}, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
        default_flow_style=False, width=1000,
    )
    return text


def _block_span(lines: list[str]) -> tuple[int, int] | None:
    """[start, end) of the top-level `jobs:` block, trailing comments left outside."""
    start = next((i for i, line in enumerate(lines) if _JOBS_KEY.match(line)), None)
    if start is None:
        return None
    end = start + 1
    j = start + 1
    while j < len(lines):
        line = lines[j]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            j += 1
            continue
        if line[0] in " \t" or (line.startswith("-") and not line.startswith("---")):
            end = j + 1
            j += 1
            continue
        break
    return start, end


def splice_jobs(text: str, jobs: list[dict[str, Any]]) -> str:
    """`text` with its top-level `jobs:` block replaced by `jobs` (appended when absent)."""
    lines = text.splitlines(keepends=True)
    block = _dump_jobs(jobs)
    span = _block_span(lines)
    if span is None:
        if text and not text.endswith("\n"):
            text += "\n"
        return text + block
    start, end = span
    return "".join(lines[:start]) + block + "".join(lines[end:])


def jobs_block(text: str) -> str:
    """The top-level `jobs:` block of `text` ("" when it has none)."""
    lines = text.splitlines(keepends=True)
    span = _block_span(lines)
    return "".join(lines[span[0] : span[1]]) if span else ""


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
    command: str | None = None
    timeout_seconds: int | None = None
    job_id: str | None = None
    timezone: str = "UTC"


def make_entry(new: NewJob, taken: set[str], now: datetime) -> dict[str, Any]:
    """Validate a job from `orch job add` and return its YAML mapping (raises UsageError)."""
    from orch.clock import utc_iso
    from orch.config import JOB_ID_RE, schedule_problem, timezone_problem

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
            raise UsageError(f"--id {new.job_id}: a job with that id exists; pick another or remove it first")
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
    from orch.config import load_yaml_file

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
    import yaml

    text, data, _ = read_raw(path)
    after = splice_jobs(text, jobs)
    expected = {**data, "jobs": jobs}
    try:
        same = yaml.safe_load(after) == expected
    except yaml.YAMLError:
        same = False
    if not same:
        raise ConfigError(
            f"{path}: cannot edit the jobs: block without changing other keys "
            "(unusual layout); edit the file by hand"
        )
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
    from orch.sidecar import write_text_atomic

    if edit.changed:
        write_text_atomic(edit.path, edit.after)
