"""After the agent (SPEC §6.5): what one attempt's output means, recorded on disk.

`finish_attempt()` parses the agent's captured output with its adapter, looks at the
worktree (commits ahead, uncommitted changes), lets `orch.run.decision.decide()` choose the
task's next status, writes result.json and usage.json (redacted) into the attempt
directory and starts the agent's cooldown when the decision says so. Everything
publishing needs is then on disk, so a crash between here and publishing loses nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from orch.agents import adapter_for
from orch.agents.cooldown import Cooldowns
from orch.clock import parse_iso
from orch.io import git, proc
from orch.io.redact import redact_data, redactor_for
from orch.run.decision import Decision, Facts, decide, next_untried_agent
from orch.run.supervisor import ExitInfo
from orch.task.attempt import AttemptDir

if TYPE_CHECKING:
    from datetime import datetime

    from orch.agents.base import Adapter, AgentOutcome, Mode
    from orch.deps import Deps
    from orch.project import Project


def finish_attempt(
    deps: Deps,
    project: Project,
    adir: AttemptDir,
    exit_info: ExitInfo,
    *,
    output_file: Path | None = None,
    lost: bool = False,
) -> Decision:
    """Parse the agent's output, classify it, decide the task's next status; write
    result.json and usage.json; start the agent's cooldown when the decision says so."""

    config = project.config
    meta = adir.read(adir.meta) or {}
    agent = str(meta.get("agent"))
    if agent in config.agents:
        adapter = adapter_for(config.agents[agent], config)
        output_file = output_file if output_file is not None else _output_file_of(adir)
        parsed = parse_output(adapter, adir, exit_info, output_file, now=deps.clock.now())
        outcome = parsed.to_json()
    else:
        outcome = _unconfigured(agent)
    tried = [*meta.get("tried_agents", []), agent]
    next_agent = None
    if outcome.get("error_class") in ("usage_limit", "auth"):
        next_agent = _next_agent(deps, project, tried)
    facts = _facts(meta, agent, outcome, exit_info, lost=lost, next_agent=next_agent)
    decision = decide(facts)
    redactor = redactor_for(config)

    adir.write(
        adir.result,
        {"outcome": redact_data(outcome, redactor.values), "decision": decision.to_json()},
    )
    adir.write(adir.usage, dict(outcome.get("usage") or {}))
    if decision.cooldown:
        _cooldown(deps, agent, meta.get("model"), decision.error_class, outcome.get("reset_at"))
    return decision


def parse_output(
    adapter: Adapter,
    adir: AttemptDir,
    exit_info: ExitInfo,
    output_file: Path | None,
    *,
    now: datetime,
    mode: Mode = "run",
) -> AgentOutcome:
    """The agent's captured stdout, stderr and output file, read by its adapter: the step
    the run and the review share."""

    output_text = None
    if output_file is not None and output_file.exists():
        output_text = output_file.read_text(encoding="utf-8", errors="replace")
    return adapter.parse(
        exit_info.returncode,
        adir.text(adir.stdout),
        adir.text(adir.stderr),
        timed_out=exit_info.timed_out,
        idle_killed=exit_info.idle_killed,
        output_file_text=output_text,
        mode=mode,
        now=now,
    )


def _unconfigured(agent: str) -> dict[str, Any]:
    return {
        "result": None,
        "usage": {},
        "error_class": "failed",
        "error_detail": f"agent {agent!r} is no longer configured",
        "permission_denials": [],
        "failed_commands": [],
    }


def _facts(
    meta: dict[str, Any],
    agent: str,
    outcome: dict[str, Any],
    exit_info: ExitInfo,
    *,
    lost: bool,
    next_agent: str | None,
) -> Facts:
    """What decide() looks at: the outcome, how the process ended, the worktree's state."""

    worktree = Path(str(meta.get("worktree")))
    ahead = 0
    dirty = False
    if worktree.is_dir():
        dirty = git.has_changes(worktree)
        ahead = git.commits_ahead(worktree, str(meta.get("base_ref")))
    return Facts(
        attempt=int(meta.get("attempt") or 0),
        agent=agent,
        result=outcome.get("result"),
        error_class=outcome.get("error_class"),
        error_detail=str(outcome.get("error_detail") or ""),
        timed_out=exit_info.timed_out,
        idle_killed=exit_info.idle_killed,
        stopped=exit_info.stopped,
        stop_reason=exit_info.reason if exit_info.stopped else "",
        interrupted=exit_info.interrupted,
        lost=lost,
        commits_ahead=ahead + (1 if dirty else 0),
        permission_denials=len(outcome.get("permission_denials") or []),
        failed_commands=tuple(outcome.get("failed_commands") or ()),
        previous_blockers=[tuple(b) for b in meta.get("previous_blockers", [])],
        next_agent=next_agent,
        plan=bool(meta.get("plan")),
        children=len((outcome.get("result") or {}).get("children") or ()),
    )


def _output_file_of(adir: AttemptDir) -> Path | None:
    for name in ("codex-last-message.txt",):
        candidate = adir.path / name
        if candidate.exists():
            return candidate
    return None


def _next_agent(deps: Deps, project: Project, tried: list[str]) -> str | None:
    config = project.config
    unavailable = list(config.router.disabled_agents)
    for name, agent in config.agents.items():
        if proc.which(agent.command[0]) is None and not Path(agent.command[0]).exists():
            unavailable.append(name)
    unavailable += _cooling(deps)
    return next_untried_agent(list(config.agents), tried, unavailable)


def _cooling(deps: Deps) -> list[str]:
    """Agents whose whole-agent cooldown is active."""

    return [c.agent for c in Cooldowns(deps.paths, deps.clock).active() if c.model is None]


def _cooldown(deps: Deps, agent: str, model: Any, error_class: Any, reset_at: Any) -> None:
    """Cool the agent down: the model alone for a usage limit with a model, else the agent."""

    until = parse_iso(reset_at) if isinstance(reset_at, str) else None
    scoped = model if error_class == "usage_limit" and isinstance(model, str) else None
    Cooldowns(deps.paths, deps.clock).record(
        agent,
        scoped,
        error_class=str(error_class),
        reason=f"{error_class} on a task run",
        reset_at=until,
    )
