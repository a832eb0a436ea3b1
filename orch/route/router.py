"""Routing (SPEC §2.2 new → routed, §4 router/model_map): which agent, which tier, which model.

`decide()` is pure: the task's labels, the configured agents, which are installed and
which are cooling down, the router mode, the LLM router's answer (if one was asked for)
and the task's earlier router failures go in; a `RouteDecision` comes out.
`route_task()` gathers those facts (one issue read, one comment read, the router agent's
process when mode is `llm`: orch.route.llm) and writes the result: `agent:`,
`complexity:` and `status:routed` in one label write plus an `orch:route` comment.

Rules: an owner-set `agent:` label wins; an owner-set `complexity:` label wins for the
tier; `no-agent` tasks are never routed. LLM router failures are recorded per task (an
`orch:route` marker with `failed: true`); after `router.max_route_attempts` failures the
task is routed round robin. A chosen agent that is not installed, disabled or cooling
down is replaced by the next available one, and the reason says so. No agent available
at all → `needs_review` with that reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from orch import labels as L
from orch.agents.cooldown import Cooldowns
from orch.agents.probe import which
from orch.clock import utc_iso
from orch.errors import OrchError
from orch.route.decision import (
    RouteDecision,
    RouteFacts,
    decide,
    needs_llm,
)
from orch.route.llm import ask_router
from orch.status import Status
from orch.task import markers
from orch.task.history import History, Task, orch_logins, post_marker, set_status
from orch.task.ops import ensure_labels_cached

if TYPE_CHECKING:
    from orch.agents.cooldown import Cooldown
    from orch.config.model import Config
    from orch.deps import Deps
    from orch.project import Project
    from orch.store.base import Comment, Issue, Store


# ---------------------------------------------------------------------------------------
# I/O: gathering facts, asking the LLM router (orch.route.llm), writing the result


@dataclass(frozen=True)
class RouteResult:
    number: int
    decision: RouteDecision
    status: str  # routed | new | needs_review
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.number,
            "status": self.status,
            "dry_run": self.dry_run,
            **self.decision.to_json(),
        }

    def line(self) -> str:
        d = self.decision
        if d.routed:
            model = d.model or "the CLI's default model"
            return f"#{self.number} routed to {d.agent} ({model}, {d.complexity}): {d.reason}"
        if d.failed_llm:
            return f"#{self.number} not routed (still new): {d.reason}"
        return f"#{self.number} needs_review: {d.reason}"


def route_task(
    deps: Deps,
    project: Project,
    store: Store,
    number: int,
    *,
    issue: Issue | None = None,
    comments: Sequence[Comment] | None = None,
    env: Mapping[str, str] | None = None,
    dry_run: bool = False,
) -> RouteResult:
    """Route one task: decide, then write labels (one write) and the `orch:route` comment."""

    issue = issue or store.get_issue(number)
    task = Task.from_issue(issue)
    _check_routable(number, task)
    comments = list(comments) if comments is not None else store.list_comments(number)
    logins = orch_logins(store, project.config.workflow.orch_logins)
    history = History.from_comments(_since_last_route(comments, logins), logins)
    facts = gather_facts(deps, project.config, issue, history.route_failures, env=env)
    if task.status is Status.ROUTED and _router_set(comments, task.agent, logins):
        # Routing a routed task again: the agent/complexity labels are the router's own
        # earlier choice, not an owner's, so they do not bind the new decision.
        facts = replace(
            facts,
            labels=tuple(
                n for n in facts.labels if not n.startswith((L.AGENT_PREFIX, L.COMPLEXITY_PREFIX))
            ),
        )
    if needs_llm(facts):
        answer, error = ask_router(deps, project, issue, facts, env=env)
        facts = _with_answer(facts, answer, error)
    decision = decide(facts)
    if decision.routed:
        status = _record_routed(deps, store, number, issue, comments, decision)
    elif decision.failed_llm:
        data = {
            "failed": True,
            "mode": "llm",
            "error": decision.failed_llm,
            "attempt": decision.failures,
            "max": facts.max_route_attempts,
        }
        post_marker(store, number, "route", data, route_text(decision), comments=comments)
        status = (task.status or Status.NEW).value
    else:
        status = _record_unroutable(store, number, issue, comments, decision)
    return RouteResult(number, decision, status, dry_run)


def _check_routable(number: int, task: Task) -> None:
    if task.no_agent:
        raise OrchError(f"task #{number} has the no-agent label: orch never routes it")
    if task.status not in (Status.NEW, Status.ROUTED):
        shown = task.status.value if task.status else "no single status"
        raise OrchError(
            f"task #{number} is {shown}; only new (or routed) tasks are routed — "
            f"use `orch task retry {number}` to start it over"
        )


def _record_routed(
    deps: Deps,
    store: Store,
    number: int,
    issue: Issue,
    comments: list[Comment],
    decision: RouteDecision,
) -> str:
    """Labels, status `routed` and the `orch:route` comment for a chosen agent."""

    assert decision.agent is not None
    ensure_labels_cached(
        store,
        [f"{L.AGENT_PREFIX}{decision.agent}", f"{L.COMPLEXITY_PREFIX}{decision.complexity}"],
        deps.paths,
    )
    set_status(
        store,
        number,
        Status.ROUTED,
        trigger="route",
        reason=decision.reason,
        agent=decision.agent,
        complexity=decision.complexity,
        issue=issue,
    )
    post_marker(store, number, "route", decision.to_json(), route_text(decision), comments=comments)
    return Status.ROUTED.value


def _record_unroutable(
    store: Store, number: int, issue: Issue, comments: list[Comment], decision: RouteDecision
) -> str:
    """No agent can take the task: status `needs_review` and the `orch:route` comment."""

    set_status(
        store,
        number,
        Status.NEEDS_REVIEW,
        trigger="route_failed",
        reason=decision.reason,
        issue=issue,
    )
    post_marker(
        store,
        number,
        "route",
        {**decision.to_json(), "status": "needs_review"},
        route_text(decision),
        comments=comments,
    )
    return Status.NEEDS_REVIEW.value


def _router_set(comments: Sequence[Comment], agent: str | None, logins: frozenset[str]) -> bool:
    """Whether the task's agent label was written by an earlier (non-label) routing."""

    for comment in reversed(comments):
        marker = markers.orch_marker(comment, logins)
        if marker and marker.kind == "route" and marker.data.get("agent"):
            return (
                bool(agent)
                and marker.data.get("agent") == agent
                and marker.data.get("mode") != "label"
            )
    return False


