"""The review agent (SPEC §5.8, §2.2): one `in_review` task's PR reviewed at its head SHA.

`review_task()` is the work behind `orch task review N`: under the task lock it finds the
task's open PR and its head commit, picks a reviewer (an available agent, preferably not
the one that wrote the change; model from `model_map.review`), runs it in review mode on
the PR's diff, and turns its verdict into effects: an `orch:review` comment, then a merge
(`approve` with `workflow.auto_merge`, orch's own PRs only), `routed` (`request_changes`,
the notes become the next attempt's context), or `needs_review` (`reject`, too many review
cycles). No verdict (garbage, a failed run) changes nothing; the next tick tries again.
`spawn_review()` starts the same command detached (what the tick's review phase uses).

The verdicts live on the issue (`orch:review` markers with the head SHA), so a deleted
state directory never leads to a second review of the same commit. Review artifacts are
kept in `<state>/repos/<owner>/<repo>/tasks/<n>/reviews/<k>/`. Nothing here prints.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orch.agents import BuildRequest, adapter_for
from orch.agents.cooldown import Cooldowns
from orch.agents.prompt import (
    cap_text,
    clean_untrusted,
    render_template,
    template_text,
    tidy,
    untrusted_block,
)
from orch.agents.result import REVIEW_SCHEMA
from orch.clock import parse_iso
from orch.errors import NotFound, OrchError, UsageError
from orch.io import git, proc
from orch.io.locks import TaskLock
from orch.io.redact import redact_data, redactor_for
from orch.run import worktree as wt
from orch.run.outcome import parse_output
from orch.run.runner import agent_tracker, task_env, task_worktree
from orch.run.spawn import spawn_task, task_argv
from orch.run.supervisor import supervise
from orch.run.worktree import branch_name
from orch.status import Status
from orch.task.attempt import AttemptDir, forget_processes, read_sidecar, record_process
from orch.task.history import History, Task, orch_logins, post_marker, set_status
from orch.task.verdict import (
    change_requests,
    is_orch_pr,
    next_step,
    pick_reviewer,
    render_comment,
    verdict_for,
)

if TYPE_CHECKING:
    from orch.deps import Deps
    from orch.paths import Paths
    from orch.project import Project
    from orch.store.base import Comment, Issue, PullRequest, Store
    from orch.task.attempt import AttemptDir
    from orch.task.history import History, Task
    from orch.task.verdict import Step

REVIEW_TEMPLATE = "review.md"
DIFF_CAP = 60_000  # characters of diff put in the prompt
_DELIMITER_RE = re.compile(r"</?\s*untrusted-data[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class ReviewOptions:
    number: int
    agent: str | None = None
    model: str | None = None


@dataclass
class ReviewResult:
    number: int
    action: str  # reviewed | applied | no verdict | cooldown | nothing | detached
    decision: str | None = None
    status: str | None = None  # the task's status afterwards, when it changed
    merged: bool = False
    pr: int | None = None
    head_sha: str = ""
    reviewer: str | None = None
    model: str | None = None
    error_class: str | None = None
    reason: str = ""
    pid: int | None = None
    review_dir: str = ""

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def line(self) -> str:
        """One human line for stdout."""
        parts = [f"#{self.number}", self.action]
        if self.decision:
            parts.append(self.decision)
        if self.head_sha:
            parts.append(f"at {self.head_sha[:12]}")
        if self.reviewer:
            parts.append(f"by {self.reviewer}" + (f"/{self.model}" if self.model else ""))
        if self.pr:
            parts.append(f"PR #{self.pr}" + (" merged" if self.merged else ""))
        if self.status:
            parts.append(f"status:{self.status}")
        if self.error_class:
            parts.append(f"error:{self.error_class}")
        if self.pid:
            parts.append(f"pid {self.pid}")
        text = " ".join(parts)
        return f"{text}: {self.reason}" if self.reason else text


@dataclass(frozen=True)
class Target:
    """An `in_review` task, its open PR and the commit to review."""

    task: Task
    pr: PullRequest
    head_sha: str
    comments: tuple[Comment, ...]
    history: History


# ---------------------------------------------------------------------------------------
# Finding what to review


def find_target(
    project: Project,
    store: Store,
    number: int,
    *,
    issue: Issue | None = None,
    comments: tuple[Comment, ...] | list[Comment] | None = None,
    pulls: Sequence[PullRequest] = (),
) -> tuple[Target | None, str]:
    """The task's open PR and head SHA, or (None, why there is nothing to review).
    `pulls`: PRs the caller already read (the tick's snapshot), so none is read again."""

    issue = issue if issue is not None else store.get_issue(number)
    task = Task.from_issue(issue)
    if issue.state != "open" or task.status is not Status.IN_REVIEW:
        shown = task.status.value if task.status else "without status"
        return (
            None,
            f"task #{number} is {shown}{'' if issue.state == 'open' else ' (closed)'}, not in_review",
        )
    comments = tuple(comments if comments is not None else store.list_comments(number))
    history = History.from_comments(
        comments, orch_logins(store, project.config.workflow.orch_logins)
    )
    pr = _open_pr(project, store, task, history, pulls)
    if pr is None:
        return None, f"task #{number} has no open pull request"
    head = pr.head_sha or _local_sha(project.root, pr.head)
    if not head:
        return None, f"cannot tell the head commit of PR #{pr.number} (branch {pr.head})"
    return Target(task, pr, head, comments, history), ""


def _open_pr(
    project: Project, store: Store, task: Task, history: History, pulls: Sequence[PullRequest] = ()
) -> PullRequest | None:

    last = history.last_response or {}
    number = last.get("pr")
    known = {p.number: p for p in pulls}
    named = known.get(int(str(number))) if str(number).isdigit() else None
    if named is not None and named.state == "open":
        return named
    if named is None and str(number).isdigit():
        try:
            pr = store.get_pr(int(str(number)))
        except NotFound:
            pr = None
        if pr is not None and pr.state == "open":
            return pr
    branch = last.get("branch") or branch_name(
        project.config.git.branch_prefix, task.number, task.title
    )
    on_branch = [p for p in pulls if p.head == branch and p.state == "open"]
    if on_branch:
        return max(on_branch, key=lambda p: p.number)
    return store.find_pr(str(branch), state="open")


def _local_sha(root: Path, branch: str) -> str | None:
    """A branch's commit as this checkout knows it (the local store has no PR head SHA)."""
    for ref in (f"refs/heads/{branch}", f"refs/remotes/origin/{branch}"):
        sha = git.rev_parse(root, ref)
        if sha:
            return sha
    return None


def reviewer_for(deps: Deps, project: Project, author: str | None) -> str | None:
    """An agent that can review now: configured, not disabled, its CLI found, not cooling
    down (for its review model); preferably not `author`."""

    config = project.config
    cooldowns = Cooldowns(deps.paths, deps.clock)
    unavailable = list(config.router.disabled_agents)
    for name, agent in config.agents.items():
        command = agent.command[0]
        missing = proc.which(command) is None and not Path(command).exists()
        if missing or cooldowns.blocking(name, config.model_for("review", name)) is not None:
            unavailable.append(name)
    return pick_reviewer(list(config.agents), author, unavailable)


# ---------------------------------------------------------------------------------------
# Reviewing


def review_task(
    deps: Deps, project: Project, options: ReviewOptions, *, env: Mapping[str, str] | None = None
) -> ReviewResult:
    """Review one task's PR at its head SHA (see the module docstring). Exit 5 when another
    orch process works on the task."""

    store = deps.store(project)
    number = options.number
    lock = TaskLock(deps.paths, project.repo, number).acquire()
    me = os.getpid()
    try:
        # Counted against max_parallel like a supervisor, and visible to `orch task live`.
        record_process(deps.paths, project.repo, number, "supervisor", me)
        return _review(deps, project, store, options, env)
    finally:
        if read_sidecar(deps.paths, project.repo, number).get("supervisor_pid") == me:
            forget_processes(deps.paths, project.repo, number)
        lock.release()


def _review(
    deps: Deps,
    project: Project,
    store: Store,
    options: ReviewOptions,
    env: Mapping[str, str] | None,
) -> ReviewResult:

    config = project.config
    number = options.number
    target, why = find_target(project, store, number)
    if target is None:
        return ReviewResult(number, "nothing", reason=why)
    existing = verdict_for(target.history.reviews, target.head_sha)
    if existing is not None:
        # Reviewed already (maybe by a process that died before acting): finish acting.
        result = apply_verdict(deps, project, store, target, existing)
        result.action = "applied" if (result.status or result.merged) else "nothing"
        if result.action == "nothing":
            result.reason = f"PR #{target.pr.number} at {target.head_sha[:12]} is already reviewed"
        return result
    agent = options.agent or reviewer_for(deps, project, target.task.agent)
    if agent is None:
        raise OrchError(
            f"no agent can review task #{number} now: every configured agent is disabled, "
            "missing or cooling down; see `orch agents` and `orch cooldown list`"
        )
    if agent not in config.agents:
        raise UsageError(
            f"unknown agent {agent!r}; configured agents: {', '.join(sorted(config.agents))}"
        )
    model = options.model or config.model_for("review", agent)
    outcome, rdir, head = _run_reviewer(deps, project, target, agent, model, env)
    if head != target.head_sha:  # the commit the diff was made of is the one reviewed
        target = replace(target, head_sha=head)
    result = ReviewResult(
        number,
        "no verdict",
        pr=target.pr.number,
        head_sha=target.head_sha,
        reviewer=agent,
        model=model,
        review_dir=str(rdir),
    )
    error_class = outcome.get("error_class")
    verdict = outcome.get("result")
    if error_class in ("usage_limit", "auth"):
        _cool_down(deps, agent, model, str(error_class), outcome.get("reset_at"))
        result.action, result.error_class = "cooldown", str(error_class)
        result.reason = f"{agent} is cooling down; another reviewer tries on a later tick"
        return result
    if error_class or not isinstance(verdict, dict) or "decision" not in verdict:
        result.error_class = str(error_class) if error_class else "no_result"
        detail = str(outcome.get("error_detail") or "the reviewer returned no verdict")
        result.reason = f"{_redactor(project)(detail)}; the next tick tries again"
        return result
    return _post_and_apply(deps, project, store, target, verdict, agent, model, result)


def _run_reviewer(
    deps: Deps,
    project: Project,
    target: Target,
    agent: str,
    model: str | None,
    env: Mapping[str, str] | None,
) -> tuple[dict[str, Any], Path, str]:
    """Prepare the worktree, the diff and the prompt; run the agent; return its parsed
    outcome, the review directory and the commit reviewed."""

    number = target.task.number
    try:
        tree = task_worktree(deps, project, target.task)
    except wt.WorktreeError as exc:
        raise OrchError(f"cannot review task #{number}: {exc.message}") from exc
    base_ref, head = _refs(project.root, target, tree.has_remote)
    rdir = AttemptDir(_next_review_dir(deps, project.repo, number)).create()
    checkout = Checkout(tree.path, tree.branch, base_ref, head)
    outcome = run_review_agent(deps, project, target, agent, model, env, checkout, rdir)
    return outcome, rdir.path, head


@dataclass(frozen=True)
class Checkout:
    """What a reviewer looks at: a worktree, its branch, and `git diff base...head`."""

    path: Path
    branch: str
    base_ref: str
    head: str


def run_review_agent(
    deps: Deps,
    project: Project,
    target: Target,
    agent: str,
    model: str | None,
    env: Mapping[str, str] | None,
    checkout: Checkout,
    rdir: AttemptDir,
    *,
    track: bool = True,
) -> dict[str, Any]:
    """Run the reviewer in review mode on `checkout` and return its parsed outcome (also
    written to `rdir`). `track`: record the agent's pid in the task's sidecar. The steps
    after the prompt are the run's: its environment, pid tracking and output parsing."""

    config = project.config
    number = target.task.number
    prompt = _write_review_prompt(deps, project, target, agent, model, checkout, rdir)
    adapter = adapter_for(config.agents[agent], config)
    invocation = adapter.build(
        BuildRequest(
            mode="review",
            prompt=prompt,
            system_prompt="",
            model=model,
            cwd=checkout.path,
            work_dir=rdir.path,
            main_git_dir=git.common_dir(project.root),
            schema=REVIEW_SCHEMA,
            env_base=task_env(env, number, project.repo, ORCH_REVIEW="1"),
        )
    )
    exit_info = supervise(
        invocation,
        rdir,
        clock=deps.clock,
        timeout=config.workflow.timeout_for(target.task.complexity),
        idle_timeout=config.workflow.idle_timeout_seconds,
        on_start=agent_tracker(deps, project.repo, number) if track else None,
    )
    parsed = parse_output(
        adapter, rdir, exit_info, invocation.output_file, now=deps.clock.now(), mode="review"
    )
    outcome = parsed.to_json()
    rdir.write(rdir.result, {"outcome": redact_data(outcome, _redactor(project).values)})
    return outcome


def _write_review_prompt(
    deps: Deps,
    project: Project,
    target: Target,
    agent: str,
    model: str | None,
    checkout: Checkout,
    rdir: AttemptDir,
) -> str:
    """The reviewer's prompt on `git diff base...head`, and meta.json, written to `rdir`."""

    base_ref, head = checkout.base_ref, checkout.head
    diff = git.diff(project.root, base_ref, head)
    prompt = review_prompt(project, target, checkout.path, checkout.branch, base_ref, head, diff)
    rdir.prompt_message.write_text(prompt, encoding="utf-8")
    rdir.write(
        rdir.meta,
        {
            "number": target.task.number,
            "agent": agent,
            "model": model,
            "pr": target.pr.number,
            "head_sha": head,
            "base_ref": base_ref,
            "worktree": str(checkout.path),
            "started_at": deps.clock.now().isoformat(),
        },
    )
    return prompt


def _refs(root: Path, target: Target, has_remote: bool) -> tuple[str, str]:
    """(base ref, head commit) for `git diff base...head`, fetched from origin when there
    is one; the head is the PR's head SHA when this checkout has it."""
    pr = target.pr
    if has_remote:
        git.fetch(
            root,
            "origin",
            f"+refs/heads/{pr.base}:refs/remotes/origin/{pr.base}",
            f"+refs/heads/{pr.head}:refs/remotes/origin/{pr.head}",
        )
        base = f"refs/remotes/origin/{pr.base}"
        fetched = git.rev_parse(root, f"refs/remotes/origin/{pr.head}")
    else:
        base = f"refs/heads/{pr.base}"
        fetched = git.rev_parse(root, f"refs/heads/{pr.head}")
    if git.rev_parse(root, target.head_sha):
        return base, target.head_sha
    if fetched:
        return base, fetched
    raise OrchError(f"cannot find commit {target.head_sha[:12]} of PR #{pr.number} in {root}")


def _next_review_dir(deps: Deps, repo: str, number: int) -> Path:
    folder = deps.paths.reviews_dir(repo, number)
    taken = [int(p.name) for p in folder.glob("*") if p.name.isdigit()] if folder.is_dir() else []
    return folder / str(max(taken, default=0) + 1)


def review_prompt(
    project: Project,
    target: Target,
    worktree: Path,
    branch: str,
    base_ref: str,
    head: str,
    diff: str,
) -> str:
    """The reviewer's prompt (`prompts/review.md`, overridable in `workflow.prompts_dir`)."""

    task = target.task
    shown = _DELIMITER_RE.sub("[untrusted-data tag removed]", diff.strip())
    truncated = ""
    if len(shown) > DIFF_CAP:
        truncated = f"truncated to the first {DIFF_CAP} of {len(shown)} characters"
        shown = shown[:DIFF_CAP]
    diff_block = (
        f'<untrusted-data source="diff">\n```diff\n{shown}\n```\n</untrusted-data>'
        if shown
        else "(the diff is empty)"
    )
    previous = [
        f"- at `{str(r.get('head_sha', ''))[:12]}`: {r.get('decision')} — "
        f"{clean_untrusted(str(r.get('summary') or ''), 500)}"
        for r in target.history.reviews[-5:]
    ]
    values = {
        "author": task.agent or "an agent",
        "number": task.number,
        "title": clean_untrusted(task.title, 300),
        "repo": project.repo,
        "body": _untrusted("issue body", task.issue.body) or "(the issue has no description)",
        "pr": target.pr.number,
        "branch": branch,
        "base": base_ref.removeprefix("refs/remotes/").removeprefix("refs/heads/"),
        "head_sha": head,
        "worktree": str(worktree),
        "previous_reviews": "\n".join(previous),
        "diff": diff_block,
        "diff_truncated": truncated,
        "verdict_schema": json.dumps(REVIEW_SCHEMA, indent=1, sort_keys=True),
    }
    text = render_template(
        template_text(REVIEW_TEMPLATE, project.config.workflow.prompts_dir), values
    )
    return cap_text(tidy(text), 120_000)


def _untrusted(source: str, text: str) -> str:

    return untrusted_block(source, text)


# ---------------------------------------------------------------------------------------
# Acting on a verdict


def _post_and_apply(
    deps: Deps,
    project: Project,
    store: Store,
    target: Target,
    verdict: Mapping[str, Any],
    agent: str,
    model: str | None,
    result: ReviewResult,
) -> ReviewResult:

    redactor = _redactor(project)
    cycle = len({r.get("head_sha") for r in target.history.reviews} - {target.head_sha}) + 1
    data: dict[str, Any] = {
        "decision": verdict["decision"],
        "head_sha": target.head_sha,
        "reviewer": agent,
        "author": target.task.agent,
        "model": model,
        "summary": verdict.get("summary", ""),
        "notes": list(verdict.get("notes") or []),
        "cycle": cycle,
        "pr": target.pr.number,
    }
    data = dict(redact_data(data, redactor.values))  # type: ignore[call-overload]
    # The verdict now counts among the task's reviews (cycles, idempotent re-apply).
    target.history.reviews.append(data)
    step = _step(project, target, data)
    text = render_comment(data, pr=target.pr.number, outcome=step.reason)
    post_marker(store, target.task.number, "review", data, redactor(text), comments=target.comments)
    applied = apply_verdict(deps, project, store, target, data)
    applied.action, applied.reviewer, applied.model = "reviewed", agent, model
    applied.review_dir = result.review_dir
    return applied


def apply_verdict(
    deps: Deps, project: Project, store: Store, target: Target, verdict: Mapping[str, Any]
) -> ReviewResult:
    """Make a verdict's effects (idempotent: the task is still in_review, the PR open)."""

    workflow = project.config.workflow
    number, pr = target.task.number, target.pr
    step = _step(project, target, verdict)
    result = ReviewResult(
        number,
        "applied",
        decision=str(verdict.get("decision")),
        pr=pr.number,
        head_sha=str(verdict.get("head_sha") or target.head_sha),
        reviewer=verdict.get("reviewer"),
        model=verdict.get("model"),
        reason=step.reason,
    )
    if step.merge:
        try:
            store.merge_pr(pr.number, method=workflow.merge_strategy)
        except OrchError as exc:
            if type(exc) is not OrchError:
                raise  # GitHub unreachable, auth, rate limit, gone: try again on a later tick
            reason = (
                f"approved, but merging PR #{pr.number} failed: {exc.message}; merge it by hand"
            )
            set_status(
                store,
                number,
                Status.NEEDS_REVIEW,
                trigger="review",
                reason=reason,
                note=True,
                issue=target.task.issue,
            )
            result.status, result.reason = Status.NEEDS_REVIEW.value, reason
            return result
        result.merged = True
        result.reason = f"approved; merged PR #{pr.number} ({workflow.merge_strategy})"
    elif step.status is not None:
        set_status(
            store,
            number,
            step.status,
            trigger="review",
            reason=step.reason,
            issue=target.task.issue,
        )
        result.status = step.status.value
    return result


def _step(project: Project, target: Target, verdict: Mapping[str, Any]) -> Step:

    workflow, pr = project.config.workflow, target.pr
    return next_step(
        verdict,
        cycles=change_requests(target.history.reviews),
        max_cycles=workflow.max_review_cycles,
        auto_merge=workflow.auto_merge,
        orch_pr=is_orch_pr(
            pr.head,
            pr.body,
            branch_prefix=project.config.git.branch_prefix,
            number=target.task.number,
        ),
    )


def _cool_down(deps: Deps, agent: str, model: str | None, error_class: str, reset_at: Any) -> None:

    until = parse_iso(reset_at) if isinstance(reset_at, str) else None
    scoped = model if error_class == "usage_limit" and model else None
    Cooldowns(deps.paths, deps.clock).record(
        agent, scoped, error_class=error_class, reason=f"{error_class} on a review", reset_at=until
    )


def _redactor(project: Project) -> Any:

    return redactor_for(project.config)


# ---------------------------------------------------------------------------------------
# Detached reviews (the tick's review phase, `orch task review --detach`)


def spawn_review(
    deps: Deps, project: Project, options: ReviewOptions, *, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start `orch task review N` in its own session; record its pid in the sidecar (so
    max_parallel counts it) and return the process."""

    argv = task_argv(
        deps, project, "review", options.number, agent=options.agent, model=options.model
    )
    log = deps.paths.review_log(project.repo, options.number)
    return spawn_task(deps, project, options.number, argv, log, env=env)


def start_detached(
    deps: Deps, project: Project, options: ReviewOptions, *, env: Mapping[str, str] | None = None
) -> ReviewResult:
    """`orch task review N --detach`: fail fast when the task is locked, else start and return."""

    TaskLock(deps.paths, project.repo, options.number).acquire().release()
    child = spawn_review(deps, project, options, env=env)
    log = deps.paths.review_log(project.repo, options.number)
    return ReviewResult(options.number, "detached", pid=child.pid, reason=f"log: {log}")


def describe_review(deps: Deps, project: Project, options: ReviewOptions) -> list[str]:
    """What `orch task review N --dry-run` would do, as `would:` lines; makes no writes."""

    store = deps.store(project)
    target, why = find_target(project, store, options.number)
    if target is None:
        return [f"nothing to review: {why}"]
    pr, sha = target.pr, target.head_sha[:12]
    if verdict_for(target.history.reviews, target.head_sha) is not None:
        return [f"would: act on the verdict already posted for PR #{pr.number} at {sha}"]
    agent = options.agent or reviewer_for(deps, project, target.task.agent) or "(none available)"
    model = options.model or project.config.model_for("review", agent)
    return [
        f"would: review PR #{pr.number} of task #{options.number} at {sha} with {agent}"
        + (f"/{model}" if model else ""),
        f"would: post the orch:review verdict on issue #{options.number}, then merge "
        f"(approve, auto_merge: {str(project.config.workflow.auto_merge).lower()}), "
        "set routed (request_changes) or needs_review (reject, max review cycles)",
    ]


_NOT_THE_REVIEWS_FAULT = ("usage_limit", "auth", "rate_limit", "overloaded")


def no_verdict_runs(paths: Paths, repo: str, number: int, head_sha: str) -> int:
    """How many finished reviews of `head_sha` on this host gave no verdict through the
    reviewer's own fault (garbage, failure, timeout; not a limit or an outage)."""

    folder = paths.reviews_dir(repo, number)
    count = 0
    for path in sorted(folder.glob("*")) if folder.is_dir() else []:
        rdir = AttemptDir(path)
        meta, result = rdir.read(rdir.meta), rdir.read(rdir.result)
        if not meta or not result or meta.get("head_sha") != head_sha:
            continue
        outcome = result.get("outcome") or {}
        verdict = outcome.get("result")
        if isinstance(verdict, dict) and "decision" in verdict:
            continue
        if outcome.get("error_class") not in _NOT_THE_REVIEWS_FAULT:
            count += 1
    return count
