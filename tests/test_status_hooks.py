"""Every status write runs the store's status hooks (the board, notify): intake and repair too."""

from __future__ import annotations

from pathlib import Path

import yaml

from orch import labels as L
from orch.deps import Deps
from orch.paths import Paths
from orch.project import Project
from orch.status import Status
from orch.store.base import Issue, Store
from orch.task.history import post_marker
from orch.tick import engine
from tests.helpers import Repo
from tests.tick_helpers import local_project


def test_intake_and_repair_moves_run_the_status_hooks(repo: Repo, orch_env: dict[str, str]) -> None:
    project = local_project(repo, orch_env)
    config = project.repo.work / ".orch.yml"
    data = yaml.safe_load(config.read_text()) or {}
    data["workflow"] = {"intake": "authored"}
    config.write_text(yaml.safe_dump(data))
    store = project.store
    # Two status labels, and orch's last word on the task was `routed`: repair picks routed.
    broken = store.create_issue("Two statuses", "", [Status.NEW.label, Status.IN_REVIEW.label])
    post_marker(store, broken.number, "status", {"from": "new", "to": "routed"}, "moved")
    opened = store.create_issue("Opened by the owner", "", [])
    seen: list[tuple[int, Status]] = []

    def hook(issue: Issue, src: Status | None, to: Status, reason: str) -> None:
        seen.append((issue.number, to))

    def store_factory(_project: Project) -> Store:
        store.status_hooks.add(hook)
        return store

    home = Path(orch_env["ORCH_HOME"])
    deps = Deps(
        paths=Paths(config_dir=home, state_dir=home / "state"),
        cwd=project.repo.work,
        store_factory=store_factory,
    )

    report = engine.run_tick(deps, engine.TickOptions(only=("repair", "intake")))

    assert report.errors == 0
    assert [(a.phase, a.task) for a in report.actions] == [
        ("repair", broken.number),
        ("intake", opened.number),
    ]
    assert seen == [(broken.number, Status.ROUTED), (opened.number, Status.NEW)]
    assert L.statuses_in(project.issue(broken.number).labels) == [Status.ROUTED]
    assert project.status(opened.number) is Status.NEW
