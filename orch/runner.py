"""Running one task end to end (SPEC §6): the work behind `orch task run` and dispatch.

`run_task()` claims the task (per-task lock, attempt number, `in_progress`), prepares the
worktree and the prompts, supervises the agent, decides what its outcome means and
publishes it. `start_detached()` runs the same thing in a new session and returns at once
(what `orch tick` uses). `publish_pending()` finishes an attempt whose supervisor died or
whose publishing failed (reap, `--publish-only`). Nothing here prints or exits.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orch import git, proc
from orch import labels as L
from orch.attempt import AttemptDir, attempt_dir, attempts, read_sidecar, update_sidecar
from orch.clock import utc_iso
from orch.decision import Decision, Facts, decide, next_untried_agent
from orch.errors import OrchError, UsageError
from orch.locks import TaskLock
from orch.redact import Redactor
from orch.status import Status
from orch.supervisor import ExitInfo, Progress, read_exit, supervise

if TYPE_CHECKING:
    from orch.deps import Deps
    from orch.project import Project
    from orch.store.base import Comment, Issue, Store
    from orch.tasks import History

RUNNABLE = (Status.NEW, Status.ROUTED, Status.IN_PROGRESS)
WRITE_PERMISSIONS = ("admin", "maintain", "write")


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

    if attempt > config.workflow.max_attempts:
        reason = f"exceeded max attempts ({config.workflow.max_attempts})"
        triggers = {Status.NEW: "route_failed", Status.ROUTED: "dispatch_failed"}
        trigger = triggers.get(src, "failure") if src else "failure"
        set_status(store, number, Status.NEEDS_REVIEW, trigger=trigger, reason=reason, note=True,
                   issue=issue)
        return RunResult(number, "needs_review", Status.NEEDS_REVIEW.value, attempt - 1, agent,
                         model, reason=reason)

    from orch.budget import task_budget_reason

    over = task_budget_reason(history.cost_usd, config.workflow.max_cost_per_task_usd)
    if over:
        triggers = {Status.NEW: "route_failed", Status.ROUTED: "dispatch_failed"}
        trigger = triggers.get(src, "failure") if src else "failure"
        set_status(store, number, Status.NEEDS_REVIEW, trigger=trigger, reason=over, note=True,
                   issue=issue)
        return RunResult(number, "needs_review", Status.NEEDS_REVIEW.value, attempt - 1, agent,
                         model, reason=over)

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
        prompts = _prompts(project, store, task, tree, comments, history, attempt, agent, model,
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


def _prompts(
    project: Project,
    store: Store,
    task: Any,
    tree: Any,
    comments: list[Comment],
    history: History,
    attempt: int,
    agent: str,
    model: str | None,
    *,
    planning: bool = False,
) -> Any:
    from orch.prompt import ContextComment, PromptContext, build_prompts
    from orch.review_decision import latest_notes

    config = project.config
    trusted = _trusted_comments(store, task.issue, comments, config.workflow.allowed_users)
    context_cmds = [c for c in trusted if c.body.lstrip().lower().startswith("/context")]
    plain = [c for c in trusted if not c.body.lstrip().startswith("/")]
    limit = config.workflow.context_comments
    ctx = PromptContext(
        repo=project.repo,
        number=task.number,
        title=task.title,
        body=task.issue.body,
        labels=list(task.labels),
        branch=tree.branch,
        worktree=str(tree.path),
        default_branch=tree.default_branch,
        attempt=attempt,
        max_attempts=config.workflow.max_attempts,
        agent=agent,
        model=model,
        comments=[
            ContextComment(c.author, utc_iso(c.created_at), c.body) for c in plain[-limit:]
        ] if limit else [],
        owner_context=[c.body.lstrip()[len("/context"):].strip() for c in context_cmds],
        previous=list(history.responses),
        learnings=history.learnings,
        review=latest_notes(history.reviews),
    )
    if planning:  # a `plan` task decomposes instead of coding (orch.plan)
        from orch.plan import build_plan_prompts

        return build_plan_prompts(ctx, config.workflow.prompts_dir)
    return build_prompts(ctx, config.workflow.prompts_dir)


def _trusted_comments(
    store: Store, issue: Issue, comments: list[Comment], allowed: tuple[str, ...]
) -> list[Comment]:
    """Human comments (not orch markers) by users with write access or listed as allowed."""
    from orch import markers

    human = [c for c in comments if markers.parse(c.body) is None]
    cache: dict[str, bool] = {}

    def ok(c: Comment) -> bool:
        if c.author in allowed:
            return True
        if c.author_type == "Bot":
            return False
        if c.author not in cache:
            try:
                cache[c.author] = store.permission(c.author) in WRITE_PERMISSIONS
            except OrchError:
                cache[c.author] = False
        return cache[c.author]

    return [c for c in human if ok(c)]


# ---------------------------------------------------------------------------------------
# After the agent: parse, decide, record (everything publishing needs lands on disk).


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
    from orch.agents import adapter_for

    config = project.config
    meta = adir.read(adir.meta) or {}
    agent = str(meta.get("agent"))
    adapter = adapter_for(config.agents[agent], config) if agent in config.agents else None
    stdout = adir.text(adir.stdout)
    stderr = adir.text(adir.stderr)
    output_text = None
    if output_file is None:
        output_file = _output_file_of(adir)
    if output_file is not None and output_file.exists():
        output_text = output_file.read_text(encoding="utf-8", errors="replace")
    outcome: dict[str, Any]
    if adapter is not None:
        parsed = adapter.parse(
            exit_info.returncode,
            stdout,
            stderr,
            timed_out=exit_info.timed_out,
            idle_killed=exit_info.idle_killed,
            output_file_text=output_text,
            now=deps.clock.now(),
        )
        outcome = parsed.to_json()
    else:
        outcome = {"result": None, "usage": {}, "error_class": "failed",
                   "error_detail": f"agent {agent!r} is no longer configured",
                   "permission_denials": [], "failed_commands": []}

    worktree = Path(str(meta.get("worktree")))
    ahead = 0
    dirty = False
    if worktree.is_dir():
        dirty = git.has_changes(worktree)
        ahead = git.commits_ahead(worktree, str(meta.get("base_ref")))
    tried = [*meta.get("tried_agents", []), agent]
    next_agent = None
    if outcome.get("error_class") in ("usage_limit", "auth"):
        next_agent = _next_agent(deps, project, tried)
    facts = Facts(
        attempt=int(meta.get("attempt") or 0),
        agent=agent,
        result=outcome.get("result"),
        error_class=outcome.get("error_class"),
        error_detail=str(outcome.get("error_detail") or ""),
        timed_out=exit_info.timed_out,
        idle_killed=exit_info.idle_killed,
        stopped=exit_info.stopped,
        stop_reason=exit_info.reason if exit_info.stopped else "",
        lost=lost,
        commits_ahead=ahead + (1 if dirty else 0),
        permission_denials=len(outcome.get("permission_denials") or []),
        failed_commands=tuple(outcome.get("failed_commands") or ()),
        previous_blockers=[tuple(b) for b in meta.get("previous_blockers", [])],
        next_agent=next_agent,
        plan=bool(meta.get("plan")),
        children=len((outcome.get("result") or {}).get("children") or ()),
    )
    decision = decide(facts)
    redactor = Redactor.from_env(os.environ, config.workflow.secret_env)
    from orch.redact import redact_data

    adir.write(adir.result, {"outcome": redact_data(outcome, redactor.values), "decision": decision.to_json()})
    adir.write(adir.usage, dict(outcome.get("usage") or {}))
    if decision.cooldown:
        _cooldown(deps, agent, meta.get("model"), decision.error_class, outcome.get("reset_at"))
    return decision


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
    from orch.cooldown import Cooldowns

    return [c.agent for c in Cooldowns(deps.paths, deps.clock).active() if c.model is None]


def _cooldown(deps: Deps, agent: str, model: Any, error_class: Any, reset_at: Any) -> None:
    """Cool the agent down: the model alone for a usage limit with a model, else the agent."""
    from orch.clock import parse_iso
    from orch.cooldown import Cooldowns

    until = parse_iso(reset_at) if isinstance(reset_at, str) else None
    scoped = model if error_class == "usage_limit" and isinstance(model, str) else None
    Cooldowns(deps.paths, deps.clock).record(
        agent, scoped, error_class=str(error_class), reason=f"{error_class} on a task run",
        reset_at=until,
    )


# ---------------------------------------------------------------------------------------
# Publishing and recovery


def unpublished(deps: Deps, project: Project, number: int) -> AttemptDir | None:
    """The newest attempt that ran (or started) but was not published completely."""
    found = attempts(deps.paths, project.repo, number)
    if not found:
        return None
    last = found[-1]
    if last.read(last.meta) is None:
        return None
    if last.publish_state().get("complete"):
        return None
    return last


def publish_pending(deps: Deps, project: Project, store: Store, adir: AttemptDir) -> RunResult:
    """Finish an attempt: recover a lost supervisor's run, decide, publish (idempotent)."""
    from orch.publish import PublishError, publish

    meta = adir.read(adir.meta) or {}
    number = int(meta["number"])
    exit_info = read_exit(adir)
    if exit_info is None:
        exit_info = _recover_lost(deps, project, adir)
    if adir.read(adir.result) is None:
        finish_attempt(deps, project, adir, exit_info, lost=exit_info.reason == "lost")
    config = project.config
    redactor = Redactor.from_env(os.environ, config.workflow.secret_env)
    try:
        published = publish(
            store, config, adir, redactor=redactor,
            ensure_labels=lambda names: _ensure_labels(deps, store, names),
        )
    except OrchError as exc:
        raise PublishError(
            f"task #{number}: attempt {meta['attempt']} ran but publishing stopped: "
            f"{redactor(exc.message)}; it is saved in {adir.path} and "
            f"`orch task run --publish-only {number}` (or the next tick) finishes it",
            exit_code=exc.exit_code,
        ) from exc
    decision = Decision.from_json((adir.read(adir.result) or {})["decision"])
    update_sidecar(deps.paths, project.repo, number, published_attempt=int(meta["attempt"]))
    _record_cost(deps, project, adir, number, int(meta["attempt"]))
    result = RunResult(
        number=number,
        action="ran",
        status=published.status,
        attempt=int(meta["attempt"]),
        agent=str(meta.get("agent")),
        model=meta.get("model"),
        error_class=decision.error_class,
        reason=redactor(decision.reason),
        pr=published.pr,
        pr_url=published.pr_url,
        branch=str(meta.get("branch") or ""),
        pushed_sha=published.pushed_sha,
        duration_s=exit_info.duration_s,
        exit_code=exit_info.exit_code,
        signal=exit_info.signal,
        attempt_dir=str(adir.path),
    )
    from orch import log

    log.setup(deps.paths).info("%s %s", project.repo, redactor(result.line()))
    return result


