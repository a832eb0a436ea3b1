"""Small versioned JSON files written atomically (temp file + os.replace).

Every local fact orch keeps (task sidecars, cooldowns, backoff, job runs) goes through
here, so a crash never leaves a half-written file and a newer file is never misread.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orch.errors import OrchError

JsonDict = dict[str, Any]


def write_json_atomic(path: Path, data: Any) -> None:
    """Write `data` as sorted, indented JSON with a trailing newline, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_json(path: Path, default: Any = None) -> Any:
    """Read a JSON file; a missing or unreadable/corrupt file gives `default`.

    Sidecars are caches: a corrupt one is treated as absent, never as a crash.
    """
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def read_versioned(
    path: Path,
    version: int,
    migrations: dict[int, Callable[[JsonDict], JsonDict]] | None = None,
) -> JsonDict | None:
    """Read a `{"schema": N, ...}` file, migrating older versions, refusing newer ones."""
    data = read_json(path)
    if not isinstance(data, dict):
        return None
    found = data.get("schema", 1)
    if not isinstance(found, int):
        return None
    if found > version:
        raise OrchError(
            f"{path} was written by a newer orch (schema {found} > {version}): upgrade orch "
            "or delete the file (it is a cache)"
        )
    while found < version:
        step = (migrations or {}).get(found)
        if step is None:
            return None
        data = step(data)
        found += 1
    data["schema"] = version
    result: JsonDict = data
    return result


def write_versioned(path: Path, version: int, data: JsonDict) -> None:
    write_json_atomic(path, {**data, "schema": version})
