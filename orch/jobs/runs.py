"""Scheduled jobs (SPEC §7.3): cron due-ness (pure), job runs and `<state>/jobs.json`.

Due-ness is a pure function of the schedule, its time zone, the job's last run and "now":
the job is due when the first cron slot after `last_run` is at or before now. Missed slots
coalesce into one run and nothing older than 24 h is caught up. Slots are computed in the
job's own time zone (default UTC), so a daily job fires once a day whatever the machine's
`TZ`; in the repeated hour of a DST fall-back, a job pinned to fixed hours fires once.

`last_run` is saved (under a file lock, so overlapping ticks cannot both fire) **before**
the job runs: a bash job that restarts the service or kills its own tick cannot loop.
A task job creates `<title> (YYYY-MM-DD)` with `status:new`, `scheduled` and `job:<id>`,
unless an open task of the job is still new, routed or in progress; that guard reads
GitHub (the `job:<id>` label), so it holds even when the state directory was deleted.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from croniter import croniter

from orch import labels, log, taskid
from orch.actions import Action
from orch.clock import parse_iso, utc_iso
from orch.config.model import load_yaml_file
from orch.errors import NotFound, OrchError
from orch.io import proc
from orch.io.locks import file_lock
from orch.io.sidecar import read_versioned, write_versioned
from orch.status import Status, transition
from orch.store.internal import create_internal, internal_store
from orch.task.history import new_task_labels
from orch.task.ops import ensure_labels_cached

if TYPE_CHECKING:
    from orch.config.model import JobConfig
    from orch.deps import Deps
    from orch.paths import Paths
    from orch.project import Project
    from orch.store.base import Issue, Store

SCHEMA = 1
CATCH_UP = timedelta(hours=24)
ACTIVE = ("new", "routed", "in_progress")
OUTPUT_TAIL_LINES = 20
PHASE = "jobs"


# ---------------------------------------------------------------------------------------
# Pure due-ness


def _zone(name: str) -> Any:

    return ZoneInfo(name)


def _fixed_hours(schedule: str) -> bool:
    """True when the schedule pins hours (daily at 02:30), False for every-hour schedules."""
    text = schedule.strip()
    if text.startswith("@"):
        return text != "@hourly"
    return text.split()[1] != "*"


def _repeated_wall_time(slot: datetime) -> bool:
    """True for the second occurrence of an ambiguous local time (DST fall-back)."""
    first = slot.replace(tzinfo=None).replace(fold=0).replace(tzinfo=slot.tzinfo)
    return first.utcoffset() != slot.utcoffset()


def next_slot(schedule: str, timezone: str, after: datetime) -> datetime:
    """The first slot of `schedule` strictly after `after`, as an aware UTC datetime."""

    zone = _zone(timezone)
    fixed = _fixed_hours(schedule)
    it = croniter(schedule.strip(), after.astimezone(zone))
    for _ in range(4):
        slot: datetime = it.get_next(datetime)
        if not (fixed and _repeated_wall_time(slot)):
            return slot.astimezone(UTC)
    return slot.astimezone(UTC)  # pragma: no cover - a schedule never repeats 4 times


def due_slot(schedule: str, timezone: str, last_run: datetime, now: datetime) -> datetime | None:
    """The slot that makes a job due now (the first after `last_run`), or None.

    Slots older than 24 h are not caught up: the search starts at most 24 h before now.
    """
    start = max(last_run, now - CATCH_UP)
    slot = next_slot(schedule, timezone, start)
    return slot if slot <= now else None


def task_title(title: str, now: datetime, timezone: str) -> str:
    """`<title> (YYYY-MM-DD)`, dated in the job's own time zone."""
    return f"{title} ({now.astimezone(_zone(timezone)).strftime('%Y-%m-%d')})"


def task_labels(job: JobConfig) -> list[str]:
    """status:new, scheduled, job:<id>, the job's own labels and agent:<agent> if set."""

    transition(None, Status.NEW, "job")
    extra = [labels.SCHEDULED, f"{labels.JOB_PREFIX}{job.id}", *job.labels]
    return new_task_labels(extra, agent=job.agent)


def task_body(job: JobConfig) -> str:
    footer = f"_Created by the scheduled job `{job.id}` (`{job.schedule}`, {job.timezone})._"
    return f"{job.body.rstrip()}\n\n{footer}" if job.body.strip() else footer


