"""Show the orch log (or one task's lines)."""

from __future__ import annotations

import typer

from orch.errors import OrchError


def command(ctx: typer.Context) -> None:
    raise OrchError("orch log is not built yet")
