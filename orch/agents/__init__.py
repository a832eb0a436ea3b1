"""Agent adapters: how orch invokes each agent CLI family and reads what it printed.

`adapter_for(agent, config)` picks the adapter for an agent's family (claude — also kimi,
minimax and `like: claude` —, codex, opencode, or a generic command). Adapters build
invocations and parse output; they never start processes (the runner does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orch.agents.base import (
    Adapter,
    AgentOutcome,
    BuildRequest,
    Invocation,
    Mode,
    Usage,
    agent_env,
    is_github_token_var,
)
from orch.agents.classify import ERROR_CLASSES, Classification, Evidence, classify
from orch.agents.claude import ClaudeAdapter
from orch.agents.codex import CodexAdapter
from orch.agents.command import CommandAdapter
from orch.agents.opencode import OpencodeAdapter

if TYPE_CHECKING:
    from orch.config.model import AgentConfig, Config

__all__ = [
    "ERROR_CLASSES",
    "Adapter",
    "AgentOutcome",
    "BuildRequest",
    "Classification",
    "Evidence",
    "Invocation",
    "Mode",
    "Usage",
    "adapter_for",
    "agent_env",
    "classify",
    "is_github_token_var",
]


def adapter_for(
    agent: AgentConfig, config: Config | None = None, *, euid: int | None = None
) -> Adapter:
    """The adapter that drives `agent` (by its family: claude, codex, opencode, command)."""
    if agent.family == "claude":
        return ClaudeAdapter(agent, config, euid=euid)
    if agent.family == "codex":
        return CodexAdapter(agent, config, euid=euid)
    if agent.family == "opencode":
        return OpencodeAdapter(agent, config, euid=euid)

    return CommandAdapter(agent, config, euid=euid)
