"""Dispatch leases (SPEC §10): an `orch:claim` comment with host, run id and expiry.

After posting its claim a dispatcher re-reads the task's comments: the earliest
unexpired claim made since the task last changed hands wins; a loser deletes its claim.
Claims older than the last orch note, response or route marker belong to an earlier
round (the task ran and came back) and no longer count.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from orch.clock import parse_iso, utc_iso
from orch.store.base import Comment, Store
from orch.task import markers

CLAIM_TTL = timedelta(minutes=10)
# A host that could not prepare an attempt (disk full…) tries again after 5, 10, 20… minutes,
# at most every 4 hours: a note per try, not per tick.
SETUP_RETRY_FIRST = timedelta(minutes=5)
SETUP_RETRY_MAX = timedelta(hours=4)


@dataclass(frozen=True)
class Claim:
    comment_id: int
    host: str
    run_id: str
    until: datetime
    pid: int | None = None  # the claiming tick's pid (meaningful on its own host only)


def live_claims(
    comments: tuple[Comment, ...] | list[Comment], now: datetime, logins: markers.OrchLogins
) -> list[Claim]:
    """Unexpired claims of the current round that orch made (authors in `logins`),
    earliest first (pure)."""
    found: list[Claim] = []
    for comment in comments:
        marker = markers.orch_marker(comment, logins)
        if marker is None:
            continue
        if marker.kind not in ("claim", "ack"):
            found = []  # a new round starts after every other orch marker
            continue
        if marker.kind != "claim":
            continue
        claim = _claim(comment, marker.data)
        if claim is not None and claim.until > now:
            found.append(claim)
    return sorted(found, key=lambda c: c.comment_id)


def setup_retry_at(
    comments: tuple[Comment, ...] | list[Comment], logins: markers.OrchLogins
) -> datetime | None:
    """When a task whose last attempts could not be prepared may be dispatched again (pure):
    None unless the latest orch notes (claims aside) are setup failures (orch.run.runner)."""
    failures: list[Comment] = []
    for comment in comments:
        marker = markers.orch_marker(comment, logins)
        if marker is None or marker.kind in ("claim", "ack"):
            continue
        if marker.kind == "status" and marker.data.get("setup_failed"):
            failures.append(comment)
        else:
            failures = []
    if not failures:
        return None
    wait = min(SETUP_RETRY_FIRST * (1 << min(len(failures) - 1, 16)), SETUP_RETRY_MAX)
    return failures[-1].created_at + wait


def _claim(comment: Comment, data: dict[str, Any]) -> Claim | None:
    try:
        until = parse_iso(str(data["until"]))
    except (KeyError, ValueError):
        return None
    pid = data.get("pid")
    return Claim(
        comment.id,
        str(data.get("host", "")),
        str(data.get("run_id", "")),
        until,
        pid if isinstance(pid, int) else None,
    )


def try_claim(
    store: Store, number: int, host: str, run_id: str, now: datetime, logins: markers.OrchLogins
) -> bool:
    """Post our claim, re-read, keep it only when it is the earliest live one."""

    until = now + CLAIM_TTL
    body = markers.render(
        "claim",
        {"host": host, "run_id": run_id, "until": utc_iso(until), "pid": os.getpid()},
        f"**orch**: dispatching on `{host}` (lease until {utc_iso(until)}).",
    )
    mine = store.create_comment(number, body)
    claims = live_claims(store.list_comments(number), now, logins)
    if claims and claims[0].comment_id == mine.id:
        return True
    store.delete_comment(mine.id)
    return False