def output_tail(text: str, lines: int = OUTPUT_TAIL_LINES) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


# ---------------------------------------------------------------------------------------
# Job runs: <state>/jobs.json, keyed by project repo and job id


@dataclass(frozen=True)
class JobRun:
    """What this host remembers about one job of one project."""

    last_run: datetime | None = None  # when the job last fired (saved before it runs)
    slot: datetime | None = None  # the cron slot that made it fire
    result: str = ""  # "created #12", "skipped: #12 still routed", "exit 0", …
    task: int | None = None
    exit_code: int | None = None
    finished_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return utc_iso(value) if value else None

        return {
            "last_run": iso(self.last_run),
            "slot": iso(self.slot),
            "result": self.result,
            "task": self.task,
            "exit_code": self.exit_code,
            "finished_at": iso(self.finished_at),
        }

    @classmethod
    def from_json(cls, data: Any) -> JobRun:
        if not isinstance(data, dict):
            return cls()

        def when(key: str) -> datetime | None:
            value = data.get(key)
            try:
                return parse_iso(value) if isinstance(value, str) else None
            except ValueError:
                return None

        task = data.get("task")
        code = data.get("exit_code")
        return cls(
            last_run=when("last_run"),
            slot=when("slot"),
            result=str(data.get("result") or ""),
            task=task if isinstance(task, int) else None,
            exit_code=code if isinstance(code, int) else None,
            finished_at=when("finished_at"),
        )


def load_runs(paths: Paths, repo: str) -> dict[str, JobRun]:
    data = read_versioned(paths.jobs_file, SCHEMA) or {}
    repos = data.get("repos") if isinstance(data.get("repos"), dict) else {}
    jobs = repos.get(repo) if isinstance(repos, dict) else None
    if not isinstance(jobs, dict):
        return {}
    return {str(k): JobRun.from_json(v) for k, v in jobs.items()}


def _locked(paths: Paths) -> contextlib.AbstractContextManager[None]:

    return file_lock(paths.jobs_file.with_name(paths.jobs_file.name + ".lock"))


def _save(paths: Paths, repo: str, job_id: str, run: JobRun | None) -> None:
    """Replace (or with None, forget) one job's run; call with the lock held."""
    data = read_versioned(paths.jobs_file, SCHEMA) or {}
    repos = data.get("repos") if isinstance(data.get("repos"), dict) else {}
    assert isinstance(repos, dict)
    jobs = dict(repos.get(repo) or {})
    if run is None:
        jobs.pop(job_id, None)
    else:
        jobs[job_id] = run.to_json()
    repos = {**repos, repo: jobs}
    write_versioned(paths.jobs_file, SCHEMA, {"repos": repos})


def save_run(paths: Paths, repo: str, job_id: str, run: JobRun) -> None:
    with _locked(paths):
        _save(paths, repo, job_id, run)


def forget_run(paths: Paths, repo: str, job_id: str) -> None:
    """Drop a removed job's run record."""
    with _locked(paths):
        _save(paths, repo, job_id, None)


def claim(
    paths: Paths, repo: str, job_id: str, slot: datetime, now: datetime, floor: datetime
) -> bool:
    """Persist `last_run = now` for a due slot, unless another process got there first.

    `floor` is the last run this process based its decision on; a newer one on disk
    means an overlapping tick already fired this slot.
    """
    with _locked(paths):
        current = load_runs(paths, repo).get(job_id, JobRun())
        if current.last_run is not None and current.last_run > floor and current.last_run >= slot:
            return False
        _save(paths, repo, job_id, JobRun(last_run=now, slot=slot, result="running"))
        return True


# ---------------------------------------------------------------------------------------
# The jobs phase


def created_at(job: JobConfig) -> datetime | None:
    if not job.created_at:
        return None
    try:
        return parse_iso(job.created_at)
    except ValueError:
        return None


