"""Publishing an attempt (SPEC §6.5), always, whatever the outcome; idempotent.

Everything it needs is on disk in the attempt directory (meta.json, result.json,
exit.json, the logs), so the supervisor, `orch task run --publish-only N` and the tick's
reap phase all publish the same way. Each step records what it did in publish.json before
the next starts, so a publish interrupted at any line (GitHub down, process killed) is
finished later without doing anything twice:

1. commit what the agent left uncommitted (configured identity);
2. push the branch when it has commits not on the default branch (`git push -u origin`,
   git's own credentials; never a token in a URL), only after orch.run.pushguard found no
   secret in what it would send; else nothing is pushed, the task goes to
   `needs_review` with the findings ("held"), and a later `--publish-only` scans again
   and, once the branch is clean, pushes and publishes the attempt anew;
3. for a `done` result with commits: open the PR (or update the open one);
4. post the redacted `orch:agent-response` comment (deduplicated by body hash);
5. set the labels (status by the decision, `model:`, `agent:` on reroute) in one write.
   An attempt never closes its issue: "done" ships a PR (merge watch closes the task) or,
   with nothing to ship, asks a human (orch.run.decision).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from orch import taskid
from orch.config.model import Config
from orch.errors import OrchError
from orch.io import git
from orch.io.redact import Redactor
from orch.run import pushguard
from orch.run.decision import Decision
from orch.run.render import AttemptReport, agent_response, pr_body, pr_title
from orch.status import Status
from orch.store.base import Store
from orch.task import markers
from orch.task.attempt import AttemptDir
from orch.task.conversation import reply_text
from orch.task.history import post_marker, set_status
from orch.task.plan import publish_children


class PublishError(OrchError):
    """Publishing stopped half-way; what is done is recorded and a later run finishes it."""


log = logging.getLogger("orch")


@dataclass(frozen=True)
class Published:
    status: str
    pr: int | None
    pr_url: str
    pushed_sha: str | None
    comment_id: int | None
    commit_sha: str | None
    complete: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "pr": self.pr,
            "pr_url": self.pr_url,
            "pushed_sha": self.pushed_sha,
            "comment_id": self.comment_id,
            "commit_sha": self.commit_sha,
            "complete": self.complete,
        }


def publish(
    store: Store,
    config: Config,
    adir: AttemptDir,
    *,
    redactor: Redactor,
    ensure_labels: Callable[[list[str]], object] | None = None,
    push_env: Callable[[], Mapping[str, str]] | None = None,
) -> Published:
    """Publish one attempt; safe to call again after any failure (see the module doc)."""
    meta = adir.read(adir.meta)
    result = adir.read(adir.result)
    if meta is None or result is None:
        raise PublishError(f"{adir.path}: meta.json or result.json is missing; nothing to publish")
    state = adir.publish_state()
    if state.get("complete"):
        return _published(state)
    decision = Decision.from_json(result["decision"])
    number = int(meta["number"])
    worktree = Path(meta["worktree"])
    base_ref = str(meta["base_ref"])

    # 1. commit leftovers
    if "commit_sha" not in state and worktree.is_dir():
        state = _commit_leftovers(config, adir, meta, worktree, number)
    head = git.rev_parse(worktree, "HEAD") if worktree.is_dir() else None
    ahead = git.commits_ahead(worktree, base_ref) if head else 0

    # 2. push, only what the scan let through
    if meta.get("has_remote") and ahead > 0 and state.get("pushed_sha") != head:
        state = _push(adir, state, meta, head, redactor, push_env)

    files = git.changed_files(worktree, base_ref) if ahead else []
    report = _report(meta, result, decision, adir, files, state.get("pushed_sha"))

    # 3. pull request
    status = decision.status
    held = str(state.get("held") or "")
    if held:
        status = Status.NEEDS_REVIEW
        report = replace(report, warnings=(*report.warnings, held), branch="")
    if decision.wants_pr and ahead > 0 and "pr" not in state and not held:
        state = _open_pr(store, adir, meta, report, redactor)
    reason = held or decision.reason
    if decision.wants_pr and "pr" not in state and status is Status.IN_REVIEW:
        # The decision saw commits, but there is no branch to open a PR from any more
        # (worktree deleted, nothing pushed): a human must look, never a silent done.
        status = Status.NEEDS_REVIEW
        reason = "the agent reported done but no pull request could be opened (no commits to push)"
    pr_number = state.get("pr")
    report = _with_pr(report, pr_number, str(state.get("pr_url") or ""), status)

    # 4. the agent-response comment
    if "comment_id" not in state:
        state = _post_response(store, adir, state, number, report, redactor)

    # 4a. one short reply on each PR whose feedback this attempt worked on (SPEC §12)
    if meta.get("answers") and state.get("comment_id") and "pr_replied" not in state:
        _reply_on_prs(store, meta, int(state["comment_id"]), status.value)
        state = adir.record_publish(pr_replied=True)

    # 4b. a plan task's sub-issues (orch.task.plan), before the parent is set blocked
    if decision.trigger == "plan" and "children_posted" not in state:
        state = publish_children(store, adir, number, result, state, ensure_labels)

    # 5. labels
    if "labels_set" not in state:
        state = _set_labels(store, adir, state, meta, decision, status, reason, ensure_labels)

    if held:  # not complete: `--publish-only` scans again and pushes a fixed branch
        return _published(adir.record_publish(status=status.value))
    state = adir.record_publish(complete=True, status=status.value)
    return _published(state)


def _commit_leftovers(
    config: Config, adir: AttemptDir, meta: dict[str, Any], worktree: Path, number: int
) -> dict[str, Any]:
    """Commit what the agent left uncommitted (step 1)."""

    identity = git.identity_env(config.git.name, config.git.email)
    message = f"orch: {meta['title']} ({taskid.ref(number)}, attempt {meta['attempt']})"
    try:
        sha = git.commit_all(worktree, message, identity)
    except git.GitError as exc:
        raise PublishError(
            f"task {taskid.ref(number)}: cannot commit the agent's work: {exc.message}"
        ) from exc
    return adir.record_publish(commit_sha=sha)


def _push(
    adir: AttemptDir,
    state: dict[str, Any],
    meta: dict[str, Any],
    head: str | None,
    redactor: Redactor,
    push_env: Callable[[], Mapping[str, str]] | None,
) -> dict[str, Any]:
    """Scan the branch, then push it unless the scan held it (step 2)."""

    number = int(meta["number"])
    worktree = Path(meta["worktree"])
    branch = str(meta["branch"])
    state = _guard(adir, state, worktree, str(meta["base_ref"]), branch, number, redactor)
    if state.get("pushed_sha") == head or state.get("held"):
        return state
    try:
        git.push_branch(worktree, branch, env=push_env() if push_env else None)
    except git.GitError as exc:
        raise PublishError(
            f"task {taskid.ref(number)}: cannot push {branch}: {redactor(exc.message)}; "
            f"the work is committed in {worktree}; "
            f"run `orch task run --publish-only {taskid.text(number)}`"
        ) from exc
    return adir.record_publish(pushed_sha=head)


def _open_pr(
    store: Store, adir: AttemptDir, meta: dict[str, Any], report: AttemptReport, redactor: Redactor
) -> dict[str, Any]:
    """Open the pull request, or update the one already open on the branch (step 3)."""

    branch = str(meta["branch"])
    title = redactor(pr_title(str(meta["title"]), int(meta["number"])))
    body = redactor(pr_body(report))
    existing = store.find_pr(branch, "open")
    if existing is None:
        pr = store.create_pr(branch, str(meta["default_branch"]), title, body)
    else:
        pr = store.update_pr(existing.number, body=body)
    return adir.record_publish(pr=pr.number, pr_url=pr.url)


def _post_response(
    store: Store,
    adir: AttemptDir,
    state: dict[str, Any],
    number: int,
    report: AttemptReport,
    redactor: Redactor,
) -> dict[str, Any]:
    """The agent-response comment, posted once (step 4)."""

    data, text = agent_response(report)
    text = redactor(text)
    data = {k: (redactor(v) if isinstance(v, str) else v) for k, v in data.items()}
    # A previous run may have posted and died before recording it: then read the
    # thread and let the hash dedupe skip it. On a first try no read is needed.
    comments = store.list_comments(number) if state.get("comment_started") else []
    adir.record_publish(comment_started=True)
    comment = post_marker(store, number, "agent-response", data, text, comments=comments)
    body_hash = markers.body_hash(markers.render("agent-response", data, text))
    return adir.record_publish(
        comment_id=comment.id if comment else _existing_id(store, comments, body_hash),
        comment_hash=body_hash,
    )


def _set_labels(
    store: Store,
    adir: AttemptDir,
    state: dict[str, Any],
    meta: dict[str, Any],
    decision: Decision,
    status: Status,
    reason: str,
    ensure_labels: Callable[[list[str]], object] | None,
) -> dict[str, Any]:
    """The task's model/agent labels and its new status (step 5)."""

    model_label = meta.get("model")
    wanted: list[str] = [f"model:{model_label}"] if model_label else []
    if decision.reroute_to:
        wanted.append(f"agent:{decision.reroute_to}")
    if ensure_labels and wanted:
        ensure_labels(wanted)
    kwargs: dict[str, Any] = {"model": model_label} if model_label else {}
    if decision.reroute_to:
        kwargs["agent"] = decision.reroute_to
        kwargs["model"] = None  # the next agent picks its own model
    trigger = "failure" if status is not decision.status else decision.trigger
    if state.get("released") and status is not Status.NEEDS_REVIEW:
        trigger = "release"  # from the needs_review the held push had set
    set_status(store, int(meta["number"]), status, trigger=trigger, reason=reason, **kwargs)
    return adir.record_publish(labels_set=status.value)


