"""The dependency bundle built once in the root callback and passed to every command.

Tests build their own `Deps` (another state dir, a fixed clock, a store of their own).
This is the composition root, part of the command boundary: what a command may need
(config, stores, gh, the App's tokens, status hooks) is imported when it first asks, so
`orch --version` and every help page start without it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from orch.clock import Clock, SystemClock
from orch.output import Console
from orch.paths import Paths, default_paths

if TYPE_CHECKING:
    from orch.config.model import Config
    from orch.io.gh import Gh
    from orch.io.ghapp import AppAuth
    from orch.project import Project
    from orch.store import Store


@dataclass
class Deps:
    paths: Paths = field(default_factory=default_paths)
    clock: Clock = field(default_factory=SystemClock)
    console: Console = field(default_factory=Console)
    config_file: Path | None = None  # --config; default: <config>/config.yml
    project_spec: str | None = None  # --project
    cwd: Path = field(default_factory=Path.cwd)
    store_factory: Callable[[Project], Store] | None = None
    _project: Project | None = None
    _global_config: Config | None = None

    @property
    def global_file(self) -> Path:
        return self.config_file or self.paths.config_file

    def project(self) -> Project:
        """The project this command works on (loaded and validated once)."""
        if self._project is None:
            from orch import project

            self._project = project.resolve(self.project_spec, self.cwd, self.global_file)
            for warning in self._project.config.warnings:
                self.console.warn(warning)
        return self._project

    def global_config(self) -> Config:
        """The global config alone (for commands that span projects)."""
        if self._global_config is None:
            from orch.config.model import load_config

            self._global_config = load_config(self.global_file, None)
        return self._global_config

    def store(self, project: Project | None = None, *, dry_run: bool = False) -> Store:
        """The Store for a project; with dry_run, writes are printed and not made."""
        from orch.store.dryrun import DryRunStore
        from orch.task.hooks import install

        project = project or self.project()
        store = self.store_factory(project) if self.store_factory else make_store(project, self)
        if dry_run:
            return DryRunStore(store, self.console)

        return install(store, project, self.paths)

    def app_auth(self, project: Project | None = None) -> AppAuth | None:
        """The project's GitHub App authentication (None without `github.app_id`)."""
        from orch.io import ghapp

        project = project or self.project()
        config = project.config
        return ghapp.for_project(config.app, config.gh.host, project.repo, self.paths, self.clock)

    def push_env(self, project: Project) -> dict[str, str]:
        """Extra environment for `git push` (the App token as a scoped header), or {}."""
        auth = self.app_auth(project)
        return auth.git_env() if auth is not None else {}


def make_store(project: Project, deps: Deps) -> Store:
    """The project's store (GitHub or local) with its internal tasks beside it."""
    from orch.store import github, internal, local

    primary: Store
    if project.config.store == "local":
        primary = local.LocalStore(project.local_store_dir, project.repo, deps.clock)
    else:
        primary = github.GitHubStore(make_gh(project, deps), project.repo)
    tasks_here = local.LocalStore(project.internal_store_dir, project.repo, deps.clock)
    return internal.WithInternal(primary, tasks_here)


def make_gh(project: Project, deps: Deps) -> Gh:
    """The gh adapter for the project's host (its backoff, the shared backoff file)."""
    from orch.io.gh import Gh

    return Gh(
        host=project.config.gh.host,
        backoff=project.config.gh.backoff,
        paths=deps.paths,
        clock=deps.clock,
        auth=deps.app_auth(project),
    )