def run_due_jobs(
    project: Project, store: Store, deps: Deps, *, dry_run: bool, log_actions: bool = True
) -> list[Action]:
    """Fire every enabled job of `project` that is due now; one Action per job touched.

    With `dry_run`, nothing is saved, created or run: the actions say what would happen.
    A job that fails is reported as an `error` action and does not stop the others.
    `log_actions=False` when the caller logs the actions itself (the tick does).
    """

    logger = log.setup(deps.paths)
    now = deps.clock.now()
    runs = load_runs(deps.paths, project.repo)
    actions: list[Action] = []
    for job in project.config.jobs:
        if not job.enabled:
            continue
        try:
            action = _tick_job(project, store, deps, job, runs.get(job.id), now, dry_run)
        except OrchError as exc:
            action = Action(project.repo, PHASE, "error", detail=f"job {job.id}: {exc.message}")
        if action is not None:
            if log_actions:
                logger.info("%s", action.line())
            actions.append(action)
    return actions


def _tick_job(
    project: Project,
    store: Store,
    deps: Deps,
    job: JobConfig,
    run: JobRun | None,
    now: datetime,
    dry_run: bool,
) -> Action | None:
    repo = project.repo
    last = run.last_run if run else None
    known: list[Issue] | None = None
    if last is None:
        last = created_at(job)
        if job.type == "task":
            # No local record (new host, state dir deleted): the job's newest issue on
            # GitHub is a lower bound for its last run, so a lost state dir never
            # re-fires a slot that already produced a task.
            known = _job_issues(store, job, state="all")
            if known:
                newest = max(issue.created_at for issue in known)
                last = max(last, newest) if last else newest
        if last is None:
            # A job written by hand (no created_at) starts from the first tick that sees it.
            if not dry_run:
                save_run(deps.paths, repo, job.id, JobRun(last_run=now, result="first seen"))
            return None
    slot = due_slot(job.schedule, job.timezone, last, now)
    if slot is None:
        if run is None and not dry_run:
            save_run(deps.paths, repo, job.id, JobRun(last_run=last, result="restored"))
        return None
    if job.type == "task":
        active = _active_task(known if known is not None else _job_issues(store, job, "open"))
        if active is not None:
            status = _status_name(active)
            detail = f"job {job.id}: task {taskid.ref(active.number)} is still {status}"
            if dry_run:
                return Action(repo, PHASE, "would skip", active.number, detail)
            if claim(deps.paths, repo, job.id, slot, now, last):
                save_run(
                    deps.paths,
                    repo,
                    job.id,
                    JobRun(
                        last_run=now,
                        slot=slot,
                        result=f"skipped: {taskid.ref(active.number)} still {status}",
                        task=active.number,
                    ),
                )
            return Action(repo, PHASE, "skipped", active.number, detail)
        title = task_title(job.title, now, job.timezone)
        if dry_run:
            return Action(repo, PHASE, "would create task", None, f"job {job.id}: {title}")
        if not claim(deps.paths, repo, job.id, slot, now, last):
            return None
        return _create_task(project, store, deps, job, title, slot, now)
    # bash
    if dry_run:
        return Action(repo, PHASE, "would run", None, f"job {job.id}: {job.command}")
    if not claim(deps.paths, repo, job.id, slot, now, last):
        return None
    return _run_bash(project, deps, job, slot, now)


def _job_issues(store: Store, job: JobConfig, state: str) -> list[Issue]:

    wanted = [f"{labels.JOB_PREFIX}{job.id}"]
    if job.internal:  # its tasks are all internal: no GitHub request
        return internal_store(store).list_internal(state=state, labels=wanted)
    return store.list_issues(state=state, labels=wanted)


def _status_name(issue: Issue) -> str:

    status = labels.status_of(issue.labels)
    return status.value if status else "unlabeled"


def _active_task(issues: list[Issue]) -> Issue | None:
    """The open task of a job that still holds it back (new, routed or in progress)."""

    for issue in issues:
        if issue.state != "open":
            continue
        statuses = [s.value for s in labels.statuses_in(issue.labels)]
        if any(s in ACTIVE for s in statuses):
            return issue
    return None


