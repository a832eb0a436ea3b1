"""The snapshot's closed issues and closed pull requests, on both stores, in one request
(SPEC §5.1, §7.2, §9): owner feedback on a closed `done` task and merged PRs are seen by
the same single read a quiet tick makes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.test_store_contract import Backend, _github, _local


@pytest.fixture(params=["local", "github"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "local":
        yield _local(tmp_path)
    else:
        emulator = request.getfixturevalue("emulator")
        yield _github(tmp_path, emulator, request.getfixturevalue("gh_env"))


def test_closed_tasks_updated_since_come_with_their_comments(backend: Backend) -> None:
    store = backend.store
    old = store.create_issue("old", "", ["status:done"])
    store.update_issue(old.number, state="closed")
    still_open = store.create_issue("open", "", ["status:new"])
    plain = store.create_issue("not a task", "", ["bug"])
    store.update_issue(plain.number, state="closed")
    done = store.create_issue("done", "", ["status:done"])
    closed = store.update_issue(done.number, state="closed")

    everything = backend.expect(1, lambda: store.snapshot())
    assert [i.number for i in everything.closed] == [done.number, old.number]  # newest first
    assert [i.number for i in everything.issues] == [still_open.number]

    since = closed.updated_at + timedelta(seconds=1)
    assert backend.expect(1, lambda: store.snapshot(since=since)).closed == ()
    backend.comment_as(done.number, "please also add a test", "alice")
    snap = backend.expect(1, lambda: store.snapshot(since=since))
    (issue,) = snap.closed
    assert (issue.number, issue.state, issue.labels) == (done.number, "closed", ("status:done",))
    assert [c.body for c in snap.comments[done.number]] == ["please also add a test"]
    assert done.number not in {i.number for i in snap.issues}


def test_recently_closed_and_merged_pull_requests(backend: Backend) -> None:
    store = backend.store
    store.create_pr("orch/1-open", "main", "still open", "")
    merged = store.create_pr("orch/2-merged", "main", "merged", "")
    store.merge_pr(merged.number)

    snap = backend.expect(1, lambda: store.snapshot())

    # Every open PR, and the recently closed or merged ones.
    pulls = {p.number: p for p in snap.pulls}
    assert len(pulls) == 2
    pr = pulls[merged.number]
    assert (pr.number, pr.state, pr.head) == (merged.number, "merged", "orch/2-merged")
    assert [p.state for p in snap.pulls if p.number != merged.number] == ["open"]
    assert pr.merged_at is not None
