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
    session_id: str | None = None
    texts: list[tuple[str, str]] = []  # (messageID, text)
    tokens_in = tokens_out = turns = 0
    cost = 0.0
    saw_cost = False
    status_code: int | None = None
    messages: list[str] = []
    rejected = ""
    failed_commands: list[str] = []
    fatal = False
    for event in events:
        session_id = event.get("sessionID") or session_id
        kind = event.get("type")
        part = event.get("part") or {}
        if kind == "text":
            texts.append((str(part.get("messageID") or ""), str(part.get("text") or "")))
        elif kind == "step_finish":
            turns += 1
            tokens = part.get("tokens") or {}
            cache = tokens.get("cache") or {}
            tokens_in += (
                as_int(tokens.get("input")) + as_int(cache.get("read")) + as_int(cache.get("write"))
            )
            tokens_out += as_int(tokens.get("output")) + as_int(tokens.get("reasoning"))
            part_cost = as_float(part.get("cost"))
            if part_cost is not None:
                cost += part_cost
                saw_cost = True
        elif kind == "tool_use":
            state = part.get("state") or {}
            if state.get("status") == "error":
                error = str(state.get("error") or "")
                if "rejected permission" in error:
                    rejected = rejected or f"{part.get('tool')}: {state.get('input')}"
                else:
                    failed_commands.append(f"{part.get('tool')}: {error}"[:300])
            metadata = state.get("metadata") or {}
            if isinstance(metadata.get("exit"), int) and metadata["exit"] != 0:
                failed_commands.append(
                    f"{(state.get('input') or {}).get('command')} (exit {metadata['exit']})"
                )
        elif kind == "error":
            fatal = True
            err: dict[str, Any] = event.get("error") or {}
            data: dict[str, Any] = err.get("data") or {}
            code = data.get("statusCode")
            if isinstance(code, int):
                status_code = code
            messages.append(str(data.get("message") or err.get("name") or "error"))
            body = data.get("responseBody")
            if isinstance(body, str) and body:
                messages.append(body[:2000])
    for line in stderr.splitlines():
        if "permission requested" in line and "auto-rejecting" in line:
            rejected = rejected or line.strip().lstrip("! ").strip()

    final_text = ""
    if texts:
        last_message = texts[-1][0]
        final_text = (
            "".join(t for m, t in texts if m == last_message) if last_message else texts[-1][1]
        )
    result, problem = (
        (None, "the agent reported an error") if fatal else pick_result(mode, None, final_text)
    )
    evidence = Evidence(
        exit_code=output.exit_code,
        timed_out=output.timed_out,
        idle_killed=output.idle_killed,
        status_code=status_code,
        messages=tuple(messages),
        stderr=stderr,
        unstructured="" if events else stdout,
        has_result=result is not None,
        result_problem=problem,
        prompt_rejected=rejected if result is None else "",
        fatal=fatal,
    )
    usage = Usage(
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        cost_usd=cost if saw_cost else None,
        turns=turns,
    )
    return concluded(
        evidence,
        now,
        result=result,
        usage=usage,
        final_text=final_text,
        session_id=session_id,
        failed_commands=failed_commands,
    )
