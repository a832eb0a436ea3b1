"""Remove worktrees and local branches of done or closed tasks, and worktree folders no
task owns; never a running task's."""

from __future__ import annotations

from typing import Annotated

import typer

from orch.commands._common import JsonOpt, deps


def command(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be removed and remove nothing.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Remove worktrees and local branches of done or closed tasks (and worktree folders
    no task owns). A task a supervisor runs on this host is never touched; a branch with
    commits on no remote is kept.

    \b
    Examples:
      orch prune --dry-run
      orch prune
    """
    from orch.admin import prune
    from orch.output import emit_json

    d = deps(ctx)
    project = d.project()
    store = d.store(project)
    plan = prune.plan(d.paths, project.root, project.repo, store, project.config.git.branch_prefix)
    removed = [] if dry_run else prune.apply(d.paths, project.root, project.repo, plan)
    if json_out:
        emit_json({**plan.to_json(), "dry_run": dry_run, "removed": [i.to_json() for i in removed]})
        return
    verb = "would remove" if dry_run else "removed"
    shown = plan.remove if dry_run else tuple(removed)
    for item in shown:
        d.console.out(f"{verb}\t{item.kind}\t{item.name}\t{item.reason}")
    for item in plan.keep:
        d.console.note(f"kept {item.kind} {item.name}: {item.reason}")
    if not shown:
        d.console.note("nothing to prune")
