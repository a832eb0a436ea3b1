"""Snapshot phase: the open orch tasks, the closed ones updated since the last tick, the
task PRs with their conversation (reviews, inline and PR comments: SPEC §12), comments
mentioning orch, and the comments of the tasks that changed, in one request when the
cache is warm.

- Warm cache: `store.snapshot(known, since, delta=True)` brings only the issues
  and PRs updated since the last read (1 GraphQL request of ≤ 2 points at any number of
  tasks), merged here into the cached set: an issue closed or stripped of its status
  label leaves it. A sweep a few hours apart adds one page of open task numbers to the
  same request, tick after tick, and at its end drops the tasks GitHub no longer has (a
  deleted or transferred issue); a change it finds that a delta missed moves `since`
  back so the next read brings it.
- No cache (a new host, a deleted state directory, another cache version): a full read,
  one request per 100 open tasks, with every open PR and the recently closed ones, and
  the closed tasks of the last day. Later phases need no per-task read for PRs.

`known` comes from the cache, so tasks whose `updated_at` did not move carry no comments
and cost nothing in later phases. Likewise `ctx.open_pulls` holds only the task PRs that
may say something new: those updated since the cache last saw them, and those whose task
changed; `ctx.mentions` only the issues and PRs with a mention whose `updated_at` moved.
A PR whose feedback waits (its task was running) is kept in the cache as last read — it
cannot have changed without being updated — so the tick its task is back in review
finds it without a read.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from orch import log, taskid
from orch.store.base import Issue, Mention, PullRequest, PullThread, Snapshot
from orch.task import conversation
from orch.tick import intake
from orch.tick.cache import SnapshotCache
from orch.tick.context import ProjectTick
from orch.tick.pr_feedback import marker_reader

FIRST_LOOK_BACK = timedelta(days=1)
ONE_SECOND = timedelta(seconds=1)


def run(ctx: ProjectTick) -> None:
    cache = ctx.cache
    now = ctx.deps.clock.now()
    mention = ctx.project.config.workflow.mention
    if cache.warm and cache.since is not None:
        sweep = cache.sweep_page(now)
        snap = ctx.store.snapshot(
            cache.known(), cache.since, delta=True, sweep=sweep, mention=mention
        )
    else:
        # Closed tasks (and mentions) of the last day only: older feedback was answered
        # by an earlier tick or is not a request any more.
        snap = ctx.store.snapshot(None, now - FIRST_LOOK_BACK, mention=mention)
    issues = _open_tasks(cache, snap)
    ctx.closed = {issue.number: issue for issue in snap.closed}
    ctx.stranded = {i.number: i for i in snap.stranded if i.number not in ctx.closed}
    pulls = cache.recent(_task_pulls(ctx, cache, snap), now)
    ctx.comments = dict(snap.comments)
    missed = _sweep(ctx, cache, snap, issues, now)
    ctx.changed = {n for n, issue in issues.items() if cache.changed(issue)}
    ctx.changed |= {n for n, issue in ctx.closed.items() if cache.closed_changed(issue)}
    moved = bool(ctx.changed) or pulls != cache.pulls or set(issues) != set(cache.entries)
    ctx.issues = issues
    ctx.pulls = tuple(pulls.values())
    ctx.open_pulls = _threads(ctx, cache, snap, pulls)
    ctx.mentions = _mentions(cache, snap)
    # `since` moves only when something moved: a quiet tick leaves the cache file as it is.
    if moved or not cache.warm:
        cache.since = _next_since(cache, snap)
    if missed and cache.since is not None:
        cache.since = min(cache.since, min(missed) - ONE_SECOND)  # the next read brings them
    cache.pulls = pulls
    if snap.complete and (cache.sweep_cursor is not None or cache.swept_at is None):
        cache.sweep_done(now)  # a full read is a sweep
    ctx.snapshot_ok = True
    intake.gate(ctx)  # issues no maintainer approved wait, out of every later phase


def _open_tasks(cache: SnapshotCache, snap: Snapshot) -> dict[int, Issue]:
    if snap.complete:
        return {issue.number: issue for issue in snap.issues}
    issues = {n: entry.issue for n, entry in cache.entries.items()}
    for number in [*snap.untracked, *(i.number for i in snap.closed)]:
        issues.pop(number, None)
    issues.update((issue.number, issue) for issue in snap.issues)
    return issues


def _task_pulls(ctx: ProjectTick, cache: SnapshotCache, snap: Snapshot) -> dict[int, PullRequest]:
    """The PRs from task branches: the snapshot's, over the cached ones for a delta."""
    prefix = ctx.project.config.git.branch_prefix
    pulls = {} if snap.complete else dict(cache.pulls)
    pulls.update((p.number, p) for p in snap.pulls if task_of(p, prefix) is not None)
    return pulls


