"""Intake phase (SPEC §8): which open issues become tasks.

`labeled` (default): an issue is a task once someone with triage rights labels it
`status:new`; nothing to do here. `authored`: every open issue without a status label
whose author is authorized (§7.1) gets `status:new`. That mode costs one extra list
request per tick, since the snapshot only carries issues with orch labels.
"""

from __future__ import annotations

from orch import labels as L
from orch.owner import is_authorized, needs_permission_lookup
from orch.status import Status
from orch.store.base import Issue
from orch.tick.context import ProjectTick


def run(ctx: ProjectTick) -> None:
    workflow = ctx.project.config.workflow
    if workflow.intake != "authored":
        return
    for issue in ctx.store.list_issues(state="open"):
        if L.statuses_in(issue.labels) or L.NO_AGENT in issue.labels:
            continue
        try:
            _intake(ctx, issue)
        except Exception as exc:
            from orch.errors import RateLimited
            from orch.tick.context import log_exception

            if isinstance(exc, RateLimited):
                raise
            log_exception(ctx, exc, issue.number)


def _intake(ctx: ProjectTick, issue: Issue) -> None:
    allowed = ctx.project.config.workflow.allowed_users
    permission = None
    if needs_permission_lookup(issue.author, issue.author_type, allowed):
        permission = ctx.permission(issue.author)
    if not is_authorized(issue.author, issue.author_type, permission, allowed):
        return
    ctx.act(ctx.would("intake"), issue.number, f"opened by {issue.author}: status new")
    updated = ctx.store.set_labels(issue.number, L.with_status(issue.labels, Status.NEW))
    ctx.refresh(updated)
    ctx.changed.add(issue.number)
