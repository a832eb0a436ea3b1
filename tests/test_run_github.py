"""`orch task run` against the GitHub emulator with the real gh, real git and fake agents."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from orch.status import Status
from orch.task import markers
from tests.emulator.server import Emulator
from tests.helpers import Repo, git
from tests.run_helpers import FAKE_TOKEN, RunProject, claude_envelope, make_run_project, result_obj


@pytest.fixture
def project(gh_repo: Repo, gh_env: dict[str, str], tmp_path: Path) -> RunProject:
    return make_run_project(gh_repo, gh_env, tmp_path, "--repo", "acme/widgets")


def responses(emulator: Emulator, number: int) -> list[markers.Marker]:
    found = [markers.parse(c["body"]) for c in emulator.comments(number)]
    return [m for m in found if m and m.kind == "agent-response"]


def test_run_opens_pr_and_posts_one_comment_within_the_request_budget(
    project: RunProject, emulator: Emulator
) -> None:
    number = int(
        emulator.add_issue("Say hello", "Add hello.txt", [Status.NEW.label, "agent:claude"])[
            "number"
        ]
    )
    project.env["GH_TOKEN"] = FAKE_TOKEN  # orch's own token must never reach the agent
    project.scenario(
        {
            "claude": {
                "record": "calls/claude-{n}.json",
                "steps": [
                    {"write": "hello.txt", "text": "hello\n"},
                    {"stderr": f"debug: token={FAKE_TOKEN}\n"},
                    {
                        "stdout": claude_envelope(
                            result_obj(summary=f"Added hello.txt ({FAKE_TOKEN})")
                        )
                    },
                ],
            }
        }
    )
    project.env.pop("GH_TOKEN")  # gh itself uses the emulator's GH_ENTERPRISE_TOKEN
    project.env["MY_SERVICE_TOKEN"] = "very-secret-service-value"
    emulator.reset_log()

    done = project.orch("task", "run", str(number))

    assert done.code == 0, done
    requests = emulator.count()
    print("requests new->in_review:", requests, *emulator.log_lines(), sep="\n")
    assert requests <= 15, emulator.log_lines()
    branch = f"orch/{number}-say-hello"
    assert (
        branch
        in git("branch", "--list", "--format=%(refname:short)", cwd=project.repo.origin).split()
    )
    (pr,) = emulator.pulls()
    assert pr["state"] == "open" and pr["head"]["ref"] == branch and pr["base"]["ref"] == "main"
    assert f"Closes #{number}" in pr["body"].splitlines()
    assert sorted(emulator.labels_of(number)) == [
        "agent:claude",
        "model:sonnet",
        Status.IN_REVIEW.label,
    ]
    (response,) = responses(emulator, number)
    assert response.data["pr"] == pr["number"] and response.data["status"] == "done"
    assert "| Status | `done` → `status:in_review` |" in response.text.splitlines()
    # Nothing secret reached GitHub: no request body holds the token or the secret value.
    bodies = json.dumps([r.body for r in emulator.matching()], default=str)
    assert FAKE_TOKEN not in bodies and "very-secret-service-value" not in bodies
    assert "[REDACTED]" in bodies
    # The agent had no GitHub token of any kind.
    (call,) = project.calls()
    assert not [k for k in call["env"] if k in ("GH_TOKEN", "GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN")]


def test_github_down_while_publishing_then_publish_only_finishes_once(
    project: RunProject, emulator: Emulator
) -> None:
    number = int(emulator.add_issue("Flaky", "x", [Status.NEW.label, "agent:claude"])["number"])
    project.scenario(
        {
            "claude": {
                "steps": [
                    {"write": "f.txt", "text": "f\n"},
                    {"stdout": claude_envelope(result_obj())},
                ]
            }
        }
    )
    # Every comment write fails for a while (GitHub down for that endpoint).
    emulator.server_error(
        None,
        status=502,
        until=time.time() + 3600,
        method="POST",
        path=f"/repos/acme/widgets/issues/{number}/comments",
    )

    failed = project.orch("task", "run", str(number))

    assert failed.code == 1, failed
    assert failed.err.startswith(
        f"orch: task #{number}: attempt 1 ran but publishing stopped: GitHub "
    )
    assert failed.err.endswith(
        f"`orch task run --publish-only {number}` (or the next tick) finishes it\n"
    )
    assert responses(emulator, number) == []
    assert len(emulator.pulls()) == 1  # PR was opened before the comment step failed
    emulator.clear_faults()

    first = project.orch("task", "run", "--publish-only", str(number))
    second = project.orch("task", "run", "--publish-only", str(number))

    assert first.code == 0, first
    assert first.out.startswith(f"#{number} ran status:in_review attempt 1")
    assert second.out == f"#{number} nothing: no unpublished attempt\n"
    assert len(responses(emulator, number)) == 1
    assert len(emulator.pulls()) == 1
    assert Status.IN_REVIEW.label in emulator.labels_of(number)


def test_done_with_no_commit_is_never_success(project: RunProject, emulator: Emulator) -> None:
    """SPEC §12: an agent's "done" that changed nothing goes to a human; the issue stays open."""
    number = int(
        emulator.add_issue("Say hello", "Add hello.txt", [Status.NEW.label, "agent:claude"])[
            "number"
        ]
    )
    project.scenario(
        {
            "claude": {
                "steps": [
                    {"stdout": claude_envelope(result_obj(summary="Added hello.txt as asked"))},
                ]
            }
        }
    )

    done = project.orch("task", "run", str(number))

    assert done.code == 0, done
    assert done.out.startswith(f"#{number} ran status:needs_review attempt 1"), done
    issue = emulator.issue(number)
    assert issue["state"] == "open"
    assert sorted(emulator.labels_of(number)) == [
        "agent:claude",
        "model:sonnet",
        Status.NEEDS_REVIEW.label,
    ]
    assert emulator.pulls() == []
    assert project.origin_branches() == ["main"]
    (response,) = responses(emulator, number)
    assert response.data["status"] == "done" and response.data["task_status"] == "needs_review"
    lines = response.text.splitlines()
    assert lines[0] == "### 🟣 Claude: Added hello.txt as asked"  # the agent's summary
    assert "| Status | `done` → `status:needs_review` |" in lines
    assert "- Reason: the agent reported done but changed nothing" in lines


