"""Contract tests: the REAL claude, codex and opencode CLIs, driven with the exact
invocation orch builds, against a fake model server on 127.0.0.1 (tests/contract/).

The CLIs are looked up in ORCH_CONTRACT_BIN (a node_modules/.bin made by `npm install
@anthropic-ai/claude-code @openai/codex opencode-ai`; `.ci/run` makes one), else on PATH.
A missing CLI skips its tests on a developer's machine and FAILS them in CI (CI=true).
Each test asserts that the CLI starts with orch's argv, talks to the model, and that
orch parses its output into the expected result; run mode also checks the commit the
CLI's own shell tool made in a linked git worktree.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orch.agents import BuildRequest, adapter_for
from orch.agents.base import AgentOutcome
from orch.agents.result import schema_for
from orch.config.model import Config, load_config
from tests.contract.clis import CLIS, cli_env, need
from tests.contract.fake_model import RESULT, ROUTE_ANSWER, FakeModel
from tests.helpers import git

pytestmark = pytest.mark.contract


@pytest.fixture(scope="module")
def model() -> Iterator[FakeModel]:
    server = FakeModel().start()
    yield server
    server.stop()


@pytest.fixture
def place(tmp_path: Path) -> Iterator[Path]:
    """A scratch directory OUTSIDE /tmp: codex's workspace-write sandbox makes /tmp
    writable, which would hide a missing --add-dir (reference/clients.md §7.2)."""
    base = Path.home() / ".cache" / "orch-contract" / uuid.uuid4().hex[:12]
    base.mkdir(parents=True)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def worktree(place: Path) -> tuple[Path, Path]:
    """A checkout with a linked worktree (as orch runs agents); returns (worktree, main .git)."""
    main = place / "main"
    main.mkdir()
    git("init", "-q", "-b", "main", cwd=main)
    (main / "NOTES.md").write_text("notes\n")
    git("add", "NOTES.md", cwd=main)
    git("commit", "-qm", "initial", cwd=main)
    wt = place / "wt"
    git("worktree", "add", "-q", "-b", "orch/1-task", str(wt), cwd=main)
    return wt, main / ".git"


def config() -> Config:
    return load_config(None, None)


def run(
    name: str, mode: str, place: Path, model: FakeModel, *, with_main_git: bool = True
) -> tuple[AgentOutcome, Path, Any]:
    need(name)
    cfg = config()
    wt, main_git = worktree(place)
    work_dir = place / "attempt"
    work_dir.mkdir()
    models = {"claude": "sonnet", "codex": "gpt-5.2", "opencode": "fake/fake-model"}
    adapter = adapter_for(cfg.agents[name], cfg)
    invocation = adapter.build(
        BuildRequest(
            mode=mode,  # type: ignore[arg-type]
            prompt=(
                "You are the router of orch. Route task #1."
                if mode == "route"
                else "Task #1: append a line to NOTES.md and commit."
            ),
            system_prompt="" if mode == "route" else "You are a careful engineer.",
            model=models[name],
            cwd=wt,
            work_dir=work_dir,
            main_git_dir=main_git if mode == "run" and with_main_git else None,
            schema=schema_for(mode),
            env_base=cli_env(place, model, name),
        )
    )
    assert "GH_TOKEN" not in invocation.env
    for path, text in invocation.files.items():
        path.write_text(text)
    argv = list(invocation.argv)
    argv[0] = need(argv[0])
    done = subprocess.run(
        argv,
        input=invocation.stdin,
        cwd=invocation.cwd,
        env=dict(invocation.env),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    output = (
        invocation.output_file.read_text()
        if invocation.output_file and invocation.output_file.exists()
        else None
    )
    outcome = adapter.parse(
        done.returncode, done.stdout, done.stderr, output_file_text=output, mode=mode
    )  # type: ignore[arg-type]
    return outcome, wt, done


@pytest.mark.parametrize("name", CLIS)
def test_route_mode(name: str, place: Path, model: FakeModel) -> None:
    outcome, _, done = run(name, "route", place, model)
    assert (outcome.error_class, outcome.result) == (None, ROUTE_ANSWER), (
        f"exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    assert outcome.session_id


@pytest.mark.parametrize("name", CLIS)
def test_run_mode_commits_in_the_worktree(name: str, place: Path, model: FakeModel) -> None:
    before = len(model.requests)
    outcome, wt, done = run(name, "run", place, model)
    report = f"exit {done.returncode}\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-3000:]}"
    assert outcome.error_class is None, report
    assert outcome.result == RESULT, report
    assert (wt / "NOTES.md").read_text() == "notes\nedited by fake model\n", report
    log = git("log", "--format=%s", cwd=wt).splitlines()
    assert log[0] == "fake model edit", report
    sent = [json.dumps(body) for _, body in model.requests[before:]]
    assert len(sent) >= 2  # a tool turn and an answer turn
    assert any("You are a careful engineer." in text for text in sent)  # the system prompt
    assert any("append a line to NOTES.md" in text for text in sent)  # the prompt (stdin)
    assert outcome.permission_denials == ()


def test_codex_cannot_commit_in_a_worktree_without_add_dir(place: Path, model: FakeModel) -> None:
    """Why orch passes --add-dir (SPEC §6.3): workspace-write keeps .git read-only, the
    commit fails silently, codex still exits 0 and reports done."""
    outcome, wt, done = run("codex", "run", place, model, with_main_git=False)
    assert done.returncode == 0
    assert outcome.result == RESULT
    assert (wt / "NOTES.md").read_text() == "notes\nedited by fake model\n"
    assert git("log", "--format=%s", cwd=wt).splitlines() == ["initial"]
    assert git("status", "--porcelain", cwd=wt) == " M NOTES.md\n"


AUTH_ERRORS = {
    "claude": {
        "type": "error",
        "error": {"type": "authentication_error", "message": "invalid x-api-key"},
    },
    "codex": {
        "error": {
            "message": "Incorrect API key provided: sk-fake.",
            "type": "invalid_request_error",
            "code": "invalid_api_key",
        }
    },
    "opencode": {
        "error": {
            "message": "Incorrect API key provided: sk-fake.",
            "type": "invalid_request_error",
            "code": "invalid_api_key",
        }
    },
}


@pytest.mark.parametrize("name", CLIS)
def test_rejected_key_classifies_as_auth(name: str, place: Path, model: FakeModel) -> None:
    model.fault = (401, AUTH_ERRORS[name])
    try:
        outcome, _, done = run(name, "route", place, model)
    finally:
        model.fault = None
    report = f"exit {done.returncode}\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-2000:]}"
    assert done.returncode == 1, report
    assert (outcome.error_class, outcome.result) == ("auth", None), report


FAILURES = [
    # cli, HTTP status, error body, expected class
    (
        "claude",
        429,
        {
            "type": "error",
            "error": {
                "type": "rate_limit_error",
                "message": "This request would exceed the rate limit for your organization.",
            },
        },
        "rate_limit",
    ),
    (
        "claude",
        400,
        {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "message": "Your credit balance is too low to access the Anthropic API.",
            },
        },
        "usage_limit",
    ),
    (
        "claude",
        529,
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
        "overloaded",
    ),
    (
        "codex",
        429,
        {
            "error": {
                "message": "Rate limit reached",
                "type": "requests",
                "code": "rate_limit_exceeded",
            }
        },
        "rate_limit",
    ),
    (
        "codex",
        429,
        {
            "error": {
                "message": "You exceeded your current quota.",
                "type": "insufficient_quota",
                "code": "insufficient_quota",
            }
        },
        "usage_limit",
    ),
    (
        "opencode",
        429,
        {
            "error": {
                "message": "You exceeded your current quota, please check your plan "
                "and billing details.",
                "type": "insufficient_quota",
                "code": "insufficient_quota",
            }
        },
        "usage_limit",
    ),
]


@pytest.mark.parametrize(
    ("name", "status", "body", "expected"),
    FAILURES,
    ids=[f"{f[0]}-{f[1]}-{f[3]}" for f in FAILURES],
)
def test_api_failures_classify(
    name: str, status: int, body: dict[str, Any], expected: str, place: Path, model: FakeModel
) -> None:
    model.fault = (status, body)
    try:
        outcome, _, done = run(name, "route", place, model)
    finally:
        model.fault = None
    report = f"exit {done.returncode}\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-2000:]}"
    assert done.returncode != 0, report
    assert (outcome.error_class, outcome.result) == (expected, None), report


def test_claude_review_mode_cannot_change_the_worktree(place: Path, model: FakeModel) -> None:
    """A reviewer runs without bypassPermissions: the fake model's edit-and-commit is
    refused (reported in permission_denials) and the worktree stays as it was."""
    outcome, wt, done = run("claude", "review", place, model)
    report = f"exit {done.returncode}\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-2000:]}"
    assert (outcome.error_class, outcome.result) == (None, RESULT), report
    assert [d["tool_name"] for d in outcome.permission_denials] == ["Bash"], report
    assert (wt / "NOTES.md").read_text() == "notes\n"
    assert git("log", "--format=%s", cwd=wt).splitlines() == ["initial"]
