"""`orch project board`: the Projects V2 board: list, link, info, sync (orch.integrations.board)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from orch.commands._common import DryRunOpt, JsonOpt, deps, group

if TYPE_CHECKING:
    from orch.deps import Deps
    from orch.integrations.board import BoardInfo
    from orch.project import Project
    from orch.store.base import Store

app = group("board", "The Projects V2 board of the project: list, link, info, sync.")


def _github_store(ctx: typer.Context) -> tuple[Deps, Project, Store]:
    from orch.integrations.board import needs_github

    d = deps(ctx)
    project = d.project()
    needs_github(project.config)
    return d, project, d.store(project)


@app.command("list")
def list_(ctx: typer.Context, json: JsonOpt = False) -> None:
    """The boards of the repository's owner: id, number, title."""
    from orch.integrations.board import list_boards
    from orch.output import emit_json

    d, project, store = _github_store(ctx)
    boards = list_boards(store)
    if json:
        emit_json({"schema": 1, "boards": [b.to_json() for b in boards]})
        return
    if not boards:
        d.console.note(
            f"{project.repo.split('/')[0]} has no Projects V2 board; create one on GitHub"
        )
        return
    linked = project.config.gh.project_id
    rows = [
        [
            b.id,
            f"#{b.number}",
            b.title + ("  (closed)" if b.closed else ""),
            "linked" if b.id == linked else "",
        ]
        for b in boards
    ]
    d.console.table(rows, header=["id", "number", "title", "linked"])


@app.command("link")
def link(
    ctx: typer.Context,
    board_id: Annotated[
        str, typer.Argument(metavar="ID", help="The board id (PVT_…), from `board list`.")
    ],
    dry_run: DryRunOpt = False,
    json: JsonOpt = False,
) -> None:
    """Link the board: write gh.project_id and the Status field into .orch.yml."""
    from orch.integrations.board import link_board

    d, project, store = _github_store(ctx)
    path = project.root / ".orch.yml"
    info = link_board(store, path, board_id, dry_run=dry_run)
    if json:
        emit = info.to_json() | {"file": str(path), "dry_run": dry_run}
        from orch.output import emit_json

        emit_json(emit)
        return
    prefix = "would: " if dry_run else ""
    d.console.out(
        f"{prefix}linked board #{info.board.number} {info.board.title} ({info.board.id}) in {path}"
    )
    _render_columns(d, info)


@app.command("info")
def info(
    ctx: typer.Context,
    fix: Annotated[
        bool, typer.Option("--fix", help="Fill gh.project_status_map from the option names.")
    ] = False,
    dry_run: DryRunOpt = False,
    json: JsonOpt = False,
) -> None:
    """The linked board's Status field, its options and which orch statuses go where."""
    from orch.integrations.board import board_info, fix_board

    d, project, store = _github_store(ctx)
    if fix:
        result = fix_board(store, project.config, project.root / ".orch.yml", dry_run=dry_run)
    else:
        result = board_info(store, project.config)
    if json:
        from orch.output import emit_json

        emit_json(result.to_json() | {"dry_run": dry_run})
        return
    d.console.out(f"board #{result.board.number} {result.board.title} ({result.board.id})")
    if result.field is None:
        d.console.warn("the board has no single-select field named Status; add one on GitHub")
        return
    d.console.out(
        f"Status field {result.field.id}: " + ", ".join(n for _, n in result.field.options)
    )
    _render_columns(d, result)
    if fix:
        d.console.note(
            f"{'would: ' if dry_run else ''}wrote gh.project_status_map to {project.root / '.orch.yml'}"
        )
    elif result.missing:
        d.console.note("columns without an option: name them in gh.project_status_names")
    elif dict(project.config.gh.project_status_map) != result.mapping:
        d.console.note("`orch project board info --fix` saves this mapping in .orch.yml")


def _render_columns(d: Deps, info: BoardInfo) -> None:
    from orch.integrations.board import COLUMN_OF, COLUMNS

    names = dict(info.field.options) if info.field else {}
    rows = []
    for column in COLUMNS:
        statuses = ", ".join(s.value for s, c in COLUMN_OF.items() if c == column)
        option = info.mapping.get(column)
        rows.append(
            [column, statuses, f"-> {names.get(option, option)}" if option else "-> (no option)"]
        )
    d.console.table(rows, header=["column", "statuses", "option"])


@app.command("sync")
def sync(ctx: typer.Context, dry_run: DryRunOpt = False, json: JsonOpt = False) -> None:
    """Add every open task to the board and put it in the column of its status."""
    from orch.integrations.board import board_cache_file, sync_board

    d, project, store = _github_store(ctx)
    changes = sync_board(
        store, project.config, board_cache_file(d.paths.repo_dir(project.repo)), dry_run=dry_run
    )
    if json:
        from orch.output import emit_json

        emit_json({"schema": 1, "dry_run": dry_run, "tasks": [c.to_json() for c in changes]})
        return
    moved = [c for c in changes if c.action != "ok"]
    prefix = "would: " if dry_run else ""
    for c in moved:
        d.console.out(f"{prefix}{c.action} #{c.number} -> {c.option}  {c.title}")
    d.console.note(
        f"{len(changes)} open task(s), {len(moved)} {'to change' if dry_run else 'changed'}"
    )
