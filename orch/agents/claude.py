"""Claude Code (`claude -p`) and claude-compatible CLIs (kimi, minimax, `like: claude`).

Flags and output shapes: reference/clients.md §1. The prompt goes on stdin, the system
prompt as text with `--append-system-prompt`, the result contract with `--json-schema`
(claude answers in `structured_output`). Run mode streams (`stream-json --verbose`) for
live logs; route and review modes print one JSON result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
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
    main_checkout,
)
from orch.agents.classify import Evidence
from orch.agents.events import as_float, as_int, json_events
from orch.agents.result import pick_result, schema_text

# Tools a router or reviewer never needs: they only read and answer.
READ_ONLY_DENY = ("Bash", "Edit", "Write", "NotebookEdit", "WebFetch", "WebSearch")
REVIEW_DENY = ("Edit", "Write", "NotebookEdit")
REVIEW_ALLOW = ("Read", "Grep", "Glob", "Bash(git diff:*)", "Bash(git log:*)", "Bash(git show:*)")
MAX_RETRIES = "2"  # claude's default (10) turns one 401 into ~3 minutes of retries


class ClaudeAdapter(Adapter):
    def draft(self, request: BuildRequest) -> Draft:
        mode = request.mode
        argv: list[str] = [*self.agent.command, "-p"]
        if mode == "run":
            argv += ["--output-format", "stream-json", "--verbose"]
        else:
            argv += ["--output-format", "json"]
        if request.model:
            argv += ["--model", request.model]
        if request.system_prompt.strip():
            argv += ["--append-system-prompt", request.system_prompt]
        if mode == "run":
            argv += ["--permission-mode", "bypassPermissions"]
        if request.schema is not None:
            argv += ["--json-schema", schema_text(request.schema)]
        disallowed = self.disallowed_tools(mode, request.cwd, request.main_git_dir)
        allowed = list(self.agent.allowed_tools) if mode != "route" else []
        if mode == "review":
            allowed += list(REVIEW_ALLOW)  # -p denies unapproved Bash: pre-approve reading git
        if allowed:
            argv += ["--allowedTools", *dict.fromkeys(allowed)]
        argv += list(self.agent.extra_args)
        # Variadic last: `--disallowedTools A B C` eats every following word that does not
        # start with `--`, and claude takes no positional here (the prompt is on stdin).
        if disallowed:
            argv += ["--disallowedTools", *disallowed]
        base = request.env_base or {}
        extra: dict[str, str] = {}
        # The user's own settings win; orch only supplies unattended-friendly defaults.
        for key, value in (
            ("CLAUDE_CODE_MAX_RETRIES", MAX_RETRIES),
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"),
        ):
            if key not in base:
                extra[key] = value
        if mode == "run" and self.euid == 0:
            extra["IS_SANDBOX"] = "1"  # bypassPermissions is refused as root without it
        return Draft(argv=argv, stdin=request.prompt, env=extra)

    def disallowed_tools(self, mode: Mode, cwd: Path, main_git_dir: Path | None) -> list[str]:
        tools: list[str] = []
        workflow = self.config.workflow if self.config else None
        if workflow is not None:
            tools += list(workflow.disallowed_tools)
        if mode == "route":
            tools += list(READ_ONLY_DENY)
        elif mode == "review":
            tools += list(REVIEW_DENY)
        if mode != "route" and main_git_dir is not None and (workflow is None or workflow.sandbox):
            tools += sandbox_patterns(main_checkout(main_git_dir), cwd)
        return list(dict.fromkeys(tools))

    def read(self, output: ProcessOutput, mode: Mode, now: datetime | None) -> AgentOutcome:
        return parse_claude(output, mode, now)


def sandbox_patterns(main: Path, worktree: Path) -> list[str]:
    """Permission rules that keep claude out of the main checkout (SPEC §6.3).

    Claude's rules take absolute paths with a leading `//`. The worktree normally lives
    in orch's state dir; if it ever sits inside the checkout, only `.git` is protected.
    """
    main_text = str(main).rstrip("/")
    try:
        worktree.relative_to(main)
        inside = True
    except ValueError:
        inside = False
    guarded = f"{main_text}/.git" if inside else main_text
    return [
        f"Edit(/{guarded}/**)",
        f"Write(/{guarded}/**)",
        f"NotebookEdit(/{guarded}/**)",
        f"Bash(cd {guarded}:*)",
        f"Bash(git -C {guarded}:*)",
    ]


def parse_claude(
    output: ProcessOutput, mode: Mode = "run", now: datetime | None = None
) -> AgentOutcome:
    stdout = output.stdout
    events = json_events(stdout)
    stream = _scan(events)
    final = stream.final
    final_text = ""
    structured: Any = None
    usage = Usage(model=stream.model)
    denials: tuple[dict[str, Any], ...] = ()
    evidence_kwargs: dict[str, Any] = {}
    if final is not None:
        raw_result = final.get("result")
        final_text = raw_result if isinstance(raw_result, str) else ""
        structured = final.get("structured_output")
        usage = _usage(final, stream.model)
        denials = tuple(d for d in final.get("permission_denials") or [] if isinstance(d, dict))
        evidence_kwargs = _error_evidence(final, final_text)
    elif stream.assistant_text:
        final_text = stream.assistant_text[-1]
    elif not events:
        final_text = stdout.strip()  # text output format (or a CLI that printed no JSON)

    result, problem = (
        (None, "") if evidence_kwargs.get("fatal") else pick_result(mode, structured, final_text)
    )
    if evidence_kwargs.get("fatal"):
        problem = "the agent reported an error"
    evidence = Evidence(
        exit_code=output.exit_code,
        timed_out=output.timed_out,
        idle_killed=output.idle_killed,
        stderr=output.stderr,
        unstructured="" if events else stdout,
        has_result=result is not None,
        result_problem=problem,
        **evidence_kwargs,
    )
    return concluded(
        evidence,
        now,
        result=result,
        usage=usage,
        final_text=final_text,
        session_id=stream.session_id,
        failed_commands=stream.failed_commands,
        permission_denials=denials,
    )


@dataclass
class _Stream:
    """What the stream-json events say besides the final `result` event's fields."""

    final: dict[str, Any] | None = None
    model: str | None = None
    session_id: str | None = None
    failed_commands: list[str] = field(default_factory=list)
    assistant_text: list[str] = field(default_factory=list)


