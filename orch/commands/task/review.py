"""`orch task review N`: review an `in_review` task's pull request with the review agent."""

from __future__ import annotations

from typing import Annotated

import typer

from orch.commands._common import DryRunOpt, JsonOpt, deps, task_id
from orch.commands.task._app import app


@app.command("review")
def review(
    ctx: typer.Context,
    number: Annotated[
        int, typer.Argument(parser=task_id, metavar="ID", help="Task id (an in_review task).")
    ],
    detach: Annotated[
        bool,
        typer.Option("--detach", help="Start the review in the background and return at once."),
    ] = False,
    agent: Annotated[
        str | None,
        typer.Option("--agent", help="Review with this agent instead of the chosen one."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", help="Review with this model instead of model_map.review."),
    ] = None,
    mention: Annotated[
        int | None,
        typer.Option(
            "--mention",
            metavar="COMMENT_ID",
            hidden=True,  # the tick's detached `@orch review` on a PR orch did not open
            help="Review pull request ID for this `@orch review` comment.",
        ),
    ] = None,
    dry_run: DryRunOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Review a task's PR at its head commit: post the verdict, then merge, reroute or escalate."""
    from orch.output import emit_json
    from orch.review.task import ReviewOptions, describe_review, review_task, start_detached

    d = deps(ctx)
    project = d.project()
    if mention is not None:
        from orch.review.pr import review_requested

        if dry_run:
            d.console.would(f"would review pull request #{number} for comment {mention}")
            if json_:
                emit_json({"review": None})
            return
        done = review_requested(d, project, d.store(project), number, mention)
        if json_:
            emit_json({"review": {"pr": number, "comment_id": mention, "outcome": done}})
        else:
            d.console.out(f"PR #{number}: {done}")
        return
    options = ReviewOptions(number=number, agent=agent, model=model)
    if dry_run:
        for line in describe_review(d, project, options):
            d.console.would(line)
        if json_:
            emit_json({"review": None})
        return
    result = start_detached(d, project, options) if detach else review_task(d, project, options)
    if json_:
        emit_json({"review": result.to_json()})
    else:
        d.console.out(result.line())
    if result.action in ("no verdict", "cooldown"):
        raise typer.Exit(1)
