"""Tasks per status, per-agent success rate, tokens and cost."""

from __future__ import annotations

import typer

from orch.errors import OrchError


def command(ctx: typer.Context) -> None:
    raise OrchError("orch stats is not built yet")
