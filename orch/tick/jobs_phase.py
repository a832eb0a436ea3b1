"""Jobs phase: scheduled jobs that are due fire (SPEC §7.3; the work is orch.jobs.runs)."""

from __future__ import annotations

from orch.jobs.runs import run_due_jobs
from orch.tick.context import ProjectTick


def run(ctx: ProjectTick) -> None:

    # ctx.act logs each action (once), so orch.jobs.runs does not log them again.
    due = run_due_jobs(ctx.project, ctx.store, ctx.deps, dry_run=ctx.dry_run, log_actions=False)
    for action in due:
        ctx.act(action.action, action.task, action.detail)
