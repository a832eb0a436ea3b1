"""The LLM router (SPEC §4 router.mode: llm): its prompt, and one run of the router agent.

`ask_router()` runs the router agent once through `orch.agents.ask.call()` (route mode, its own
process group, `router.timeout_seconds`, cooldown on a usage limit or auth failure),
keeps its output under the task's `route/` directory and returns its validated answer. What the answer means is `orch.route.router.decide()`'s business.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orch.agents import ask
from orch.agents.prompt import render_template, template_text, untrusted_block
from orch.agents.result import ROUTE_SCHEMA
from orch.config.model import COMPLEXITIES
from orch.route.decision import RouteFacts, label_complexity, why_unusable

if TYPE_CHECKING:
    from orch.agents.base import AgentOutcome
    from orch.config.model import Config
    from orch.deps import Deps
    from orch.project import Project
    from orch.store.base import Issue

ROUTE_TEMPLATE = "route.md"


def route_prompt(config: Config, issue: Issue, facts: RouteFacts) -> str:

    usable = [a for a in facts.agents if a not in facts.disabled]
    lines = []
    for name in usable:
        agent = config.agents[name]
        tiers = ", ".join(
            f"{tier}: {facts.model_map.get(tier, {}).get(name) or 'default model'}"
            for tier in COMPLEXITIES
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
    deps: Deps,
    project: Project,
    issue: Issue,
    facts: RouteFacts,
    *,
    env: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any] | None, str]:
    """Run the router agent in route mode; its validated answer, or (None, why not)."""

    config = project.config
    name = config.router.agent
    work_dir = _route_dir(deps, project, issue.number)
    model = config.router.model  # its own default per router agent (orch.config.model.router_model)
    done = ask.call(
        deps.paths,
        deps.clock,
        config,
        agent=name,
        model=model,
        prompt=route_prompt(config, issue, facts),
        work_dir=work_dir,
        timeout=config.router.timeout_seconds,
        schema=ROUTE_SCHEMA,
        why="router call",
        env=env,
    )
    outcome: AgentOutcome = done.outcome
    if outcome.result is not None and outcome.error_class is None:
        return outcome.result, ""
    detail = outcome.error_detail or "no answer"
    if done.timed_out:
        detail = f"no answer within router.timeout_seconds ({config.router.timeout_seconds}s)"
    return None, f"{outcome.error_class or 'no_result'}: {detail}"


def _route_dir(deps: Deps, project: Project, number: int) -> Path:
    base = deps.paths.task_dir(project.repo, number) / "route"
    base.mkdir(parents=True, exist_ok=True)
    stamp = deps.clock.now().strftime("%Y%m%dT%H%M%S%f")
    path = base / stamp
    path.mkdir(parents=True, exist_ok=True)
    return path
