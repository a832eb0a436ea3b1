"""Set up the project in the current git repository."""

from __future__ import annotations

import typer

from orch.errors import OrchError


def command(ctx: typer.Context) -> None:
    raise OrchError("orch init is not built yet")
