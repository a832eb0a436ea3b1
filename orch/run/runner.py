"""Running one task end to end (SPEC §6): the work behind `orch task run` and dispatch.

`run_task()` claims the task (per-task lock, attempt number, `in_progress`), prepares the
worktree and the prompts, supervises the agent, decides what its outcome means and
publishes it. `start_detached()` runs the same thing in a new session and returns at once
(what `orch tick` uses). What the agent is told: orch.run.prompts; what its outcome
means: orch.run.outcome; publishing, and finishing an attempt whose supervisor died or whose
publishing failed (reap, `--publish-only`): orch.run.pending. Nothing here prints or exits.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orch import labels as L
from orch.agents import BuildRequest, adapter_for
from orch.agents.probe import cannot_run
from orch.agents.probe import which as agent_which
from orch.agents.result import schema_for
from orch.agents.transcript import describe
from orch.clock import utc_iso
from orch.errors import Interrupted, OrchError, os_reason
from orch.io import git, proc
from orch.io.faults import fault_point
from orch.io.locks import TaskLock
from orch.io.redact import redactor_for
from orch.route.router import route_task
from orch.run import checkout
from orch.run import worktree as wt
from orch.run.outcome import finish_attempt
from orch.run.pending import publish_pending, unpublished
from orch.run.prompts import attempt_prompts
from orch.run.result import RunResult
from orch.run.spawn import spawn_task, task_argv
from orch.run.supervisor import Progress, supervise
from orch.run.worktree import branch_name, worktree_path
from orch.status import Status
from orch.task.attempt import AttemptDir, attempt_dir, forget_processes, record_process
from orch.task.budget import task_budget_reason
from orch.task.conversation import answers
from orch.task.history import History, Task, orch_logins, post_marker, set_status
from orch.task.ops import ensure_labels_cached
from orch.task.plan import already_planned

if TYPE_CHECKING:
    from orch.agents.base import Invocation
    from orch.config.model import Config
    from orch.deps import Deps
    from orch.project import Project
    from orch.run.worktree import Worktree
    from orch.store.base import Comment, Issue, Store
    from orch.task.history import History, Task

RUNNABLE = (Status.NEW, Status.ROUTED, Status.IN_PROGRESS)


@dataclass(frozen=True)
class RunOptions:
    number: int | None = None
    agent: str | None = None
    model: str | None = None
    publish_only: bool = False
    detached: bool = False  # a supervisor started by a tick or --detach: nobody reads its stderr


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
        # On a full disk this write fails too: the error already said so, and a stale pid
        # is dead to every liveness check.
        with contextlib.suppress(OSError):
            forget_processes(deps.paths, project.repo, number)
        lock.release()


def next_runnable(store: Store) -> int:
    """The oldest routed task, else the oldest new one."""
    for status in (Status.ROUTED, Status.NEW):
        for issue in store.list_issues(labels=[status.label]):
            if L.NO_AGENT not in issue.labels:
                return issue.number
    raise OrchError("no task is waiting to run (no open issue has status:routed or status:new)")


class SetupError(OrchError):
    """The host could not prepare an attempt (disk full, permission denied, a directory
    gone): the task did not start and keeps its status; the message is one line."""


def _run(
    deps: Deps,
    project: Project,
    store: Store,
    number: int,
    options: RunOptions,
    on_progress: Callable[[Progress], None] | None,
    env: Mapping[str, str] | None,
) -> RunResult:
    """Check, route when unrouted, choose the attempt, refuse or start it, execute it."""

    config = project.config
    issue = store.get_issue(number)
    task = Task.from_issue(issue)
    _check_runnable(number, issue.state, task, options)
    # An agent that cannot start changes nothing: no status move, no comment (SPEC §12).
    require_installed(config, options.agent or task.agent, env)
    comments = store.list_comments(number)
    if task.status is Status.NEW and not task.agent and not options.agent:
        # An unrouted task: route it first (label override, LLM router, round robin).
        routed = route_task(deps, project, store, number, issue=issue, comments=comments, env=env)
        if routed.status != Status.ROUTED.value:
            return RunResult(number, "not routed", routed.status, reason=routed.decision.reason)
        issue = store.get_issue(number)
        task = Task.from_issue(issue)
    logins = orch_logins(store, config.workflow.orch_logins)
    history = History.from_comments(comments, logins)

    planning = task.plan and not already_planned(comments, logins)  # a re-run after rejoin codes
    agent = options.agent or task.agent or config.default_agent()
    problem = _cannot_run(config, agent, env)
    if problem is not None:
        return _not_started(store, number, issue, options, problem)
    assert agent is not None
    model = options.model or config.model_for(task.complexity, agent)
    run = _Attempt(number, history.attempts + 1, agent, model, planning)
    refused = _refuse(store, config, issue, task, history, run)
    if refused is not None:
        return refused
    started = _start(deps, project, store, issue, task, comments, history, run, options, env)
    if isinstance(started, RunResult):
        return started
    adir, invocation = started
    return _execute(deps, project, store, task, run, adir, invocation, on_progress)


def _start(
    deps: Deps,
    project: Project,
    store: Store,
    issue: Issue,
    task: Task,
    comments: list[Comment],
    history: History,
    run: _Attempt,
    options: RunOptions,
    env: Mapping[str, str] | None,
) -> tuple[AttemptDir, Invocation] | RunResult:
    """Prepare the attempt, then show the task as running; a worktree git cannot make
    blocks the task (the RunResult), a host that cannot prepare it raises SetupError."""

    number = run.number
    try:
        adir, invocation = _prepare(deps, project, store, task, comments, history, run, env)
    except _Blocked as blocked:
        set_status(
            store,
            number,
            Status.BLOCKED,
            trigger="worktree",
            reason=blocked.reason,
            note=True,
            issue=issue,
        )
        return RunResult(
            number,
            "blocked",
            Status.BLOCKED.value,
            run.attempt,
            run.agent,
            run.model,
            reason=blocked.reason,
        )
    except OSError as exc:
        raise _setup_failed(deps, store, number, task.status, run, options, exc) from None
    except KeyboardInterrupt:
        # Nothing ran and the task never showed as running: its status stays as it was.
        raise Interrupted(
            f"task #{number}: interrupted before the agent started; nothing was changed"
        ) from None
    except Exception as exc:
        if options.detached:
            # A detached supervisor that cannot start must not leave the task to be
            # dispatched again and again: a human looks.
            set_status(
                store,
                number,
                Status.NEEDS_REVIEW,
                trigger="dispatch_failed",
                reason=f"could not start the agent: {exc}",
                note=True,
                issue=issue,
            )
        raise
    _show_running(deps, store, issue, run, adir)
    return adir, invocation


def _show_running(deps: Deps, store: Store, issue: Issue, run: _Attempt, adir: AttemptDir) -> None:
    """Only now, with everything local in place, does the task show as running."""

    agent, model = run.agent, run.model
    try:
        _ensure_labels(
            deps,
            store,
            [f"{L.AGENT_PREFIX}{agent}"] + ([f"{L.MODEL_PREFIX}{model}"] if model else []),
        )
        set_status(
            store,
            run.number,
            Status.IN_PROGRESS,
            trigger="dispatch",
            agent=agent,
            model=model,
            issue=issue,
        )
    except BaseException:
        # GitHub refused the move: an attempt directory with meta.json means "it ran" to
        # reap and --publish-only, so it must not outlive a task that never started.
        shutil.rmtree(adir.path, ignore_errors=True)
        raise


def _refuse(
    store: Store, config: Config, issue: Issue, task: Task, history: History, run: _Attempt
) -> RunResult | None:
    """Max attempts, the task's budget, required tools: checked before anything starts."""

    number, agent, model = run.number, run.agent, run.model
    stop = (
        f"exceeded max attempts ({config.workflow.max_attempts})"
        if run.attempt > config.workflow.max_attempts
        else task_budget_reason(history.cost_usd, config.workflow.max_cost_per_task_usd)
    )
    if stop:
        triggers = {Status.NEW: "route_failed", Status.ROUTED: "dispatch_failed"}
        src = task.status
        trigger = triggers.get(src, "failure") if src else "failure"
        set_status(
            store, number, Status.NEEDS_REVIEW, trigger=trigger, reason=stop, note=True, issue=issue
        )
        return RunResult(
            number,
            "needs_review",
            Status.NEEDS_REVIEW.value,
            run.attempt - 1,
            agent,
            model,
            reason=stop,
        )
    missing = [t for t in config.workflow.required_tools if proc.which(t) is None]
    if missing:
        reason = f"required tool(s) missing on this host: {', '.join(missing)}"
        set_status(
            store,
            number,
            Status.BLOCKED,
            trigger="missing_tool",
            reason=reason,
            note=True,
            issue=issue,
        )
        return RunResult(
            number,
            "blocked",
            Status.BLOCKED.value,
            run.attempt,
            agent,
            model,
            error_class="missing_tool",
            reason=reason,
        )
    return None


