"""Tasks per status, per-agent success rate, tokens and cost."""

from __future__ import annotations

import typer

from orch.commands._common import JsonOpt, deps


def command(ctx: typer.Context, json: JsonOpt = False) -> None:
    """Tasks per status, and per agent: attempts, success rate, tokens and cost."""
    from orch.output import emit_json
    from orch.task.stats import gather

    d = deps(ctx)
    stats = gather(d.store(), d.project().config.workflow.orch_logins)
    if json:
        emit_json(stats.to_json())
        return
    d.console.out(f"tasks: {stats.open + stats.closed} ({stats.open} open, {stats.closed} closed)")
    d.console.table([[k, str(v)] for k, v in stats.statuses.items()], header=["status", "tasks"])
    header = ["agent", "attempts", "done", "success", "tokens in", "tokens out", "cost"]
    rows: list[list[str]] = []
    for agent in sorted(stats.agents.values(), key=lambda a: a.agent):
        rows.append(
            [
                agent.agent,
                str(agent.attempts),
                str(agent.done),
                f"{agent.success_rate:.0%}",
                str(agent.tokens_in),
                str(agent.tokens_out),
                f"${agent.cost_usd:.4f}",
            ]
        )
    if rows:
        d.console.out("")
        d.console.table(rows, header=header)
    d.console.out(f"total cost: ${stats.cost_usd:.4f}")