def _since_last_route(comments: Sequence[Comment], logins: frozenset[str]) -> list[Comment]:
    """Comments after the last successful route: failures count from there."""

    start = 0
    for index, comment in enumerate(comments):
        marker = markers.orch_marker(comment, logins)
        if marker and marker.kind == "route" and marker.data.get("agent"):
            start = index + 1
    return list(comments[start:])


def gather_facts(
    deps: Deps,
    config: Config,
    issue: Issue,
    route_failures: int,
    *,
    env: Mapping[str, str] | None = None,
) -> RouteFacts:

    installed = frozenset(
        name for name, agent in config.agents.items() if which(agent, env) is not None
    )
    cooling = {c.key: _cooling_text(c) for c in Cooldowns(deps.paths, deps.clock).active()}
    return RouteFacts(
        number=issue.number,
        labels=tuple(issue.labels),
        agents=tuple(config.agents),
        mode=config.router.mode,
        disabled=tuple(config.router.disabled_agents),
        installed=installed,
        cooling=cooling,
        model_map=config.model_map,
        fallback_executor=config.router.fallback_executor,
        router_agent=config.router.agent,
        max_route_attempts=config.router.max_route_attempts,
        route_failures=route_failures,
    )


def _cooling_text(cooldown: Cooldown) -> str:

    return f"{cooldown.error_class} until {utc_iso(cooldown.until)}"


def _with_answer(facts: RouteFacts, answer: Mapping[str, Any] | None, error: str) -> RouteFacts:
    if answer is not None and answer.get("executor") not in facts.agents:
        error = f"the router chose {answer.get('executor')!r}, which is not a configured agent"
        answer = None
    return replace(facts, llm_answer=answer, llm_error=error if answer is None else "")


_BADGES = {"claude": "🟣", "codex": "🟢", "opencode": "🔵"}


def route_text(decision: RouteDecision) -> str:
    """The human part of the `orch:route` comment."""
    if decision.routed:
        assert decision.agent is not None
        badge = _BADGES.get(decision.agent, "🤖")
        model = f"model `{decision.model}`" if decision.model else "the CLI's default model"
        return (
            f"**orch** routed this task to {badge} **{decision.agent}** · {model} · "
            f"complexity `{decision.complexity}` ({decision.mode.replace('_', ' ')} routing)\n\n"
            f"> {decision.reason}"
        )
    if decision.failed_llm:
        return f"**orch** could not route this task yet: {decision.reason}"
    return f"**orch** could not route this task; it needs a human: {decision.reason}"
