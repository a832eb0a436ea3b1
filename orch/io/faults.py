"""A fault-injection seam for tests: `ORCH_TEST_FAULT=POINT:ERRNO[,POINT:ERRNO…]`.

A full disk cannot be produced on demand without privileges (a tiny tmpfs needs a mount),
so the tests that prove "disk full while preparing an attempt ends in one line, exit 1,
and the task back in `routed`" set this variable; `fault_point("prompt")` then raises the
real `OSError` (e.g. `ENOSPC`) that the write at that point would raise. Points:
`worktree` (before the worktree is made), `prompt` (before the prompt files are written)
and `publish` (before an attempt is published). Unset — always, outside tests — it does
nothing.
"""

from __future__ import annotations

import errno
import os

VARIABLE = "ORCH_TEST_FAULT"


def fault_point(point: str) -> None:
    """Raise the OSError configured for `point` in ORCH_TEST_FAULT, if any."""
    spec = os.environ.get(VARIABLE)
    if not spec:
        return
    for item in spec.split(","):
        name, _, code = item.strip().partition(":")
        if name == point:
            number = getattr(errno, code, None)
            if not isinstance(number, int):
                raise ValueError(f"{VARIABLE}: unknown errno name {code!r}")
            raise OSError(number, os.strerror(number), f"<{VARIABLE} {point}>")
