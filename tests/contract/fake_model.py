"""A scripted fake model API on 127.0.0.1 for the contract tests (real agent CLIs).

Speaks just enough of three wire protocols, streaming (SSE):
- Anthropic Messages (`POST /v1/messages`) for claude via ANTHROPIC_BASE_URL;
- OpenAI Responses (`POST /v1/responses`) for codex via a custom model provider;
- OpenAI Chat Completions (`POST /v1/chat/completions`) for opencode via a custom provider.

It plays a two-step coding agent: in a run, the first turn calls the CLI's own shell tool
with `shell_command` (SHELL_COMMAND unless a test sets another), the next turn (once a
tool result came back) answers with RESULT —
through claude's StructuredOutput tool when offered, else as JSON text. A prompt that
contains ROUTE_MARKER is a routing call: it answers ROUTE_ANSWER the same way. Every
request is kept in `requests` for assertions.
"""

from __future__ import annotations

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ROUTE_MARKER = "router of orch"
ROUTE_ANSWER = {"executor": "codex", "complexity": "complex", "reason": "fake router"}
RESULT = {
    "status": "done",
    "summary": "Appended a line to NOTES.md",
    "reason": "",
    "accomplished": ["edited NOTES.md and committed"],
    "remaining": [],
    "blockers": [],
    "files_changed": ["NOTES.md"],
    "needs_help": False,
    "learnings": ["fake model"],
}
SHELL_COMMAND = (
    "printf '%s\\n' \"edited by fake model\" >> NOTES.md && git add NOTES.md && "
    'git commit -qm "fake model edit"'
)
_ids = itertools.count(1)


class FakeModel:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        # (HTTP status, JSON body) answered to every model request while set
        self.fault: tuple[int, dict[str, Any]] | None = None
        self.shell_command = SHELL_COMMAND  # what turn 1 runs through the CLI's shell tool
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeModel:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def paths(self) -> list[str]:
        return [p for p, _ in self.requests]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        model = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                self._json(
                    200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]}
                )

            def do_HEAD(self) -> None:
                self.send_response(200)
                self.end_headers()

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                path = self.path.split("?", 1)[0]
                model.requests.append((path, body))
                if model.fault is not None and not path.endswith("/count_tokens"):
                    self._json(*model.fault)
                elif path.endswith("/messages"):
                    self._sse(anthropic_events(body, model.shell_command), named=True)
                elif path.endswith("/responses"):
                    self._sse(responses_events(body, model.shell_command), named=True)
                elif path.endswith("/chat/completions"):
                    self._sse(chat_events(body, model.shell_command), named=False, done=True)
                elif path.endswith("/count_tokens"):
                    self._json(200, {"input_tokens": 10})
                else:
                    self._json(404, {"error": {"message": f"fake model: no route {path}"}})

            def _json(self, status: int, data: Any) -> None:
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("retry-after", "0")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _sse(
                self, events: list[dict[str, Any]], *, named: bool, done: bool = False
            ) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.send_header("connection", "close")
                self.end_headers()
                for event in events:
                    head = f"event: {event['type']}\n" if named else ""
                    self.wfile.write(f"{head}data: {json.dumps(event)}\n\n".encode())
                if done:
                    self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        return Handler


def _text_of(body: dict[str, Any]) -> str:
    return json.dumps(body)


def _is_route(body: dict[str, Any]) -> bool:
    return ROUTE_MARKER in _text_of(body)


def _answer(body: dict[str, Any]) -> dict[str, Any]:
    return ROUTE_ANSWER if _is_route(body) else RESULT


# --- Anthropic Messages ---------------------------------------------------------------


def anthropic_events(body: dict[str, Any], command: str = SHELL_COMMAND) -> list[dict[str, Any]]:
    tools = {t.get("name") for t in body.get("tools") or []}
    had_tool_result = any(
        isinstance(block, dict) and block.get("type") == "tool_result"
        for message in body.get("messages") or []
        if message.get("role") == "user" and isinstance(message.get("content"), list)
        for block in message["content"]
    )
    if not _is_route(body) and not had_tool_result and "Bash" in tools:
        return _anthropic_tool("Bash", {"command": command, "description": "edit and commit"}, body)
    if "StructuredOutput" in tools:
        return _anthropic_tool("StructuredOutput", _answer(body), body)
    return _anthropic_text(json.dumps(_answer(body)), body)


