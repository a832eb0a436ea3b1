"""Agent CLIs found, versions, cooldowns."""

from __future__ import annotations

import typer

from orch.errors import OrchError


def command(ctx: typer.Context) -> None:
    raise OrchError("orch agents is not built yet")
