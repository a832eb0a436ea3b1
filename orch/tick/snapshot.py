"""Snapshot phase: every open orch task with labels, and comments of the changed ones;
closed orch tasks updated since the last tick, recently closed pull requests, open pull
requests with their reviews and comments, and comments mentioning orch (SPEC §12).

One `store.snapshot(known, since)` call per project (one GraphQL request per 100 open
tasks on GitHub). `known` comes from the snapshot cache, so tasks whose `updated_at` did not move
carry no comments and cost nothing in later phases.
"""

from __future__ import annotations

from datetime import timedelta

from orch.tick.context import ProjectTick

FIRST_LOOK_BACK = timedelta(days=1)


def run(ctx: ProjectTick) -> None:
    cache = ctx.cache
    known = {**cache.closed, **cache.known()} if cache.loaded else None
    # Without a cache (first tick, state dir deleted) closed tasks of the last day only:
    # older feedback was answered by an earlier tick or is not a request any more.
    since = cache.since if cache.loaded else ctx.deps.clock.now() - FIRST_LOOK_BACK
    snap = ctx.store.snapshot(known, since, ctx.project.config.workflow.mention)
    ctx.issues = {issue.number: issue for issue in snap.issues}
    ctx.closed = {issue.number: issue for issue in snap.closed}
    ctx.pulls = snap.pulls
    ctx.open_pulls = snap.open_pulls
    ctx.mentions = snap.mentions
    ctx.comments = dict(snap.comments)
    ctx.changed = {n for n, issue in ctx.issues.items() if cache.changed(issue)}
    ctx.changed |= {n for n, issue in ctx.closed.items() if cache.closed_changed(issue)}
    ctx.snapshot_ok = True
