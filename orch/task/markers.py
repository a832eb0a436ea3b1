"""Marker comments (SPEC §2.3): `<!-- orch:KIND {json} -->` as the first line of a comment.

A marker counts only when orch wrote it: `written_by_orch` is the one rule (the comment's
author is one of orch's logins: the login of the token orch uses, plus
`workflow.orch_logins`), and `orch_marker` is how every reader of history, acks, claims,
routes and reviews gets a comment's marker. Anyone can type a marker into a comment; from
anyone else it is plain text, never a command or a verdict.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from orch import taskid
from orch.store.base import Comment

KINDS = ("agent-response", "status", "ack", "route", "claim", "review", "published", "reply")
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


OrchLogins = frozenset[str]
"""orch's own logins, lower-cased (GitHub logins are case-insensitive)."""


def orch_logins(viewer: str | None, configured: Iterable[str] = ()) -> OrchLogins:
    """The logins whose markers count: the token's own (`viewer`) plus configured ones."""
    found = {viewer, *configured}
    return frozenset(login.strip().lower() for login in found if login and login.strip())


def written_by_orch(author: str | None, logins: OrchLogins) -> bool:
    """Whether a comment by `author` is orch's own: the one trust rule for markers."""
    return bool(author) and str(author).lower() in logins


def orch_marker(comment: Comment, logins: OrchLogins) -> Marker | None:
    """The marker of a comment orch wrote; None for any other comment, marker or not.
    An internal task's comments (orch.store.internal) live in files on this machine only,
    so every one of them is orch's."""
    if not (taskid.is_internal(comment.issue) or written_by_orch(comment.author, logins)):
        return None
    return parse(comment.body)


def body_hash(body: str) -> str:
    """Stable hash of a comment's content, for never posting the same thing twice."""
    return hashlib.sha256(body.strip().encode("utf-8")).hexdigest()[:16]
