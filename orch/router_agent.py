"""The LLM router (SPEC §4 router.mode: llm): its prompt, and one run of the router agent.

`ask_router()` builds the route-mode invocation, runs the agent to its end in its own
process group (`router.timeout_seconds`), keeps its output under the task's `route/`
directory, parses and validates its answer, and cools the agent down on a usage limit
or auth failure. What the answer means is `orch.router.decide()`'s business.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orch import proc
from orch.agents import BuildRequest, adapter_for
from orch.agents.result import ROUTE_SCHEMA
from orch.router import COMPLEXITIES, RouteFacts, label_complexity, why_unusable

if TYPE_CHECKING:
    from orch.agents.base import AgentOutcome, Invocation
    from orch.config import Config
    from orch.deps import Deps
    from orch.project import Project
    from orch.store.base import Issue

ROUTE_TEMPLATE = "route.md"


def route_prompt(config: Config, issue: Issue, facts: RouteFacts) -> str:
    from orch.prompt import render_template, template_text, untrusted_block

    usable = [a for a in facts.agents if a not in facts.disabled]
    lines = []
    for name in usable:
        agent = config.agents[name]
        tiers = ", ".join(
            f"{tier}: {facts.model_map.get(tier, {}).get(name) or 'default model'}" for tier in COMPLEXITIES
        )
        state = "" if why_unusable(facts, name, None) is None else " (unavailable right now)"
        lines.append(f"- {name} ({agent.family} CLI; {tiers}){state}")
    values = {
        "agents": "\n".join(lines),
        "agent_names": ", ".join(usable),
        "number": issue.number,
        "title": issue.title,
        "labels": ", ".join(issue.labels) or "none",
        "body": untrusted_block("issue body", issue.body or "(no description)"),
        "complexity": label_complexity(issue.labels) or "",
    }
    return render_template(template_text(ROUTE_TEMPLATE, config.workflow.prompts_dir), values)


def ask_router(
    deps: Deps, project: Project, issue: Issue, facts: RouteFacts,
    *, env: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any] | None, str]:
    """Run the router agent in route mode; its validated answer, or (None, why not)."""
    import os

    from orch.agents.classify import COOLDOWN_CLASSES
    from orch.sidecar import write_text_atomic

    config = project.config
    name = config.router.agent
    adapter = adapter_for(config.agents[name], config)
    work_dir = _route_dir(deps, project, issue.number)
    invocation = route_invocation(config, issue, facts, work_dir, env if env is not None else os.environ)
    for path, text in invocation.files.items():
        write_text_atomic(path, text)
    result = proc.run_in_group(
        invocation.argv, cwd=invocation.cwd, env=invocation.env, stdin=invocation.stdin,
        timeout=config.router.timeout_seconds,
    )
    write_text_atomic(work_dir / "stdout.log", result.stdout)
    write_text_atomic(work_dir / "stderr.log", result.stderr)
    outcome: AgentOutcome = adapter.parse(
        result.returncode, result.stdout, result.stderr, timed_out=result.timed_out,
        output_file_text=invocation.output_text(), mode="route", now=deps.clock.now(),
    )
    if outcome.error_class in COOLDOWN_CLASSES:
        from orch.cooldown import Cooldowns

        Cooldowns(deps.paths, deps.clock).record(
            name, None, error_class=outcome.error_class or "", reason=f"router call: {outcome.error_detail}",
            reset_at=outcome.reset_at,
        )
    if outcome.result is not None and outcome.error_class is None:
        return outcome.result, ""
    detail = outcome.error_detail or "no answer"
    if result.timed_out:
        detail = f"no answer within router.timeout_seconds ({config.router.timeout_seconds}s)"
    return None, f"{outcome.error_class or 'no_result'}: {detail}"


def route_invocation(
    config: Config, issue: Issue, facts: RouteFacts, work_dir: Path, env: Mapping[str, str]
) -> Invocation:
    """The router agent's route-mode call, with the router model (orch.config.router_model)."""
    adapter = adapter_for(config.agents[config.router.agent], config)
    return adapter.build(BuildRequest(
        mode="route",
        prompt=route_prompt(config, issue, facts),
        system_prompt="",
        model=config.router.model,
        cwd=work_dir,
        work_dir=work_dir,
        main_git_dir=None,
        schema=ROUTE_SCHEMA,
        env_base=dict(env),
    ))


def _route_dir(deps: Deps, project: Project, number: int) -> Path:
    base = deps.paths.task_dir(project.repo, number) / "route"
    base.mkdir(parents=True, exist_ok=True)
    stamp = deps.clock.now().strftime("%Y%m%dT%H%M%S%f")
    path = base / stamp
    path.mkdir(parents=True, exist_ok=True)
    return path
