"""`orch task add|list|get|retry|unblock|assign|close`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from orch.commands._common import DryRunOpt, JsonOpt, deps, task_id
from orch.commands.task._app import app

if TYPE_CHECKING:
    from orch.task.history import Task


@app.command("add")
def add(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="The task's title (the issue title).")],
    body: Annotated[str | None, typer.Option("--body", help="The task's description.")] = None,
    body_file: Annotated[
        str | None,
        typer.Option(
            "--body-file", metavar="FILE|-", help="Read the description from FILE ('-': stdin)."
        ),
    ] = None,
    label: Annotated[
        list[str] | None, typer.Option("--label", help="Extra label (repeatable).")
    ] = None,
    agent: Annotated[
        str | None, typer.Option("--agent", help="Agent to run it (skips the router).")
    ] = None,
    complexity: Annotated[
        str | None, typer.Option("--complexity", help="simple | medium | complex (model tier).")
    ] = None,
    parent: Annotated[
        int | None, typer.Option("--parent", help="Make it a sub-task of task N.")
    ] = None,
    no_agent: Annotated[bool, typer.Option("--no-agent", help="Never route or run it.")] = False,
    internal: Annotated[
        bool,
        typer.Option(
            "--internal",
            help="Keep it on this machine (id iN), no GitHub issue; `task publish` promotes it.",
        ),
    ] = False,
    dry_run: DryRunOpt = False,
    json: JsonOpt = False,
) -> None:
    """Add a task (an issue, or an internal iN); prints its id."""
    from orch import taskid
    from orch.errors import UsageError
    from orch.output import emit_json
    from orch.task.ops import AddOptions, add_task

    if body is not None and body_file is not None:
        raise UsageError("give --body or --body-file, not both")
    text = body or ""
    if body_file == "-":
        text = sys.stdin.read()
    elif body_file is not None:
        try:
            text = Path(body_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--body-file {body_file}: {exc.strerror}") from exc
    d = deps(ctx)
    store = d.store(dry_run=dry_run)
    task = add_task(
        store,
        d.project(),
        d.paths,
        AddOptions(
            title=title,
            body=text,
            labels=tuple(label or ()),
            agent=agent,
            complexity=complexity,
            parent=parent,
            no_agent=no_agent,
            internal=internal,
        ),
    )
    if json:
        emit_json({"task": task.to_json()})
    elif not dry_run:
        d.console.out(taskid.text(task.number))


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[
        list[str] | None, typer.Option("--status", help="Only tasks in this status (repeatable).")
    ] = None,
    agent: Annotated[
        str | None, typer.Option("--agent", help="Only tasks assigned to this agent.")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include closed tasks.")] = False,
    json: JsonOpt = False,
) -> None:
    """List tasks, one per line: id (#N or iN), status, agent, title."""
    # An issue someone without write access labelled shows as `awaiting approval`.
    from orch import taskid
    from orch.errors import UsageError
    from orch.output import emit_json
    from orch.status import Status, parse_status
    from orch.task.ops import list_tasks
    from orch.tick.cache import SnapshotCache

    statuses = []
    for text in status or ():
        try:
            statuses.append(parse_status(text))
        except ValueError:
            valid = ", ".join(s.value for s in Status)
            raise UsageError(f"--status {text!r}: use one of {valid}") from None
    d = deps(ctx)
    project = d.project()
    tasks = list_tasks(d.store(), statuses=statuses, agent=agent, include_closed=all_)
    cache = SnapshotCache.load(d.paths.repo_dir(project.repo) / "snapshot.json")
    waiting = set(cache.awaiting_approval())
    if json:
        emit_json(
            {"tasks": [t.to_json() | {"awaiting_approval": t.number in waiting} for t in tasks]}
        )
        return

    def shown(task: Task) -> str:
        status = task.status.value if task.status else "?"
        return f"{status} (awaiting approval)" if task.number in waiting else status

    rows = [[taskid.ref(t.number), shown(t), t.agent or "-", t.title] for t in tasks]
    d.console.table(rows, header=["task", "status", "agent", "title"])


@app.command("get")
def get(
    ctx: typer.Context,
    number: Annotated[
        int,
        typer.Argument(
            parser=task_id, metavar="ID", help="Task id (N, or iN for an internal task)."
        ),
    ],
    json: JsonOpt = False,
) -> None:
    """Show one task: issue, status, PR and its reviews, attempts, cost, local sidecar."""
    from orch import taskid
    from orch.output import emit_json
    from orch.task.ops import get_task

    d = deps(ctx)
    detail = get_task(d.store(), d.paths, number, d.project().config.workflow.orch_logins)
    if json:
        emit_json({"task": detail.to_json()})
        return
    data = detail.to_json()
    out = d.console.out
    out(f"{taskid.ref(data['number'])} {data['title']}")
    out(
        f"status:     {data['status'] or '? (needs repair)'}{'' if data['state'] == 'open' else ' (closed)'}"
    )
    out(f"agent:      {data['agent'] or '-'}")
    out(f"complexity: {data['complexity'] or '-'}")
    out(f"model:      {data['model'] or '-'}")
    out(f"labels:     {', '.join(data['labels'])}")
    out(f"attempts:   {data['attempts']}")
    out(f"last error: {data['last_error'] or '-'}")
    out(f"tokens:     {data['tokens_in']} in / {data['tokens_out']} out")
    out(f"cost:       ${data['cost_usd']:.4f}")
    if data["pr_feedback"]:
        shown = ", ".join(
            f"{f['kind']} by @{f['author']} on #{f['pr']}" for f in data["pr_feedback"]
        )
        out(f"feedback:   {len(data['pr_feedback'])} waiting for the next attempt ({shown})")
    if data["parent"]:
        out(f"parent:     {taskid.ref(data['parent'])}")
    if data["url"]:
        out(f"url:        {data['url']}")
    out(f"pr:         {detail.pr.line() if detail.pr else '-'}")
    if detail.sidecar:
        for key, shown in (
            ("worktree", "worktree"),
            ("branch", "branch"),
            ("pid", "pid"),
            ("attempt_dir", "attempt"),
        ):
            if detail.sidecar.get(key):
                out(f"{shown + ':':<11} {detail.sidecar[key]}")


def _render_changes(ctx: typer.Context, changes: list, json: bool, dry_run: bool) -> None:  # type: ignore[type-arg]
    from orch import taskid
    from orch.output import emit_json

    d = deps(ctx)
    if json:
        emit_json({"changes": [c.to_json() for c in changes]})
        return
    if dry_run:
        return
    for change in changes:
        before = change.before.value if change.before else "?"
        d.console.out(f"{taskid.ref(change.number)} {before} -> {change.after.value}")


@app.command("retry")
def retry(
    ctx: typer.Context,
    number: Annotated[
        int,
        typer.Argument(
            parser=task_id, metavar="ID", help="Task id (N, or iN for an internal task)."
        ),
    ],
    dry_run: DryRunOpt = False,
    json: JsonOpt = False,
) -> None:
    """Start a task over: status new, agent cleared, attempts reset."""
    from orch.task.ops import retry_task

    d = deps(ctx)
    _render_changes(ctx, [retry_task(d.store(dry_run=dry_run), number)], json, dry_run)


@app.command("unblock")
def unblock(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Argument(
            metavar="ID|all", help="Task id (N or iN), or 'all' blocked and needs_review tasks."
        ),
    ],
    dry_run: DryRunOpt = False,
    json: JsonOpt = False,
) -> None:
    """Clear a task's errors and send it back to new (agent kept)."""
    from orch import taskid
    from orch.errors import UsageError
    from orch.task.ops import unblock_all, unblock_task

    d = deps(ctx)
    store = d.store(dry_run=dry_run)
    if target == "all":
        changes = unblock_all(store)
    else:
        try:
            number = taskid.parse(target)
        except ValueError:
            raise UsageError(f"unblock takes a task id (7, i7) or 'all' (got {target!r})") from None
        changes = [unblock_task(store, number)]
    _render_changes(ctx, changes, json, dry_run)


