"""Agent CLIs found, versions, cooldowns."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from orch.commands._common import JsonOpt, deps

if TYPE_CHECKING:
    from orch.config.model import Config
    from orch.deps import Deps


def command(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Agent CLIs found, versions, cooldowns."""
    from orch.agents.cooldown import Cooldowns, remaining
    from orch.agents.probe import survey
    from orch.clock import utc_iso
    from orch.output import emit_json

    d = deps(ctx)
    config = config_for(d)
    infos = survey(config, Cooldowns(d.paths, d.clock))
    if json_:
        emit_json({"agents": [info.to_json() for info in infos]})
        return
    now = d.clock.now()
    rows = []
    for info in infos:
        if not info.probe.installed:
            version, state = "not found", f"{info.command[0]} is not on PATH"
        else:
            # Custom command agents are never run just to ask their version.
            version = info.probe.version or ("-" if info.family == "command" else "unknown")
            state = "ready" if not info.probe.error else f"--version failed: {info.probe.error}"
        if info.disabled:
            state = "disabled (router.disabled_agents)"
        for cooldown in info.cooldowns:
            state = (
                f"cooling down: {cooldown.key} until {utc_iso(cooldown.until)} "
                f"({remaining(cooldown, now)}, {cooldown.error_class})"
            )
        rows.append([info.name, info.family, version, state])
    d.console.table(rows, header=["agent", "family", "version", "state"])


def config_for(d: Deps) -> Config:
    """The project's config inside a checkout (or with --project), else the global one."""
    from orch.config.model import load_config
    from orch.project import find_root

    if d.project_spec:
        return d.project().config
    root = find_root(d.cwd)
    if root is None:
        return d.global_config()
    # Only the config, not the whole project: `orch agents` works in any checkout, even
    # one whose origin is not on GitHub yet.
    config = load_config(d.global_file, root)
    for warning in config.warnings:
        d.console.warn(warning)
    return config
