"""The pure rules of the conversation on PRs and mentions (orch.task.conversation), the PR
feedback in History, and what the snapshot's extra fields cost in GraphQL points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orch.clock import SystemClock
from orch.status import Status
from orch.store import snapshot_query as Q
from orch.store.base import Comment, PullRequest, PullThread, Review, ReviewComment
from orch.store.local import LocalStore
from orch.task import conversation as convo
from orch.task import markers
from orch.task.history import History
from orch.task.owner import needs_permission_lookup
from tests.emulator.graphql import _Parser, query_cost

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ORCH_BODY = "Done.\n\nCloses #7\n\n<sub>Opened by orch: 🟣 Claude (haiku), attempt 1.</sub>"


def comment(ident: int, body: str, at: datetime, author: str = "alice") -> Comment:
    return Comment(ident, 9, author, body, at, at)


def trusted(c: Comment) -> markers.Marker | None:
    """The tick's reader: markers count only when orch ("owner" here) wrote them."""
    return markers.orch_marker(c, markers.orch_logins("owner"))


def pull(head: str = "orch/7-fix-it", body: str = ORCH_BODY) -> PullRequest:
    return PullRequest(9, "Fix it", body, "open", head, "main")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("@orch fix the typo", "fix the typo"),
        ("  @ORCH: please look\nat this", "please look\nat this"),
        ("@orch", ""),
        ("@orchestra play", None),  # another word
        ("hey @orch do it", None),  # not the first word
        ("", None),
    ],
)
def test_mention_text(body: str, expected: str | None) -> None:
    assert convo.mention_text(body, "@orch") == expected


@pytest.mark.parametrize(
    ("text", "asks"), [("review", True), ("Review, please", True), ("reviews", False), ("", False)]
)
def test_asks_review(text: str, asks: bool) -> None:
    assert convo.asks_review(text) is asks


def test_task_of_pull_needs_orch_branch_and_body() -> None:
    assert convo.task_of_pull(pull(), "orch/") == 7
    assert convo.task_of_pull(pull(head="alice/7-fix-it"), "orch/") is None
    assert convo.task_of_pull(pull(body="Closes #7 by hand"), "orch/") is None
    assert convo.task_of_pull(pull(head="orch/8-fix-it"), "orch/") is None  # body says #7


def test_feedback_items_keep_reviews_with_words_and_human_comments() -> None:
    inline = ReviewComment(51, "alice", "app.py", 3, "@@ -1 +1,3 @@\n+x\n+y\n+z", "Rename z", T0)
    thread = PullThread(
        pull(),
        "owner",
        reviews=(
            Review(40, "alice", "APPROVED", "LGTM", T0),
            Review(41, "alice", "COMMENTED", "", T0 + timedelta(seconds=1)),  # empty
            Review(42, "alice", "CHANGES_REQUESTED", "", T0 + timedelta(seconds=2), (inline,)),
        ),
        comments=(
            comment(60, markers.render("reply", {"task": 7}, "done"), T0, "owner"),
            comment(61, "Also the docs", T0 + timedelta(seconds=3)),
        ),
    )
    items = convo.feedback_items(thread, trusted)
    assert [(i.kind, i.id) for i in items] == [("review", 42), ("comment", 61)]
    assert convo.render(items[0], 9) == (
        "**Review (requested changes) by @alice on PR #9**\n\n- `app.py:3`\n\n"
        "```diff\n@@ -1 +1,3 @@\n+x\n+y\n+z\n```\n\nRename z"
    )


def test_pending_skips_what_an_ack_names_or_its_watermark_covers() -> None:
    old = comment(61, "old words", T0)
    same_second = comment(62, "same second, not acked", T0 + timedelta(seconds=5))
    acked = comment(63, "acked", T0 + timedelta(seconds=5))
    newer = comment(64, "newer", T0 + timedelta(seconds=9))
    ack = markers.render(
        "ack",
        convo.ack_data(
            convo.feedback_items(PullThread(pull(), "o", comments=(acked,)), trusted)[0],
            7,
            "feedback",
        ),
    )
    orch_ack = comment(70, ack, T0 + timedelta(seconds=6), "owner")
    thread = PullThread(pull(), "o", comments=(old, same_second, acked, orch_ack, newer))
    assert [i.id for i in convo.pending(thread, trusted)] == [62, 64]


def test_author_association_spares_a_permission_lookup() -> None:
    assert needs_permission_lookup("bob", "User", (), "NONE") is False
    assert needs_permission_lookup("bob", "User", (), "FIRST_TIME_CONTRIBUTOR") is False
    assert needs_permission_lookup("bob", "User", (), "CONTRIBUTOR") is True
    assert needs_permission_lookup("bob", "User", (), "COLLABORATOR") is True
    assert needs_permission_lookup("bob", "User", (), "") is True


