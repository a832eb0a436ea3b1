"""Route phase (SPEC §5.6): `new` tasks get an agent and a model tier (orch.route.router).

Oldest first, at most `workflow.route_per_tick` per tick. A dry run does not call the
router's LLM: it says which tasks it would route.
"""

from __future__ import annotations

from dataclasses import replace

from orch.route.router import route_task
from orch.status import Status
from orch.task.history import Task, planned_labels
from orch.tick.context import ProjectTick


def run(ctx: ProjectTick) -> None:
    waiting = [t for t in ctx.tasks(Status.NEW) if not t.no_agent]
    cap = ctx.project.config.workflow.route_per_tick
    ctx.each(waiting[:cap], lambda task: _route(ctx, task))
    if len(waiting) > cap:
        ctx.act(
            "wait",
            None,
            f"{len(waiting) - cap} more new task(s) wait for the next tick "
            f"(workflow.route_per_tick: {cap})",
        )


def _route(ctx: ProjectTick, task: Task) -> None:
    if ctx.dry_run:
        ctx.act("would route", task.number, f"agent label {task.agent}" if task.agent else "")
        return

    result = route_task(
        ctx.deps,
        ctx.project,
        ctx.store,
        task.number,
        issue=task.issue,
        comments=ctx.comments.get(task.number),
    )
    decision = result.decision
    if result.status == Status.ROUTED.value:
        detail = f"{decision.agent} ({decision.model or 'default model'}, {decision.complexity}): {decision.reason}"
    else:
        detail = f"{result.status}: {decision.reason}"
    ctx.act(
        "routed" if result.status == Status.ROUTED.value else f"not routed ({result.status})",
        task.number,
        detail,
    )
    ctx.forget_comments(task.number)
    if result.status == Status.ROUTED.value:
        # The labels route_task just wrote, without reading the issue again.

        labels = planned_labels(
            task.labels, Status.ROUTED, agent=decision.agent, complexity=decision.complexity
        )
        ctx.refresh(replace(task.issue, labels=tuple(labels)))
    else:
        ctx.issues.pop(task.number, None)  # not dispatchable this tick either way
