"""Start-up speed: keep typer from importing pydantic for values that need no checking.

typer 0.29 builds a pydantic TypeAdapter for a parameter the first time it processes it,
even an option left at its default (None) and a plain string; importing pydantic costs
~0.1 s of CPU on every `orch` call, a tick included. `install()` wraps typer's builder: a
parameter gets a light coercion that answers None and plain strings itself and builds
typer's own (pydantic) coercion only for any other value, so ints, paths, choices and
their error messages stay typer's. On a typer without that builder, nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import typer.core

_BUILD = getattr(typer.core, "build_runtime_param", None)


@dataclass
class _LazyParam:
    """typer's RuntimeParam contract, building the real one on first real need."""

    descriptor: Any
    _real: Any = field(default=None, repr=False)

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        multi = param.multiple or param.nargs == -1
        if value is None:
            return () if multi else None
        plain = self.descriptor.annotation is str and self.descriptor.parameter_info.parser is None
        if plain and isinstance(value, str) and not multi:
            return value
        if self._real is None:
            assert _BUILD is not None
            self._real = _BUILD(self.descriptor)
        return self._real.coerce(value, param=param, ctx=ctx)

    def __getattr__(self, name: str) -> Any:  # anything else typer asks: the real one
        if name.startswith("_"):
            raise AttributeError(name)
        if self._real is None:
            assert _BUILD is not None
            self._real = _BUILD(self.descriptor)
        return getattr(self._real, name)


def install() -> None:
    """Make typer's parameters build their pydantic coercion only when a value needs it."""
    if _BUILD is None or getattr(typer.core, "_orch_lazy", False):
        return
    typer.core.build_runtime_param = _LazyParam  # type: ignore[assignment,attr-defined]
    typer.core._orch_lazy = True  # type: ignore[attr-defined]