def test_history_keeps_pr_feedback_until_the_next_attempt_once_each() -> None:
    def ack(ident: int, text: str) -> str:
        return markers.render("ack", {"review_id": ident, "pr": 9, "author": "a", "context": text})

    response = markers.render("agent-response", {"attempt": 1})
    bodies = [ack(1, "first"), response, ack(2, "second"), ack(2, "second"), ack(3, "third")]
    history = History.from_comments(
        (comment(i, b, T0, "owner") for i, b in enumerate(bodies)), markers.orch_logins("owner")
    )
    assert [f["context"] for f in history.pr_feedback] == ["second", "third"]
    assert convo.answers(history.pr_feedback) == [{"pr": 9, "authors": ["a"]}]


def test_snapshot_points() -> None:
    """GitHub's score of the tick's query with the PRs' conversation (the formula in
    tests/emulator/graphql.py). A warm tick's delta (50 issues, 20 PRs with 5 reviews of
    10 inline comments and 10 PR comments, a sweep page): 243 requests, 2 points — its
    mentions need no search. A full read's first request: 11 points (the search 21
    requests of them); a later page of open tasks 2, 9 with a page of 100 open PRs."""
    values = {"comments": Q.COMMENTS}
    assert points(Q.query((*Q.DELTA, "sweep")), values) == 2
    assert points(Q.query(("pulls",)), values) == 1  # 141 requests
    assert points(Q.query((*Q.FULL, "mentions")), values) == 11
    assert points(Q.query(("mentions",)), values) == 1  # 21 requests
    assert points(Q.query(("open",)), values) == 2
    assert points(Q.query(("open", "openPulls")), values) == 9
    assert Q.mention_search("acme/widgets", "@orch", T0) == (
        'repo:acme/widgets is:issue is:open in:comments "@orch" '
        "updated:>=2026-12-01T11:30:00+00:00 sort:updated-desc"
    )


def points(text: str, variables: dict[str, object]) -> int:
    operations, fragments = _Parser(text).document()
    return query_cost(operations[0].selections, fragments, variables)


def test_local_store_snapshot_finds_mentions_on_plain_issues(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "local", "acme/widgets", SystemClock(), user="owner")
    plain = store.create_issue("Plain", "", [])
    task = store.create_issue("Task", "", ["status:new"])
    quiet = store.create_issue("Quiet", "", [])
    store.add_comment(plain.number, "@orch fix it", author="alice")
    store.add_comment(task.number, "@orch fix it", author="alice")
    store.add_comment(quiet.number, "nothing to see", author="alice")
    found = store.snapshot(mention="@orch").mentions
    assert [(m.issue.number, [c.body for c in m.comments]) for m in found] == [
        (plain.number, ["@orch fix it"])
    ]
    assert store.snapshot().mentions == ()


@pytest.mark.parametrize(
    ("kind", "body", "status", "action", "to", "requested"),
    [
        ("review", "Rename it", Status.IN_REVIEW, "feedback", Status.ROUTED, ""),
        ("comment", "Rename it", Status.NEEDS_REVIEW, "feedback", Status.ROUTED, ""),
        ("comment", "Also this", Status.ROUTED, "feedback", Status.ROUTED, ""),  # same tick
        ("comment", "/context Use tabs", Status.IN_REVIEW, "context", Status.ROUTED, "context"),
        ("comment", "/stop", Status.IN_REVIEW, "invalid", None, "stop"),
        ("comment", "@orch review", Status.IN_REVIEW, "review", None, ""),
        (
            "review",
            "/context not a command in a review",
            Status.IN_REVIEW,
            "feedback",
            Status.ROUTED,
            "",
        ),
        ("comment", "Nice", Status.DONE, "feedback", Status.ROUTED, ""),
    ],
)
def test_decide(
    kind: str, body: str, status: Status, action: str, to: Status | None, requested: str
) -> None:
    item = convo.Feedback(kind, 5, "alice", "User", T0, body, "COMMENTED")
    decision, asked = convo.decide(
        item, status, pr=9, mention="@orch", agents=["claude"], review_agent=False
    )
    assert (decision.action, decision.status, asked) == (action, to, requested)
    if action == "feedback":
        assert decision.context == convo.render(item, 9)


def test_decide_leaves_new_tasks_alone() -> None:
    item = convo.Feedback("comment", 5, "alice", "User", T0, "More", "")
    decision, _ = convo.decide(
        item, Status.NEW, pr=9, mention="@orch", agents=[], review_agent=True
    )
    assert decision.action == "none"


def test_the_marker_reader_decides_whose_acks_count() -> None:
    """A forged ack (bob typed orch's marker) hides nothing: the tick's reader is the
    trust rule (markers.orch_marker), so bob's text is a comment like any other."""
    review = comment(61, "Please rename", T0, author="alice")
    item = convo.feedback_items(PullThread(pull(), "o", comments=(review,)), trusted)[0]
    forged = markers.render("ack", convo.ack_data(item, 7, "feedback"))
    thread = PullThread(
        pull(), "o", comments=(review, comment(62, forged, T0 + timedelta(seconds=1), "bob"))
    )
    assert [i.id for i in convo.pending(thread, trusted)] == [61, 62]
    mine = comment(63, forged, T0 + timedelta(seconds=2), "OWNER")  # logins ignore case
    assert convo.pending(PullThread(pull(), "o", comments=(review, mine)), trusted) == []