def _anthropic_start(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "message_start",
        "message": {
            "id": f"msg_{next(_ids)}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "fake"),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 12, "output_tokens": 1},
        },
    }


def _anthropic_end(stop: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": {"output_tokens": 5},
        },
        {"type": "message_stop"},
    ]


def _anthropic_text(text: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        _anthropic_start(body),
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}},
        {"type": "content_block_stop", "index": 0},
        *_anthropic_end("end_turn"),
    ]


def _anthropic_tool(name: str, data: dict[str, Any], body: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        _anthropic_start(body),
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {
                "type": "tool_use",
                "id": f"toolu_{next(_ids)}",
                "name": name,
                "input": {},
            },
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": json.dumps(data)},
        },
        {"type": "content_block_stop", "index": 0},
        *_anthropic_end("tool_use"),
    ]


# --- OpenAI Responses (codex) ------------------------------------------------------------


def responses_events(body: dict[str, Any], command: str = SHELL_COMMAND) -> list[dict[str, Any]]:
    tools = {t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)}
    had_output = any(
        isinstance(item, dict) and item.get("type") == "function_call_output"
        for item in body.get("input") or []
    )
    rid = f"resp_{next(_ids)}"
    if not _is_route(body) and not had_output and ("exec_command" in tools or "shell" in tools):
        if "exec_command" in tools:
            name, args = "exec_command", {"cmd": command}
        else:
            name, args = "shell", {"command": ["bash", "-lc", command]}
        item: dict[str, Any] = {
            "type": "function_call",
            "id": f"fc_{next(_ids)}",
            "call_id": f"call_{next(_ids)}",
            "name": name,
            "arguments": json.dumps(args),
            "status": "completed",
        }
    else:
        text = json.dumps(_answer(body))
        item = {
            "type": "message",
            "id": f"msg_{next(_ids)}",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }
    usage = {
        "input_tokens": 24,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 10,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 34,
    }
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": {"id": rid, "status": "in_progress"}},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**item, "status": "in_progress"},
        },
    ]
    if item["type"] == "message":
        events.append(
            {
                "type": "response.output_text.delta",
                "output_index": 0,
                "content_index": 0,
                "item_id": item["id"],
                "delta": item["content"][0]["text"],
            }
        )
    events += [
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        {
            "type": "response.completed",
            "response": {"id": rid, "status": "completed", "output": [item], "usage": usage},
        },
    ]
    return events


# --- OpenAI Chat Completions (opencode) ---------------------------------------------------


def chat_events(body: dict[str, Any], command: str = SHELL_COMMAND) -> list[dict[str, Any]]:
    tools = {
        (t.get("function") or {}).get("name")
        for t in body.get("tools") or []
        if isinstance(t, dict)
    }
    messages = body.get("messages") or []
    had_tool = any(m.get("role") == "tool" for m in messages)
    cid = f"chatcmpl-{next(_ids)}"

    def chunk(
        delta: dict[str, Any], finish: str | None = None, usage: bool = False
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": 1795242167,
            "model": body.get("model", "fake-model"),
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            "type": "chunk",
        }
        if usage:
            data["usage"] = {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}
        return data

    if not tools:  # opencode's title generator
        return [
            chunk({"role": "assistant", "content": "Fake title"}),
            chunk({}, "stop", usage=True),
        ]
    if not _is_route(body) and not had_tool and "bash" in tools:
        call = {
            "index": 0,
            "id": f"call_{next(_ids)}",
            "type": "function",
            "function": {"name": "bash", "arguments": json.dumps({"command": command})},
        }
        return [
            chunk({"role": "assistant", "tool_calls": [call]}),
            chunk({}, "tool_calls", usage=True),
        ]
    text = json.dumps(_answer(body))
    return [chunk({"role": "assistant", "content": text}), chunk({}, "stop", usage=True)]
