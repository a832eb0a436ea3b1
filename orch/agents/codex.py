"""OpenAI Codex CLI (`codex exec --json`): reference/clients.md §2 and §7.2.

The prompt goes on stdin (`-` as the prompt argument); codex has no system-prompt flag,
so the system prompt leads the message. The result contract is a schema file
(`--output-schema`) and the final message lands in the `-o` file; both live in the
attempt's work_dir and are written/read by the runner.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from orch.agents.base import (
    AdapterBase,
    AgentOutcome,
    Invocation,
    Mode,
    Usage,
    check_mode,
    joined_prompt,
)
from orch.agents.classify import Evidence, classify
from orch.agents.events import as_int, json_events
from orch.agents.result import pick_result, schema_text

SCHEMA_FILE = "codex-output-schema.json"
LAST_MESSAGE_FILE = "codex-last-message.txt"


class CodexAdapter(AdapterBase):
    def build(
        self,
        mode: Mode,
        *,
        prompt: str,
        system_prompt: str,
        model: str | None,
        cwd: Path,
        work_dir: Path,
        main_git_dir: Path | None = None,
        schema: Mapping[str, Any] | None = None,
        env_base: Mapping[str, str] | None = None,
    ) -> Invocation:
        check_mode(mode)
        sandbox = "read-only" if mode == "route" else (self.agent.sandbox or "workspace-write")
        output_file = work_dir / LAST_MESSAGE_FILE
        files: dict[Path, str] = {}
        argv: list[str] = [
            *self.agent.command, "exec", "--json", "-C", str(cwd), "--sandbox", sandbox,
            "--skip-git-repo-check",
        ]
        if model:
            argv += ["-m", model]
        if schema is not None:
            schema_file = work_dir / SCHEMA_FILE
            files[schema_file] = schema_text(schema) + "\n"
            argv += ["--output-schema", str(schema_file)]
        argv += ["-o", str(output_file)]
        if mode == "run" and main_git_dir is not None and sandbox == "workspace-write":
            # workspace-write keeps every .git read-only; a worktree commits into both
            # the main .git (objects, refs) and its own gitdir (reference §7.2).
            argv += ["--add-dir", str(main_git_dir)]
            gitdir = worktree_gitdir(cwd, main_git_dir)
            if gitdir is not None:
                argv += ["--add-dir", str(gitdir)]
        argv += [*self.agent.extra_args, "-"]
        return Invocation(
            argv=tuple(argv),
            env=self.env(env_base, {}),
            stdin=joined_prompt(system_prompt, prompt),
            cwd=cwd,
            files=files,
            output_file=output_file,
        )

    def parse(
        self,
        exit_code: int,
        stdout: str,
        stderr: str,
        *,
        timed_out: bool = False,
        idle_killed: bool = False,
        output_file_text: str | None = None,
        mode: Mode = "run",
        now: datetime | None = None,
    ) -> AgentOutcome:
        return parse_codex(
            exit_code, stdout, stderr, timed_out=timed_out, idle_killed=idle_killed,
            output_file_text=output_file_text, mode=mode, now=now,
        )


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
    if worktree == main_checkout_of(main_git_dir):
        return None
    return main_git_dir / "worktrees" / worktree.name


def main_checkout_of(main_git_dir: Path) -> Path:
    return main_git_dir.parent if main_git_dir.name == ".git" else main_git_dir


def parse_codex(
    exit_code: int,
    stdout: str,
    stderr: str,
    *,
    timed_out: bool = False,
    idle_killed: bool = False,
    output_file_text: str | None = None,
    mode: Mode = "run",
    now: datetime | None = None,
) -> AgentOutcome:
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
        import json

        try:
            structured = json.loads(answer)
        except ValueError:
            structured = None
    result, problem = (None, "the agent reported an error") if fatal else pick_result(
        mode, structured, answer
    )
    # The last failure message is the cause; earlier "Reconnecting..." lines are noise.
    messages_for_class = tuple(errors[-1:] + errors[:-1]) if fatal else tuple(errors)
    evidence = Evidence(
        exit_code=exit_code,
        timed_out=timed_out,
        idle_killed=idle_killed,
        messages=messages_for_class,
        stderr=_without_banner(stderr),
        unstructured="" if events else stdout,
        has_result=result is not None,
        result_problem=problem,
        fatal=fatal,
    )
    verdict = classify(evidence, now)
    return AgentOutcome(
        result=result,
        usage=Usage(tokens_in=tokens_in, tokens_out=tokens_out, cost_usd=None, turns=turns),
        final_text=answer if answer.strip() else final_text,
        error_class=verdict.error_class,
        error_detail=verdict.detail,
        reset_at=verdict.reset_at,
        session_id=thread_id,
        failed_commands=tuple(failed_commands),
    )


_BANNERS = ("Reading additional input from stdin", "WARNING: proceeding, even though")


def _without_banner(stderr: str) -> str:
    return "\n".join(x for x in stderr.splitlines() if not x.startswith(_BANNERS))
