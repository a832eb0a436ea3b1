"""The routing decision (SPEC §2.2 new -> routed, §4 router/model_map): which agent, tier and model. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orch import labels as L
from orch.config.model import COMPLEXITIES

if TYPE_CHECKING:
    pass


DEFAULT_COMPLEXITY = "medium"


@dataclass(frozen=True)
class RouteFacts:
    """Everything `decide()` needs, gathered by `route_task()` (or a test)."""

    number: int
    labels: tuple[str, ...]
    agents: tuple[str, ...]  # configured, in config order
    mode: str  # llm | round_robin | fixed
    disabled: tuple[str, ...] = ()
    installed: frozenset[str] = frozenset()
    cooling: Mapping[str, str] = field(default_factory=dict)  # "agent" or "agent:model" -> why
    model_map: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    fallback_executor: str | None = None
    router_agent: str | None = None
    max_route_attempts: int = 3
    route_failures: int = 0  # failures recorded on earlier route runs
    llm_answer: Mapping[str, Any] | None = None  # validated {executor, complexity, reason}
    llm_error: str = ""  # why this run's router call failed ("" = no failure)


@dataclass(frozen=True)
class RouteDecision:
    """`agent` None: not routed — `needs_review` when `failed_llm` is empty, else the
    task stays `new` and the router failure is recorded."""

    agent: str | None
    complexity: str | None
    model: str | None
    reason: str
    mode: str  # label | llm | round_robin | fixed
    failed_llm: str = ""
    failures: int = 0  # router failures including this run's

    @property
    def routed(self) -> bool:
        return self.agent is not None

    @property
    def needs_review(self) -> bool:
        return self.agent is None and not self.failed_llm

    def to_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "complexity": self.complexity,
            "model": self.model,
            "reason": self.reason,
            "mode": self.mode,
            "llm_failures": self.failures,
        }


def needs_llm(facts: RouteFacts) -> bool:
    """Whether `route_task` should ask the LLM router before deciding."""
    if facts.mode != "llm":
        return False
    owner_agent = L.value_of(facts.labels, L.AGENT_PREFIX)
    owner_complexity = label_complexity(facts.labels)
    if owner_agent and owner_complexity:
        return False
    if facts.route_failures >= facts.max_route_attempts:
        return False
    return router_unavailable(facts) is None


def router_unavailable(facts: RouteFacts) -> str | None:
    agent = facts.router_agent
    if not agent or agent not in facts.agents:
        return f"router agent {agent!r} is not configured"
    return why_unusable(facts, agent, None)


def decide(facts: RouteFacts) -> RouteDecision:
    """The routing decision for one task (pure): the owner's agent label, else the
    router's mode (llm, fixed, round robin)."""
    owner_agent = L.value_of(facts.labels, L.AGENT_PREFIX)
    owner_complexity = label_complexity(facts.labels)
    answer = facts.llm_answer
    failures = facts.route_failures + (1 if facts.llm_error else 0)
    llm_complexity = answer.get("complexity") if answer else None
    complexity = owner_complexity or (llm_complexity if llm_complexity in COMPLEXITIES else None)

    if owner_agent:
        return _owner_choice(facts, owner_agent, owner_complexity, complexity, failures)
    if facts.mode == "llm":
        return _llm_choice(facts, complexity, failures)
    tier = complexity or DEFAULT_COMPLEXITY
    if facts.mode == "fixed":
        return _fixed_choice(facts, tier, failures)
    return _round_robin(facts, tier, failures, "")


def _owner_choice(
    facts: RouteFacts,
    owner_agent: str,
    owner_complexity: str | None,
    complexity: str | None,
    failures: int,
) -> RouteDecision:
    """The owner's `agent:` label wins, usable or not (a note says why not)."""

    answer = facts.llm_answer
    tier = complexity or DEFAULT_COMPLEXITY
    if owner_agent not in facts.agents:
        return RouteDecision(
            None,
            tier,
            None,
            f"agent:{owner_agent} is set but no such agent is configured "
            f"(configured: {', '.join(facts.agents) or 'none'})",
            "label",
            failures=failures,
        )
    why = why_unusable(facts, owner_agent, facts.model_map.get(tier, {}).get(owner_agent))
    reason = f"owner set agent:{owner_agent}"
    if owner_complexity:
        reason += f" and complexity:{owner_complexity}"
    elif answer:
        reason += f"; complexity from the LLM router: {answer.get('reason') or tier}"
    if why:
        reason += f" (note: {why})"
    return _decision(facts, owner_agent, tier, reason, "label", failures)


