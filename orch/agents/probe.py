"""Is an agent's CLI installed, and which version (`orch agents`, router availability)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from orch.agents.cooldown import Cooldown, Cooldowns
from orch.config.model import AgentConfig, Config
from orch.errors import OrchError, UsageError
from orch.io.proc import run
from orch.io.proc import which as proc_which

_VERSION_RE = re.compile(r"\d+\.\d+(?:\.\d+)?(?:[-+.][\w.]+)?")


@dataclass(frozen=True)
class Probe:
    name: str
    command: str
    path: str | None  # None: not found on PATH
    version: str | None = None
    error: str = ""

    @property
    def installed(self) -> bool:
        return self.path is not None


def which(agent: AgentConfig, env: Mapping[str, str] | None = None) -> str | None:

    path = (env or {}).get("PATH") if env is not None else None
    return proc_which(agent.command[0], path)


def cannot_run(config: Config, name: str, env: Mapping[str, str] | None = None) -> OrchError | None:
    """Why agent `name` cannot run a task on this host, as the error to raise (None: it
    can). Not configured is a usage error (exit 2); configured but not installed fails
    (exit 1). The dispatcher checks this before it claims anything, the runner before
    the task moves to in_progress."""
    if name not in config.agents:
        configured = ", ".join(sorted(config.agents)) or "none"
        return UsageError(
            f"agent {name!r} is not configured (configured agents: {configured}); "
            "use `/assign AGENT` or fix the agent: label"
        )
    agent = config.agents[name]
    if which(agent, env) is None:
        return OrchError(
            f"agent {name!r} is not installed on this host ({agent.command[0]} not found on "
            "PATH); install it or use `/assign AGENT` to pick another"
        )
    return None


def probe(
    agent: AgentConfig, *, env: Mapping[str, str] | None = None, timeout: float = 15
) -> Probe:
    """Locate the CLI and ask it `--version` (first line; a version number when it has one)."""

    path = which(agent, env)
    if path is None:
        return Probe(agent.name, agent.command[0], None)
    if agent.family == "command":
        # A custom CLI is not known to answer --version: running it could start the agent
        # itself (and spend money). Being on PATH is all we can safely say.
        return Probe(agent.name, agent.command[0], path)
    result = run([path, *agent.command[1:], "--version"], env=env, timeout=timeout)
    if result.timed_out:
        return Probe(agent.name, agent.command[0], path, None, "--version timed out")
    text = (result.stdout.strip() or result.stderr.strip()).splitlines()
    first = text[0].strip() if text else ""
    if result.returncode != 0:
        return Probe(agent.name, agent.command[0], path, None, first or f"exit {result.returncode}")
    return Probe(agent.name, agent.command[0], path, version_of(first) or first or None)


def version_of(line: str) -> str | None:
    """`2.1.197 (Claude Code)` → 2.1.197; `codex-cli 0.169.0` → 0.169.0."""
    match = _VERSION_RE.search(line)
    return match.group(0) if match else None


@dataclass(frozen=True)
class AgentInfo:
    """One configured agent as `orch agents` shows it."""

    name: str
    family: str
    command: tuple[str, ...]
    probe: Probe
    disabled: bool
    router: bool
    cooldowns: tuple[Cooldown, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "family": self.family,
            "command": list(self.command),
            "installed": self.probe.installed,
            "path": self.probe.path,
            "version": self.probe.version,
            "error": self.probe.error or None,
            "disabled": self.disabled,
            "router": self.router,
            "cooldowns": [c.to_json() for c in self.cooldowns],
        }


def survey(
    config: Config, cooldowns: Cooldowns, *, env: Mapping[str, str] | None = None
) -> list[AgentInfo]:
    """Every configured agent: found on PATH?, version, disabled, cooldowns in force."""

    active = cooldowns.active()
    agents = list(config.agents.items())
    # `--version` of a node CLI takes ~0.5 s: ask them all at once.
    with ThreadPoolExecutor(max_workers=max(len(agents), 1)) as pool:
        probes = list(pool.map(lambda item: probe(item[1], env=env), agents))
    return [
        AgentInfo(
            name=name,
            family=agent.family,
            command=agent.command,
            probe=found,
            disabled=name in config.router.disabled_agents,
            router=name == config.router.agent,
            cooldowns=tuple(c for c in active if c.agent == name),
        )
        for (name, agent), found in zip(agents, probes, strict=True)
    ]