def _create_task(
    project: Project,
    store: Store,
    deps: Deps,
    job: JobConfig,
    title: str,
    slot: datetime,
    now: datetime,
) -> Action:

    names = task_labels(job)
    try:
        if job.internal:  # no GitHub request: the internal store makes its labels
            issue = create_internal(store, title, task_body(job), names)
        else:
            ensure_labels_cached(store, names, deps.paths)
            issue = store.create_issue(title, task_body(job), names)
    except OrchError as exc:
        # The slot stays used (last_run was saved first); say why it produced nothing.
        save_run(
            deps.paths,
            project.repo,
            job.id,
            JobRun(
                last_run=now,
                slot=slot,
                result=f"failed: {exc.message}",
                finished_at=deps.clock.now(),
            ),
        )
        raise
    save_run(
        deps.paths,
        project.repo,
        job.id,
        JobRun(
            last_run=now,
            slot=slot,
            result=f"created {taskid.ref(issue.number)}",
            task=issue.number,
            finished_at=deps.clock.now(),
        ),
    )
    return Action(project.repo, PHASE, "created task", issue.number, f"job {job.id}: {title}")


def _run_bash(
    project: Project, deps: Deps, job: JobConfig, slot: datetime, now: datetime
) -> Action:

    assert job.command
    result = proc.run(["bash", "-c", job.command], cwd=project.root, timeout=job.timeout_seconds)
    tail = output_tail(result.stdout + ("\n" + result.stderr if result.stderr.strip() else ""))
    if result.timed_out:
        outcome = f"timed out after {job.timeout_seconds}s"
    else:
        outcome = f"exit {result.returncode}"
    if tail:
        log.get().info("job %s (%s) output tail:\n%s", job.id, project.repo, tail)
    save_run(
        deps.paths,
        project.repo,
        job.id,
        JobRun(
            last_run=now,
            slot=slot,
            result=outcome,
            exit_code=None if result.timed_out else result.returncode,
            finished_at=deps.clock.now(),
        ),
    )
    last_line = tail.splitlines()[-1] if tail else ""
    detail = f"job {job.id}: {outcome}" + (f": {last_line}" if last_line else "")
    return Action(project.repo, PHASE, "ran" if result.ok else "failed", None, detail)


def next_run(job: JobConfig, run: JobRun | None, now: datetime) -> datetime | None:
    """When the job fires next as seen from `now` (for `orch job list/info`)."""
    if not job.enabled:
        return None
    last = (run.last_run if run else None) or created_at(job) or now
    start = max(last, now - CATCH_UP)
    return next_slot(job.schedule, job.timezone, start)


__all__ = [
    "JobRun",
    "claim",
    "due_slot",
    "forget_run",
    "load_runs",
    "next_run",
    "next_slot",
    "run_due_jobs",
    "save_run",
    "task_title",
]


# ---------------------------------------------------------------------------------------
# Views for `orch job list|info`


@dataclass(frozen=True)
class JobView:
    job: JobConfig
    run: JobRun | None
    next_run: datetime | None
    source: str  # the file that defines the job

    def to_json(self) -> dict[str, Any]:
        job = self.job
        return {
            "id": job.id,
            "type": job.type,
            "schedule": job.schedule,
            "timezone": job.timezone,
            "title": job.title,
            "body": job.body,
            "labels": list(job.labels),
            "agent": job.agent,
            "internal": job.internal,
            "command": job.command,
            "timeout_seconds": job.timeout_seconds,
            "enabled": job.enabled,
            "created_at": job.created_at,
            "source": self.source,
            "next_run": utc_iso(self.next_run) if self.next_run else None,
            "last": self.run.to_json() if self.run else None,
        }


def job_views(project: Project, deps: Deps) -> list[JobView]:
    """Every job of the project with its last run on this host and its next slot."""

    project_file = project.config.project_file
    source = "defaults"
    if project_file is not None and "jobs" in load_yaml_file(project_file):
        source = str(project_file)
    elif project.config.global_file is not None:
        source = str(project.config.global_file)
    runs = load_runs(deps.paths, project.repo)
    now = deps.clock.now()
    return [
        JobView(job, runs.get(job.id), next_run(job, runs.get(job.id), now), source)
        for job in project.config.jobs
    ]


def job_view(project: Project, deps: Deps, job_id: str) -> JobView:

    views = job_views(project, deps)
    for view in views:
        if view.job.id == job_id:
            return view
    known = ", ".join(v.job.id for v in views) or "none"
    raise NotFound(f"no job {job_id!r} in {project.repo} (jobs: {known}); see `orch job list`")


def restart_from(paths: Paths, repo: str, job_id: str, now: datetime) -> None:
    """Make a (re-)enabled job count its slots from now: no catch-up of disabled time."""
    save_run(paths, repo, job_id, JobRun(last_run=now, result="enabled"))
