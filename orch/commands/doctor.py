"""Check gh, auth, repo permission, labels, agents, config, timers, drift."""

from __future__ import annotations

import typer

from orch.commands._common import JsonOpt, deps


def command(ctx: typer.Context, json: JsonOpt = False) -> None:
    """One line per check (ok/warn/fail and what to do); exit 0 when nothing fails."""
    from orch.admin.doctor import run_checks
    from orch.output import emit_json

    d = deps(ctx)
    report = run_checks(d)
    if json:
        emit_json(report.to_json())
    else:
        width = max(len(c.name) for c in report.checks)
        for check in report.checks:
            d.console.out(check.line(width))
    if not report.ok:
        raise typer.Exit(1)
