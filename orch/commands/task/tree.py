"""`orch task tree [N]`: tasks with their sub-tasks."""

from __future__ import annotations

from typing import Annotated

import typer

from orch.commands._common import JsonOpt, deps, task_id
from orch.commands.task._app import app


@app.command("tree")
def tree(
    ctx: typer.Context,
    number: Annotated[
        int | None,
        typer.Argument(parser=task_id, metavar="ID", help="Only this task and its sub-tasks."),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include closed tasks.")] = False,
    json: JsonOpt = False,
) -> None:
    """Tasks with their sub-tasks (sub-issues name their parent with `Parent: #N`)."""
    from orch import labels as L
    from orch.errors import NotFound
    from orch.output import emit_json
    from orch.task.tree import build, render

    d = deps(ctx)
    store = d.store()
    issues = [
        i
        for i in store.list_issues(state="all" if all_ or number else "open")
        if L.statuses_in(i.labels)
    ]
    forest = build(issues, number)
    if number is not None and not forest:
        raise NotFound(f"task #{number} not found in {store.repo}")
    if json:
        emit_json({"tasks": [n.to_json() for n in forest]})
        return
    for line in render(forest):
        d.console.out(line)
