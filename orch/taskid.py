"""Task ids: GitHub issue numbers and internal tasks, one integer space (pure).

A project's tasks are its issues (`7`, shown `#7`) and its internal tasks, which live
only on this machine (orch.store.internal) and are written `i7`. Inside orch both are
an `int`: an internal task is the negative number (`i7` is -7). GitHub numbers are
always positive, so the two can never collide, and every int-keyed structure (caches,
locks, sidecars) keeps working. Text goes through this module only: `text()` for paths,
branch names and argv, `ref()` for people, `parse()` for what people type.
"""

from __future__ import annotations

import re

INTERNAL_PREFIX = "i"
_ID_RE = re.compile(r"^(?:#?(\d+)|[iI](\d+))$")
_COMPONENT_RE = re.compile(r"^(?:(\d+)|i(\d+))$")


def is_internal(number: int) -> bool:
    return number < 0


def internal(local_number: int) -> int:
    """The task id of the internal store's record `local_number` (1 -> i1 = -1)."""
    return -local_number


def local(number: int) -> int:
    """The internal store's own record number of an internal task id (-1 -> 1)."""
    return -number


def text(number: int) -> str:
    """For paths, branch names and argv: `7` or `i7`."""
    return f"{INTERNAL_PREFIX}{-number}" if number < 0 else str(number)


def ref(number: int) -> str:
    """For people: `#7` (a GitHub issue) or `i7` (an internal task)."""
    return text(number) if number < 0 else f"#{number}"


def parse(value: str) -> int:
    """What a user typed (`7`, `#7`, `i7`) -> the task id; ValueError names the forms."""
    match = _ID_RE.match(value.strip())
    if not match or int(match.group(1) or match.group(2)) == 0:
        raise ValueError(
            f"{value!r} is not a task id: use an issue number (7) or an internal id (i7)"
        )
    if match.group(2):
        return internal(int(match.group(2)))
    return int(match.group(1))


def from_text(value: str) -> int | None:
    """A path or branch component written by `text()` -> the task id, else None."""
    match = _COMPONENT_RE.match(value)
    if not match:
        return None
    if match.group(2):
        return internal(int(match.group(2)))
    return int(match.group(1))