def _scan(events: list[dict[str, Any]]) -> _Stream:
    stream = _Stream()
    for event in events:
        kind = event.get("type")
        stream.session_id = event.get("session_id") or stream.session_id
        if kind == "result":
            stream.final = event
        elif kind == "system" and event.get("subtype") == "init":
            stream.model = event.get("model") or stream.model
        elif kind == "assistant":
            for block in (event.get("message") or {}).get("content") or []:
                if isinstance(block, dict) and block.get("type") == "text":
                    stream.assistant_text.append(str(block.get("text") or ""))
        elif kind == "user":
            tool_result = event.get("tool_use_result")
            for block in (event.get("message") or {}).get("content") or []:
                if (
                    isinstance(block, dict)
                    and block.get("is_error")
                    and isinstance(tool_result, dict)
                ):
                    stream.failed_commands.append(str(block.get("content") or "")[:300])
    return stream


def _usage(final: dict[str, Any], model: str | None) -> Usage:
    """The final event's usage; its modelUsage names the model that ran."""

    raw_usage = final.get("usage") or {}
    model_usage = final.get("modelUsage") or {}
    if isinstance(model_usage, dict) and model_usage:
        model = next(iter(model_usage))
    return Usage(
        tokens_in=as_int(raw_usage.get("input_tokens"))
        + as_int(raw_usage.get("cache_creation_input_tokens"))
        + as_int(raw_usage.get("cache_read_input_tokens")),
        tokens_out=as_int(raw_usage.get("output_tokens")),
        cost_usd=as_float(final.get("total_cost_usd")),
        turns=as_int(final.get("num_turns")),
        duration_s=(as_float(final.get("duration_ms")) or 0.0) / 1000 or None,
        model=model,
    )


def _error_evidence(final: dict[str, Any], final_text: str) -> dict[str, Any]:
    """The final event's error fields, as Evidence keywords."""

    is_error = bool(final.get("is_error"))
    status = final.get("api_error_status")
    errors = [str(e) for e in final.get("errors") or []]
    return {
        "fatal": is_error,
        "status_code": status if isinstance(status, int) and is_error else None,
        "messages": tuple([final_text, *errors]) if is_error else (),
        "subtype": final.get("subtype")
        if final.get("subtype") != "success"
        else ("max_turns" if final.get("terminal_reason") == "max_turns" else None),
    }