def _execute(
    deps: Deps,
    project: Project,
    store: Store,
    task: Task,
    run: _Attempt,
    adir: AttemptDir,
    invocation: Invocation,
    on_progress: Callable[[Progress], None] | None,
) -> RunResult:
    """Supervise the agent, decide what its outcome means, publish it."""

    config, number = project.config, run.number

    started = agent_tracker(deps, project.repo, number)
    checkout_before = checkout.record(project.root)  # the user's checkout is sacred
    exit_info = supervise(
        invocation,
        adir,
        clock=deps.clock,
        timeout=config.workflow.timeout_for(task.complexity),
        idle_timeout=config.workflow.idle_timeout_seconds,
        on_start=started,
        on_progress=_with_agent(on_progress, run.agent, run.model),
        describe=describe,
        use_tmux=config.workflow.use_tmux,
        tmux_session=tmux_session(project.repo, number),
    )
    try:
        finish_attempt(deps, project, adir, exit_info, output_file=invocation.output_file)
    except OSError as exc:
        raise SetupError(
            f"task #{number}: attempt {run.attempt} ran but its outcome cannot be saved: "
            f"{os_reason(exc)}; the next tick (or `orch task run --publish-only {number}`) "
            "publishes it"
        ) from None
    outside = checkout.changes(checkout_before, checkout.record(project.root))
    if outside:
        checkout.hold_attempt(adir, outside)
    result = publish_pending(deps, project, store, adir)
    if exit_info.interrupted:
        raise Interrupted(
            f"task #{number}: attempt {run.attempt} interrupted; the task is "
            f"{result.status or 'routed'} again"
        )
    return result


