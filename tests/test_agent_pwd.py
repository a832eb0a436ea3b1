"""Every agent process works in its worktree by `$PWD` as well as by the OS cwd.

opencode takes its directory from `$PWD`; the fake agents do the same (tests/fakes), and
`run_orch` starts orch with `PWD` = the user's checkout, as a shell does. An agent started
with the caller's PWD edits and commits in the user's checkout: these tests then see the
checkout changed and no branch on origin. Route (router_agent), run (the detached
supervisor of `orch tick`) and review (the detached reviewer) are all covered.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orch.status import Status
from tests.emulator.server import Emulator
from tests.helpers import Repo, git, tick_actions
from tests.run_helpers import RunProject, make_run_project, result_obj

REPO = "acme/widgets"
EDIT = "printf 'by opencode\\n' >> hello.txt && git add hello.txt && git commit -qm 'opencode edit'"


def opencode_says(text: str) -> str:
    """`opencode run --format json` output whose final text is `text`."""
    session = "ses_pwd"
    events = [
        {
            "type": "step_start",
            "sessionID": session,
            "part": {"messageID": "msg_1", "type": "step-start"},
        },
        {
            "type": "text",
            "sessionID": session,
            "part": {"messageID": "msg_1", "type": "text", "text": text},
        },
        {
            "type": "step_finish",
            "sessionID": session,
            "part": {
                "messageID": "msg_1",
                "type": "step-finish",
                "reason": "stop",
                "tokens": {
                    "input": 10,
                    "output": 5,
                    "reasoning": 0,
                    "cache": {"read": 0, "write": 0},
                },
                "cost": 0,
            },
        },
    ]
    return "".join(json.dumps(e) + "\n" for e in events)


def call(kind: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "expect_argv_prefix": ["run", "--format", "json", "--dir"],
        "record": f"calls/{kind}-{{n}}.json",
        "steps": steps,
    }


@pytest.fixture
def project(gh_repo: Repo, gh_env: dict[str, str], tmp_path: Path) -> RunProject:
    p = make_run_project(gh_repo, gh_env, tmp_path, "--repo", REPO)
    p.configure(  # opencode is the only agent: router, coder and reviewer
        agents={"claude": None, "codex": None},
        router={
            "mode": "llm",
            "agent": "opencode",
            "model": "fake/router",
            "fallback_executor": "opencode",
        },
        model_map={"simple": {"opencode": "fake/small"}, "review": {"opencode": "fake/review"}},
        workflow={"enable_review_agent": True},
    )
    git("add", ".orch.yml", cwd=p.repo.work)
    git("commit", "-qm", "orch config", cwd=p.repo.work)
    git("push", "-q", "origin", "main", cwd=p.repo.work)
    return p


def tick(project: RunProject) -> list[tuple[str, Any, str]]:
    done = project.orch("tick", "--json", "--wait")
    assert done.code == 0, done
    rows = tick_actions(done.out)
    return [(r["phase"], r["task"], r["action"]) for r in rows]


def test_route_run_and_review_all_work_in_the_worktree(
    project: RunProject, emulator: Emulator
) -> None:
    number = int(
        emulator.add_issue("Say hello", "Add a line to hello.txt", [Status.NEW.label])["number"]
    )
    route = {"executor": "opencode", "complexity": "simple", "reason": "small"}
    review = {"decision": "approve", "summary": "Looks right.", "notes": []}
    project.scenario(
        {
            "opencode": [
                call("route", [{"stdout": opencode_says(json.dumps(route))}]),
                call(
                    "run",
                    [
                        {"run": EDIT, "check": True},
                        {"stdout": opencode_says(json.dumps(result_obj()))},
                    ],
                ),
                call("review", [{"stdout": opencode_says(json.dumps(review))}]),
            ]
        }
    )
    work = project.repo.work
    head = git("rev-parse", "HEAD", cwd=work)

    rows = tick(project)
    rows += tick(project)

    # The edit and its commit landed on the task's branch, never in the user's checkout.
    assert git("rev-parse", "HEAD", cwd=work) == head
    assert git("status", "--porcelain", cwd=work) == ""
    assert not (work / "hello.txt").exists()
    assert ("dispatch", number, "dispatched") in rows
    assert ("review", number, "reviewing") in rows
    branch = f"orch/{number}-say-hello"
    assert (
        git("log", "--format=%s", f"main..{branch}", cwd=project.repo.origin).split("\n")[0]
        == "opencode edit"
    )
    assert git("show", f"{branch}:hello.txt", cwd=project.repo.origin) == "by opencode\n"
    assert len(project.calls()) == 3, project.calls()
    route_call, run_call, review_call = sorted(project.calls(), key=lambda c: c["call"])
    worktree = project.state / "worktrees" / REPO / f"{number}-say-hello"
    for one in (run_call, review_call):
        assert one["env"]["PWD"] == one["cwd"] == str(worktree)
        assert one["argv"][one["argv"].index("--dir") + 1] == str(worktree)
    assert route_call["env"]["PWD"] == route_call["cwd"] != str(work)
