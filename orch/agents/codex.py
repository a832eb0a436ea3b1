"""OpenAI Codex CLI (`codex exec --json`): reference/clients.md §2 and §7.2.

The prompt goes on stdin (`-` as the prompt argument); codex has no system-prompt flag,
so the system prompt leads the message. The result contract is a schema file
(`--output-schema`) and the final message lands in the `-o` file; both live in the
attempt's work_dir and are written/read by the runner.
"""

from __future__ import annotations

import json
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
    joined_prompt,
    main_checkout,
)
from orch.agents.classify import Evidence
from orch.agents.events import as_int, json_events
from orch.agents.result import pick_result, schema_text

SCHEMA_FILE = "codex-output-schema.json"
LAST_MESSAGE_FILE = "codex-last-message.txt"


class CodexAdapter(Adapter):
    def draft(self, request: BuildRequest) -> Draft:
        mode, cwd, work_dir = request.mode, request.cwd, request.work_dir
        sandbox = "read-only" if mode == "route" else (self.agent.sandbox or "workspace-write")
        output_file = work_dir / LAST_MESSAGE_FILE
        files: dict[Path, str] = {}
        argv: list[str] = [
            *self.agent.command,
            "exec",
            "--json",
            "-C",
            str(cwd),
            "--sandbox",
            sandbox,
            "--skip-git-repo-check",
        ]
        if request.model:
            argv += ["-m", request.model]
        if request.schema is not None:
            schema_file = work_dir / SCHEMA_FILE
            files[schema_file] = schema_text(request.schema) + "\n"
            argv += ["--output-schema", str(schema_file)]
        argv += ["-o", str(output_file)]
        main_git_dir = request.main_git_dir
        if mode == "run" and main_git_dir is not None and sandbox == "workspace-write":
            # workspace-write keeps every .git read-only; a worktree commits into both
            # the main .git (objects, refs) and its own gitdir (reference §7.2).
            argv += ["--add-dir", str(main_git_dir)]
            gitdir = worktree_gitdir(cwd, main_git_dir)
            if gitdir is not None:
                argv += ["--add-dir", str(gitdir)]
        argv += [*self.agent.extra_args, "-"]
        return Draft(
            argv=argv,
            stdin=joined_prompt(request.system_prompt, request.prompt),
            files=files,
            output_file=output_file,
        )

    def read(self, output: ProcessOutput, mode: Mode, now: datetime | None) -> AgentOutcome:
        return parse_codex(output, mode, now)


def worktree_gitdir(worktree: Path, main_git_dir: Path) -> Path | None:
    """`<main>/.git/worktrees/<name>` of a linked worktree, from its `.git` file if it can
    be read, else by git's naming (the worktree directory's name)."""
    dot_git = worktree / ".git"
    try:
        text = dot_git.read_text(encoding="utf-8").strip()
    except OSError:
        text = ""
    if text.startswith("gitdir:"):
        return Path(text.split(":", 1)[1].strip())
    if worktree == main_checkout(main_git_dir):
        return None
    return main_git_dir / "worktrees" / worktree.name


def parse_codex(
    output: ProcessOutput, mode: Mode = "run", now: datetime | None = None
) -> AgentOutcome:
    stdout = output.stdout
    output_file_text = output.output_file_text
    events = json_events(stdout)
    thread_id: str | None = None
    messages: list[str] = []
    errors: list[str] = []
    failed_commands: list[str] = []
    tokens_in = tokens_out = turns = 0
    fatal = False
    for event in events:
        kind = event.get("type")
        if kind == "thread.started":
            thread_id = event.get("thread_id") or thread_id
        elif kind == "item.completed":
            item = event.get("item") or {}
            if item.get("type") == "agent_message":
                messages.append(str(item.get("text") or ""))
            elif item.get("type") == "command_execution":
                code = item.get("exit_code")
                if isinstance(code, int) and code != 0:
                    failed_commands.append(f"{item.get('command')} (exit {code})")
            # item.type == "error" is a non-fatal warning (reference §2.2): ignored.
        elif kind == "turn.completed":
            turns += 1
            usage = event.get("usage") or {}
            tokens_in += as_int(usage.get("input_tokens"))
            tokens_out += as_int(usage.get("output_tokens"))
        elif kind == "turn.failed":
            fatal = True
            error = event.get("error") or {}
            errors.append(str(error.get("message") or "turn failed"))
        elif kind == "error":
            errors.append(str(event.get("message") or ""))

    final_text = messages[-1] if messages else ""
    answer = output_file_text if output_file_text and output_file_text.strip() else final_text
    structured: Any = None
    if answer.strip().startswith("{"):
        try:
            structured = json.loads(answer)
        except ValueError:
            structured = None
    result, problem = (
        (None, "the agent reported an error") if fatal else pick_result(mode, structured, answer)
    )
    # The last failure message is the cause; earlier "Reconnecting..." lines are noise.
    messages_for_class = tuple(errors[-1:] + errors[:-1]) if fatal else tuple(errors)
    evidence = Evidence(
        exit_code=output.exit_code,
        timed_out=output.timed_out,
        idle_killed=output.idle_killed,
        messages=messages_for_class,
        stderr=_without_banner(output.stderr),
        unstructured="" if events else stdout,
        has_result=result is not None,
        result_problem=problem,
        fatal=fatal,
    )
    return concluded(
        evidence,
        now,
        result=result,
        usage=Usage(tokens_in=tokens_in, tokens_out=tokens_out, cost_usd=None, turns=turns),
        final_text=answer if answer.strip() else final_text,
        session_id=thread_id,
        failed_commands=failed_commands,
    )


_BANNERS = ("Reading additional input from stdin", "WARNING: proceeding, even though")


def _without_banner(stderr: str) -> str:
    return "\n".join(x for x in stderr.splitlines() if not x.startswith(_BANNERS))