def _guard(
    adir: AttemptDir,
    state: dict[str, Any],
    worktree: Path,
    base_ref: str,
    branch: str,
    number: int,
    redactor: Redactor,
) -> dict[str, Any]:
    """Scan what the push would send; hold the push on a finding. A branch that is clean
    again (a human fixed it) releases an earlier hold: the attempt is published anew."""
    findings = pushguard.scan(worktree, base_ref, branch, redactor.values)
    if findings:
        return adir.record_publish(held=redactor(pushguard.held_reason(findings, number)))
    if not state.get("held"):
        return state
    kept = {k: v for k, v in state.items() if k not in _REDONE_AFTER_HOLD} | {"released": True}
    adir.write(adir.publish, kept)
    return kept


# What a held publish did that is done again once the branch is clean: the result comment,
# the reply on the PR linking it, and the labels said "nothing was pushed".
_REDONE_AFTER_HOLD = (
    "held",
    "comment_id",
    "comment_hash",
    "comment_started",
    "pr_replied",
    "labels_set",
)


def _reply_on_prs(store: Store, meta: dict[str, Any], comment_id: int, status: str) -> None:
    url = str(meta.get("issue_url") or "")
    link = f"{url}#issuecomment-{comment_id}" if url else f"#{meta['number']}"
    for answer in meta["answers"]:
        text = reply_text(answer.get("authors") or [], meta["attempt"], status, link)
        data = {"task": int(meta["number"]), "attempt": meta["attempt"], "comment_id": comment_id}
        try:
            post_marker(store, int(answer["pr"]), "reply", data, text, dedupe=False)
        except OrchError as exc:  # the PR may be gone; the answer on the issue stands
            log.warning("task #%s: no reply on PR #%s: %s", meta["number"], answer["pr"], exc)