def _threads(
    ctx: ProjectTick, cache: SnapshotCache, snap: Snapshot, pulls: dict[int, PullRequest]
) -> tuple[PullThread, ...]:
    """The open task PRs' conversation worth a look this tick (see the module doc); the
    cache keeps those with feedback not handled yet."""
    prefix = ctx.project.config.git.branch_prefix
    fresh = {
        t.pull.number: t
        for t in snap.open_pulls
        if task_of(t.pull, prefix) is not None and _moved(cache.pulls.get(t.pull.number), t)
    }
    threads = {} if snap.complete else dict(cache.threads)
    threads.update(fresh)
    threads = {n: t for n, t in threads.items() if n in pulls and pulls[n].state == "open"}
    read = marker_reader(ctx)
    cache.threads = {n: t for n, t in threads.items() if conversation.pending(t, read)}
    return tuple(
        thread
        for n, thread in sorted(threads.items())
        if n in fresh or task_of(thread.pull, prefix) in ctx.changed
    )


def _moved(seen: PullRequest | None, thread: PullThread) -> bool:
    return seen is None or seen.updated_at is None or seen.updated_at != thread.pull.updated_at


def _mentions(cache: SnapshotCache, snap: Snapshot) -> tuple[Mention, ...]:
    """The mentions whose issue or PR moved since the cache last saw it (a delta's margin
    brings some twice; a quiet tick looks at none)."""
    seen, cache.mentions = (
        cache.mentions,
        {m.issue.number: m.issue.updated_at for m in snap.mentions},
    )
    return tuple(m for m in snap.mentions if seen.get(m.issue.number) != m.issue.updated_at)


def task_of(pr: PullRequest, prefix: str) -> int | None:
    """The task a PR's head branch (`<prefix><number>-…`) belongs to, if any."""
    if not prefix or not pr.head.startswith(prefix):
        return None
    head, _, _ = pr.head[len(prefix) :].partition("-")
    return taskid.from_text(head)


def _sweep(
    ctx: ProjectTick, cache: SnapshotCache, snap: Snapshot, issues: dict[int, Issue], now: datetime
) -> list[datetime]:
    """Check one sweep page against the cached set; at the sweep's end, drop the tasks it
    never saw (gone from GitHub's open tasks without an update: deleted, transferred).
    Returns the `updated_at` of the changes it found that no read brought."""
    if snap.sweep is None:
        return []
    missed = [t for n, t in snap.sweep if n not in issues or issues[n].updated_at < t]
    if missed:
        log.get().info("%s: the sweep found %d changes a read missed", ctx.repo, len(missed))
    cache.sweep_seen |= {n for n, _ in snap.sweep}
    cache.sweep_cursor = snap.sweep_next
    if snap.sweep_next is not None:
        return missed
    started = cache.sweep_started
    gone = [
        n
        for n, issue in issues.items()
        if n not in cache.sweep_seen and (started is None or issue.updated_at <= started)
    ]
    for number in gone:
        issues.pop(number)
        log.get().info("%s #%s: no longer an open task on GitHub; forgotten", ctx.repo, number)
    cache.sweep_done(now)
    return missed


def _next_since(cache: SnapshotCache, snap: Snapshot) -> datetime | None:
    """The server's time of this read; without it, the newest `updated_at` seen."""
    if snap.server_time is not None:
        return snap.server_time if cache.since is None else max(cache.since, snap.server_time)
    stamps = [i.updated_at for i in (*snap.issues, *snap.closed)]
    stamps += [cache.since] if cache.since is not None else []
    return max(stamps) if stamps else None
