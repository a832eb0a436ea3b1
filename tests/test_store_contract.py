"""The Store behaviour suite, run against both stores: LocalStore (files) and GitHubStore
(the real gh against the GitHub emulator). For GitHub every test also asserts how many
requests each operation cost, from the emulator's log."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from orch.clock import SystemClock
from orch.config.model import BackoffConfig
from orch.errors import NotFound, OrchError
from orch.io.gh import Gh
from orch.labels import LabelSpec, base_labels
from orch.paths import Paths
from orch.store.base import Store
from orch.store.github import GitHubStore
from tests.emulator.server import DEFAULT_LOGIN, DEFAULT_REPO, Emulator
from tests.helpers import Repo, make_repo

T = TypeVar("T")


@dataclass
class Backend:
    """A store plus the backend-specific ways a test plays another person."""

    kind: str
    store: Store
    comment_as: Callable[[int, str, str], int]  # (number, body, login) -> comment id
    grant: Callable[[str, str], None]  # (login, role)
    emulator: Emulator | None = None

    def expect(self, github: int, action: Callable[[], T]) -> T:
        """Run `action`; on GitHub assert it sent exactly `github` requests."""
        if self.emulator is None:
            return action()
        self.emulator.reset_log()
        result = action()
        assert len(self.emulator.requests) == github, "\n".join(self.emulator.log_lines())
        return result


class TickingClock(SystemClock):
    """Real time, but every reading is at least a second after the previous one, like
    the emulator's clock: changes made one after another get distinct timestamps."""

    def __init__(self) -> None:
        super().__init__()
        self.last = datetime(2000, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        self.last = max(super().now().replace(microsecond=0), self.last + timedelta(seconds=1))
        return self.last


def _local(tmp_path: Path) -> Backend:
    from orch.store.local import LocalStore

    repo: Repo = make_repo(tmp_path)
    store = LocalStore(
        repo.work / ".orch" / "local", "local/widgets", TickingClock(), user=DEFAULT_LOGIN
    )

    def comment_as(number: int, body: str, login: str) -> int:
        kind = "Bot" if login.endswith("[bot]") else "User"
        return int(store.add_comment(number, body, author=login, author_type=kind).id)

    return Backend("local", store, comment_as, store.set_permission)


def _github(tmp_path: Path, emulator: Emulator, env: dict[str, str]) -> Backend:
    paths = Paths(config_dir=tmp_path / "config", state_dir=tmp_path / "state")
    gh = Gh(emulator.host, BackoffConfig("wait", 0.3, 3), paths, SystemClock(), env)
    store = GitHubStore(gh, DEFAULT_REPO)

    def comment_as(number: int, body: str, login: str) -> int:
        return int(emulator.add_comment(number, body, user=login)["id"])

    def grant(login: str, role: str) -> None:
        emulator.set_permission(login, role)

    return Backend("github", store, comment_as, grant, emulator)


@pytest.fixture(params=["local", "github"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "local":
        yield _local(tmp_path)
    else:
        emulator = request.getfixturevalue("emulator")
        yield _github(tmp_path, emulator, request.getfixturevalue("gh_env"))


# ---------------------------------------------------------------------- issues


def test_create_and_get_issue(backend: Backend) -> None:
    store = backend.store
    issue = backend.expect(
        1,
        lambda: store.create_issue("Fix the widget", "It wobbles.", ["status:new", "agent:codex"]),
    )
    fetched = backend.expect(1, lambda: store.get_issue(issue.number))
    assert fetched == issue
    assert (fetched.title, fetched.body, fetched.state, fetched.labels, fetched.author) == (
        "Fix the widget",
        "It wobbles.",
        "open",
        ("agent:codex", "status:new"),
        DEFAULT_LOGIN,
    )
    assert fetched.created_at.tzinfo is not None
    assert fetched.comments == 0


def test_get_missing_issue_and_pr_number_are_not_found(backend: Backend) -> None:
    store = backend.store
    with pytest.raises(NotFound, match="#41"):
        store.get_issue(41)
    pr = store.create_pr("feature-1", "main", "A PR", "body")
    with pytest.raises(NotFound):
        store.get_issue(pr.number)


def test_list_issues_filters_and_excludes_prs(backend: Backend) -> None:
    store = backend.store
    a = store.create_issue("a", "", ["status:new", "agent:claude"])
    b = store.create_issue("b", "", ["status:new"])
    c = store.create_issue("c", "", ["status:routed", "agent:claude"])
    store.create_pr("orch/1-a", "main", "PR for a", "Closes #1")
    store.update_issue(c.number, state="closed")

    listed = backend.expect(1, lambda: [i.number for i in store.list_issues()])
    assert listed == [a.number, b.number]  # oldest first, no PR, no closed issue
    assert [i.number for i in store.list_issues(labels=["status:new", "agent:claude"])] == [
        a.number
    ]
    assert [i.number for i in store.list_issues(labels=["agent:claude"], state="all")] == [
        a.number,
        c.number,
    ]
    assert [i.number for i in store.list_issues(state="closed")] == [c.number]
    assert [i.number for i in store.list_issues(author=DEFAULT_LOGIN)] == [a.number, b.number]
    assert store.list_issues(author="someone-else") == []


def test_update_issue_and_close(backend: Backend) -> None:
    store = backend.store
    issue = store.create_issue("old", "old body", ["status:new"])
    updated = backend.expect(
        1, lambda: store.update_issue(issue.number, title="new", body="new body")
    )
    assert (updated.title, updated.body, updated.labels) == ("new", "new body", ("status:new",))
    assert updated.updated_at > issue.updated_at
    closed = backend.expect(1, lambda: store.update_issue(issue.number, state="closed"))
    assert closed.state == "closed"
    assert store.get_issue(issue.number).state == "closed"
    assert store.list_issues() == []
    with pytest.raises(OrchError, match="open or closed"):
        store.update_issue(issue.number, state="merged")


def test_set_labels_replaces_the_whole_set_in_one_write(backend: Backend) -> None:
    store = backend.store
    issue = store.create_issue("t", "", ["status:new", "agent:codex", "bug"])
    updated = backend.expect(
        1,
        lambda: store.set_labels(
            issue.number, ["status:routed", "agent:codex", "complexity:simple"]
        ),
    )
    assert updated.labels == ("agent:codex", "complexity:simple", "status:routed")
    assert (updated.number, updated.title) == (issue.number, "t")
    assert updated.updated_at > issue.updated_at
    assert store.get_issue(issue.number) == updated
    assert store.set_labels(issue.number, []).labels == ()
    with pytest.raises(NotFound):
        store.set_labels(999, ["status:new"])


# ---------------------------------------------------------------------- labels


def test_ensure_labels_creates_only_missing_ones(backend: Backend) -> None:
    store = backend.store
    specs = base_labels()
    # GitHub: one list request, then one POST per missing label.
    created = backend.expect(1 + len(specs), lambda: store.ensure_labels(specs))
    assert sorted(created) == sorted(s.name for s in specs)
    assert backend.expect(1, lambda: store.ensure_labels(specs)) == []
    assert set(store.list_labels()) >= {s.name for s in specs}
    extra = [*specs, LabelSpec("agent:codex", "c5def5", "orch: agent assigned codex")]
    assert backend.expect(2, lambda: store.ensure_labels(extra)) == ["agent:codex"]
    if backend.emulator is not None:
        new = backend.emulator.add_label("status:new")
        assert (new["color"], new["description"]) == ("0e8a16", "orch: waiting to be routed")


def test_delete_label(backend: Backend) -> None:
    store = backend.store
    store.ensure_labels([LabelSpec("plan", "5319e7", "")])
    backend.expect(1, lambda: store.delete_label("plan"))
    assert "plan" not in store.list_labels()
    with pytest.raises(NotFound):
        store.delete_label("plan")


# ---------------------------------------------------------------------- comments


def test_comments_create_list_since_update_delete(backend: Backend) -> None:
    store = backend.store
    issue = store.create_issue("t", "", ["status:new"])
    first = backend.expect(1, lambda: store.create_comment(issue.number, "first"))
    assert (first.body, first.author, first.issue) == ("first", DEFAULT_LOGIN, issue.number)
    second_id = backend.comment_as(issue.number, "/retry please", "maintainer")
    listed = backend.expect(1, lambda: store.list_comments(issue.number))
    assert [(c.id, c.body, c.author) for c in listed] == [
        (first.id, "first", DEFAULT_LOGIN),
        (second_id, "/retry please", "maintainer"),
    ]
    since = listed[1].updated_at
    assert [c.id for c in store.list_comments(issue.number, since=since)] == [second_id]
    assert store.list_comments(issue.number, since=since + timedelta(days=1)) == []

    edited = backend.expect(1, lambda: store.update_comment(first.id, "first, edited"))
    assert (edited.id, edited.body, edited.issue) == (first.id, "first, edited", issue.number)
    assert edited.updated_at >= first.updated_at
    backend.expect(1, lambda: store.delete_comment(second_id))
    assert [c.body for c in store.list_comments(issue.number)] == ["first, edited"]
    assert store.get_issue(issue.number).comments == 1
    with pytest.raises(NotFound):
        store.delete_comment(second_id)
    backend.expect(1, lambda: store.react(first.id, "eyes"))
    if backend.emulator is not None:
        assert backend.emulator.reactions(first.id) == [(DEFAULT_LOGIN, "eyes")]


def test_comments_bump_updated_at(backend: Backend) -> None:
    store = backend.store
    issue = store.create_issue("t", "", ["status:new"])
    store.create_comment(issue.number, "hello")
    assert store.get_issue(issue.number).updated_at > issue.updated_at


# ---------------------------------------------------------------------- pull requests


def test_pull_request_lifecycle(backend: Backend) -> None:
    store = backend.store
    issue = store.create_issue("t", "", ["status:in_progress"])
    assert store.find_pr("orch/1-t") is None
    pr = backend.expect(
        1, lambda: store.create_pr("orch/1-t", "main", "Fix t", f"Closes #{issue.number}")
    )
    assert (pr.state, pr.head, pr.base, pr.title) == ("open", "orch/1-t", "main", "Fix t")
    found = backend.expect(1, lambda: store.find_pr("orch/1-t"))
    assert found == pr
    assert store.find_pr("orch/other") is None
    with pytest.raises(OrchError, match="already exists"):
        store.create_pr("orch/1-t", "main", "again", "")
    renamed = backend.expect(1, lambda: store.update_pr(pr.number, title="Fix t better"))
    assert renamed.title == "Fix t better"
    assert store.get_pr(pr.number) == renamed
    backend.expect(1, lambda: store.merge_pr(pr.number))
    merged = store.get_pr(pr.number)
    assert merged.state == "merged" and merged.merged_at is not None
    assert store.find_pr("orch/1-t") is None
    assert store.find_pr("orch/1-t", state="merged") == merged
    assert store.find_pr("orch/1-t", state="all") == merged
    with pytest.raises(OrchError):
        store.merge_pr(pr.number)
    with pytest.raises(NotFound):
        store.get_pr(9999)


# ---------------------------------------------------------------------- people, repo


def test_permission(backend: Backend) -> None:
    store = backend.store
    backend.grant("writer", "write")
    backend.grant("reader", "read")
    backend.grant("boss", "maintain")
    assert backend.expect(1, lambda: store.permission("writer")) == "write"
    assert store.permission("reader") == "read"
    assert store.permission("boss") == "maintain"
    assert store.permission(DEFAULT_LOGIN) == "admin"
    assert backend.expect(1, lambda: store.permission("stranger")) == "none"


def test_default_branch(backend: Backend) -> None:
    assert backend.store.default_branch() == "main"


# ---------------------------------------------------------------------- snapshot


def test_snapshot_shape_and_cost(backend: Backend) -> None:
    store = backend.store
    a = store.create_issue("a", "", ["status:new"])
    b = store.create_issue("b", "", ["status:in_progress", "agent:codex"])
    store.create_issue("not a task", "", ["bug"])
    closed = store.create_issue("closed task", "", ["status:done"])
    store.update_issue(closed.number, state="closed")
    store.create_pr("orch/2-b", "main", "PR", "")
    store.create_comment(a.number, '<!-- orch:route {"v": 1} -->\nrouted')
    backend.comment_as(b.number, "/stop", "helper[bot]")

    snap = backend.expect(1, lambda: store.snapshot())
    assert [i.number for i in snap.issues] == [a.number, b.number]
    assert [i.number for i in snap.closed] == [closed.number]  # closed tasks, same request
    assert snap.issues[1].labels == ("agent:codex", "status:in_progress")
    assert snap.issues[0] == store.get_issue(a.number)
    assert set(snap.comments) == {a.number, b.number, closed.number}
    assert [c.body for c in snap.comments[a.number]] == ['<!-- orch:route {"v": 1} -->\nrouted']
    stop = snap.comments[b.number][0]
    assert (stop.author, stop.author_type, stop.issue) == ("helper[bot]", "Bot", b.number)
    assert [c.id for c in snap.comments[b.number]] == [c.id for c in store.list_comments(b.number)]

    known = {i.number: i.updated_at for i in (*snap.issues, *snap.closed)}
    assert backend.expect(1, lambda: store.snapshot(known)).comments == {}
    store.create_comment(b.number, "more")
    quiet = backend.expect(1, lambda: store.snapshot(known))
    assert set(quiet.comments) == {b.number}
    assert [c.body for c in quiet.comments[b.number]] == ["/stop", "more"]


def test_snapshot_keeps_the_last_twenty_comments(backend: Backend) -> None:
    store = backend.store
    issue = store.create_issue("chatty", "", ["status:blocked"])
    for n in range(23):
        backend.comment_as(issue.number, f"c{n}", DEFAULT_LOGIN)
    snap = store.snapshot({issue.number: datetime(2000, 1, 1, tzinfo=UTC)})
    assert [c.body for c in snap.comments[issue.number]] == [f"c{n}" for n in range(3, 23)]
    assert snap.issues[0].comments == 23
