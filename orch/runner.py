"""Running one task end to end (SPEC §6): the work behind `orch task run` and dispatch.

`run_task()` claims the task (per-task lock, attempt number, `in_progress`), prepares the
worktree and the prompts, supervises the agent, decides what its outcome means and
publishes it. `start_detached()` runs the same thing in a new session and returns at once
(what `orch tick` uses). What the agent is told: orch.run_prompts; what its outcome
means: orch.outcome; publishing, and finishing an attempt whose supervisor died or whose
publishing failed (reap, `--publish-only`): orch.pending. Nothing here prints or exits.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orch import git, proc
from orch import labels as L
from orch.attempt import attempt_dir, update_sidecar
from orch.clock import utc_iso
from orch.conversation import answers
from orch.errors import OrchError, UsageError
from orch.locks import TaskLock
from orch.outcome import finish_attempt
from orch.redact import Redactor
from orch.run_prompts import attempt_prompts
from orch.status import Status
from orch.supervisor import Progress, supervise

if TYPE_CHECKING:
    from orch.deps import Deps
    from orch.project import Project
    from orch.store.base import Store

RUNNABLE = (Status.NEW, Status.ROUTED, Status.IN_PROGRESS)
@dataclass(frozen=True)
class RunOptions:
    number: int | None = None
    agent: str | None = None
    model: str | None = None
    publish_only: bool = False


@dataclass
class RunResult:
    number: int
    action: str  # ran | published | blocked | needs_review | detached | nothing
    status: str | None = None
    attempt: int | None = None
    agent: str | None = None
    model: str | None = None
    error_class: str | None = None
    reason: str = ""
    pr: int | None = None
    pr_url: str = ""
    branch: str = ""
    pushed_sha: str | None = None
    duration_s: float | None = None
    exit_code: int | None = None
    signal: int | None = None
    pid: int | None = None
    attempt_dir: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "extra"} | self.extra

    def line(self) -> str:
        """One human line for stdout."""
        parts = [f"#{self.number}", self.action]
        if self.status:
            parts.append(f"status:{self.status}")
        if self.attempt:
            parts.append(f"attempt {self.attempt}")
        if self.agent:
            parts.append(f"{self.agent}" + (f"/{self.model}" if self.model else ""))
        if self.error_class:
            parts.append(f"error:{self.error_class}")
        if self.pr:
            parts.append(f"PR #{self.pr}")
        if self.pid:
            parts.append(f"pid {self.pid}")
        text = " ".join(parts)
        return f"{text}: {self.reason}" if self.reason else text


# ---------------------------------------------------------------------------------------


def run_task(
    deps: Deps,
    project: Project,
    options: RunOptions,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> RunResult:
    """Run (or finish publishing) one task in this process; see the module docstring."""
    from orch.pending import publish_pending, unpublished  # orch.pending imports RunResult

    store = deps.store(project)
    number = options.number or next_runnable(store)
    lock = TaskLock(deps.paths, project.repo, number).acquire()
    try:
        pending = unpublished(deps, project, number)
        if pending is not None:
            return publish_pending(deps, project, store, pending)
        if options.publish_only:
            return RunResult(number, "nothing", reason="no unpublished attempt")
        return _run(deps, project, store, number, options, on_progress, env)
    finally:
        update_sidecar(deps.paths, project.repo, number, supervisor_pid=None, supervisor_start=None,
                       agent_pid=None, agent_start=None)
        lock.release()


def next_runnable(store: Store) -> int:
    """The oldest routed task, else the oldest new one."""
    for status in (Status.ROUTED, Status.NEW):
        for issue in store.list_issues(labels=[status.label]):
            if L.NO_AGENT not in issue.labels:
                return issue.number
    raise OrchError("no task is waiting to run (no open issue has status:routed or status:new)")


def _run(
    deps: Deps,
    project: Project,
    store: Store,
    number: int,
    options: RunOptions,
    on_progress: Callable[[Progress], None] | None,
    env: Mapping[str, str] | None,
) -> RunResult:
    from orch.tasks import History, Task, set_status

    config = project.config
    issue = store.get_issue(number)
    task = Task.from_issue(issue)
    if issue.state != "open":
        raise OrchError(f"task #{number} is closed; reopen it or add a new task")
    if task.status not in RUNNABLE:
        shown = task.status.value if task.status else "no status"
        raise OrchError(
            f"task #{number} is {shown}, not new, routed or in_progress; "
            f"use `orch task retry {number}` to run it again"
        )
    if task.no_agent and not options.agent:
        raise OrchError(f"task #{number} has the no-agent label; remove it or pass --agent")
    comments = store.list_comments(number)
    if task.status is Status.NEW and not task.agent and not options.agent:
        # An unrouted task: route it first (label override, LLM router, round robin).
        from orch.router import route_task

        routed = route_task(deps, project, store, number, issue=issue, comments=comments, env=env)
        if routed.status != Status.ROUTED.value:
            return RunResult(number, "not routed", routed.status, reason=routed.decision.reason)
        issue = store.get_issue(number)
        task = Task.from_issue(issue)
    history = History.from_comments(comments)
    from orch.plan import already_planned

    planning = task.plan and not already_planned(comments)  # a re-run after rejoin codes
    agent = options.agent or task.agent or _default_agent(project)
    if agent not in config.agents:
        raise UsageError(
            f"unknown agent {agent!r}; configured agents: {', '.join(sorted(config.agents))}"
        )
    model = options.model or config.model_for(task.complexity, agent)
    attempt = history.attempts + 1
    src = task.status

    from orch.budget import task_budget_reason

    stop = (
        f"exceeded max attempts ({config.workflow.max_attempts})"
        if attempt > config.workflow.max_attempts
        else task_budget_reason(history.cost_usd, config.workflow.max_cost_per_task_usd)
    )
    if stop:
        triggers = {Status.NEW: "route_failed", Status.ROUTED: "dispatch_failed"}
        trigger = triggers.get(src, "failure") if src else "failure"
        set_status(store, number, Status.NEEDS_REVIEW, trigger=trigger, reason=stop, note=True,
                   issue=issue)
        return RunResult(number, "needs_review", Status.NEEDS_REVIEW.value, attempt - 1, agent,
                         model, reason=stop)

    _ensure_labels(deps, store, [f"{L.AGENT_PREFIX}{agent}"] + ([f"{L.MODEL_PREFIX}{model}"] if model else []))
    issue = set_status(store, number, Status.IN_PROGRESS, trigger="dispatch", agent=agent,
                       model=model, issue=issue)

    missing = [t for t in config.workflow.required_tools if proc.which(t) is None]
    if missing:
        reason = f"required tool(s) missing on this host: {', '.join(missing)}"
        set_status(store, number, Status.BLOCKED, trigger="missing_tool", reason=reason,
                   note=True, issue=issue)
        return RunResult(number, "blocked", Status.BLOCKED.value, attempt, agent, model,
                         error_class="missing_tool", reason=reason)

    from orch import worktree as wt

    default_branch = git.default_branch(project.root)
    try:
        tree = wt.ensure(
            project.root,
            deps.paths.worktrees_dir(project.repo),
            number,
            task.title,
            branch_prefix=config.git.branch_prefix,
            default_branch=default_branch,
        )
    except wt.WorktreeError as exc:
        reason = Redactor.from_env(os.environ, config.workflow.secret_env)(exc.message)
        set_status(store, number, Status.BLOCKED, trigger="worktree", reason=reason, note=True,
                   issue=issue)
        return RunResult(number, "blocked", Status.BLOCKED.value, attempt, agent, model,
                         reason=reason)

    try:
        adir = attempt_dir(deps.paths, project.repo, number, attempt)
        if adir.path.exists():
            # A finished attempt with the same number (after `/retry` reset the count): keep it
            # under another name, out of the way of this run.
            adir.path.rename(adir.path.with_name(f"{attempt}~{deps.clock.now().strftime('%Y%m%dT%H%M%S')}"))
        adir.create()
        prompts = attempt_prompts(project, store, task, tree, comments, history, attempt, agent, model,
                           planning=planning)
        adir.prompt_system.write_text(prompts.system, encoding="utf-8")
        adir.prompt_message.write_text(prompts.message, encoding="utf-8")
        meta = {
            "repo": project.repo,
            "root": str(project.root),
            "number": number,
            "title": task.title,
            "attempt": attempt,
            "agent": agent,
            "model": model,
            "complexity": task.complexity,
            "branch": tree.branch,
            "worktree": str(tree.path),
            "default_branch": tree.default_branch,
            "base_ref": tree.base_ref,
            "has_remote": tree.has_remote,
            "prompt_hash": prompts.hash,
            "started_at": utc_iso(deps.clock.now()),
            "tried_agents": [*history.tried_agents],
            "previous_blockers": [list(b) for b in history.blockers(2)],
            "plan": planning,
            # Who asked on the PR for this attempt: publish answers them there (SPEC §12).
            "answers": answers(history.pr_feedback),
            "issue_url": task.issue.url,
        }
        adir.write(adir.meta, meta)
        me = os.getpid()
        update_sidecar(
            deps.paths, project.repo, number,
            worktree=str(tree.path), branch=tree.branch, attempt=attempt, attempt_dir=str(adir.path),
            agent=agent, model=model, started_at=meta["started_at"],
            supervisor_pid=me, supervisor_start=proc.process_start_time(me),
        )

        from orch.agents import BuildRequest, adapter_for
        from orch.agents.result import schema_for

        adapter = adapter_for(config.agents[agent], config)
        base_env = dict(env if env is not None else os.environ)
        base_env.update(git.identity_env(config.git.name, config.git.email))
        base_env.update({"ORCH_TASK": str(number), "ORCH_ATTEMPT": str(attempt), "ORCH_REPO": project.repo})
        invocation = adapter.build(BuildRequest(
            mode="run",
            prompt=prompts.message,
            system_prompt=prompts.system,
            model=model,
            cwd=tree.path,
            work_dir=adir.path,
            main_git_dir=git.common_dir(project.root),
            schema=schema_for("plan" if planning else "run"),
            env_base=base_env,
        ))
    except Exception as exc:
        # Never leave a task in_progress that nothing runs: say why it could not start.
        reason = f"could not start the agent: {exc}"
        started_dir = attempt_dir(deps.paths, project.repo, number, attempt)
        if started_dir.path.is_dir():
            started_dir.record_publish(complete=True, status=Status.NEEDS_REVIEW.value, error=reason)
        set_status(store, number, Status.NEEDS_REVIEW, trigger="failure", reason=reason,
                   note=True, issue=issue)
        raise

    def started(pid: int) -> None:
        update_sidecar(deps.paths, project.repo, number, agent_pid=pid,
                       agent_start=proc.process_start_time(pid))

    from orch.agentlog import describe

    exit_info = supervise(
        invocation,
        adir,
        clock=deps.clock,
        timeout=config.workflow.timeout_for(task.complexity),
        idle_timeout=config.workflow.idle_timeout_seconds,
        on_start=started,
        on_progress=_with_agent(on_progress, agent, model),
        describe=describe,
        use_tmux=config.workflow.use_tmux,
        tmux_session=tmux_session(project.repo, number),
    )
    finish_attempt(deps, project, adir, exit_info, output_file=invocation.output_file)
    from orch.pending import publish_pending

    return publish_pending(deps, project, store, adir)


def _with_agent(
    callback: Callable[[Progress], None] | None, agent: str, model: str | None
) -> Callable[[Progress], None] | None:
    """Progress lines that also name the agent (and model)."""
    if callback is None:
        return None
    who = f"{agent}/{model}" if model else agent

    def report(progress: Progress) -> None:
        callback(Progress(progress.elapsed, progress.idle, f"{who} · {progress.last_line or 'working'}"))

    return report


def tmux_session(repo: str, number: int) -> str:
    owner, name = repo.split("/", 1)
    return f"orch-{owner}-{name}-{number}".replace(".", "_").replace(":", "_")


def _default_agent(project: Project) -> str:
    config = project.config
    for candidate in (config.router.fallback_executor, config.router.agent, *config.agents):
        if candidate and candidate in config.agents and candidate not in config.router.disabled_agents:
            return candidate
    raise OrchError("no agent is configured; add one under `agents:` in .orch.yml")


def _ensure_labels(deps: Deps, store: Store, names: list[str]) -> None:
    from orch.taskops import ensure_labels_cached

    ensure_labels_cached(store, names, deps.paths)


# ---------------------------------------------------------------------------------------
# Detached runs (tick dispatch, `orch task run --detach`)


def start_detached(
    deps: Deps, project: Project, options: RunOptions, *, env: Mapping[str, str] | None = None
) -> RunResult:
    """Start `orch task run N` in a new session and return at once with its pid."""
    store = deps.store(project)
    number = options.number or next_runnable(store)
    # Fail fast (exit 5) when a supervisor already runs it; the child takes the lock itself.
    TaskLock(deps.paths, project.repo, number).acquire().release()
    argv = [sys.executable, "-m", "orch", "--project", str(project.root)]
    if deps.config_file:
        argv += ["--config", str(deps.config_file)]
    argv += ["task", "run", str(number)]
    if options.agent:
        argv += ["--agent", options.agent]
    if options.model:
        argv += ["--model", options.model]
    log = deps.paths.task_dir(project.repo, number) / "supervisor.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        child = proc.spawn(argv, cwd=project.root, env=dict(env or os.environ), stdout=out.fileno(),
                           stderr=out.fileno(), new_session=True)
    update_sidecar(deps.paths, project.repo, number, supervisor_pid=child.pid,
                   supervisor_start=proc.process_start_time(child.pid))
    return RunResult(number, "detached", pid=child.pid, extra={"log": str(log)})


def describe_run(deps: Deps, project: Project, options: RunOptions) -> list[str]:
    """What `orch task run --dry-run` would do, as `would:` lines; makes no writes."""
    from orch.tasks import History, Task
    from orch.worktree import branch_name, worktree_path

    store = deps.store(project)
    number = options.number or next_runnable(store)
    task = Task.from_issue(store.get_issue(number))
    history = History.from_comments(store.list_comments(number))
    agent = options.agent or task.agent or _default_agent(project)
    model = options.model or project.config.model_for(task.complexity, agent)
    attempt = history.attempts + 1
    branch = branch_name(project.config.git.branch_prefix, number, task.title)
    path = worktree_path(deps.paths.worktrees_dir(project.repo), number, task.title)
    status = task.status.value if task.status else "none"
    return [
        f"would: set task #{number} {status} -> in_progress (agent:{agent}"
        + (f", model:{model}" if model else "") + ")",
        f"would: git worktree add {path} {branch}",
        f"would: run {agent} (attempt {attempt}, timeout "
        f"{project.config.workflow.timeout_for(task.complexity)}s)",
        f"would: commit, git push -u origin {branch}, open or update the PR, post the result comment",
    ]