def _llm_choice(facts: RouteFacts, complexity: str | None, failures: int) -> RouteDecision:
    """The LLM router's answer, a retry after its failure, or round robin."""

    answer = facts.llm_answer
    if answer:
        tier = complexity or DEFAULT_COMPLEXITY
        chosen = str(answer["executor"])
        reason = str(answer.get("reason") or "").strip() or "chosen by the LLM router"
        why = why_unusable(facts, chosen, facts.model_map.get(tier, {}).get(chosen))
        if why is None:
            return _decision(facts, chosen, tier, reason, "llm", failures)
        replacement = _next_available(facts, tier, after=chosen)
        if replacement is None:
            return _no_agent(facts, tier, failures, f"the router chose {chosen}, but {why}")
        return _decision(
            facts,
            replacement,
            tier,
            f"{reason} (the router chose {chosen}, but {why}; using {replacement})",
            "llm",
            failures,
        )
    unavailable = router_unavailable(facts)
    if facts.llm_error and failures < facts.max_route_attempts:
        return RouteDecision(
            None,
            complexity,
            None,
            f"LLM router failed ({failures} of {facts.max_route_attempts}): {facts.llm_error}",
            "llm",
            failed_llm=facts.llm_error,
            failures=failures,
        )
    if facts.llm_error or failures >= facts.max_route_attempts:
        last = f" (last: {facts.llm_error})" if facts.llm_error else ""
        why = f"the LLM router failed {failures} times{last}; falling back to round robin"
    elif unavailable:
        why = f"{unavailable}; falling back to round robin"
    else:
        why = "no LLM router answer; falling back to round robin"
    return _round_robin(facts, complexity or DEFAULT_COMPLEXITY, failures, why)


def _fixed_choice(facts: RouteFacts, tier: str, failures: int) -> RouteDecision:
    """router.fallback_executor (else the router agent), or the next available one."""

    fixed = facts.fallback_executor or facts.router_agent or ""
    why = (
        why_unusable(facts, fixed, facts.model_map.get(tier, {}).get(fixed))
        if fixed
        else ("router.fallback_executor is not set")
    )
    if why is None:
        return _decision(facts, fixed, tier, f"fixed router: {fixed}", "fixed", failures)
    replacement = _next_available(facts, tier, after=fixed or None)
    if replacement is None:
        return _no_agent(facts, tier, failures, f"fixed router: {why}")
    return _decision(
        facts, replacement, tier, f"fixed router: {why}; using {replacement}", "fixed", failures
    )


def _round_robin(facts: RouteFacts, tier: str, failures: int, why: str) -> RouteDecision:
    pool = _available(facts, tier)
    if not pool:
        return _no_agent(facts, tier, failures, why)
    # Stateless and stable: the task number picks the slot, so re-running a route (or two
    # hosts routing the same task) gives the same answer and tasks spread evenly.
    agent = pool[facts.number % len(pool)]
    reason = f"round robin over {', '.join(pool)}"
    return _decision(
        facts, agent, tier, f"{why}: {reason}" if why else reason, "round_robin", failures
    )


def _decision(
    facts: RouteFacts, agent: str, tier: str, reason: str, mode: str, failures: int
) -> RouteDecision:
    model = facts.model_map.get(tier, {}).get(agent) or None
    return RouteDecision(agent, tier, model, reason, mode, failures=failures)


def _no_agent(facts: RouteFacts, tier: str, failures: int, why: str) -> RouteDecision:
    problems = [
        f"{a}: {why_unusable(facts, a, facts.model_map.get(tier, {}).get(a))}" for a in facts.agents
    ]
    detail = "; ".join(problems) if problems else "no agents are configured"
    reason = f"no agent available ({detail})"
    if why:
        reason = f"{why}; {reason}"
    return RouteDecision(None, tier, None, reason, facts.mode, failures=failures)


def _available(facts: RouteFacts, tier: str) -> list[str]:
    return [
        a
        for a in facts.agents
        if why_unusable(facts, a, facts.model_map.get(tier, {}).get(a)) is None
    ]


def _next_available(facts: RouteFacts, tier: str, after: str | None) -> str | None:
    pool = _available(facts, tier)
    if not pool:
        return None
    if after in facts.agents:
        order = list(facts.agents)
        start = order.index(after)
        for candidate in order[start + 1 :] + order[: start + 1]:
            if candidate in pool:
                return candidate
    return pool[0]


def why_unusable(facts: RouteFacts, agent: str, model: str | None) -> str | None:
    if agent not in facts.agents:
        return f"{agent} is not a configured agent"
    if agent in facts.disabled:
        return f"{agent} is disabled (router.disabled_agents)"
    if agent not in facts.installed:
        return f"{agent} is not installed"
    if agent in facts.cooling:
        return f"{agent} is cooling down ({facts.cooling[agent]})"
    if model and f"{agent}:{model}" in facts.cooling:
        return f"{agent}:{model} is cooling down ({facts.cooling[f'{agent}:{model}']})"
    return None


def label_complexity(labels: Sequence[str]) -> str | None:
    value = L.value_of(labels, L.COMPLEXITY_PREFIX)
    return value if value in COMPLEXITIES else None