def _check_runnable(number: int, state: str, task: Task, options: RunOptions) -> None:
    if state != "open":
        raise OrchError(f"task #{number} is closed; reopen it or add a new task")
    if task.status not in RUNNABLE:
        shown = task.status.value if task.status else "no status"
        raise OrchError(
            f"task #{number} is {shown}, not new, routed or in_progress; "
            f"use `orch task retry {number}` to run it again"
        )
    if task.no_agent and not options.agent:
        raise OrchError(f"task #{number} has the no-agent label; remove it or pass --agent")


def _cannot_run(
    config: Config, agent: str | None, env: Mapping[str, str] | None
) -> OrchError | None:
    """Why no agent can start (not configured, not installed here), as the error to raise."""

    if agent is None:
        return OrchError("no agent is configured; add one under `agents:` in .orch.yml")
    return cannot_run(config, agent, env if env is not None else os.environ)


def _not_started(
    store: Store, number: int, issue: Issue, options: RunOptions, problem: OrchError
) -> RunResult:
    """In a terminal: the error, status unchanged. In a detached supervisor nobody sees
    the error, so the task goes to needs_review with it (never dispatched again as is)."""

    if not options.detached:
        raise problem
    set_status(
        store,
        number,
        Status.NEEDS_REVIEW,
        trigger="dispatch_failed",
        reason=problem.message,
        note=True,
        issue=issue,
    )
    return RunResult(number, "needs_review", Status.NEEDS_REVIEW.value, reason=problem.message)


@dataclass(frozen=True)
class _Attempt:
    number: int
    attempt: int
    agent: str
    model: str | None
    planning: bool


