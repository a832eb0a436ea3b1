"""`@orch review` on a pull request orch did not open (SPEC §12): one review, one comment.

The tick starts it detached (`orch task review PR --mention ID`, `review_requested()`), so
a long review never holds the tick; the child reads the PR and the mention again and
reviews once unless orch answered that comment meanwhile.

`review_pull()` fetches the PR's head from origin (the branch, else GitHub's
`refs/pull/N/head` for a fork) into `refs/orch/pr/N`, checks it out detached in a
throw-away worktree, runs the review agent in review mode on `git diff base...head`, and
posts one `orch:review` comment on the PR naming the mention (`comment_id`) — whatever
the agent answered, so the request is handled once. It never merges, never pushes and
never touches the PR's branch. Artifacts: `<state>/repos/<o>/<r>/pr-reviews/N/<k>/`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from orch.errors import NotFound, OrchError
from orch.io import git
from orch.io.locks import TaskLock
from orch.io.redact import redact_data, redactor_for
from orch.review.task import Checkout, Target, reviewer_for, run_review_agent
from orch.store.base import Issue, Mention
from orch.task import markers
from orch.task.attempt import AttemptDir, forget_processes
from orch.task.history import History, Task, orch_logins, post_marker
from orch.task.verdict import render_comment

if TYPE_CHECKING:
    from orch.deps import Deps
    from orch.project import Project
    from orch.store.base import Comment, PullRequest, Store


def review_requested(
    deps: Deps, project: Project, store: Store, number: int, comment_id: int
) -> str:
    """Review PR `number` for the mention `comment_id` (read again), unless orch answered
    it meanwhile or the PR closed; return what happened. Holds the PR's lock; forgets its
    process record (written by the tick that started it) when done."""
    with TaskLock(deps.paths, project.repo, number):  # TaskLocked: another one reviews it
        try:
            return _requested(deps, project, store, number, comment_id)
        finally:
            forget_processes(deps.paths, project.repo, number)


def _requested(deps: Deps, project: Project, store: Store, number: int, comment_id: int) -> str:
    pull = store.get_pr(number)
    comments = tuple(store.list_comments(number))
    comment = next((c for c in comments if c.id == comment_id), None)
    if comment is None:
        raise NotFound(f"comment {comment_id} not found on pull request #{number}")
    logins = orch_logins(store, project.config.workflow.orch_logins)
    for other in comments:
        marker = markers.orch_marker(other, logins)
        if marker is not None and marker.data.get("comment_id") == comment_id:
            return "answered already"
    if pull.state != "open":
        return f"not reviewed: the pull request is {pull.state}"
    when = pull.updated_at or comment.created_at
    issue = Issue(pull.number, pull.title, pull.body, "open", (), "", when, when, url=pull.url)
    return review_pull(deps, project, store, Mention(issue, comments, pull), comment)


def review_pull(
    deps: Deps, project: Project, store: Store, found: Mention, comment: Comment
) -> str:
    """Review `found.pull` once for the mention `comment`; return the decision posted."""
    pull = found.pull
    if pull is None:
        raise OrchError(f"#{found.issue.number} is not a pull request")
    agent = reviewer_for(deps, project, None)
    data: dict[str, Any] = {"pr": pull.number, "comment_id": comment.id, "head_sha": pull.head_sha}
    if agent is None:
        data.update(decision="none", summary="No agent can review now (see `orch agents`).")
    else:
        model = project.config.model_for("review", agent)
        data.update(reviewer=agent, model=model)
        data.update(_verdict(deps, project, found, pull, agent, model))
    redactor = redactor_for(project.config)
    data = dict(redact_data(data, redactor.values))  # type: ignore[call-overload]
    outcome = f"asked by @{comment.author}; orch does not merge or push to this pull request"
    text = render_comment(data, pr=pull.number, outcome=outcome)
    post_marker(store, pull.number, "review", data, redactor(text), dedupe=False)
    return str(data["decision"])


def _verdict(
    deps: Deps, project: Project, found: Mention, pull: PullRequest, agent: str, model: str | None
) -> dict[str, Any]:
    root = project.root
    ref = f"refs/orch/pr/{pull.number}"
    try:
        git.fetch(root, "origin", f"+refs/heads/{pull.head}:{ref}")
    except git.GitError:
        git.fetch(root, "origin", f"+refs/pull/{pull.number}/head:{ref}")
    git.fetch(root, "origin", f"+refs/heads/{pull.base}:refs/remotes/origin/{pull.base}")
    head = git.rev_parse(root, ref) or ""
    path = deps.paths.worktrees_dir(project.repo) / f"pr-{pull.number}"
    git.worktree_remove(root, path)
    git.worktree_add_detached(root, path, head)
    target = Target(Task.from_issue(found.issue), pull, head, (), History())
    checkout = Checkout(path, pull.head, f"refs/remotes/origin/{pull.base}", head)
    rdir = AttemptDir(_next_dir(deps.paths.pr_reviews_dir(project.repo, pull.number)))
    try:
        outcome = run_review_agent(
            deps, project, target, agent, model, None, checkout, rdir.create(), track=False
        )
    finally:
        git.worktree_remove(root, path)
    verdict = outcome.get("result")
    if outcome.get("error_class") or not isinstance(verdict, dict) or "decision" not in verdict:
        detail = str(outcome.get("error_detail") or outcome.get("error_class") or "no verdict")
        return {"decision": "none", "head_sha": head, "summary": f"The review failed: {detail}"}
    return {
        "decision": str(verdict["decision"]),
        "head_sha": head,
        "summary": str(verdict.get("summary") or ""),
        "notes": [str(n) for n in verdict.get("notes") or []],
    }


def _next_dir(folder: Path) -> Path:
    taken = [int(p.name) for p in folder.glob("*") if p.name.isdigit()] if folder.is_dir() else []
    return folder / str(max(taken, default=0) + 1)
