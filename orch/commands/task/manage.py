"""`orch task add|list|get|retry|unblock|assign|close`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from orch.commands._common import DryRunOpt, JsonOpt, deps
from orch.commands.task._app import app


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
    dry_run: DryRunOpt = False,
    json: JsonOpt = False,
) -> None:
    """Add a task (a GitHub issue with status:new); prints its number."""
    from orch.errors import UsageError
    from orch.output import emit_json
    from orch.taskops import AddOptions, add_task

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
        ),
    )
    if dry_run:
        return
    if json:
        emit_json({"task": task.to_json()})
    else:
        d.console.out(str(task.number))


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
    """List tasks, one per line: number, status, agent, title."""
    from orch.errors import UsageError
    from orch.output import emit_json
    from orch.status import Status, parse_status
    from orch.taskops import list_tasks

    statuses = []
    for text in status or ():
        try:
            statuses.append(parse_status(text))
        except ValueError:
            valid = ", ".join(s.value for s in Status)
            raise UsageError(f"--status {text!r}: use one of {valid}") from None
    d = deps(ctx)
    tasks = list_tasks(d.store(), statuses=statuses, agent=agent, include_closed=all_)
    if json:
        emit_json({"tasks": [t.to_json() for t in tasks]})
        return
    rows = [
        [f"#{t.number}", t.status.value if t.status else "?", t.agent or "-", t.title]
        for t in tasks
    ]
    d.console.table(rows)


@app.command("get")
def get(
    ctx: typer.Context,
    number: Annotated[int, typer.Argument(help="Task (issue) number.")],
    json: JsonOpt = False,
) -> None:
    """Show one task: issue, status, attempts, cost, local sidecar."""
    from orch.output import emit_json
    from orch.taskops import get_task

    d = deps(ctx)
    detail = get_task(d.store(), d.paths, number)
    if json:
        emit_json({"task": detail.to_json()})
        return
    data = detail.to_json()
    out = d.console.out
    out(f"#{data['number']} {data['title']}")
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
        shown = ", ".join(f"{f['kind']} by @{f['author']} on #{f['pr']}" for f in data["pr_feedback"])
        out(f"feedback:   {len(data['pr_feedback'])} waiting for the next attempt ({shown})")
    if data["parent"]:
        out(f"parent:     #{data['parent']}")
    if data["url"]:
        out(f"url:        {data['url']}")
    if detail.sidecar:
        for key, shown in (("worktree", "worktree"), ("branch", "branch"), ("pid", "pid"),
                           ("attempt_dir", "attempt")):
            if detail.sidecar.get(key):
                out(f"{shown + ':':<11} {detail.sidecar[key]}")


def _render_changes(ctx: typer.Context, changes: list, json: bool, dry_run: bool) -> None:  # type: ignore[type-arg]
    from orch.output import emit_json

    d = deps(ctx)
    if dry_run:
        return
    if json:
        emit_json({"changes": [c.to_json() for c in changes]})
        return
    for change in changes:
        before = change.before.value if change.before else "?"
        d.console.out(f"#{change.number} {before} -> {change.after.value}")


@app.command("retry")
def retry(
    ctx: typer.Context,
    number: Annotated[int, typer.Argument(help="Task number.")],
    dry_run: DryRunOpt = False,
    json: JsonOpt = False,
) -> None:
    """Start a task over: status new, agent cleared, attempts reset."""
    from orch.taskops import retry_task

    d = deps(ctx)
    _render_changes(ctx, [retry_task(d.store(dry_run=dry_run), number)], json, dry_run)


@app.command("unblock")
def unblock(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Argument(
            metavar="N|all", help="Task number, or 'all' blocked and needs_review tasks."
        ),
    ],
    dry_run: DryRunOpt = False,
    json: JsonOpt = False,
) -> None:
    """Clear a task's errors and send it back to new (agent kept)."""
    from orch.errors import UsageError
    from orch.taskops import unblock_all, unblock_task

    d = deps(ctx)
    store = d.store(dry_run=dry_run)
    if target == "all":
        changes = unblock_all(store)
    elif target.isdigit():
        changes = [unblock_task(store, int(target))]
    else:
        raise UsageError(f"unblock takes a task number or 'all' (got {target!r})")
    _render_changes(ctx, changes, json, dry_run)


@app.command("assign")
def assign(
    ctx: typer.Context,
    number: Annotated[int, typer.Argument(help="Task number.")],
    agent: Annotated[
        str, typer.Argument(help="Agent name from config (claude, codex, opencode, …).")
    ],
    dry_run: DryRunOpt = False,
    json: JsonOpt = False,
) -> None:
    """Assign an agent: sets agent:AGENT and status routed in one label write."""
    from orch.taskops import assign_task

    d = deps(ctx)
    change = assign_task(d.store(dry_run=dry_run), d.project(), d.paths, number, agent)
    _render_changes(ctx, [change], json, dry_run)


@app.command("close")
def close(
    ctx: typer.Context,
    number: Annotated[int, typer.Argument(help="Task number.")],
    note: Annotated[
        str | None, typer.Option("--note", help="Why it is closed (posted on the issue).")
    ] = None,
    dry_run: DryRunOpt = False,
    json: JsonOpt = False,
) -> None:
    """Mark a task done and close its issue, with a note."""
    from orch.taskops import close_task

    d = deps(ctx)
    change = close_task(d.store(dry_run=dry_run), number, note)
    _render_changes(ctx, [change], json, dry_run)
