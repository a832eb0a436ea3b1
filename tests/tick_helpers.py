"""Helpers for the tick tests: a local-store project and a handle on its issues."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orch import labels as L
from orch.clock import SystemClock
from orch.status import Status
from orch.store.base import Comment, Issue
from orch.store.local import LocalStore
from orch.task import markers
from tests.helpers import Repo, Result, run_orch


@dataclass
class LocalProject:
    """A checkout initialised with `orch init --local`, and direct access to its store."""

    repo: Repo
    env: dict[str, str]

    @property
    def store(self) -> LocalStore:
        # The CLI's own user is the store's admin; tests speak as other users by name.
        return LocalStore(
            self.repo.work / ".orch" / "local",
            f"local/{self.repo.work.name}",
            SystemClock(),
            user=None,
        )

    def orch(self, *args: str, cwd: Path | None = None, clock_offset: float = 0) -> Result:
        """Run orch in the project; `clock_offset` moves its wall clock that many seconds on."""
        env = dict(self.env, ORCH_TEST_CLOCK_OFFSET=str(clock_offset)) if clock_offset else self.env
        return run_orch(*args, cwd=cwd or self.repo.work, env=env)

    def add_task(self, title: str, *labels: str, status: Status = Status.NEW) -> int:
        issue = self.store.create_issue(title, f"Body of {title}", L.with_status(labels, status))
        return issue.number

    def issue(self, number: int) -> Issue:
        return self.store.get_issue(number)

    def status(self, number: int) -> Status | None:
        return L.status_of(self.issue(number).labels)

    def comments(self, number: int) -> list[Comment]:
        return self.store.list_comments(number)

    def say(self, number: int, author: str, body: str, author_type: str = "User") -> Comment:
        return self.store.add_comment(number, body, author=author, author_type=author_type)

    def markers(self, number: int, kind: str) -> list[dict[str, object]]:
        found = []
        for comment in self.comments(number):
            marker = markers.parse(comment.body)
            if marker and marker.kind == kind:
                found.append(marker.data)
        return found


def local_project(repo: Repo, env: dict[str, str]) -> LocalProject:
    project = LocalProject(repo, env)
    done = project.orch("init", "--local")
    assert done.code == 0, done
    return project
