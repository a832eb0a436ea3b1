"""End-to-end run on a throw-away local project."""

from __future__ import annotations

import typer

from orch.errors import OrchError


def command(ctx: typer.Context) -> None:
    raise OrchError("orch demo is not built yet")
