"""Mentions (SPEC §12): a maintainer's `@orch …` on a plain issue makes it a task; `@orch
review` on a human's PR posts one verdict and merges nothing; anyone else's mention does
nothing. Real gh against the emulator (its issue search), fake agents, real git."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from orch.status import Status
from orch.task import markers
from tests.emulator.server import Emulator
from tests.helpers import Repo, git, tick_actions
from tests.run_helpers import (
    RunProject,
    claude_envelope,
    make_run_project,
    result_obj,
    wait_for,
)


@pytest.fixture
def project(gh_repo: Repo, gh_env: dict[str, str], tmp_path: Path) -> RunProject:
    p = make_run_project(gh_repo, gh_env, tmp_path, "--repo", "acme/widgets")
    p.configure(workflow={"enable_review_agent": True, "auto_merge": True})
    return p


def _tick(project: RunProject, *args: str) -> list[tuple[str, Any, str]]:
    done = project.orch("tick", "--json", *args)
    assert done.code == 0, done
    rows = tick_actions(done.out)
    return [(r["phase"], r["task"], r["action"]) for r in rows]


def _kinds(emulator: Emulator, number: int, kind: str) -> list[markers.Marker]:
    found = [markers.parse(c["body"]) for c in emulator.comments(number)]
    return [m for m in found if m is not None and m.kind == kind]


def test_maintainer_mention_makes_a_task_that_reaches_review(
    project: RunProject, emulator: Emulator
) -> None:
    emulator.add_user("alice", permission="write")
    emulator.add_user("bob")
    plain = int(emulator.add_issue("Typo in README", "It says 'teh'.")["number"])
    other = int(emulator.add_issue("Idea", "Maybe later.")["number"])
    emulator.add_comment(other, "@orch please do this", user="bob")
    emulator.add_comment(plain, "@orch fix the typo, keep the rest as is", user="alice")
    project.scenario(
        {
            "claude": {
                "expect_stdin_contains": ["fix the typo, keep the rest as is"],
                "steps": [
                    {"write": "README.md", "text": "# the widgets\n"},
                    {"stdout": claude_envelope(result_obj())},
                ],
            },
        }
    )
    project.configure(
        workflow={"enable_review_agent": False, "auto_merge": False},
        router={"mode": "fixed", "fallback_executor": "claude"},
    )

    actions = _tick(project, "--wait")

    assert actions[0] == ("mention", plain, "taken in")
    assert ("dispatch", plain, "dispatched") in actions
    assert Status.IN_REVIEW.label in emulator.labels_of(plain)
    (ack,) = _kinds(emulator, plain, "ack")
    assert ack.data["context"] == "fix the typo, keep the rest as is"
    assert ack.text == "@alice On it: this issue is now an orch task (status new)."
    # Bob's mention: nothing, then or after the state directory is gone.
    assert emulator.labels_of(other) == [] and len(emulator.comments(other)) == 1
    shutil.rmtree(project.state / "repos")
    assert _tick(project) == []
    assert emulator.labels_of(other) == [] and len(_kinds(emulator, plain, "ack")) == 1

    emulator.reset_log()
    quiet = project.orch("tick")
    assert (quiet.code, quiet.out) == (0, "")
    assert emulator.count() == 1, emulator.log_lines()


def _human_pr(project: RunProject, emulator: Emulator) -> int:
    work = project.repo.work
    git("checkout", "-q", "-b", "alice/feature", cwd=work)
    (work / "feature.py").write_text("print('feature')\n")
    git("add", "feature.py", cwd=work)
    git("commit", "-qm", "feature", cwd=work)
    git("push", "-q", "origin", "alice/feature", cwd=work)
    git("checkout", "-q", "main", cwd=work)
    return int(emulator.add_pr("alice/feature", "A feature", "My change", user="alice")["number"])


def test_orch_review_on_a_human_pr_posts_one_verdict_and_merges_nothing(
    project: RunProject, emulator: Emulator
) -> None:
    emulator.add_user("alice", permission="write")
    emulator.add_user("bob")
    pr = _human_pr(project, emulator)
    head = emulator.pull(pr)["head"]["sha"]
    emulator.add_comment(pr, "@orch review", user="bob")
    emulator.add_comment(pr, "@orch review please", user="alice")
    answer = {"decision": "approve", "summary": "Small and fine.", "notes": []}
    project.scenario(
        {
            "claude": {
                "expect_stdin_contains": ["git diff", "+print('feature')"],
                "record": "calls/claude-{n}.json",
                "steps": [{"stdout": claude_envelope(answer)}],
            }
        }
    )

    assert _tick(project, "--wait") == [("mention", pr, "reviewing")]

    (review,) = _kinds(emulator, pr, "review")
    assert review.data.get("summary") == "Small and fine.", review
    assert review.data["decision"] == "approve" and review.data["head_sha"] == head
    assert review.data["comment_id"] == emulator.comments(pr)[1]["id"]
    assert "Small and fine." in review.text
    assert emulator.pull(pr)["merged"] is False and emulator.pull(pr)["state"] == "open"
    origin_head = git("rev-parse", "refs/heads/alice/feature", cwd=project.repo.origin)
    assert origin_head.strip() == head  # nothing pushed to alice's branch
    assert emulator.labels_of(pr) == []

    shutil.rmtree(project.state / "repos")
    assert _tick(project) == []  # once
    assert len(_kinds(emulator, pr, "review")) == 1
    assert len(project.calls()) == 1


def test_the_tick_never_waits_for_a_mention_review(
    project: RunProject, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.add_user("alice", permission="write")
    pr = _human_pr(project, emulator)
    emulator.add_comment(pr, "@orch review", user="alice")
    gate = tmp_path / "let-the-reviewer-answer"
    answer = {"decision": "comment", "summary": "Looked.", "notes": []}
    project.scenario(
        {
            "claude": {
                "record": "calls/claude-{n}.json",
                "steps": [
                    {"run": f"while [ ! -e '{gate}' ]; do sleep 0.05; done"},
                    {"stdout": claude_envelope(answer)},
                ],
            }
        }
    )

    mention = emulator.comments(pr)[-1]["id"]
    dry = project.orch("task", "review", str(pr), "--mention", str(mention), "--dry-run")
    assert (dry.code, dry.out) == (0, f"would review pull request #{pr} for comment {mention}\n")
    assert project.calls() == []

    # The reviewer waits for the gate, so a tick that waited for it would never end.
    assert _tick(project) == [("mention", pr, "reviewing")]
    assert _kinds(emulator, pr, "review") == []
    live = project.orch("task", "live", "--json")
    assert [t["number"] for t in json.loads(live.out)["live"]] == [pr], live
    assert _tick(project) == []  # while it reviews: nothing started twice

    gate.touch()
    assert wait_for(lambda: len(_kinds(emulator, pr, "review")) == 1)
    assert wait_for(lambda: json.loads(project.orch("task", "live", "--json").out)["live"] == [])
    assert _tick(project) == []
    assert len(_kinds(emulator, pr, "review")) == 1 and len(project.calls()) == 1


def test_a_mention_is_looked_at_once_while_the_tick_reads_it_again(
    project: RunProject, emulator: Emulator
) -> None:
    """A warm tick reads a little before its last read (a margin for GitHub's late
    changes), so it brings a recent mention twice: only the first look asks who wrote it."""
    emulator.add_user("carol", permission="triage")  # a collaborator who may not steer orch
    plain = int(emulator.add_issue("Idea", "Maybe.")["number"])
    assert _tick(project) == []  # a cold read; the cache is warm from here on
    emulator.add_comment(plain, "@orch please do this", user="carol")

    emulator.reset_log()
    assert _tick(project) == []
    assert emulator.count(path="/repos/acme/widgets/collaborators/carol/permission") == 1
    emulator.reset_log()
    assert _tick(project) == []
    assert emulator.log_lines() == ["POST /graphql OrchSnapshot -> 200"]
    assert emulator.labels_of(plain) == [] and len(emulator.comments(plain)) == 1
