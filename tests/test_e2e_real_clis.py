"""One `orch tick --wait` per REAL agent CLI, end to end: the real claude, codex and
opencode (tests/contract/clis.py finds them) talk to the scripted fake model
(tests/contract/fake_model.py), orch talks to the GitHub emulator through the real gh.

Turn 1 of the fake model calls the CLI's own shell tool: dump the agent's environment
into the worktree's private git dir (never committed), append to NOTES.md and commit.
Turn 2 answers the result JSON orch's prompt asks for. Each run must leave: the edit on
the task's branch on the bare origin, one PR with `Closes #N`, one result comment,
`status:in_review`, the user's checkout untouched, and no GitHub token in the agent's
shell. Skipped without the CLIs on a developer's machine, failed in CI.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from orch.status import Status
from orch.task import markers
from tests.contract.clis import CLIS, cli_env, need
from tests.contract.fake_model import FakeModel
from tests.emulator.server import Emulator
from tests.helpers import Repo, git, run_orch

pytestmark = pytest.mark.contract

REPO = "acme/widgets"
ENV_DUMP = "agent-env.txt"
EDIT = (
    f'env > "$(git rev-parse --git-dir)/{ENV_DUMP}" && '
    "printf '%s\\n' \"edited by fake model\" >> NOTES.md && git add NOTES.md && "
    'git commit -qm "fake model edit"'
)
MODELS = {"claude": "sonnet", "codex": "gpt-5.2", "opencode": "fake/fake-model"}


@pytest.fixture(scope="module")
def model() -> Iterator[FakeModel]:
    server = FakeModel().start()
    server.shell_command = EDIT
    yield server
    server.stop()


def configure(work: Path, name: str) -> None:
    """Only `name` is an agent; the task's labels skip routing."""
    path = work / ".orch.yml"
    config = yaml.safe_load(path.read_text())
    config["agents"] = {other: None for other in CLIS if other != name}
    config["model_map"] = {"simple": {name: MODELS[name]}}
    config["router"] = {"mode": "round_robin", "agent": name, "fallback_executor": name}
    path.write_text(yaml.safe_dump(config))


def responses(emulator: Emulator, number: int) -> list[markers.Marker]:
    found = [markers.parse(c["body"]) for c in emulator.comments(number)]
    return [m for m in found if m and m.kind == "agent-response"]


@pytest.mark.parametrize("name", CLIS)
def test_tick_runs_the_real_cli_to_a_pull_request(
    name: str,
    model: FakeModel,
    gh_repo: Repo,
    gh_env: dict[str, str],
    emulator: Emulator,
    tmp_path: Path,
) -> None:
    need(name)
    env = {**gh_env, **cli_env(tmp_path, model, name)}
    work = gh_repo.work
    configure(work, name)
    done = run_orch("init", "--repo", REPO, cwd=work, env=env)
    assert done.code == 0, done
    head = git("rev-parse", "HEAD", cwd=work)
    before = git("status", "--porcelain", cwd=work)
    labels = [Status.NEW.label, f"agent:{name}", "complexity:simple"]
    number = int(emulator.add_issue("Add a note", "Append a line to NOTES.md.", labels)["number"])

    started = time.monotonic()
    # A separate process so the timeout bounds real agents that might hang.
    done = run_orch("tick", "--wait", cwd=work, env=env, timeout=240, subprocess=True)
    elapsed = time.monotonic() - started

    state = Path(env["ORCH_HOME"]) / "state"
    worktree = state / "worktrees" / REPO / f"{number}-add-a-note"
    log = state / "repos" / REPO / "tasks" / str(number) / "supervisor.log"
    report = f"{done}\n--- supervisor.log\n{log.read_text() if log.exists() else '(none)'}"
    assert done.code == 0, report
    print(f"e2e {name}: tick --wait took {elapsed:.1f}s")
    branch = f"orch/{number}-add-a-note"
    assert git("show", f"{branch}:NOTES.md", cwd=gh_repo.origin) == "edited by fake model\n", report
    assert "fake model edit" in git("log", "--format=%s", f"main..{branch}", cwd=gh_repo.origin)
    pulls = [p for p in emulator.pulls() if p["head"]["ref"] == branch]
    assert len(pulls) == 1, pulls
    assert f"Closes #{number}" in pulls[0]["body"].splitlines()
    (response,) = responses(emulator, number)
    assert (response.data["agent"], response.data["status"], response.data["pr"]) == (
        name,
        "done",
        pulls[0]["number"],
    )
    assert [n for n in emulator.labels_of(number) if n.startswith("status:")] == [
        Status.IN_REVIEW.label
    ]
    # The user's checkout: same commit, same files.
    assert git("rev-parse", "HEAD", cwd=work) == head
    assert git("status", "--porcelain", cwd=work) == before
    assert not (work / "NOTES.md").exists()
    # The agent's shell: in the worktree, with no GitHub credential of any kind.
    git_dir = Path(git("rev-parse", "--absolute-git-dir", cwd=worktree).strip())
    agent_env = dict(
        line.split("=", 1) for line in (git_dir / ENV_DUMP).read_text().splitlines() if "=" in line
    )
    assert agent_env.get("PWD") == str(worktree)
    assert emulator.token not in json.dumps(agent_env)
    assert env["GH_TOKEN"] not in json.dumps(agent_env)
    leaked = [k for k in agent_env if k.startswith(("GH_", "GITHUB_")) and "TOKEN" in k]
    assert leaked == []
