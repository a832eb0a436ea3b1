"""Print a shell completion script for orch (bash, zsh or fish)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from orch.errors import UsageError

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_ORCH_COMPLETE"


def command(
    shell: Annotated[str, typer.Argument(metavar="SHELL", help="The shell: bash, zsh or fish.")],
) -> None:
    from typer._completion_shared import get_completion_script

    if shell not in SHELLS:
        raise UsageError(f"completion {shell!r}: use one of {', '.join(SHELLS)}")
    typer.echo(get_completion_script(prog_name="orch", complete_var=COMPLETE_VAR, shell=shell))


def requested() -> bool:
    """Whether the shell is asking orch for completions (the script sets the variable)."""
    return bool(os.environ.get(COMPLETE_VAR))


def enable() -> None:
    """Register typer's bash/zsh/fish completion classes before click answers the shell."""
    from typer._completion_classes import completion_init

    completion_init()
