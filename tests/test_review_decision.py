"""What a review verdict means (orch.task.verdict): table-driven, no I/O."""

from __future__ import annotations

from typing import Any

import pytest

from orch.agents.prompt import PromptContext, build_prompts
from orch.agents.result import validate, validate_verdict
from orch.status import Status
from orch.task import markers
from orch.task.verdict import (
    Step,
    change_requests,
    is_orch_pr,
    latest_notes,
    next_step,
    pick_reviewer,
    render_comment,
    verdict_for,
)

GOOD = {"decision": "approve", "summary": "Looks right.", "notes": []}


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (GOOD, GOOD),
        (
            {"decision": "request_changes", "summary": " Add tests ", "notes": ["one", " ", "two"]},
            {"decision": "request_changes", "summary": "Add tests", "notes": ["one", "two"]},
        ),
        (
            {"decision": "reject", "summary": "Wrong idea", "notes": "one note"},
            {"decision": "reject", "summary": "Wrong idea", "notes": ["one note"]},
        ),
        (
            {"decision": "reject", "summary": "No notes key"},
            {"decision": "reject", "summary": "No notes key", "notes": []},
        ),
    ],
)
def test_valid_verdicts_are_normalised(obj: dict[str, Any], expected: dict[str, Any]) -> None:
    assert validate_verdict(obj) == (expected, "")


@pytest.mark.parametrize(
    ("obj", "problem"),
    [
        ("approve", "the verdict is not a JSON object"),
        (
            {"decision": "APPROVE", "summary": "x", "notes": []},
            "verdict decision 'APPROVE' is not one of approve, request_changes, reject",
        ),
        (
            {"decision": "lgtm", "summary": "x"},
            "verdict decision 'lgtm' is not one of approve, request_changes, reject",
        ),
        (
            {"summary": "fine", "notes": []},
            "verdict decision None is not one of approve, request_changes, reject",
        ),
        ({"decision": "approve", "summary": "  ", "notes": []}, "the verdict has no summary"),
        (
            {"decision": "approve", "summary": "x", "notes": [1, 2]},
            "verdict notes must be a list of strings",
        ),
        # A run result is not a verdict, even one that says "done".
        (
            {"status": "done", "summary": "approve"},
            "verdict decision None is not one of approve, request_changes, reject",
        ),
    ],
)
def test_garbage_is_no_verdict(obj: Any, problem: str) -> None:
    assert validate_verdict(obj) == (None, problem)


def test_review_mode_validation_accepts_a_verdict_and_still_a_plain_result() -> None:
    assert validate("review", GOOD) == (GOOD, "")
    result, _ = validate("review", {"status": "done", "summary": "s"})
    assert result is not None and "decision" not in result  # a result, never a verdict
    assert validate("run", GOOD)[0] is None


REVIEWS = [
    {"decision": "request_changes", "head_sha": "aaa", "summary": "more tests"},
    {"decision": "request_changes", "head_sha": "aaa", "summary": "posted twice"},
    {"decision": "approve", "head_sha": "bbb", "summary": "ok"},
    {"decision": "request_changes", "head_sha": "ccc", "summary": "again", "notes": ["n"]},
]


def test_verdicts_by_head_and_cycles() -> None:
    assert verdict_for(REVIEWS, "aaa") == REVIEWS[1]
    assert verdict_for(REVIEWS, "bbb") == REVIEWS[2]
    assert verdict_for(REVIEWS, "ddd") is None
    assert verdict_for(REVIEWS, "") is None
    assert verdict_for([{"decision": "maybe", "head_sha": "x"}], "x") is None
    assert change_requests(REVIEWS) == 2  # one per head SHA
    assert latest_notes(REVIEWS) == REVIEWS[3]
    assert latest_notes(REVIEWS[:3]) is None
    assert latest_notes([]) is None


@pytest.mark.parametrize(
    ("decision", "cycles", "auto_merge", "orch_pr", "expected"),
    [
        ("approve", 0, True, True, Step(None, "approved", merge=True)),
        (
            "approve",
            0,
            False,
            True,
            Step(None, "approved; workflow.auto_merge is off, a human merges"),
        ),
        (
            "approve",
            0,
            True,
            False,
            Step(None, "approved; not a PR orch opened, so orch does not merge it"),
        ),
        (
            "request_changes",
            1,
            True,
            True,
            Step(Status.ROUTED, "review 1 of 2 asks for changes: Fix it"),
        ),
        (
            "request_changes",
            2,
            True,
            True,
            Step(Status.ROUTED, "review 2 of 2 asks for changes: Fix it"),
        ),
        (
            "request_changes",
            3,
            True,
            True,
            Step(
                Status.NEEDS_REVIEW,
                "max review cycles (2) reached; the reviewer still asks for changes: Fix it",
            ),
        ),
        (
            "reject",
            0,
            True,
            True,
            Step(Status.NEEDS_REVIEW, "the reviewer rejected the change: Fix it"),
        ),
    ],
)
def test_next_step(
    decision: str, cycles: int, auto_merge: bool, orch_pr: bool, expected: Step
) -> None:
    verdict = {"decision": decision, "summary": "Fix it", "notes": []}
    got = next_step(verdict, cycles=cycles, max_cycles=2, auto_merge=auto_merge, orch_pr=orch_pr)
    assert got == expected


