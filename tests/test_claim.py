"""Dispatch leases and the setup-failure backoff (orch.tick.claim), pure, table-driven."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orch.store.base import Comment
from orch.task import markers
from orch.tick.claim import live_claims, setup_retry_at

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def comment(n: int, kind: str, minutes: int, **data: object) -> Comment:
    body = markers.render(kind, dict(data), "text")
    when = T0 + timedelta(minutes=minutes)
    return Comment(n, 1, "orch", body, when, when)


CLAIM = {"host": "h", "run_id": "r", "until": "2026-12-05T10:00:00Z"}
FAILED = {"from": "routed", "to": "routed", "reason": "disk full", "setup_failed": True}


@pytest.mark.parametrize(
    ("thread", "expected"),
    [
        ([], None),
        ([("status", 0, {"from": "new", "to": "routed"})], None),
        ([("claim", 0, CLAIM), ("status", 1, FAILED)], T0 + timedelta(minutes=6)),
        (  # a second failure in a row doubles the wait; claims between do not matter
            [
                ("claim", 0, CLAIM),
                ("status", 1, FAILED),
                ("claim", 7, CLAIM),
                ("status", 8, FAILED),
            ],
            T0 + timedelta(minutes=18),
        ),
        ([("status", 1, FAILED), ("agent-response", 30, {"attempt": 1})], None),  # it ran since
        ([("status", 0, FAILED)] * 20, T0 + timedelta(hours=4)),  # capped
    ],
    ids=["nothing", "other note", "one failure", "two failures", "ran since", "capped"],
)
def test_setup_retry_at(
    thread: list[tuple[str, int, dict[str, object]]], expected: datetime | None
) -> None:
    comments = [comment(i, kind, minutes, **data) for i, (kind, minutes, data) in enumerate(thread)]
    assert setup_retry_at(comments, frozenset({"orch"})) == expected


def test_a_setup_failure_note_starts_a_new_claim_round() -> None:
    comments = [comment(1, "claim", 0, **CLAIM), comment(2, "status", 1, **FAILED)]
    assert live_claims(comments, T0, frozenset({"orch"})) == []
