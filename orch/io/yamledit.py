"""Edit one top-level key of a YAML file while keeping the rest of it (comments, order).

orch rewrites only the block of the key it changes (`projects:`, `jobs:`, `gh:`): from the
key's line to its last indented (or `- ` item) line; the comments and blank lines after it
belong to what follows. Everything else in the file stays byte for byte. Every edit is
checked: the new text is parsed again and must equal the old document with only that key
changed, or nothing is written.

Nested edits (`set_nested`, e.g. `gh.project_id`) go through ruamel.yaml's round trip, so
the comments inside the block are kept too; its result is used only when every line
outside the block is unchanged (ruamel re-indents a whole document to one style), else the
plain splice is. Whole-key replacements (`set_key`, `jobs:`) keep the splice: ruamel
appends a list item after the comments that trail the list, not after its last item.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from orch.errors import ConfigError
from orch.io.sidecar import write_text_atomic


def render_block(key: str, value: Any) -> str:

    return yaml.safe_dump(
        {key: value}, sort_keys=False, allow_unicode=True, default_flow_style=False
    )


def block_span(lines: list[str], key: str) -> tuple[int, int] | None:
    """[start, end) of the top-level `key:` block in `lines`, trailing comments left outside."""
    head = re.compile(rf"^{re.escape(key)}\s*:")
    start = next((i for i, line in enumerate(lines) if head.match(line)), None)
    if start is None:
        return None
    end = start + 1
    for j in range(start + 1, len(lines)):
        line = lines[j]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if line[0] not in " \t" and not (line.startswith("-") and not line.startswith("---")):
            break
        end = j + 1
    return start, end


def block_text(text: str, key: str) -> str:
    """The top-level `key:` block of `text` ("" when it has none)."""
    lines = text.splitlines(keepends=True)
    span = block_span(lines, key)
    return "".join(lines[span[0] : span[1]]) if span else ""


def replace_block(text: str, key: str, value: Any, *, rendered: str | None = None) -> str:
    """`text` with the top-level `key:` block replaced by `value` (appended if absent).

    `rendered`: the block as the caller wants it written (default: `render_block`).
    Unchecked: `edited_text` is the safe form.
    """
    block = render_block(key, value) if rendered is None else rendered
    lines = text.splitlines(keepends=True)
    span = block_span(lines, key)
    if span is None:
        prefix = text if not text or text.endswith("\n") else text + "\n"
        return prefix + block
    start, end = span
    return "".join(lines[:start]) + block + "".join(lines[end:])


def edited_text(
    text: str, key: str, value: Any, *, rendered: str | None = None, source: Path | str = "config"
) -> str:
    """`replace_block`, proven: parsing the result gives the old document with only `key`
    set to `value`. Raises ConfigError (naming `source`) when the old text is not a YAML
    mapping or the layout defeats the splice; the caller then writes nothing."""

    before = _mapping(text, source)
    after = replace_block(text, key, value, rendered=rendered)
    try:
        same = yaml.safe_load(after) == {**before, key: value}
    except yaml.YAMLError:
        same = False
    if not same:
        raise ConfigError(
            f"{source}: cannot edit the {key}: block without changing other keys "
            "(unusual layout); edit the file by hand"
        )
    return after


def set_key(path: Path, key: str, value: Any) -> None:
    """Set a top-level key in a YAML file (created if missing), atomically."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    write_text_atomic(path, edited_text(text, key, value, source=path))


def set_nested(path: Path, keys: tuple[str, ...], value: Any) -> None:
    """Set `keys` (a path of mapping keys, the first top-level) in a YAML file, keeping the
    other keys of that top-level mapping (with their comments) and every other block of
    the file as they are."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    top = _mapping(text, path).get(keys[0])
    block: Any = dict(top) if isinstance(top, dict) else {}
    new = _with(block, keys[1:], value)
    rendered = _round_trip_block(text, keys, value)
    write_text_atomic(path, edited_text(text, keys[0], new, rendered=rendered, source=path))


def _round_trip_block(text: str, keys: tuple[str, ...], value: Any) -> str | None:
    """The top-level block of `keys[0]` after the edit, comments kept (ruamel.yaml), or
    None when ruamel would change anything outside that block."""
    if len(keys) < 2 or not text.strip():
        return None
    yaml_rt = YAML()
    yaml_rt.width = 4096
    yaml_rt.preserve_quotes = True
    try:
        document = yaml_rt.load(text)
        node = document
        for key in keys[:-1]:
            if not isinstance(node.get(key), CommentedMap):
                return None
            node = node[key]
        node[keys[-1]] = value
        buffer = io.StringIO()
        yaml_rt.dump(document, buffer)
    except Exception:  # ruamel's own errors vary by version: fall back to the splice
        return None
    after = buffer.getvalue()
    old, new = text.splitlines(keepends=True), after.splitlines(keepends=True)
    old_span, new_span = block_span(old, keys[0]), block_span(new, keys[0])
    if old_span is None or new_span is None:
        return None
    outside_same = (
        old[: old_span[0]] == new[: new_span[0]] and old[old_span[1] :] == new[new_span[1] :]
    )
    return "".join(new[new_span[0] : new_span[1]]) if outside_same else None


def _mapping(text: str, source: Path | str) -> dict[str, Any]:

    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        problem = str(exc).splitlines()[0] if str(exc) else "parse error"
        raise ConfigError(f"{source}: invalid YAML ({problem}); fix the file first") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of keys; fix the file first")
    return data


def _with(mapping: dict[str, Any], keys: tuple[str, ...], value: Any) -> Any:
    if not keys:
        return value
    inner = mapping.get(keys[0])
    mapping[keys[0]] = _with(dict(inner) if isinstance(inner, dict) else {}, keys[1:], value)
    return mapping