ORCH_BODY = (
    "## Summary\n\nx\n\nCloses #7\n\n<sub>Opened by orch: 🟣 Claude (haiku), attempt 1.</sub>"
)


@pytest.mark.parametrize(
    ("head", "body", "number", "expected"),
    [
        ("orch/7-say-hello", ORCH_BODY, 7, True),
        ("orch/7-say-hello", ORCH_BODY, 8, False),  # closes another issue
        ("feature/hello", ORCH_BODY, 7, False),  # a human's branch
        ("orch/7-say-hello", "Closes #7", 7, False),  # no orch footer: a human wrote it
        ("orch/7-say-hello", "", 7, False),
    ],
)
def test_only_orch_prs_count_as_orch_prs(head: str, body: str, number: int, expected: bool) -> None:
    assert is_orch_pr(head, body, branch_prefix="orch/", number=number) is expected
    assert is_orch_pr(head, body, branch_prefix="", number=number) is False


@pytest.mark.parametrize(
    ("author", "unavailable", "expected"),
    [
        ("claude", [], "codex"),  # someone else than the author first
        ("codex", [], "claude"),
        (None, [], "claude"),
        ("claude", ["codex"], "opencode"),
        ("claude", ["codex", "opencode"], "claude"),  # the author rather than nobody
        ("claude", ["claude", "codex", "opencode"], None),
    ],
)
def test_pick_reviewer(author: str | None, unavailable: list[str], expected: str | None) -> None:
    assert pick_reviewer(["claude", "codex", "opencode"], author, unavailable) == expected


def test_review_comment() -> None:
    data = {
        "decision": "request_changes",
        "head_sha": "0123456789abcdef0123",
        "reviewer": "codex",
        "model": "gpt-5.2",
        "summary": "Almost.",
        "notes": ["Add a test\nfor the edge"],
        "cycle": 2,
    }
    text = render_comment(data, pr=12)
    assert text == (
        "### 🔁 Review: changes requested\n\n"
        "Reviewer codex (gpt-5.2) looked at PR #12 at `0123456789ab` (review cycle 2).\n\n"
        "Almost.\n\n#### Notes\n\n- Add a test for the edge\n\n"
        "<sub>Posted by orch's review agent</sub>"
    )
    body = markers.render("review", data, text)
    parsed = markers.parse(body)
    assert (
        parsed is not None
        and parsed.kind == "review"
        and parsed.data["head_sha"] == data["head_sha"]
    )


def _context(review: dict[str, Any] | None) -> PromptContext:
    return PromptContext(
        repo="acme/widgets",
        number=7,
        title="Say hello",
        body="Add hello.txt",
        labels=[],
        branch="orch/7-say-hello",
        worktree="/wt",
        default_branch="main",
        attempt=2,
        max_attempts=10,
        agent="claude",
        model=None,
        review=review,
    )


def test_the_next_attempt_gets_the_review_notes() -> None:
    review = {
        "decision": "request_changes",
        "reviewer": "codex",
        "head_sha": "abcdef1234567890",
        "summary": "Close, but untested.",
        "notes": ["Add a test for hello.txt", "<!-- hidden -->"],
    }
    message = build_prompts(_context(review)).message
    assert (
        "## Review of the last attempt\n\n"
        "The pull request is still open on your branch: address every note below, commit, and the\n"
        "next push updates it.\n\n"
        "The reviewer (codex) answered `request_changes` for commit `abcdef123456`:\n\n"
        "Close, but untested.\n\n"
        "- Add a test for hello.txt\n"
    ) in message
    assert "hidden" not in message
    assert "Review of the last attempt" not in build_prompts(_context(None)).message


@pytest.mark.parametrize(
    ("workflow", "warned"),
    [
        ({"auto_merge": True}, True),
        ({"auto_merge": True, "enable_review_agent": True}, False),
        ({"enable_review_agent": True}, False),
    ],
)
def test_auto_merge_without_the_review_agent_is_a_config_warning(
    tmp_path: Any, workflow: dict[str, Any], warned: bool
) -> None:
    import yaml

    from orch.config.model import load_config

    (tmp_path / ".orch.yml").write_text(yaml.safe_dump({"workflow": workflow}))
    config = load_config(None, tmp_path)
    expected = (
        f"{tmp_path / '.orch.yml'}: workflow.auto_merge merges only PRs orch's review agent "
        "approved; set workflow.enable_review_agent: true (until then nothing is merged)"
    )
    assert config.warnings == ((expected,) if warned else ())