def _record_cost(deps: Deps, project: Project, adir: AttemptDir, number: int, attempt: int) -> None:
    """Add the attempt's cost to the host's daily ledger (orch.budget; a cache)."""
    from orch import budget

    usage = adir.read(adir.usage) or {}
    try:
        cost = float(usage.get("cost_usd") or 0)
        budget.record(deps.paths, project.repo, number, attempt, cost, deps.clock.now())
    except (OSError, TypeError, ValueError) as exc:
        from orch import log

        log.get().warning("%s #%s: cost not added to the daily ledger: %s", project.repo, number, exc)


def _recover_lost(deps: Deps, project: Project, adir: AttemptDir) -> ExitInfo:
    """The supervisor died mid-run: stop its orphaned agent, record what is known."""
    from orch.supervisor import kill_group

    meta = adir.read(adir.meta) or {}
    sidecar = read_sidecar(deps.paths, project.repo, int(meta["number"]))
    pid = sidecar.get("agent_pid")
    if isinstance(pid, int) and proc.pid_alive(pid):
        recorded = sidecar.get("agent_start")
        if recorded is None or str(proc.process_start_time(pid)) == str(recorded):
            kill_group(pid, 5.0, deps.clock, lambda: proc.pid_alive(pid))
    info = ExitInfo(None, None, False, False, False, 0.0, pid if isinstance(pid, int) else None,
                    reason="lost")
    adir.write(adir.exit, {**info.to_json(), "lost": True})
    return info


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