class _Blocked(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _prepare(
    deps: Deps,
    project: Project,
    store: Store,
    task: Task,
    comments: list[Comment],
    history: History,
    run: _Attempt,
    env: Mapping[str, str] | None,
) -> tuple[AttemptDir, Invocation]:
    """Everything local an attempt needs: worktree, attempt directory, prompts, sidecar,
    the agent's invocation; meta.json last, so a half-prepared attempt is never taken for
    one that ran. Raises _Blocked (git could not make the worktree) or OSError."""

    config = project.config
    number, attempt, agent, model = run.number, run.attempt, run.agent, run.model
    tree = _worktree(deps, project, task)
    adir = _fresh_attempt_dir(deps, project.repo, number, attempt)
    try:
        adir.create()
        prompts = attempt_prompts(
            project,
            store,
            task,
            tree,
            comments,
            history,
            attempt,
            agent,
            model,
            planning=run.planning,
        )
        fault_point("prompt")
        adir.prompt_system.write_text(prompts.system, encoding="utf-8")
        adir.prompt_message.write_text(prompts.message, encoding="utf-8")
        started_at = utc_iso(deps.clock.now())
        _record_supervisor(deps, project.repo, tree, adir, run, started_at)
        base_env = task_env(env, number, project.repo, ORCH_ATTEMPT=str(attempt))
        base_env.update(git.identity_env(config.git.name, config.git.email))
        invocation = adapter_for(config.agents[agent], config).build(
            BuildRequest(
                mode="run",
                prompt=prompts.message,
                system_prompt=prompts.system,
                model=model,
                cwd=tree.path,
                work_dir=adir.path,
                main_git_dir=git.common_dir(project.root),
                schema=schema_for("plan" if run.planning else "run"),
                env_base=base_env,
            )
        )
        adir.write(adir.meta, _meta(project, task, tree, run, prompts.hash, history, started_at))
    except BaseException:
        shutil.rmtree(adir.path, ignore_errors=True)  # nothing half-made is left to publish
        raise
    return adir, invocation


def _worktree(deps: Deps, project: Project, task: Task) -> Worktree:
    """The task's worktree, made or reused; _Blocked when git cannot make it."""

    fault_point("worktree")
    try:
        return task_worktree(deps, project, task)
    except wt.WorktreeError as exc:
        raise _Blocked(redactor_for(project.config)(exc.message)) from exc


def task_worktree(deps: Deps, project: Project, task: Task) -> Worktree:
    """The task's worktree, made or reused (the run's and the review's step); raises
    WorktreeError when git cannot make it."""

    config = project.config
    return wt.ensure(
        project.root,
        deps.paths.worktrees_dir(project.repo),
        task.number,
        task.title,
        branch_prefix=config.git.branch_prefix,
        default_branch=git.default_branch(project.root),
    )


def _fresh_attempt_dir(deps: Deps, repo: str, number: int, attempt: int) -> AttemptDir:
    """The attempt's directory, not yet created: a finished attempt with the same number
    (after `/retry` reset the count) is kept under another name, out of the way."""

    adir = attempt_dir(deps.paths, repo, number, attempt)
    if adir.path.exists():
        adir.path.rename(
            adir.path.with_name(f"{attempt}~{deps.clock.now().strftime('%Y%m%dT%H%M%S')}")
        )
    return adir


def _record_supervisor(
    deps: Deps, repo: str, tree: Worktree, adir: AttemptDir, run: _Attempt, started_at: str
) -> None:
    """The sidecar learns the attempt and this process, its supervisor."""

    record_process(
        deps.paths,
        repo,
        run.number,
        "supervisor",
        os.getpid(),
        worktree=str(tree.path),
        branch=tree.branch,
        attempt=run.attempt,
        attempt_dir=str(adir.path),
        agent=run.agent,
        model=run.model,
        started_at=started_at,
    )


def task_env(env: Mapping[str, str] | None, number: int, repo: str, **extra: str) -> dict[str, str]:
    """The environment an agent starts from: the caller's, plus ORCH_TASK, ORCH_REPO and
    `extra` (ORCH_ATTEMPT for a run, ORCH_REVIEW for a review)."""

    base = dict(env if env is not None else os.environ)
    base.update({"ORCH_TASK": str(number), "ORCH_REPO": repo, **extra})
    return base


def agent_tracker(deps: Deps, repo: str, number: int) -> Callable[[int], None]:
    """The supervisor's on_start: record the agent's pid in the task's sidecar."""

    def started(pid: int) -> None:
        record_process(deps.paths, repo, number, "agent", pid)

    return started


def _meta(
    project: Project,
    task: Task,
    tree: Worktree,
    run: _Attempt,
    prompt_hash: str,
    history: History,
    started_at: str,
) -> dict[str, Any]:
    """meta.json: what publishing, reap and `orch task get` know about the attempt."""
    return {
        "repo": project.repo,
        "root": str(project.root),
        "number": run.number,
        "title": task.title,
        "attempt": run.attempt,
        "agent": run.agent,
        "model": run.model,
        "complexity": task.complexity,
        "branch": tree.branch,
        "worktree": str(tree.path),
        "default_branch": tree.default_branch,
        "base_ref": tree.base_ref,
        "has_remote": tree.has_remote,
        "prompt_hash": prompt_hash,
        "started_at": started_at,
        "tried_agents": [*history.tried_agents],
        "previous_blockers": [list(b) for b in history.blockers(2)],
        "plan": run.planning,
        # Who asked on the PR for this attempt: publish answers them there (SPEC §12).
        "answers": answers(history.pr_feedback),
        "issue_url": task.issue.url,
    }


def _setup_failed(
    deps: Deps,
    store: Store,
    number: int,
    src: Status | None,
    run: _Attempt,
    options: RunOptions,
    exc: OSError,
) -> SetupError:
    """The one-line error for an attempt the host could not prepare. A detached
    supervisor also says so on the task, which stays where it was (routed) and is
    dispatched again by a later tick."""

    reason = f"cannot prepare attempt {run.attempt} on this host: {os_reason(exc)}"
    if options.detached:
        host = socket.gethostname()
        when = utc_iso(deps.clock.now())
        shown = src.value if src else "new"
        text = (
            f"**orch** could not start this task on `{host}` at {when}: {reason}. "
            f"It stays `{shown}` and a later tick tries again."
        )
        post_marker(
            store,
            number,
            "status",
            {"from": shown, "to": shown, "reason": reason, "setup_failed": True},
            text,
            dedupe=False,
        )
    return SetupError(f"task #{number}: {reason}; the task was not started")


def require_installed(config: Config, agent: str | None, env: Mapping[str, str] | None) -> None:
    """Refuse (exit 1, before any write) when `agent`, or with None every configured
    agent, has no CLI on this host."""
    names = (
        [agent]
        if agent
        else [name for name in config.agents if name not in config.router.disabled_agents]
    )
    specs = [(name, config.agents[name]) for name in names if name in config.agents]
    if not specs:
        return  # an unknown agent gets its own usage error
    path_env = {"PATH": (env if env is not None else os.environ).get("PATH", "")}
    if any(agent_which(spec, path_env) or Path(spec.command[0]).exists() for _, spec in specs):
        return
    if agent:
        raise OrchError(
            f"agent {agent} cannot start: {specs[0][1].command[0]} is not on PATH; install "
            "it (see `orch agents`) or pass --agent with an installed one; nothing was changed"
        )
    raise OrchError(
        "no agent CLI is installed ("
        + ", ".join(spec.command[0] for _, spec in specs)
        + "): install one (see `orch agents`); nothing was changed"
    )


def _with_agent(
    callback: Callable[[Progress], None] | None, agent: str, model: str | None
) -> Callable[[Progress], None] | None:
    """Progress lines that also name the agent (and model)."""
    if callback is None:
        return None
    who = f"{agent}/{model}" if model else agent

    def report(progress: Progress) -> None:
        callback(
            Progress(progress.elapsed, progress.idle, f"{who} · {progress.last_line or 'working'}")
        )

    return report


def tmux_session(repo: str, number: int) -> str:
    owner, name = repo.split("/", 1)
    return f"orch-{owner}-{name}-{number}".replace(".", "_").replace(":", "_")


def _default_agent(project: Project) -> str:
    agent = project.config.default_agent()
    if agent is None:
        raise OrchError("no agent is configured; add one under `agents:` in .orch.yml")
    return agent


def _ensure_labels(deps: Deps, store: Store, names: list[str]) -> None:

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
    argv = task_argv(
        deps, project, "run", number, supervisor=True, agent=options.agent, model=options.model
    )
    log = deps.paths.task_dir(project.repo, number) / "supervisor.log"
    child = spawn_task(deps, project, number, argv, log, env=env)
    return RunResult(number, "detached", pid=child.pid, extra={"log": str(log)})


def describe_run(deps: Deps, project: Project, options: RunOptions) -> list[str]:
    """What `orch task run --dry-run` would do, as `would:` lines; makes no writes."""

    store = deps.store(project)
    number = options.number or next_runnable(store)
    task = Task.from_issue(store.get_issue(number))
    logins = orch_logins(store, project.config.workflow.orch_logins)
    history = History.from_comments(store.list_comments(number), logins)
    agent = options.agent or task.agent or _default_agent(project)
    model = options.model or project.config.model_for(task.complexity, agent)
    attempt = history.attempts + 1
    branch = branch_name(project.config.git.branch_prefix, number, task.title)
    path = worktree_path(deps.paths.worktrees_dir(project.repo), number, task.title)
    status = task.status.value if task.status else "none"
    return [
        f"would: set task #{number} {status} -> in_progress (agent:{agent}"
        + (f", model:{model}" if model else "")
        + ")",
        f"would: git worktree add {path} {branch}",
        f"would: run {agent} (attempt {attempt}, timeout "
        f"{project.config.workflow.timeout_for(task.complexity)}s)",
        f"would: commit, git push -u origin {branch}, open or update the PR, post the result comment",
    ]
