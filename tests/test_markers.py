"""Marker comments: round trip, recognition by marker alone, hostile content."""

from __future__ import annotations

import pytest

from orch.task import markers


@pytest.mark.parametrize("kind", markers.KINDS)
def test_round_trip_every_kind(kind: str) -> None:
    data = {"attempt": 2, "agent": "codex", "note": "ünïcode ✓", "nested": {"a": [1, 2]}}
    body = markers.render(kind, data, "Human text\n\nwith lines")
    parsed = markers.parse(body)
    assert parsed is not None
    assert parsed.kind == kind
    assert parsed.data == {"v": 1, **data}
    assert parsed.text == "Human text\n\nwith lines"


def test_marker_is_first_line_and_hidden() -> None:
    body = markers.render("ack", {"comment_id": 7})
    assert body == '<!-- orch:ack {"comment_id":7,"v":1} -->'


def test_comment_closing_sequence_in_data_cannot_break_the_marker() -> None:
    data = {"reason": "tried --> and -- and <!-- again"}
    body = markers.render("status", data, "after")
    assert body.splitlines()[0].count("-->") == 1
    parsed = markers.parse(body)
    assert parsed is not None and parsed.data["reason"] == data["reason"]
    assert parsed.text == "after"


@pytest.mark.parametrize(
    "body",
    [
        None,
        "",
        "plain comment",
        "<!-- orch:unknown {} -->",  # unknown kind
        "<!-- orch:ack not-json -->",
        "<!-- orch:ack [1, 2] -->",  # not an object
        'text first\n<!-- orch:ack {"v":1} -->',  # marker not on the first line
    ],
)
def test_not_a_marker(body: str | None) -> None:
    assert markers.parse(body) is None


def test_leading_whitespace_is_tolerated() -> None:
    parsed = markers.parse('\n  <!-- orch:route {"agent":"claude","v":1} -->\nrouted')
    assert parsed is not None and parsed.data["agent"] == "claude"


def test_body_hash_ignores_surrounding_whitespace_only() -> None:
    a = markers.render("status", {"to": "done"}, "x")
    assert markers.body_hash(a) == markers.body_hash(a + "\n\n")
    assert markers.body_hash(a) != markers.body_hash(markers.render("status", {"to": "new"}, "x"))


def test_render_refuses_unknown_kind() -> None:
    with pytest.raises(ValueError):
        markers.render("bogus", {})


def test_only_orchs_own_logins_write_markers() -> None:
    from datetime import UTC, datetime

    from orch.store.base import Comment

    logins = markers.orch_logins("Owner", ["orch-host-b", "my-app[bot]", " "])
    assert logins == frozenset({"owner", "orch-host-b", "my-app[bot]"})
    body = markers.render("claim", {"host": "h"})
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for author, mine in (
        ("owner", True),
        ("OWNER", True),
        ("my-app[bot]", True),
        ("my-app", False),
        ("mallory", False),
        ("", False),
    ):
        comment = Comment(1, 1, author, body, now, now)
        assert markers.written_by_orch(author, logins) is mine
        assert (markers.orch_marker(comment, logins) is not None) is mine
    assert markers.orch_logins(None) == frozenset()