def test_unknown_agent_label_is_one_note_and_no_claim_over_ticks(
    project: RunProject, emulator: Emulator
) -> None:
    """Issue #10: `agent:nosuchagent` used to post a claim every tick, start a supervisor that
    exited 2, and drop the claim on the next tick, forever."""
    number = int(
        emulator.add_issue(
            "Ghost", "x", [Status.ROUTED.label, "agent:nosuchagent", "complexity:simple"]
        )["number"]
    )

    first = project.orch("tick")
    emulator.reset_log()
    later = [project.orch("tick") for _ in range(2)]

    assert first.code == 0, first
    assert first.out.endswith(
        f"dispatch #{number} marked needs_review: agent 'nosuchagent' is not configured "
        "(configured agents: claude, codex, opencode); use `/assign AGENT` or fix the agent: label\n"
    ), first
    assert [(t.code, t.out) for t in later] == [(0, ""), (0, "")]
    assert emulator.count() == 2, emulator.log_lines()  # quiet ticks: the snapshot alone
    found = [markers.parse(c["body"]) for c in emulator.comments(number)]
    assert [m.kind for m in found if m] == ["status"]  # one note; no claim was ever posted
    assert emulator.issue(number)["state"] == "open"
    assert sorted(emulator.labels_of(number)) == [
        "agent:nosuchagent",
        "complexity:simple",
        Status.NEEDS_REVIEW.label,
    ]
