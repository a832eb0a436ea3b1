"""What every agent adapter shares: the invocation it builds, the outcome it parses, env.

An adapter is pure: `build()` returns the argv, environment, stdin, cwd and the files the
runner must write before starting the process; `parse()` turns the process's exit code
and captured output into an `AgentOutcome`. Starting, timing and killing the process is
the runner's job (orch.run.supervisor); this package never runs an agent.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from orch.agents.classify import Evidence, classify
from orch.clock import utc_iso
from orch.config.model import AgentConfig, Config

Mode = Literal["run", "route", "review"]
MODES: tuple[str, ...] = ("run", "route", "review")

# Variables that carry a GitHub credential. Agents never get one (SPEC §1.5, §8).
GITHUB_TOKEN_VARS = frozenset(
    {
        "GH_TOKEN",
        "GITHUB_TOKEN",
        "GH_ENTERPRISE_TOKEN",
        "GITHUB_ENTERPRISE_TOKEN",
        "GITHUB_PAT",
        "GH_PAT",
        "COPILOT_GITHUB_TOKEN",
        "GITHUB_APP_PRIVATE_KEY",
        "ACTIONS_RUNTIME_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    }
)
_GITHUB_SECRET_RE = re.compile(r"^(GH|GITHUB)_\w*(TOKEN|PAT|KEY|SECRET|PASSWORD)\w*$")


def is_github_token_var(name: str) -> bool:
    upper = name.upper()
    return upper in GITHUB_TOKEN_VARS or bool(_GITHUB_SECRET_RE.match(upper))


def agent_env(
    base_env: Mapping[str, str], extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """`base_env` plus `extra`, minus every GitHub token variable (also from `extra`)."""
    env = {k: v for k, v in base_env.items() if not is_github_token_var(k)}
    for key, value in (extra or {}).items():
        if not is_github_token_var(key):
            env[key] = value
    return env


@dataclass(frozen=True)
class Invocation:
    """Everything needed to start one agent process.

    `files`: paths (inside the attempt's work_dir) and the text the runner writes there
    before starting; `output_file`: a file the CLI writes its final answer to (codex -o),
    which the runner reads back and passes to `parse(output_file_text=...)`.
    """

    argv: tuple[str, ...]
    env: Mapping[str, str]
    stdin: str | None
    cwd: Path
    files: Mapping[Path, str] = field(default_factory=dict)
    output_file: Path | None = None

    def env_names(self) -> list[str]:
        """Names only, for command.json (never the values: they may be secrets)."""
        return sorted(self.env)

    def output_text(self) -> str | None:
        """What the CLI wrote to `output_file` (read once it has exited); None without one."""
        if self.output_file is None:
            return None
        try:
            return self.output_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None


@dataclass(frozen=True)
class Usage:
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = None  # None: the CLI does not report cost (codex)
    turns: int = 0
    duration_s: float | None = None
    model: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost_usd": self.cost_usd,
            "turns": self.turns,
            "duration_s": self.duration_s,
            "model": self.model,
        }


@dataclass(frozen=True)
class AgentOutcome:
    """What one agent process produced, parsed.

    `result`: the validated SPEC §6.4 object (route mode: the router's answer), or None.
    `error_class`: None when the run produced a valid result and no failure was seen,
    else one of orch.agents.classify.ERROR_CLASSES.
    """

    result: dict[str, Any] | None
    usage: Usage
    final_text: str
    error_class: str | None
    error_detail: str
    reset_at: datetime | None
    permission_denials: tuple[dict[str, Any], ...] = ()
    session_id: str | None = None
    failed_commands: tuple[str, ...] = ()  # shell commands the CLI reported as failed

    @property
    def ok(self) -> bool:
        return self.error_class is None and self.result is not None

    def to_json(self) -> dict[str, Any]:

        return {
            "result": self.result,
            "usage": self.usage.to_json(),
            "final_text": self.final_text,
            "error_class": self.error_class,
            "error_detail": self.error_detail,
            "reset_at": utc_iso(self.reset_at) if self.reset_at else None,
            "permission_denials": list(self.permission_denials),
            "session_id": self.session_id,
            "failed_commands": list(self.failed_commands),
        }


@dataclass(frozen=True)
class BuildRequest:
    """What one agent process is asked to do: the input of every adapter's `build()`.

    `cwd`: where the agent works (the worktree, or a scratch directory for routing);
    `work_dir`: the attempt's own directory, for files the CLI reads or writes;
    `main_git_dir`: the user's `.git` (run mode keeps the agent out of the checkout), or
    None; `schema`: the result contract; `env_base`: the environment to start from (None:
    this process's own).
    """

    mode: Mode
    prompt: str
    system_prompt: str
    model: str | None
    cwd: Path
    work_dir: Path
    main_git_dir: Path | None = None
    schema: Mapping[str, Any] | None = None
    env_base: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Draft:
    """The family-specific part of an Invocation, as one adapter decides it.

    `env`: variables on top of `env_base` (the agent's own configured env still wins and
    GitHub tokens are still dropped: `Adapter.build` assembles the rest).
    """

    argv: Sequence[str]
    stdin: str | None
    env: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[Path, str] = field(default_factory=dict)
    output_file: Path | None = None


@dataclass(frozen=True)
class ProcessOutput:
    """What one finished agent process left: its exit, its captured output, how it ended."""

    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool = False
    idle_killed: bool = False
    output_file_text: str | None = None  # the `Invocation.output_file`, read back


class Adapter:
    """Drives one agent CLI family (built by `orch.agents.adapter_for`).

    This base holds what every family shares: the agent's config, the orch config, the
    mode check, environment assembly and the `build()`/`parse()` entry points. A family
    implements `draft()` (argv, stdin, files for one request) and `read()` (one finished
    process's output into an AgentOutcome).
    """

    def __init__(
        self, agent: AgentConfig, config: Config | None = None, *, euid: int | None = None
    ):
        self.agent = agent
        self.config = config
        if euid is None:
            euid = os.geteuid() if hasattr(os, "geteuid") else 1000
        self.euid = euid

    @property
    def name(self) -> str:
        return self.agent.name

    def version_argv(self) -> tuple[str, ...]:
        return (*self.agent.command, "--version")

    def env(self, env_base: Mapping[str, str] | None, extra: Mapping[str, str]) -> dict[str, str]:
        base = dict(os.environ if env_base is None else env_base)
        return agent_env(base, {**extra, **self.agent.env})

    def build(self, request: BuildRequest) -> Invocation:
        check_mode(request.mode)
        draft = self.draft(request)
        env = self.env(request.env_base, draft.env)
        # Some CLIs (opencode) take their working directory from $PWD, not the OS cwd:
        # the caller's PWD would put the agent in the user's checkout.
        env["PWD"] = os.path.abspath(request.cwd)
        return Invocation(
            argv=tuple(draft.argv),
            env=env,
            stdin=draft.stdin,
            cwd=request.cwd,
            files=dict(draft.files),
            output_file=draft.output_file,
        )

    def draft(self, request: BuildRequest) -> Draft:
        raise NotImplementedError

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
        output = ProcessOutput(exit_code, stdout, stderr, timed_out, idle_killed, output_file_text)
        return self.read(output, mode, now)

    def read(self, output: ProcessOutput, mode: Mode, now: datetime | None) -> AgentOutcome:
        raise NotImplementedError


def concluded(
    evidence: Evidence,
    now: datetime | None,
    *,
    result: dict[str, Any] | None,
    usage: Usage,
    final_text: str,
    session_id: str | None = None,
    failed_commands: Sequence[str] = (),
    permission_denials: tuple[dict[str, Any], ...] = (),
) -> AgentOutcome:
    """The AgentOutcome of a parsed run: `evidence` classified, the rest as found."""
    verdict = classify(evidence, now)
    return AgentOutcome(
        result=result,
        usage=usage,
        final_text=final_text,
        error_class=verdict.error_class,
        error_detail=verdict.detail,
        reset_at=verdict.reset_at,
        permission_denials=permission_denials,
        session_id=session_id,
        failed_commands=tuple(failed_commands),
    )


def joined_prompt(system_prompt: str, prompt: str) -> str:
    """For CLIs without a system-prompt flag: the system prompt goes first in the message."""
    if not system_prompt.strip():
        return prompt
    return f"{system_prompt.rstrip()}\n\n---\n\n{prompt}"


def main_checkout(main_git_dir: Path) -> Path:
    """The user's checkout for a `<main>/.git` directory (a bare repo is its own root)."""
    return main_git_dir.parent if main_git_dir.name == ".git" else main_git_dir


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"unknown agent mode {mode!r}; modes: {', '.join(MODES)}")
