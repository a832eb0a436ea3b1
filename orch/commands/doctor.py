"""Check gh, auth, repo permission, labels, agents, config, timers, drift."""

from __future__ import annotations

import typer

from orch.errors import OrchError


def command(ctx: typer.Context) -> None:
    raise OrchError("orch doctor is not built yet")
