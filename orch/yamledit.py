"""Edit one top-level key of a YAML file while keeping the rest of it (comments, order).

orch rewrites only the block of the key it changes (`projects:`, `jobs:`): from the key's
line to the next top-level line. Everything else in the file stays byte for byte.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from orch.sidecar import write_text_atomic

_TOP_LEVEL = re.compile(r"^[^\s#-][^:]*:")


def render_block(key: str, value: Any) -> str:
    import yaml

    return yaml.safe_dump({key: value}, sort_keys=False, allow_unicode=True, default_flow_style=False)


def replace_block(text: str, key: str, value: Any) -> str:
    """`text` with the top-level `key:` block replaced by `value` (appended if absent)."""
    lines = text.splitlines(keepends=True)
    start = None
    for index, line in enumerate(lines):
        if re.match(rf"^{re.escape(key)}\s*:", line):
            start = index
            break
    block = render_block(key, value)
    if start is None:
        prefix = text if not text or text.endswith("\n") else text + "\n"
        return prefix + block
    end = start + 1
    while end < len(lines):
        line = lines[end]
        if _TOP_LEVEL.match(line) or line.startswith("---"):
            break
        end += 1
    # Keep trailing comments/blank lines that belong to what follows.
    while end - 1 > start and (lines[end - 1].strip() == "" or lines[end - 1].lstrip().startswith("#")):
        if lines[end - 1].startswith((" ", "\t")) and lines[end - 1].strip():
            break
        end -= 1
    return "".join(lines[:start]) + block + "".join(lines[end:])


def set_key(path: Path, key: str, value: Any) -> None:
    """Set a top-level key in a YAML file (created if missing), atomically."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    write_text_atomic(path, replace_block(text, key, value))
