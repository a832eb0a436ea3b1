"""`orch job`: Scheduled jobs: add, list, info, remove, enable, disable, tick."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from orch.commands._common import DryRunOpt, JsonOpt, deps, group

if TYPE_CHECKING:
    from orch.deps import Deps
    from orch.jobs.edit import JobsEdit

app = group(
    "job",
    "Scheduled jobs: add, list, info, remove, enable, disable, tick.\n\n"
    "Jobs live in the `jobs:` list of the project's .orch.yml (or, with --global, of the "
    "global config.yml). Editing commands rewrite only that `jobs:` block: every other line "
    "of the file (comments, order, quoting) is kept as it is; comments inside the `jobs:` "
    "block itself are not kept. When a project file has a `jobs:` list, it replaces the "
    "global one for that project.",
)

GlobalOpt = Annotated[
    bool,
    typer.Option("--global", help="Edit the global config.yml instead of the project's .orch.yml."),
]
JobIdArg = Annotated[str, typer.Argument(metavar="ID", help="The job's id.")]


def _target(d: Deps, global_: bool) -> Path:
    from orch.config.model import PROJECT_FILE

    if global_:
        return d.global_file
    return d.project().root / PROJECT_FILE


def _other(d: Deps, global_: bool) -> Path | None:
    try:
        return _target(d, not global_)
    except Exception:  # no project: there is no other file to look in
        return None


def _render_edit(d: Deps, edit: JobsEdit, dry_run: bool, json: bool) -> None:
    from orch.output import emit_json

    job_id = str(edit.job.get("id"))
    if json:
        emit_json(
            {"action": edit.action, "job": edit.job, "file": str(edit.path), "dry_run": dry_run}
        )
        return
    if dry_run:
        from orch.jobs.edit import jobs_block

        d.console.note(f"would write {edit.path} ({edit.action} job {job_id}); its jobs: block:")
        d.console.out(jobs_block(edit.after).rstrip("\n"))
        return
    if edit.action == "added":
        d.console.out(job_id)
    elif edit.action == "unchanged":
        d.console.note(
            f"job {job_id} is already {'enabled' if edit.job.get('enabled', True) else 'disabled'}"
        )
    else:
        d.console.out(f"{edit.action} {job_id}")


def _find_or_hint(d: Deps, global_: bool, job_id: str, plan: object) -> JobsEdit:
    """Run `plan(path)`; when the job is in the other file, say which flag finds it."""
    from orch.errors import NotFound
    from orch.jobs.edit import read_raw

    assert callable(plan)
    path = _target(d, global_)
    try:
        edit: JobsEdit = plan(path)
        return edit
    except NotFound:
        other = _other(d, global_)
        if other is not None and other.exists():
            ids = {str(j.get("id")) for j in read_raw(other)[2]}
            if job_id in ids:
                flag = "without --global" if global_ else "with --global"
                raise NotFound(
                    f"job {job_id!r} is defined in {other}: run the command {flag}"
                ) from None
        raise


@app.command("add")
def add(
    ctx: typer.Context,
    schedule: Annotated[
        str,
        typer.Argument(
            help="5-field cron ('*/5 * * * *') or @hourly/@daily/@weekly/@monthly/@yearly."
        ),
    ],
    title: Annotated[
        str, typer.Argument(help="Title of the tasks it creates (dated), or a name for a bash job.")
    ],
    body: Annotated[
        str | None, typer.Option("--body", help="Body of the tasks it creates.")
    ] = None,
    label: Annotated[
        list[str] | None, typer.Option("--label", help="Extra label on its tasks (repeatable).")
    ] = None,
    agent: Annotated[
        str | None, typer.Option("--agent", help="Agent for its tasks (skips the router).")
    ] = None,
    internal: Annotated[
        bool, typer.Option("--internal", help="Its tasks are internal (iN): no GitHub issue.")
    ] = False,
    job_id: Annotated[
        str | None, typer.Option("--id", help="Job id (default: from the title).")
    ] = None,
    kind: Annotated[
        str, typer.Option("--type", help="task (create an issue) or bash (run --command).")
    ] = "task",
    command: Annotated[
        str | None,
        typer.Option(
            "--command", help="Shell command of a bash job (run in the project directory)."
        ),
    ] = None,
    timeout: Annotated[
        int | None,
        typer.Option(
            "--timeout", metavar="S", help="Timeout of a bash job in seconds (default 600)."
        ),
    ] = None,
    timezone: Annotated[
        str, typer.Option("--timezone", metavar="TZ", help="IANA time zone of the schedule.")
    ] = "UTC",
    global_: GlobalOpt = False,
    dry_run: DryRunOpt = False,
    json: JsonOpt = False,
) -> None:
    """Add a scheduled job; prints its id.

    The schedule and time zone are checked before anything is written.
    """
    from orch.jobs.edit import NewJob, apply, plan_add

    d = deps(ctx)
    if agent and not global_:
        from orch.task.ops import check_agent

        check_agent(d.project().config, agent)
    edit = plan_add(
        _target(d, global_),
        NewJob(
            schedule=schedule,
            title=title,
            type=kind,
            body=body or "",
            labels=tuple(label or ()),
            agent=agent,
            internal=internal,
            command=command,
            timeout_seconds=timeout,
            job_id=job_id,
            timezone=timezone,
        ),
        d.clock.now(),
    )
    if not dry_run:
        apply(edit)
    _render_edit(d, edit, dry_run, json)


def _when(value: object) -> str:
    from datetime import datetime

    from orch.clock import utc_iso

    return utc_iso(value) if isinstance(value, datetime) else "-"


@app.command("list")
def list_(ctx: typer.Context, json: JsonOpt = False) -> None:
    """List jobs with their last and next run."""
    from orch.jobs.runs import job_views
    from orch.output import emit_json

    d = deps(ctx)
    views = job_views(d.project(), d)
    if json:
        emit_json({"jobs": [v.to_json() for v in views]})
        return
    if not views:
        d.console.note("no jobs; add one with `orch job add SCHEDULE TITLE`")
        return
    header = ["id", "type", "schedule", "tz", "enabled", "last run", "result", "next run"]
    rows: list[list[str]] = []
    for v in views:
        rows.append(
            [
                v.job.id,
                v.job.type,
                v.job.schedule,
                v.job.timezone,
                "yes" if v.job.enabled else "no",
                _when(v.run.last_run if v.run else None),
                (v.run.result if v.run else "") or "-",
                _when(v.next_run),
            ]
        )
    d.console.table(rows, header=header)


@app.command("info")
def info(
    ctx: typer.Context,
    job_id: JobIdArg,
    json: JsonOpt = False,
) -> None:
    """Show one job, its last and next run."""
    from orch.jobs.runs import job_view
    from orch.output import emit_json

    d = deps(ctx)
    view = job_view(d.project(), d, job_id)
    if json:
        emit_json({"job": view.to_json()})
        return
    data = view.to_json()
    last = data.pop("last") or {}
    for key in (
        "id",
        "type",
        "schedule",
        "timezone",
        "enabled",
        "title",
        "body",
        "labels",
        "agent",
        "internal",
        "command",
        "timeout_seconds",
        "created_at",
        "source",
        "next_run",
    ):
        value = data[key]
        if value in (None, "", []) and key not in ("enabled",):
            continue
        if key == "timeout_seconds" and view.job.type != "bash":
            continue
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, list):
            value = ", ".join(value)
        d.console.out(f"{key + ':':<16} {value}")
    d.console.out(f"{'last_run:':<16} {last.get('last_run') or '-'}")
    if last.get("result"):
        d.console.out(f"{'last_result:':<16} {last['result']}")


@app.command("remove")
def remove(
    ctx: typer.Context,
    job_id: JobIdArg,
    global_: GlobalOpt = False,
    dry_run: DryRunOpt = False,
    json: JsonOpt = False,
) -> None:
    """Remove a job (its past tasks stay)."""
    from orch.jobs.edit import apply, plan_remove

    d = deps(ctx)
    edit = _find_or_hint(d, global_, job_id, lambda path: plan_remove(path, job_id))
    if not dry_run:
        apply(edit)
        _forget(d, job_id)
    _render_edit(d, edit, dry_run, json)


def _forget(d: Deps, job_id: str) -> None:
    import contextlib

    from orch.errors import OrchError
    from orch.jobs.runs import forget_run

    with contextlib.suppress(OrchError):
        forget_run(d.paths, d.project().repo, job_id)


def _set_enabled(
    ctx: typer.Context, job_id: str, enabled: bool, global_: bool, dry_run: bool, json: bool
) -> None:
    import contextlib

    from orch.errors import OrchError
    from orch.jobs.edit import apply, plan_enable
    from orch.jobs.runs import restart_from

    d = deps(ctx)
    edit = _find_or_hint(d, global_, job_id, lambda path: plan_enable(path, job_id, enabled))
    if not dry_run:
        apply(edit)
        if enabled and edit.changed:
            with contextlib.suppress(OrchError):
                restart_from(d.paths, d.project().repo, job_id, d.clock.now())
    _render_edit(d, edit, dry_run, json)


@app.command("enable")
def enable(
    ctx: typer.Context,
    job_id: JobIdArg,
    global_: GlobalOpt = False,
    dry_run: DryRunOpt = False,
    json: JsonOpt = False,
) -> None:
    """Enable a job from its next slot.

    Slots missed while it was disabled are not caught up.
    """
    _set_enabled(ctx, job_id, True, global_, dry_run, json)


@app.command("disable")
def disable(
    ctx: typer.Context,
    job_id: JobIdArg,
    global_: GlobalOpt = False,
    dry_run: DryRunOpt = False,
    json: JsonOpt = False,
) -> None:
    """Disable a job (kept, with enabled: false)."""
    _set_enabled(ctx, job_id, False, global_, dry_run, json)


@app.command("tick")
def tick(ctx: typer.Context, dry_run: DryRunOpt = False, json: JsonOpt = False) -> None:
    """Fire the due jobs of this project now.

    The jobs phase of `orch tick`, alone, for the current project.
    """
    from orch.jobs.runs import run_due_jobs
    from orch.output import emit_json

    d = deps(ctx)
    project = d.project()
    # The jobs phase makes no write itself with dry_run, so the plain store serves reads.
    actions = run_due_jobs(project, d.store(project), d, dry_run=dry_run)
    if json:
        emit_json({"actions": [action.to_json() for action in actions]})
        return
    for action in actions:
        d.console.out(action.line())
    if not actions:
        d.console.note("no job due")
