"""Readable lines from an agent's raw output stream (for `orch task logs` and progress). Pure.

Understands claude's `json`/`stream-json` objects, codex `exec --json` events and opencode
`--format json` events; any other line is shown as it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

WIDTH = 160


def describe(line: str) -> str:
    """One short line for one line of output; "" for events not worth showing."""
    text = line.strip()
    if not text:
        return ""
    if not text.startswith("{"):
        return _short(text)
    try:
        event = json.loads(text)
    except ValueError:
        return _short(text)
    if not isinstance(event, dict):
        return _short(text)
    return "\n".join(_describe_event(event))


def render(lines: Iterable[str]) -> list[str]:
    """Every readable line of a whole stream, in order."""
    out: list[str] = []
    for line in lines:
        shown = describe(line)
        if shown:
            out.extend(shown.splitlines())
    return out


def _describe_event(event: dict[str, Any]) -> list[str]:
    kind = str(event.get("type") or "")
    # claude
    if kind == "system":
        if event.get("subtype") == "init":
            return [f"session started (model {event.get('model', '?')})"]
        if event.get("subtype") == "api_retry":
            return [f"API retry {event.get('attempt')}: {event.get('error', '')}"]
        return []
    if kind == "assistant":
        return _claude_message(event.get("message") or {})
    if kind == "user":
        return _claude_tool_results(event.get("message") or {})
    if kind == "result":
        return _claude_result(event)
    # codex
    if kind in ("item.started", "item.completed"):
        return _codex_item(kind, event.get("item") or {})
    if kind == "turn.failed":
        error = event.get("error") or {}
        return [f"error: {_short(str(error.get('message', '')))}"]
    if kind == "error":
        return [f"error: {_short(str(event.get('message', '')))}"]
    if kind == "turn.completed":
        usage = event.get("usage") or {}
        return [
            f"turn completed ({usage.get('input_tokens', 0)} in / {usage.get('output_tokens', 0)} out)"
        ]
    # opencode
    part = event.get("part")
    if isinstance(part, dict):
        return _opencode_part(kind, part)
    return []


def _claude_message(message: dict[str, Any]) -> list[str]:
    out = []
    for block in message.get("content") or []:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text" and str(block.get("text", "")).strip():
            out.append(f"💬 {_short(str(block['text']))}")
        elif block.get("type") == "tool_use":
            out.append(f"🔧 {block.get('name', 'tool')}: {_tool_input(block.get('input'))}")
    return out


def _claude_tool_results(message: dict[str, Any]) -> list[str]:
    out = []
    for block in message.get("content") or []:
        if isinstance(block, dict) and block.get("type") == "tool_result" and block.get("is_error"):
            out.append(f"   ✗ {_short(_content_text(block.get('content')))}")
    return out


def _claude_result(event: dict[str, Any]) -> list[str]:
    state = "error" if event.get("is_error") else "result"
    cost = event.get("total_cost_usd")
    tail = f" (${cost:.4f})" if isinstance(cost, int | float) else ""
    return [f"✅ {state}{tail}: {_short(str(event.get('result', '')))}"]


def _codex_item(kind: str, item: dict[str, Any]) -> list[str]:
    itype = item.get("type")
    if itype == "command_execution":
        if kind == "item.started":
            return [f"🔧 shell: {_short(str(item.get('command', '')))}"]
        code = item.get("exit_code")
        return (
            []
            if code in (0, None)
            else [f"   ✗ exit {code}: {_short(str(item.get('command', '')))}"]
        )
    if kind != "item.completed":
        return []
    if itype == "agent_message":
        return [f"💬 {_short(str(item.get('text', '')))}"]
    if itype == "file_change":
        return [f"📝 {_short(json.dumps(item.get('changes', ''))[:WIDTH])}"]
    if itype == "error":
        return [f"warning: {_short(str(item.get('message', '')))}"]
    return []


def _opencode_part(kind: str, part: dict[str, Any]) -> list[str]:
    ptype = part.get("type")
    if ptype == "text" and str(part.get("text", "")).strip():
        return [f"💬 {_short(str(part['text']))}"]
    if ptype == "tool":
        state = part.get("state") or {}
        return [f"🔧 {part.get('tool', 'tool')}: {_tool_input(state.get('input'))}"]
    if ptype == "step-finish":
        tokens = part.get("tokens") or {}
        return [f"step finished ({tokens.get('input', 0)} in / {tokens.get('output', 0)} out)"]
    if kind == "error":
        return [f"error: {_short(json.dumps(part)[:WIDTH])}"]
    return []


def _tool_input(value: Any) -> str:
    if isinstance(value, dict):
        for key in ("command", "file_path", "path", "pattern", "url", "description"):
            if value.get(key):
                return _short(str(value[key]))
        return _short(json.dumps(value, ensure_ascii=False))
    return _short(str(value or ""))


def _content_text(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(str(c.get("text", "")) for c in content if isinstance(c, dict))
    return str(content or "")


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= WIDTH else flat[: WIDTH - 1] + "…"
