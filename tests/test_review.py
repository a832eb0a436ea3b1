"""The review phase end to end: real gh against the emulator, fake claude writes the change,
fake codex reviews it (the reviewer is an agent other than the author), real git."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from orch.status import Status
from orch.task import markers
from tests.emulator.server import Emulator
from tests.helpers import Repo, git, tick_actions
from tests.run_helpers import RunProject, claude_envelope, make_run_project, result_obj, wait_for

REPO = "acme/widgets"


def codex_answer(text: str) -> str:
    """codex `exec --json` output whose final agent message is `text`."""
    events = [
        {"type": "thread.started", "thread_id": "t-review"},
        {"type": "turn.started"},
        {"type": "item.completed", "item": {"id": "i1", "type": "agent_message", "text": text}},
        {"type": "turn.completed", "usage": {"input_tokens": 900, "output_tokens": 80}},
    ]
    return "".join(json.dumps(e) + "\n" for e in events)


def verdict(decision: str, summary: str = "Reviewed.", notes: list[str] | None = None) -> str:
    return codex_answer(
        json.dumps({"decision": decision, "summary": summary, "notes": notes or []})
    )


def reviewer(*answers: str, sleep: float = 0.0) -> list[dict[str, Any]]:
    """codex scenario entries, one per review, each recorded under calls/."""
    steps: list[dict[str, Any]] = [{"sleep": sleep}] if sleep else []
    return [
        {
            "expect_argv_prefix": ["exec", "--json"],
            "expect_argv_contains": [["-m", "gpt-5.2"]],
            "expect_stdin_contains": ["git diff"],
            "record": "calls/codex-{n}.json",
            "steps": [*steps, {"stdout": answer}],
        }
        for answer in answers
    ]


def author(*notes_expected: str, text: str = "hello\n") -> dict[str, Any]:
    """One claude run that appends to hello.txt; it must have seen `notes_expected`."""
    return {
        "expect_stdin_contains": list(notes_expected),
        "record": "calls/claude-{n}.json",
        "steps": [{"append": "hello.txt", "text": text}, {"stdout": claude_envelope(result_obj())}],
    }


@pytest.fixture
def project(gh_repo: Repo, gh_env: dict[str, str], tmp_path: Path) -> RunProject:
    p = make_run_project(gh_repo, gh_env, tmp_path, "--repo", REPO)
    p.configure(
        workflow={"enable_review_agent": True, "auto_merge": True, "merge_strategy": "rebase"}
    )
    return p


def add_task(emulator: Emulator, title: str = "Say hello") -> int:
    labels = [Status.NEW.label, "agent:claude", "complexity:simple"]
    return int(emulator.add_issue(title, "Add hello.txt", labels)["number"])


def tick(project: RunProject, *args: str) -> list[tuple[str, Any, str]]:
    done = project.orch("tick", "--json", *args)
    assert done.code == 0, done
    rows = tick_actions(done.out)
    return [(r["phase"], r["task"], r["action"]) for r in rows]


def in_review(project: RunProject, emulator: Emulator, *, pr_body: str | None = None) -> int:
    """A task claude finished: status in_review, its branch pushed, a PR open (with orch's
    body unless `pr_body` is given, as a human would write it)."""
    labels = [Status.IN_REVIEW.label, "agent:claude", "complexity:simple"]
    number = int(emulator.add_issue("Say hello", "Add hello.txt", labels)["number"])
    branch = f"orch/{number}-say-hello"
    work = project.repo.work
    git("checkout", "-q", "-b", branch, cwd=work)
    (work / "hello.txt").write_text("hi\n")
    git("add", "hello.txt", cwd=work)
    git("commit", "-qm", "hello", cwd=work)
    git("push", "-q", "origin", branch, cwd=work)
    git("checkout", "-q", "main", cwd=work)
    body = (
        pr_body.format(number=number)
        if pr_body
        else (
            f"## Summary\n\nAdded hello.txt\n\nCloses #{number}\n\n"
            "<sub>Opened by orch: 🟣 Claude (haiku), attempt 1.</sub>"
        )
    )
    emulator.add_pr(branch, "Say hello", body, user="alice" if pr_body else "orch-bot")
    return number


def reviews(emulator: Emulator, number: int) -> list[dict[str, Any]]:
    found = []
    for comment in emulator.comments(number):
        marker = markers.parse(comment["body"])
        if marker and marker.kind == "review":
            found.append(marker.data)
    return found


def status(emulator: Emulator, number: int) -> list[str]:
    return [n for n in emulator.labels_of(number) if n.startswith("status:")]


def codex_calls(project: RunProject) -> list[dict[str, Any]]:
    return [c for c in project.calls() if "exec" in c["argv"]]


def head_sha(project: RunProject, branch: str) -> str:
    return git("rev-parse", f"refs/heads/{branch}", cwd=project.repo.origin).strip()


def test_approved_orch_pr_is_merged_and_the_task_done(
    project: RunProject, emulator: Emulator
) -> None:
    project.scenario(
        {"claude": author(), "codex": reviewer(verdict("approve", "Adds hello.txt as asked."))}
    )
    number = add_task(emulator)

    assert tick(project, "--wait") == [
        ("route", number, "routed"),
        ("dispatch", number, "dispatched"),
    ]
    (pr,) = emulator.pulls()
    sha = head_sha(project, pr["head"]["ref"])
    emulator.reset_log()

    waited = project.orch("tick", "--json", "--wait")
    rows = tick_actions(waited.out)
    assert [(r["phase"], r["task"], r["action"]) for r in rows] == [("review", number, "reviewing")]
    # How the review ended, and how long it has run (not the host's uptime).
    assert json.loads(waited.out)["ended"] == [
        {
            "repo": REPO,
            "task": number,
            "exit_code": 0,
            "status": "reviewed",
            "reason": "verdict: approve",
        }
    ]
    assert re.search(rf"waiting for {REPO}#{number} \(\d{{1,2}}s\)", waited.err), waited.err

    (review,) = reviews(emulator, number)
    assert review == {
        "v": 1,
        "decision": "approve",
        "head_sha": sha,
        "reviewer": "codex",
        "author": "claude",
        "model": "gpt-5.2",
        "summary": "Adds hello.txt as asked.",
        "notes": [],
        "cycle": 1,
        "pr": pr["number"],
    }
    (merge,) = emulator.matching("PUT", f"/repos/{REPO}/pulls/*/merge")
    assert (merge.path, merge.body) == (
        f"/repos/{REPO}/pulls/{pr['number']}/merge",
        {"merge_method": "rebase"},
    )
    # The reviewer saw the diff of the PR, read-only, in the task's worktree.
    (call,) = codex_calls(project)
    assert "+hello" in call["stdin"] and f"`git diff origin/main...{sha}`" in call["stdin"]
    assert "--add-dir" not in call["argv"]
    assert call["cwd"].endswith(f"worktrees/acme/widgets/{number}-say-hello")
    print("review tick requests:", emulator.count(), *emulator.log_lines(), sep="\n")

    assert tick(project) == [("merge", number, "marked done"), ("merge", number, "cleaned up")]
    assert status(emulator, number) == [Status.DONE.label]
    assert emulator.issue(number)["state"] == "closed"


def test_request_changes_reroutes_with_the_notes_then_only_the_new_head_is_reviewed(
    project: RunProject, emulator: Emulator
) -> None:
    project.configure(workflow={"auto_merge": False})
    note = "Greet the world by name in hello.txt"
    project.scenario(
        {
            "claude": [author(), author(note, text="hello world\n")],
            "codex": reviewer(
                verdict("request_changes", "Almost there.", [note]), verdict("approve", "Good now.")
            ),
        }
    )
    number = add_task(emulator)
    tick(project, "--wait")
    (pr,) = emulator.pulls()
    first = head_sha(project, pr["head"]["ref"])

    assert tick(project, "--wait") == [("review", number, "reviewing")]

    assert status(emulator, number) == [Status.ROUTED.label]
    assert [(r["decision"], r["head_sha"], r["notes"]) for r in reviews(emulator, number)] == [
        ("request_changes", first, [note])
    ]

    # The next attempt gets the notes (the fake claude refuses a prompt without them) and
    # pushes to the same branch: same PR, new head.
    assert tick(project, "--wait") == [("dispatch", number, "dispatched")]
    assert status(emulator, number) == [Status.IN_REVIEW.label]
    assert [p["number"] for p in emulator.pulls()] == [pr["number"]]
    second = head_sha(project, pr["head"]["ref"])
    assert second != first
    claude_calls = [c for c in project.calls() if "exec" not in c["argv"]]
    assert len(claude_calls) == 2 and "## Review of the last attempt" in claude_calls[1]["stdin"]

    assert tick(project, "--wait") == [("review", number, "reviewing")]
    assert [(r["decision"], r["head_sha"], r["cycle"]) for r in reviews(emulator, number)] == [
        ("request_changes", first, 1),
        ("approve", second, 2),
    ]
    # auto_merge is off: approved, left for a human to merge; never reviewed twice.
    assert status(emulator, number) == [Status.IN_REVIEW.label]
    assert emulator.count("PUT", f"/repos/{REPO}/pulls/*/merge") == 0
    assert tick(project) == []
    emulator.reset_log()
    assert tick(project) == []
    assert emulator.count() == 1, emulator.log_lines()  # a quiet tick: the snapshot only
    # Even with the state directory gone, the verdict on GitHub stops a second review.
    shutil.rmtree(project.state)
    assert tick(project, "--wait") == []
    assert len(codex_calls(project)) == 2


def test_more_change_requests_than_max_review_cycles_need_a_human(
    project: RunProject, emulator: Emulator
) -> None:
    project.configure(workflow={"max_review_cycles": 1})
    project.scenario(
        {"codex": reviewer(verdict("request_changes", "Still wrong.", ["Still wrong"]))}
    )
    number = in_review(project, emulator)
    # An earlier cycle asked for changes on an older head (the count lives on GitHub).
    earlier = {
        "decision": "request_changes",
        "head_sha": "0" * 40,
        "reviewer": "codex",
        "summary": "No.",
    }
    emulator.add_comment(number, markers.render("review", earlier, "changes requested"))

    assert tick(project, "--wait") == [("review", number, "reviewing")]

    assert status(emulator, number) == [Status.NEEDS_REVIEW.label]
    assert [(r["decision"], r.get("cycle")) for r in reviews(emulator, number)] == [
        ("request_changes", None),
        ("request_changes", 2),
    ]
    last = emulator.comments(number)[-1]["body"]
    assert (
        "**orch**: max review cycles (1) reached; the reviewer still asks for changes: Still wrong."
        in last
    )
    assert emulator.pulls()[0]["state"] == "open"


def test_reject_needs_a_human_with_the_summary(project: RunProject, emulator: Emulator) -> None:
    project.scenario({"codex": reviewer(verdict("reject", "This deletes the API."))})
    number = in_review(project, emulator)
    assert tick(project, "--dry-run") == [("review", number, "would review")]
    assert codex_calls(project) == []

    assert tick(project, "--wait") == [("review", number, "reviewing")]

    assert status(emulator, number) == [Status.NEEDS_REVIEW.label]
    (review,) = reviews(emulator, number)
    assert (review["decision"], review["summary"]) == ("reject", "This deletes the API.")
    assert (
        "the reviewer rejected the change: This deletes the API."
        in emulator.comments(number)[-1]["body"]
    )
    assert emulator.count("PUT", f"/repos/{REPO}/pulls/*/merge") == 0


def test_garbage_verdict_changes_nothing_and_is_retried_next_tick(
    project: RunProject, emulator: Emulator
) -> None:
    project.scenario(
        {"codex": reviewer(codex_answer("Looks good to me! Ship it."), verdict("approve", "Fine."))}
    )
    number = in_review(project, emulator)
    comments_before = len(emulator.comments(number))

    assert tick(project, "--wait") == [("review", number, "reviewing")]

    assert status(emulator, number) == [Status.IN_REVIEW.label]
    assert len(emulator.comments(number)) == comments_before  # no verdict, no comment
    assert emulator.count("PUT", f"/repos/{REPO}/pulls/*/merge") == 0
    # The issue did not change, yet the next tick reviews again.
    assert tick(project, "--wait") == [("review", number, "reviewing")]
    assert [r["decision"] for r in reviews(emulator, number)] == ["approve"]
    assert emulator.count("PUT", f"/repos/{REPO}/pulls/*/merge") == 1


def test_a_human_pr_is_reviewed_but_never_merged(project: RunProject, emulator: Emulator) -> None:
    project.scenario({"codex": reviewer(verdict("approve", "Fine."))})
    # A human's PR on a branch that looks like orch's, closing the task.
    number = in_review(project, emulator, pr_body="My change.\n\nCloses #{number}")
    (pr,) = emulator.pulls()

    assert tick(project, "--wait") == [("review", number, "reviewing")]

    assert [r["decision"] for r in reviews(emulator, number)] == ["approve"]
    assert emulator.count("PUT", f"/repos/{REPO}/pulls/*/merge") == 0
    assert [p["state"] for p in emulator.pulls()] == ["open"]
    assert status(emulator, number) == [Status.IN_REVIEW.label]
    assert (
        "approved; not a PR orch opened, so orch does not merge it"
        in emulator.comments(number)[-1]["body"]
    )
    assert emulator.pulls()[0]["number"] == pr["number"]


def test_the_tick_never_waits_for_the_reviewer(project: RunProject, emulator: Emulator) -> None:
    project.configure(workflow={"max_parallel": 1})
    project.scenario({"claude": author(), "codex": reviewer(verdict("approve", "Fine."), sleep=6)})
    number = in_review(project, emulator)

    started = time.monotonic()
    assert tick(project) == [("review", number, "reviewing")]
    elapsed = time.monotonic() - started
    assert elapsed < 5, elapsed  # the reviewer sleeps 6 s
    assert reviews(emulator, number) == []

    # While it reviews: no second review, and it counts against max_parallel (1).
    other = add_task(emulator, "Say bye")
    assert tick(project) == [("route", other, "routed"), ("dispatch", other, "wait")]
    assert wait_for(lambda: reviews(emulator, number) != [], timeout=30)
    assert [r["decision"] for r in reviews(emulator, number)] == ["approve"]
    assert len(codex_calls(project)) == 1


def test_a_reviewer_at_its_usage_limit_cools_down_and_another_reviews_next_tick(
    project: RunProject, emulator: Emulator
) -> None:
    project.configure(router={"disabled_agents": ["opencode"]})
    project.scenario(
        {
            "codex": {"steps": [{"stdout_file": "codex-usage-limit.jsonl"}, {"exit": 1}]},
            "claude": {
                "expect_argv_prefix": ["-p", "--output-format", "json"],
                "expect_argv_contains": [["--model", "sonnet"]],
                "expect_argv_lacks": ["bypassPermissions"],
                "steps": [
                    {
                        "stdout": claude_envelope(
                            {"decision": "approve", "summary": "Fine.", "notes": []}
                        )
                    }
                ],
            },
        }
    )
    number = in_review(project, emulator)

    assert tick(project, "--wait") == [("review", number, "reviewing")]

    assert reviews(emulator, number) == []
    cooling = project.orch("cooldown", "list", "--json")
    assert [c["key"] for c in json.loads(cooling.out)["cooldowns"]] == ["codex:gpt-5.2"], cooling
    # The author reviews rather than nobody.
    assert tick(project, "--wait") == [("review", number, "reviewing")]
    assert [(r["decision"], r["reviewer"], r["model"]) for r in reviews(emulator, number)] == [
        ("approve", "claude", "sonnet")
    ]


def test_a_reviewer_that_never_gives_a_verdict_hands_the_task_to_a_human(
    project: RunProject, emulator: Emulator
) -> None:
    project.scenario({"codex": reviewer(codex_answer("Hmm."))})
    number = in_review(project, emulator)
    sha = head_sha(project, f"orch/{number}-say-hello")
    # Two earlier reviews of this head on this host gave no verdict.
    for k in (1, 2):
        folder = project.task_dir(REPO, number) / "reviews" / str(k)
        folder.mkdir(parents=True)
        (folder / "meta.json").write_text(json.dumps({"head_sha": sha}))
        (folder / "result.json").write_text(
            json.dumps({"outcome": {"result": None, "error_class": "no_result"}})
        )

    assert tick(project, "--wait") == [("review", number, "reviewing")]
    assert status(emulator, number) == [Status.IN_REVIEW.label]

    assert tick(project) == [("review", number, "marked needs_review")]
    assert status(emulator, number) == [Status.NEEDS_REVIEW.label]
    assert (
        f"the reviewer gave no verdict 3 times for PR #2 at {sha[:12]}"
        in (emulator.comments(number)[-1]["body"])
    )
    assert len(codex_calls(project)) == 1
