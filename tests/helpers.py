"""Test helpers shared by every test module: real git repos and running the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Owner",
    "GIT_AUTHOR_EMAIL": "owner@example.com",
    "GIT_COMMITTER_NAME": "Test Owner",
    "GIT_COMMITTER_EMAIL": "owner@example.com",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
}


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, **GIT_IDENTITY, "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout


@dataclass(frozen=True)
class Repo:
    work: Path  # the user's checkout
    origin: Path  # the bare "remote"


def make_repo(base: Path, name: str = "widgets") -> Repo:
    """A checkout with one commit on main, pushed to a bare origin beside it."""
    origin = base / f"{name}-origin.git"
    work = base / name
    git("init", "-q", "--bare", "-b", "main", str(origin), cwd=base)
    git("init", "-q", "-b", "main", str(work), cwd=base)
    (work / "README.md").write_text(f"# {name}\n")
    git("add", "README.md", cwd=work)
    git("commit", "-q", "-m", "initial commit", cwd=work)
    git("remote", "add", "origin", str(origin), cwd=work)
    git("push", "-q", "-u", "origin", "main", cwd=work)
    return Repo(work=work, origin=origin)


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def __str__(self) -> str:  # shown by pytest when an assertion fails
        return f"exit {self.code}\n--- stdout\n{self.out}--- stderr\n{self.err}"


def run_orch(
    *args: str,
    cwd: Path,
    env: dict[str, str],
    input: str | None = None,
    timeout: float = 120,
) -> Result:
    """Run the real `orch` CLI in a subprocess (python -m orch) and capture everything,
    with PWD = `cwd` as a shell would set it (agents must not inherit it: tests/fakes)."""
    done = subprocess.run(
        [sys.executable, "-m", "orch", *args],
        cwd=cwd,
        env={**env, "PWD": str(cwd)},
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def tick_actions(out: str) -> list[dict[str, Any]]:
    """The actions of one `orch tick --json` document."""
    document = json.loads(out)
    assert isinstance(document["actions"], list), document
    return list(document["actions"])
