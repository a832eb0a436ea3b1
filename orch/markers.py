"""Marker comments (SPEC §2.3): `<!-- orch:KIND {json} -->` as the first line of a comment.

orch recognises its own comments by the marker alone, never by author, because it often
posts with the owner's own token.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

KINDS = ("agent-response", "status", "ack", "route", "claim", "review", "reply")
MARKER_VERSION = 1
_MARKER_RE = re.compile(r"\A\s*<!-- orch:([a-z-]+) (\{.*?\}) -->[ \t]*(?:\r?\n|\Z)", re.DOTALL)


@dataclass(frozen=True)
class Marker:
    kind: str
    data: dict[str, Any]
    text: str  # the human part of the comment, after the marker line


def render(kind: str, data: dict[str, Any], text: str = "") -> str:
    """A comment body: the marker line then the human text."""
    if kind not in KINDS:
        raise ValueError(f"unknown marker kind {kind!r}")
    payload = {"v": MARKER_VERSION, **data}
    # `--` cannot appear inside an HTML comment; JSON-escape it so the marker stays whole.
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    encoded = encoded.replace("--", "-\\u002d").replace(">", "\\u003e")
    body = f"<!-- orch:{kind} {encoded} -->"
    return f"{body}\n{text}" if text else body


def parse(body: str | None) -> Marker | None:
    """The marker of a comment body, or None for a comment that is not orch's."""
    if not body:
        return None
    match = _MARKER_RE.match(body)
    if not match:
        return None
    kind, encoded = match.group(1), match.group(2)
    if kind not in KINDS:
        return None
    try:
        data = json.loads(encoded)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return Marker(kind=kind, data=data, text=body[match.end() :])


def body_hash(body: str) -> str:
    """Stable hash of a comment's content, for never posting the same thing twice."""
    return hashlib.sha256(body.strip().encode("utf-8")).hexdigest()[:16]
