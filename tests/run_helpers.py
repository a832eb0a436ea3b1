"""Helpers for the `orch task run` tests: a project with fake agents, results, inspection."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from orch.task import markers
from tests.fakes import install_fake_agents, write_scenario
from tests.helpers import Repo, Result, git, run_orch

FAKE_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


def result_obj(status: str = "done", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "status": status,
        "summary": "Added hello.txt",
        "reason": "",
        "accomplished": ["wrote hello.txt"],
        "remaining": [],
        "blockers": [],
        "files_changed": ["hello.txt"],
        "needs_help": False,
        "learnings": ["the project has no tests"],
    }
    data.update(extra)
    return data


def claude_envelope(result: dict[str, Any], *, cost: float = 0.0123) -> str:
    """claude's `--output-format json` success object with a structured result."""
    return (
        json.dumps(
            {
                "type": "result",
                "subtype": "success",
                "is_error": False,
                "num_turns": 3,
                "result": json.dumps(result),
                "structured_output": result,
                "session_id": "s-1",
                "total_cost_usd": cost,
                "usage": {"input_tokens": 1200, "output_tokens": 340},
                "permission_denials": [],
                "terminal_reason": "completed",
            }
        )
        + "\n"
    )


@dataclass
class RunProject:
    """A checkout with a bare origin, orch initialised, and fake agents on PATH."""

    repo: Repo
    env: dict[str, str]
    bin: Path
    home: Path

    def orch(self, *args: str, timeout: float = 120) -> Result:
        return run_orch(*args, cwd=self.repo.work, env=self.env, timeout=timeout)

    def orch_input(self, text: str, *args: str, timeout: float = 120) -> Result:
        """`orch ARGS` with `text` on its stdin (answers to its questions)."""
        return run_orch(*args, cwd=self.repo.work, env=self.env, input=text, timeout=timeout)

    def scenario(self, data: dict[str, Any]) -> None:
        write_scenario(self.bin / "scenario.json", data)

    def configure(self, **sections: Any) -> None:
        path = self.repo.work / ".orch.yml"
        config = yaml.safe_load(path.read_text()) or {}
        for key, value in sections.items():
            if isinstance(value, dict):
                config.setdefault(key, {}).update(value)
            else:
                config[key] = value
        path.write_text(yaml.safe_dump(config))

    @property
    def state(self) -> Path:
        return self.home / "state"

    def task_dir(self, repo: str, number: int) -> Path:
        return self.state / "repos" / repo / "tasks" / str(number)

    def sidecar(self, repo: str, number: int) -> dict[str, Any]:
        path = self.state / "repos" / repo / "tasks" / f"{number}.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def calls(self) -> list[dict[str, Any]]:
        folder = self.bin / "calls"
        return (
            [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
            if folder.is_dir()
            else []
        )

    def origin_branches(self) -> list[str]:
        out = git("for-each-ref", "--format=%(refname:short)", "refs/heads", cwd=self.repo.origin)
        return sorted(out.split())

    def origin_files(self, branch: str) -> list[str]:
        return sorted(git("ls-tree", "-r", "--name-only", branch, cwd=self.repo.origin).split())


def make_run_project(
    repo: Repo, env: dict[str, str], tmp_path: Path, *init_args: str
) -> RunProject:
    bin_dir = tmp_path / "bin"
    install_fake_agents(bin_dir)
    env = dict(env)
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    project = RunProject(repo=repo, env=env, bin=bin_dir, home=Path(env["ORCH_HOME"]))
    if init_args is not None:
        done = project.orch("init", *init_args)
        assert done.code == 0, done
    return project


def agent_responses(comments: list[Any]) -> list[markers.Marker]:
    found = []
    for comment in comments:
        body = comment["body"] if isinstance(comment, dict) else comment.body
        marker = markers.parse(body)
        if marker and marker.kind == "agent-response":
            found.append(marker)
    return found


def wait_for(predicate: Any, timeout: float = 20.0, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False