def _published(state: dict[str, Any]) -> Published:
    return Published(
        status=str(state.get("status") or state.get("labels_set") or ""),
        pr=state.get("pr"),
        pr_url=str(state.get("pr_url") or ""),
        pushed_sha=state.get("pushed_sha"),
        comment_id=state.get("comment_id"),
        commit_sha=state.get("commit_sha"),
        complete=bool(state.get("complete")),
    )


def _existing_id(store: Store, comments: list[Any], body_hash: str) -> int | None:
    mine = markers.orch_logins(store.viewer_login())
    for comment in reversed(comments):
        if (
            markers.written_by_orch(comment.author, mine)
            and markers.body_hash(comment.body) == body_hash
        ):
            return int(comment.id)
    return None


def _report(
    meta: dict[str, Any],
    result: dict[str, Any],
    decision: Decision,
    adir: AttemptDir,
    files: list[str],
    pushed_sha: str | None,
) -> AttemptReport:
    outcome = result.get("outcome") or {}
    agent_result = outcome.get("result") or {}
    usage = outcome.get("usage") or {}
    exit_info = adir.read(adir.exit) or {}
    summary = str(agent_result.get("summary") or "")
    return AttemptReport(
        number=int(meta["number"]),
        attempt=int(meta["attempt"]),
        agent=str(meta["agent"]),
        model=meta.get("model"),
        status=decision.result_status,
        task_status=decision.status.value,
        duration_s=float(exit_info.get("duration_s") or 0),
        tokens_in=int(usage.get("tokens_in") or 0),
        tokens_out=int(usage.get("tokens_out") or 0),
        cost_usd=float(usage.get("cost_usd") or 0),
        prompt_hash=str(meta.get("prompt_hash") or ""),
        branch=str(meta["branch"]) if pushed_sha or files else "",
        error_class=decision.error_class,
        error_detail=decision.reason if decision.error_class else "",
        summary=summary,
        reason=str(decision.reason or agent_result.get("reason") or "")
        if not decision.error_class
        else "",
        accomplished=tuple(agent_result.get("accomplished") or ()),
        remaining=tuple(agent_result.get("remaining") or ()),
        blockers=tuple(agent_result.get("blockers") or ()),
        files_changed=tuple(files or agent_result.get("files_changed") or ()),
        learnings=tuple(agent_result.get("learnings") or ()),
        warnings=decision.warnings,
        stderr_tail=adir.text(adir.stderr, 3000),
        prompt=adir.text(adir.prompt_message, 10_000),
        pushed_sha=pushed_sha,
        extra={"summary": summary[:300]} if summary else {},
    )


def _with_pr(report: AttemptReport, pr: int | None, url: str, status: Status) -> AttemptReport:
    return replace(report, pr=pr, pr_url=url, task_status=status.value)
