"""Snapshot phase: every open orch task with labels, and comments of the changed ones.

One `store.snapshot(known)` call per project (one GraphQL request per 100 open tasks on
GitHub). `known` comes from the snapshot cache, so tasks whose `updated_at` did not move
carry no comments and cost nothing in later phases.
"""

from __future__ import annotations

from orch.tick.context import ProjectTick


def run(ctx: ProjectTick) -> None:
    snap = ctx.store.snapshot(ctx.cache.known() if ctx.cache.loaded else None)
    ctx.issues = {issue.number: issue for issue in snap.issues}
    ctx.comments = dict(snap.comments)
    ctx.changed = {n for n, issue in ctx.issues.items() if ctx.cache.changed(issue)}
    ctx.snapshot_ok = True
