"""WithInternal over two real LocalStores, and task ids (orch.taskid): internal ids are
negative, never collide with the project's numbers or comment ids, and reads never
create the internal folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from orch import taskid
from orch.clock import SystemClock
from orch.errors import NotFound
from orch.store.internal import WithInternal
from orch.store.local import LocalStore


@pytest.fixture
def store(tmp_path: Path) -> WithInternal:
    clock = SystemClock()
    primary = LocalStore(tmp_path / "local", "acme/widgets", clock, user="owner")
    internal = LocalStore(tmp_path / "internal", "acme/widgets", clock, user="owner")
    return WithInternal(primary, internal)


@pytest.mark.parametrize(
    ("typed", "number"), [("7", 7), ("#7", 7), ("i7", -7), ("I12", -12), (" i3 ", -3)]
)
def test_task_ids_parse(typed: str, number: int) -> None:
    assert taskid.parse(typed) == number


@pytest.mark.parametrize("typed", ["", "i", "x7", "-7", "i-7", "0", "i0", "7a", "#i7"])
def test_bad_task_ids_are_refused(typed: str) -> None:
    with pytest.raises(ValueError, match="not a task id"):
        taskid.parse(typed)


def test_ids_round_trip_through_text() -> None:
    for number in (1, 42, -1, -42):
        assert taskid.from_text(taskid.text(number)) == number
    assert (taskid.ref(7), taskid.ref(-7), taskid.text(-7)) == ("#7", "i7", "i7")
    assert taskid.from_text("-7") is None and taskid.from_text("I7") is None


def test_numbers_and_comment_ids_never_collide(store: WithInternal) -> None:
    outside = store.create_issue("On the tracker", "", ["status:new"])
    inside = store.create_internal("Internal", "", ["status:new"])
    said_out = store.create_comment(outside.number, "out")
    said_in = store.create_comment(inside.number, "in")

    assert (outside.number, inside.number) == (1, -1)
    assert said_out.id > 0 and said_in.id < 0 and said_in.issue == -1
    assert store.get_issue(-1).title == "Internal" and store.get_issue(1).title == "On the tracker"
    assert [c.body for c in store.list_comments(-1)] == ["in"]
    store.update_comment(said_in.id, "in, edited")
    assert [c.body for c in store.list_comments(-1)] == ["in, edited"]
    assert [c.body for c in store.list_comments(1)] == ["out"]
    assert store.set_labels(-1, ["status:routed"]).labels == ("status:routed",)
    assert store.get_issue(1).labels == ("status:new",)


def test_snapshot_and_lists_merge_both_stores(store: WithInternal) -> None:
    store.create_issue("Tracker", "", ["status:new"])
    store.create_internal("Mine", "", ["status:new"])

    snap = store.snapshot()
    assert [i.number for i in snap.issues] == [1, -1]
    assert set(snap.comments) == {1, -1}
    known = {i.number: i.updated_at for i in snap.issues}
    assert store.snapshot(known).comments == {}
    store.create_comment(-1, "news")
    assert set(store.snapshot(known).comments) == {-1}
    assert [i.number for i in store.list_issues()] == [1, -1]
    assert [i.url for i in store.list_internal()] == ["internal:acme/widgets/i1"]


def test_a_missing_internal_task_is_named_as_people_write_it(store: WithInternal) -> None:
    store.create_internal("Mine", "", ["status:new"])
    with pytest.raises(NotFound, match="internal task i9 not found"):
        store.get_issue(-9)


def test_reads_never_create_the_internal_folder(store: WithInternal) -> None:
    store.create_issue("Tracker", "", ["status:new"])
    store.snapshot()
    store.list_issues()
    store.list_internal()
    assert not store.internal.root.exists()
