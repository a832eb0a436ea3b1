"""What runs after a task's status changes: the Projects V2 board and the notify channels.

`install(store, project, paths)` adds the hooks a project's config asks for to the
store's `status_hooks` (orch.store.base.StatusHooks); `Deps.store()` calls it for every
real store, so every `set_status` (tick phases, intake, repair, the supervisor, owner
commands, `orch task …`) updates the board and notifies. Dry-run stores get no hooks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orch.integrations import notify
from orch.integrations.board import Board, board_cache_file, status_hook

if TYPE_CHECKING:
    from orch.paths import Paths
    from orch.project import Project
    from orch.store.base import Store


def install(store: Store, project: Project, paths: Paths) -> Store:

    hooks = store.status_hooks
    if hooks.installed:
        return store  # a store object handed out again (tests' store_factory)
    hooks.installed = True
    config = project.config
    gh = getattr(store, "gh", None)
    if config.gh.project_id and gh is not None:
        board = Board.from_config(gh, config, board_cache_file(paths.repo_dir(project.repo)))
        if board is not None:
            hooks.add(status_hook(board, project.repo))
    if config.notify.configured:
        hooks.add(notify.status_hook(config.notify, project.repo, project.root))
    return store
