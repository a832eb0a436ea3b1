"""opencode (`opencode run --format json`): reference/clients.md §3 and §7.3.

opencode has no sandbox and no system-prompt flag. Its permission config is pinned
through `OPENCODE_CONFIG_CONTENT`, which opencode merges over the user's own config files
(`OPENCODE_CONFIG`, `opencode.json`: their providers keep working), so it never asks: an
`ask` makes `opencode run` auto-reject and stop with exit 0 and no result. opencode takes
its directory from `$PWD` (set by `Adapter.build`) and from `--dir`, given too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orch.agents.base import (
    Adapter,
    AgentOutcome,
    BuildRequest,
    Draft,
    Mode,
    ProcessOutput,
    Usage,
    concluded,
    joined_prompt,
)
from orch.agents.classify import Evidence
from orch.agents.events import as_float, as_int, json_events
from orch.agents.result import pick_result

CONFIG_ENV = "OPENCODE_CONFIG_CONTENT"
RUN_PERMISSION: dict[str, Any] = {
    "bash": "allow",
    "edit": "allow",
    "webfetch": "allow",
    "external_directory": "allow",
}
REVIEW_PERMISSION: dict[str, Any] = {
    "bash": "allow",
    "edit": "deny",
    "webfetch": "deny",
    "external_directory": "deny",
}
ROUTE_PERMISSION: dict[str, Any] = {
    "bash": "deny",
    "edit": "deny",
    "webfetch": "deny",
    "external_directory": "deny",
}


class OpencodeAdapter(Adapter):
    def draft(self, request: BuildRequest) -> Draft:
        argv: list[str] = [
            *self.agent.command,
            "run",
            "--format",
            "json",
            "--dir",
            str(request.cwd),
        ]
        if request.model:
            argv += ["--model", request.model]
        argv += list(self.agent.extra_args)
        config = {**user_config(request.env_base), **self.opencode_config(request.mode)}
        message = joined_prompt(request.system_prompt, request.prompt)
        if request.schema is not None:
            message += (
                "\n\nEnd your final message with one JSON object matching this schema:\n"
                + json.dumps(request.schema, sort_keys=True)
            )
        return Draft(
            argv=argv,
            stdin=message,
            env={CONFIG_ENV: json.dumps(config, sort_keys=True)},
        )

    def opencode_config(self, mode: Mode) -> dict[str, Any]:
        if mode == "route":
            permission = dict(ROUTE_PERMISSION)
        elif mode == "review":
            permission = dict(REVIEW_PERMISSION)
        else:
            permission = {**RUN_PERMISSION, **dict(self.agent.permission)}
            # "ask" can never be answered in a run: it would stop the agent (§7.3).
            permission = {k: ("allow" if v == "ask" else v) for k, v in permission.items()}
        return {"$schema": "https://opencode.ai/config.json", "permission": permission}

    def read(self, output: ProcessOutput, mode: Mode, now: datetime | None) -> AgentOutcome:
        return parse_opencode(output, mode, now)


def user_config(env_base: Mapping[str, str] | None) -> dict[str, Any]:
    """The config the user already passes in OPENCODE_CONFIG_CONTENT (orch's keys win)."""
    text = (os.environ if env_base is None else env_base).get(CONFIG_ENV) or ""
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def parse_opencode(
    output: ProcessOutput, mode: Mode = "run", now: datetime | None = None
) -> AgentOutcome:
    stdout, stderr = output.stdout, output.stderr
    events = json_events(stdout)
    stream = _Stream()
    for event in events:
        stream.read(event)
    rejected = stream.rejected
    for line in stderr.splitlines():
        if "permission requested" in line and "auto-rejecting" in line:
            rejected = rejected or line.strip().lstrip("! ").strip()

    final_text = stream.final_text()
    result, problem = (
        (None, "the agent reported an error")
        if stream.fatal
        else pick_result(mode, None, final_text)
    )
    evidence = Evidence(
        exit_code=output.exit_code,
        timed_out=output.timed_out,
        idle_killed=output.idle_killed,
        status_code=stream.status_code,
        messages=tuple(stream.messages),
        stderr=stderr,
        unstructured="" if events else stdout,
        has_result=result is not None,
        result_problem=problem,
        prompt_rejected=rejected if result is None else "",
        fatal=stream.fatal,
    )
    usage = Usage(
        tokens_in=stream.tokens_in,
        tokens_out=stream.tokens_out,
        cost_usd=stream.cost if stream.saw_cost else None,
        turns=stream.turns,
    )
    return concluded(
        evidence,
        now,
        result=result,
        usage=usage,
        final_text=final_text,
        session_id=stream.session_id,
        failed_commands=stream.failed_commands,
    )


@dataclass
class _Stream:
    """What `opencode run --format json` events add up to, read one event at a time."""

    session_id: str | None = None
    texts: list[tuple[str, str]] = field(default_factory=list)  # (messageID, text)
    tokens_in: int = 0
    tokens_out: int = 0
    turns: int = 0
    cost: float = 0.0
    saw_cost: bool = False
    status_code: int | None = None
    messages: list[str] = field(default_factory=list)
    rejected: str = ""
    failed_commands: list[str] = field(default_factory=list)
    fatal: bool = False

    def read(self, event: dict[str, Any]) -> None:
        self.session_id = event.get("sessionID") or self.session_id
        kind = event.get("type")
        part = event.get("part") or {}
        if kind == "text":
            self.texts.append((str(part.get("messageID") or ""), str(part.get("text") or "")))
        elif kind == "step_finish":
            self._step_finish(part)
        elif kind == "tool_use":
            self._tool_use(part)
        elif kind == "error":
            self._error(event)

    def _step_finish(self, part: dict[str, Any]) -> None:
        self.turns += 1
        tokens = part.get("tokens") or {}
        cache = tokens.get("cache") or {}
        self.tokens_in += (
            as_int(tokens.get("input")) + as_int(cache.get("read")) + as_int(cache.get("write"))
        )
        self.tokens_out += as_int(tokens.get("output")) + as_int(tokens.get("reasoning"))
        part_cost = as_float(part.get("cost"))
        if part_cost is not None:
            self.cost += part_cost
            self.saw_cost = True

    def _tool_use(self, part: dict[str, Any]) -> None:
        state = part.get("state") or {}
        if state.get("status") == "error":
            error = str(state.get("error") or "")
            if "rejected permission" in error:
                self.rejected = self.rejected or f"{part.get('tool')}: {state.get('input')}"
            else:
                self.failed_commands.append(f"{part.get('tool')}: {error}"[:300])
        metadata = state.get("metadata") or {}
        if isinstance(metadata.get("exit"), int) and metadata["exit"] != 0:
            self.failed_commands.append(
                f"{(state.get('input') or {}).get('command')} (exit {metadata['exit']})"
            )

    def _error(self, event: dict[str, Any]) -> None:
        self.fatal = True
        err: dict[str, Any] = event.get("error") or {}
        data: dict[str, Any] = err.get("data") or {}
        code = data.get("statusCode")
        if isinstance(code, int):
            self.status_code = code
        self.messages.append(str(data.get("message") or err.get("name") or "error"))
        body = data.get("responseBody")
        if isinstance(body, str) and body:
            self.messages.append(body[:2000])

    def final_text(self) -> str:
        """The text parts of the last message, joined."""
        if not self.texts:
            return ""
        last_message = self.texts[-1][0]
        if not last_message:
            return self.texts[-1][1]
        return "".join(t for m, t in self.texts if m == last_message)
