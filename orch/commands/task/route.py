"""`orch task route [N]`: choose the agent, tier and model of a task (SPEC §4 router)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from orch.commands._common import DryRunOpt, JsonOpt, deps, task_id
from orch.commands.task._app import app

if TYPE_CHECKING:
    from orch.store.base import Store


@app.command("route")
def route(
    ctx: typer.Context,
    number: Annotated[
        int | None,
        typer.Argument(
            parser=task_id, metavar="ID", help="Task id (default: the oldest new task)."
        ),
    ] = None,
    dry_run: DryRunOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Route one task (default: the oldest new task): agent, complexity, model."""
    from orch.output import emit_json
    from orch.route.router import route_task

    d = deps(ctx)
    project = d.project()
    store = d.store(project, dry_run=dry_run)
    if number is None:
        number = oldest_new(store)
        if number is None:
            if json_:
                emit_json({"task": None, "status": None, "dry_run": dry_run})
            else:
                d.console.note("no new task to route")
            return
    result = route_task(d, project, store, number, dry_run=dry_run)
    if json_:
        emit_json(result.to_json())
    else:
        d.console.out(result.line())
    if not result.decision.routed:
        raise typer.Exit(1)


def oldest_new(store: Store) -> int | None:
    """The oldest open task in `new` that may be routed (not `no-agent`)."""
    from orch import labels as L
    from orch.status import Status

    for issue in store.list_issues(labels=[Status.NEW.label]):
        if L.NO_AGENT not in issue.labels:
            return issue.number
    return None
