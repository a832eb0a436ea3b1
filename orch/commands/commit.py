"""Commit the working tree's changes as logical commits with drafted Conventional Commits
messages."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from orch.commands._common import JsonOpt, deps

if TYPE_CHECKING:
    from orch.assist.commit import Draft
    from orch.deps import Deps


def command(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the planned commits and make none.")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Accept every drafted message without asking.")
    ] = False,
    message: Annotated[
        str | None,
        typer.Option(
            "-m", "--message", metavar="MSG", help="One commit of everything with this message."
        ),
    ] = None,
    no_llm: Annotated[
        bool, typer.Option("--no-llm", help="Path heuristic messages; no agent call.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Group staged, unstaged and untracked changes by path into logical commits and draft
    a Conventional Commits message for each with the chat agent (from the file list and
    a diff capped at commit.max_diff_bytes). On a terminal, accept, edit or reject each
    draft; --yes accepts them all. Without an agent (or with --no-llm) the messages come
    from the paths (one warning).

    \b
    Examples:
      orch commit --dry-run
      orch commit --yes
      orch commit -m "fix: handle an empty config"
    """
    from orch.assist import commit
    from orch.errors import UsageError
    from orch.io import git
    from orch.output import emit_json

    d = deps(ctx)
    root = git.toplevel(d.cwd)
    if root is None:
        raise UsageError(f"{d.cwd} is not inside a git work tree: run orch commit in your checkout")
    # An orch project's config when this checkout is one; else the global config alone.
    config = (
        d.project().config if d.project_spec or (root / ".orch.yml").exists() else d.global_config()
    )
    plan = commit.plan(d.paths, d.clock, config, root, use_agent=not no_llm, message=message)
    for warning in plan.warnings:
        d.console.warn(warning)
    if not plan.drafts:
        d.console.note("nothing to commit: the working tree is clean")
        return
    if dry_run:
        _show(d, plan.drafts, json_out, dry_run=True)
        return
    drafts = list(plan.drafts)
    if not yes and message is None:
        if not sys.stdin.isatty():
            raise UsageError(
                "not a terminal: pass --yes to accept the drafted messages, "
                "or --dry-run to see them"
            )
        drafts = _review(d, drafts)
    made = commit.apply(root, drafts)
    if json_out:
        emit_json({"commits": [c.to_json() for c in made]})
        return
    for done in made:
        d.console.out(f"{done.sha[:12]}\t{done.message.splitlines()[0]}")


def _show(d: Deps, drafts: tuple[Draft, ...], json_out: bool, *, dry_run: bool) -> None:
    from orch.output import emit_json

    if json_out:
        emit_json({"dry_run": dry_run, "commits": [x.to_json() for x in drafts]})
        return
    for draft in drafts:
        d.console.out(
            f"would commit\t{draft.message.splitlines()[0]}\t{' '.join(draft.group.paths)}"
        )


def _review(d: Deps, drafts: list[Draft]) -> list[Draft]:
    """Accept, edit or reject each draft on the terminal."""
    from dataclasses import replace

    from orch.assist.commit import clean_message

    kept: list[Draft] = []
    for index, draft in enumerate(drafts, 1):
        typer.echo(
            f"\n[{index}/{len(drafts)}] {', '.join(draft.group.paths)}\n  {draft.message}", err=True
        )
        while True:
            answer = (
                typer.prompt("[a]ccept, [e]dit, [r]eject, [q]uit", default="a", err=True)
                .strip()
                .lower()
            )
            if answer in ("a", "accept"):
                kept.append(draft)
            elif answer in ("e", "edit"):
                edited = typer.prompt("message", default=draft.message, err=True).strip()
                if clean_message(edited) is None:
                    typer.echo(
                        "  not a Conventional Commits subject (type(scope): summary); try again",
                        err=True,
                    )
                    continue
                kept.append(replace(draft, message=edited))
            elif answer in ("q", "quit"):
                return kept
            elif answer not in ("r", "reject"):
                continue
            break
    return kept
