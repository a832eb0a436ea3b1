"""`orch cooldown`: Agents cooling down after usage limits or auth errors."""

from __future__ import annotations

from typing import Annotated

import typer

from orch.commands._common import DryRunOpt, JsonOpt, deps, group

app = group("cooldown", "Agents cooling down after usage limits or auth errors.")


@app.command("list")
def list_(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Cooldowns in force: AGENT[:MODEL], until, time left, class, reason."""
    from orch.agents.cooldown import Cooldowns, remaining
    from orch.clock import utc_iso
    from orch.output import emit_json

    d = deps(ctx)
    active = Cooldowns(d.paths, d.clock).active()
    if json_:
        emit_json({"cooldowns": [c.to_json() for c in active]})
        return
    if not active:
        d.console.note("no agent is cooling down")
        return
    now = d.clock.now()
    d.console.table(
        [[c.key, utc_iso(c.until), remaining(c, now), c.error_class, c.reason] for c in active],
        header=["cooldown", "until", "left", "class", "reason"],
    )


@app.command("clear")
def clear(
    ctx: typer.Context,
    spec: Annotated[
        str,
        typer.Argument(
            metavar="AGENT[:MODEL]", help="An agent (all its models) or one agent:model."
        ),
    ],
    dry_run: DryRunOpt = False,
) -> None:
    """End a cooldown now: AGENT (and all its models) or AGENT:MODEL."""
    from orch.agents.cooldown import Cooldowns

    d = deps(ctx)
    cooldowns = Cooldowns(d.paths, d.clock)
    gone = cooldowns.matching(spec) if dry_run else cooldowns.clear(spec)
    if not gone:
        d.console.note(f"no cooldown for {spec}")
        return
    for c in gone:
        d.console.out(f"{'would clear' if dry_run else 'cleared'} {c.key}")