@app.command("assign")
def assign(
    ctx: typer.Context,
    number: Annotated[
        int,
        typer.Argument(
            parser=task_id, metavar="ID", help="Task id (N, or iN for an internal task)."
        ),
    ],
    agent: Annotated[
        str, typer.Argument(help="Agent name from config (claude, codex, opencode, …).")
    ],
    dry_run: DryRunOpt = False,
    json: JsonOpt = False,
) -> None:
    """Assign an agent: sets agent:AGENT and status routed in one label write."""
    from orch.task.ops import assign_task

    d = deps(ctx)
    change = assign_task(d.store(dry_run=dry_run), d.project(), d.paths, number, agent)
    _render_changes(ctx, [change], json, dry_run)


@app.command("close")
def close(
    ctx: typer.Context,
    number: Annotated[
        int,
        typer.Argument(
            parser=task_id, metavar="ID", help="Task id (N, or iN for an internal task)."
        ),
    ],
    note: Annotated[
        str | None, typer.Option("--note", help="Why it is closed (posted on the issue).")
    ] = None,
    dry_run: DryRunOpt = False,
    json: JsonOpt = False,
) -> None:
    """Mark a task done and close its issue, with a note."""
    from orch.task.ops import close_task

    d = deps(ctx)
    change = close_task(d.store(dry_run=dry_run), number, note)
    _render_changes(ctx, [change], json, dry_run)


@app.command("publish")
def publish(
    ctx: typer.Context,
    number: Annotated[
        int, typer.Argument(parser=task_id, metavar="ID", help="The internal task (iN).")
    ],
    json: JsonOpt = False,
) -> None:
    """Promote an internal task to a GitHub issue; prints its number.

    The issue gets the task's title, body, labels and a summary of its history; the
    internal task is closed with a comment pointing to the issue.
    """
    from orch.output import emit_json
    from orch.task.publish import publish_task

    d = deps(ctx)
    done = publish_task(d.store(), d.paths, number)
    if json:
        emit_json(
            {
                "published": {
                    "internal": done.internal,
                    "issue": done.issue.number,
                    "url": done.issue.url,
                }
            }
        )
    else:
        d.console.out(str(done.issue.number))
