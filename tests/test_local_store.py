"""LocalStore specifics: concurrent writers, atomic files, numbering shared with PRs."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

from orch.clock import SystemClock
from orch.errors import NotFound
from orch.store.local import LocalStore


def _create_many(root: str, count: int, tag: str) -> None:
    store = LocalStore(Path(root), "acme/widgets", SystemClock(), user="owner")
    for index in range(count):
        issue = store.create_issue(f"{tag}-{index}", "", ["status:new"])
        store.create_comment(issue.number, f"comment on {tag}-{index}")


def test_two_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    root = tmp_path / "local"
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_create_many, args=(str(root), 25, tag)) for tag in "ab"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    store = LocalStore(root, "acme/widgets", SystemClock(), user="owner")
    issues = store.list_issues()
    assert [i.number for i in issues] == list(range(1, 51))
    assert sorted(i.title for i in issues) == sorted(f"{t}-{n}" for t in "ab" for n in range(25))
    comment_ids = [c.id for i in issues for c in store.list_comments(i.number)]
    assert sorted(comment_ids) == list(range(1, 51))
    # No temp files left behind by the atomic writes.
    assert not [p for p in root.rglob("*.tmp")]


def test_issue_and_pr_numbers_share_one_sequence(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "local", "acme/widgets", SystemClock(), user="owner")
    first = store.create_issue("One", "", [])
    pr = store.create_pr("orch/1-one", "main", "One", "Closes #1")
    second = store.create_issue("Two", "", [])
    assert (first.number, pr.number, second.number) == (1, 2, 3)
    try:
        store.get_issue(2)
    except NotFound as exc:
        assert "issue #2 not found" in str(exc)
    else:
        raise AssertionError("a PR number must not be readable as an issue")


def test_files_are_plain_json_a_person_can_read(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "local", "acme/widgets", SystemClock(), user="owner")
    issue = store.create_issue("Readable", "body", ["status:new"])
    text = (tmp_path / "local" / "issues" / f"{issue.number}.json").read_text()
    assert text.endswith("\n")
    data = json.loads(text)
    assert (data["title"], data["labels"], data["comments"]) == ("Readable", ["status:new"], [])


def test_comments_from_other_users_and_permissions(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "local", "acme/widgets", SystemClock(), user="owner")
    issue = store.create_issue("X", "", ["status:new"])
    store.add_comment(issue.number, "/retry", author="stranger")
    store.add_comment(issue.number, "hello", author="ci-bot", author_type="Bot")
    store.set_permission("helper", "write")
    comments = store.list_comments(issue.number)
    assert [(c.author, c.author_type) for c in comments] == [
        ("stranger", "User"),
        ("ci-bot", "Bot"),
    ]
    assert [store.permission(u) for u in ("owner", "helper", "stranger")] == [
        "admin",
        "write",
        "none",
    ]


def test_snapshot_returns_comments_only_for_changed_issues(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "local", "acme/widgets", SystemClock(), user="owner")
    a = store.create_issue("A", "", ["status:new"])
    b = store.create_issue("B", "", ["status:routed"])
    store.create_issue("not a task", "", ["bug"])
    first = store.snapshot()
    assert [i.number for i in first.issues] == [a.number, b.number]
    known = {i.number: i.updated_at for i in first.issues}
    store.create_comment(b.number, "news")
    second = store.snapshot(known)
    assert list(second.comments) == [b.number]
    assert [c.body for c in second.comments[b.number]] == ["news"]
