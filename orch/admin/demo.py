"""`orch demo`: the whole loop on a throw-away project, offline, in well under a minute.

It creates a git repository with a bare `origin` beside it, sets it up with
`store: local` and orch's scripted stand-in agent (`bin/orch-demo-agent`, a `command`
agent with `output: json`), adds a task and ticks until the task is `in_review`. Its
config and state live in the demo directory (its own ORCH_HOME), so the user's projects
are never touched.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from orch.actions import Action
from orch.admin.init import InitOptions, init_project
from orch.deps import Deps
from orch.errors import OrchError
from orch.io import git
from orch.paths import Paths
from orch.store.base import Store
from orch.task.attempt import read_sidecar
from orch.task.history import Task
from orch.task.ops import AddOptions, add_task
from orch.tick import TickOptions, run_tick

MAX_TICKS = 5
TASK_TITLE = "Add a greeting note"


@dataclass
class DemoResult:
    base: Path
    checkout: Path
    home: Path
    task: int
    status: str
    ticks: int
    seconds: float
    pr: str = ""
    worktree: str = ""
    branch: str = ""
    where: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "dir": str(self.base),
            "checkout": str(self.checkout),
            "orch_home": str(self.home),
            "task": self.task,
            "status": self.status,
            "ticks": self.ticks,
            "seconds": round(self.seconds, 1),
            "pr": self.pr,
            "worktree": self.worktree,
            "branch": self.branch,
        }


def agent_path() -> Path:
    """The shipped stand-in agent (bin/ in a checkout, orch.bin when installed)."""

    try:
        path = Path(str(files("orch.bin") / "orch-demo-agent"))
    except ModuleNotFoundError:
        path = Path(__file__).resolve().parent.parent / "bin" / "orch-demo-agent"
    if not path.is_file():
        raise OrchError(f"the demo agent is missing ({path}); reinstall orch")
    return path


def project_config(agent: Path) -> str:

    config = {
        "store": "local",
        "router": {"mode": "fixed", "agent": "demo", "fallback_executor": "demo"},
        "agents": {"demo": {"command": [sys.executable, str(agent)], "output": "json"}},
        "workflow": {"timeout_seconds": 120, "idle_timeout_seconds": 60},
    }
    return "# orch demo project: local store, scripted stand-in agent\n" + yaml.safe_dump(
        config, sort_keys=False
    )


def run_demo(base: Path | None, clock: Any, say: Callable[[str], None]) -> DemoResult:
    """Build the demo project and tick it to `in_review`; `say` narrates each step."""

    started = clock.monotonic()
    base = Path(tempfile.mkdtemp(prefix="orch-demo-")) if base is None else base.resolve()
    if base.exists() and any(base.iterdir()):
        raise OrchError(f"{base} is not empty; pass an empty or new directory with --dir")
    base.mkdir(parents=True, exist_ok=True)
    checkout, origin, home = base / "widgets", base / "widgets-origin.git", base / "orch-home"

    say(f"1. create a git repository {checkout} with a bare origin {origin}")
    identity = _make_repository(checkout, origin)

    say(f"2. orch init --local (config and state in {home}; your own projects are untouched)")
    (checkout / ".orch.yml").write_text(project_config(agent_path()), encoding="utf-8")
    # Children (`orch task run`) must use the demo's home too.
    os.environ["ORCH_HOME"] = str(home)
    os.environ.setdefault("ORCH_DEMO_DELAY", "0.5")
    for name, value in identity.items():
        os.environ.setdefault(name, value)
    paths = Paths(config_dir=home, state_dir=home / "state")
    deps = Deps(paths=paths, clock=clock, project_spec=str(checkout), cwd=checkout)

    init_project(deps, InitOptions(start=checkout))

    project = deps.project()
    store = deps.store(project)
    task = add_task(
        store,
        project,
        paths,
        AddOptions(
            title=TASK_TITLE,
            body="Write a short note that greets whoever reads it.",
        ),
    )
    say(f'3. orch task add "{TASK_TITLE}"  ->  task #{task.number} (status new)')
    status, ticks = _tick_to_review(deps, store, task.number, say)

    sidecar = read_sidecar(paths, project.repo, task.number)
    pr = store.find_pr(str(sidecar.get("branch") or ""), state="open")
    result = DemoResult(
        base=base,
        checkout=checkout,
        home=home,
        task=task.number,
        status=status,
        ticks=ticks,
        seconds=clock.monotonic() - started,
        pr=f"#{pr.number}" if pr else "",
        worktree=str(sidecar.get("worktree") or ""),
        branch=str(sidecar.get("branch") or ""),
    )
    adir = sidecar.get("attempt_dir") or str(paths.attempt_dir(project.repo, task.number, 1))
    result.where = _where(result, origin, str(adir), paths.log_file)
    return result


def _make_repository(checkout: Path, origin: Path) -> dict[str, str]:
    """A repository with one commit, pushed to a bare origin; returns the git identity."""

    git.init(origin, bare=True)
    git.init(checkout)
    (checkout / "README.md").write_text("# widgets\n\nA throw-away project for `orch demo`.\n")
    identity = git.identity_env("orch demo", "demo@orch.invalid")
    git.commit_all(checkout, "initial commit", identity)
    git.add_remote(checkout, "origin", str(origin))
    git.push_branch(checkout, "main")
    return identity


def _tick_to_review(
    deps: Deps, store: Store, number: int, say: Callable[[str], None]
) -> tuple[str, int]:
    """Tick (waiting for each run) until the task is in_review: (its status, ticks)."""

    def show(action: Action) -> None:
        say(
            f"     {action.phase}: #{action.task} {action.action}"
            + (f" ({action.detail})" if action.detail else "")
        )

    status = "new"
    ticks = 0
    while ticks < MAX_TICKS and status != "in_review":
        ticks += 1
        say(f"{3 + ticks}. orch tick --wait")
        report = run_tick(deps, TickOptions(wait=True), show)
        if report.errors:
            raise OrchError(f"the demo tick failed; see {deps.paths.log_file}")
        current = Task.from_issue(store.get_issue(number)).status
        status = current.value if current else "?"
        say(f"     task #{number} is now {status}")
    if status != "in_review":
        raise OrchError(f"the demo task ended {status}, not in_review; see {deps.paths.log_file}")
    return status, ticks


def _where(result: DemoResult, origin: Path, adir: str, log_file: Path) -> list[tuple[str, str]]:
    """Where to look afterwards, as (what, command or path) pairs."""

    checkout, home = result.checkout, result.home
    return [
        ("the change", f"git -C {checkout} diff main..{result.branch}"),
        ("the worktree", result.worktree),
        ("the pushed branch", f"git -C {origin} log --oneline {result.branch}"),
        (
            "the task and its result",
            f"ORCH_HOME={home} orch --project {checkout} task get {result.task}",
        ),
        ("the agent's output", adir),
        ("the tick log", str(log_file)),
        ("clean up", f"rm -rf {result.base}"),
    ]
