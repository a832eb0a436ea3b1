"""Where orch keeps its files: the one place that knows platformdirs and ORCH_HOME.

`ORCH_HOME` moves both the global config and the state directory under one folder.
Never redirect XDG_CONFIG_HOME for gh: gh keeps its login there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from orch import taskid


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    state_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.yml"

    @property
    def env_file(self) -> Path:
        return self.config_dir / "env"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def log_file(self) -> Path:
        return self.logs_dir / "orch.log"

    @property
    def tick_lock(self) -> Path:
        return self.state_dir / "tick.lock"

    @property
    def jobs_file(self) -> Path:
        return self.state_dir / "jobs.json"

    @property
    def cooldowns_file(self) -> Path:
        return self.state_dir / "cooldowns.json"

    @property
    def locks_dir(self) -> Path:
        return self.state_dir / "locks"

    def backoff_file(self, host: str) -> Path:
        safe = host.replace(":", "_").replace("/", "_")
        return self.state_dir / "gh-backoff" / f"{safe}.json"

    def viewer_file(self, host: str) -> Path:
        """The login of the token orch uses on `host` (learnt from every snapshot)."""
        safe = host.replace(":", "_").replace("/", "_")
        return self.state_dir / "viewer" / f"{safe}.json"

    def repo_dir(self, repo: str) -> Path:
        """State of one project, keyed by owner/repo (never by issue number alone)."""
        owner, name = repo.split("/", 1)
        return self.state_dir / "repos" / owner / name

    def task_sidecar(self, repo: str, number: int) -> Path:
        return self.repo_dir(repo) / "tasks" / f"{taskid.text(number)}.json"

    def task_dir(self, repo: str, number: int) -> Path:
        return self.repo_dir(repo) / "tasks" / taskid.text(number)

    def attempt_dir(self, repo: str, number: int, attempt: int) -> Path:
        return self.task_dir(repo, number) / "attempts" / str(attempt)

    def reviews_dir(self, repo: str, number: int) -> Path:
        """The review agent's runs on the task's PR, one numbered folder each."""
        return self.task_dir(repo, number) / "reviews"

    def pr_reviews_dir(self, repo: str, number: int) -> Path:
        """`@orch review` runs on PR `number`, which orch did not open."""
        return self.repo_dir(repo) / "pr-reviews" / str(number)

    def review_log(self, repo: str, number: int) -> Path:
        """The output of the detached `orch task review` of a task or PR."""
        return self.task_dir(repo, number) / "review.log"

    def worktrees_dir(self, repo: str) -> Path:
        owner, name = repo.split("/", 1)
        return self.state_dir / "worktrees" / owner / name

    def clones_dir(self) -> Path:
        """Bare clones made by `orch project add OWNER/REPO`."""
        return self.state_dir / "clones"


def default_paths() -> Paths:
    home = os.environ.get("ORCH_HOME")
    if home:
        root = Path(home).expanduser()
        return Paths(config_dir=root, state_dir=root / "state")

    return Paths(
        config_dir=Path(platformdirs.user_config_dir("orch")),
        state_dir=Path(platformdirs.user_state_dir("orch")),
    )
