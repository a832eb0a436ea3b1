"""One read-only agent call that answers a prompt: the router, `orch chat`, `orch commit`.

`call()` builds the invocation with the agent's adapter (route mode: no editing tools, a
read-only sandbox), runs it to its end in its own process group with a timeout, keeps
its output in `work_dir`, parses it and cools the agent down on a usage limit or an
auth failure. `answer_text()` is the free-text form (chat, commit messages): the agent's
final message, or `AgentUnavailable` saying why there is none.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orch.agents import BuildRequest, adapter_for
from orch.agents.base import AgentOutcome
from orch.agents.classify import COOLDOWN_CLASSES
from orch.agents.cooldown import Cooldowns
from orch.clock import Clock
from orch.config.model import Config
from orch.errors import OrchError
from orch.io import proc
from orch.io.proc import CommandNotFound
from orch.io.sidecar import write_text_atomic
from orch.paths import Paths


class AgentUnavailable(OrchError):
    """The agent gave no answer (not installed, cooled down, failed, timed out)."""


@dataclass(frozen=True)
class Call:
    outcome: AgentOutcome
    timed_out: bool


def call(
    paths: Paths,
    clock: Clock,
    config: Config,
    *,
    agent: str,
    model: str | None,
    prompt: str,
    work_dir: Path,
    timeout: float,
    schema: Mapping[str, Any] | None = None,
    why: str = "router call",
    env: Mapping[str, str] | None = None,
) -> Call:
    """Run `agent` once in route mode on `prompt`; its parsed outcome."""
    adapter = adapter_for(config.agents[agent], config)
    work_dir.mkdir(parents=True, exist_ok=True)
    invocation = adapter.build(
        BuildRequest(
            mode="route",
            prompt=prompt,
            system_prompt="",
            model=model,
            cwd=work_dir,
            work_dir=work_dir,
            main_git_dir=None,
            schema=schema,
            env_base=dict(env if env is not None else os.environ),
        )
    )
    for path, text in invocation.files.items():
        write_text_atomic(path, text)
    result = proc.run_in_group(
        invocation.argv,
        cwd=invocation.cwd,
        env=invocation.env,
        stdin=invocation.stdin,
        timeout=timeout,
    )
    write_text_atomic(work_dir / "stdout.log", result.stdout)
    write_text_atomic(work_dir / "stderr.log", result.stderr)
    outcome = adapter.parse(
        result.returncode,
        result.stdout,
        result.stderr,
        timed_out=result.timed_out,
        output_file_text=invocation.output_text(),
        mode="route",
        now=clock.now(),
    )
    if outcome.error_class in COOLDOWN_CLASSES:
        Cooldowns(paths, clock).record(
            agent,
            None,
            error_class=outcome.error_class or "",
            reason=f"{why}: {outcome.error_detail}",
            reset_at=outcome.reset_at,
        )
    return Call(outcome, result.timed_out)


def answer_text(
    paths: Paths,
    clock: Clock,
    config: Config,
    *,
    agent: str,
    model: str | None,
    prompt: str,
    work_dir: Path,
    timeout: float,
    why: str,
    env: Mapping[str, str] | None = None,
) -> str:
    """The agent's final message for a free-text prompt; AgentUnavailable when none."""
    if agent not in config.agents:
        raise AgentUnavailable(
            f"agent {agent!r} is not configured (agents: {', '.join(config.agents)})"
        )
    blocking = Cooldowns(paths, clock).blocking(agent, model)
    if blocking is not None:
        until = blocking.until.strftime("%Y-%m-%d %H:%M UTC")
        raise AgentUnavailable(f"{agent} is cooling down until {until} ({blocking.reason})")
    try:
        done = call(
            paths,
            clock,
            config,
            agent=agent,
            model=model,
            prompt=prompt,
            work_dir=work_dir,
            timeout=timeout,
            why=why,
            env=env,
        )
    except (CommandNotFound, OSError) as exc:  # the CLI is not installed, not executable
        raise AgentUnavailable(f"cannot run {agent}: {exc}") from exc
    outcome = done.outcome
    text = outcome.final_text.strip()
    # Route mode looks for a router answer; a plain text reply is "no result" there, which
    # is exactly what a chat answer is. Anything worse means no answer.
    if text and outcome.error_class in (None, "no_result"):
        return text
    if done.timed_out:
        raise AgentUnavailable(f"{agent} gave no answer within {timeout:g}s")
    raise AgentUnavailable(
        f"{agent} gave no answer: {outcome.error_class or 'no_result'}: "
        f"{outcome.error_detail or 'empty reply'}"
    )
