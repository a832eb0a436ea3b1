"""What the agent is told for one attempt: the task, its trusted comments, its history.

`attempt_prompts()` gathers the prompt context (issue, branch, attempt, the comments of
people who may steer orch, owner `/context` lines, earlier responses, learnings, review
notes) and renders it with orch.agents.prompt (orch.task.plan for a `plan` task).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orch.agents.prompt import ContextComment, PromptContext, build_prompts
from orch.clock import utc_iso
from orch.errors import OrchError
from orch.task import markers
from orch.task.owner import is_authorized, needs_permission_lookup
from orch.task.plan import build_plan_prompts
from orch.task.verdict import latest_notes

if TYPE_CHECKING:
    from orch.agents.prompt import Prompts
    from orch.project import Project
    from orch.run.worktree import Worktree
    from orch.store.base import Comment, Store
    from orch.task.history import History, Task


def attempt_prompts(
    project: Project,
    store: Store,
    task: Task,
    tree: Worktree,
    comments: list[Comment],
    history: History,
    attempt: int,
    agent: str,
    model: str | None,
    *,
    planning: bool = False,
) -> Prompts:
    """The system prompt and message for one attempt (orch.task.plan's for a `plan` task)."""

    config = project.config
    logins = markers.orch_logins(store.viewer_login(), config.workflow.orch_logins)
    trusted = trusted_comments(store, comments, config.workflow.allowed_users, logins)
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
        comments=[ContextComment(c.author, utc_iso(c.created_at), c.body) for c in plain[-limit:]]
        if limit
        else [],
        owner_context=[c.body.lstrip()[len("/context") :].strip() for c in context_cmds],
        previous=list(history.responses),
        learnings=history.learnings,
        review=latest_notes(history.reviews),
        pr_feedback=list(history.pr_feedback),
    )
    if planning:  # a `plan` task decomposes instead of coding (orch.task.plan)
        return build_plan_prompts(ctx, config.workflow.prompts_dir)
    return build_prompts(ctx, config.workflow.prompts_dir)


def trusted_comments(
    store: Store,
    comments: list[Comment],
    allowed: tuple[str, ...],
    orch_logins: frozenset[str] | None = None,
) -> list[Comment]:
    """Human comments (not orch's own markers) by people who may steer orch (SPEC §7.1, the
    rule orch.task.owner applies to commands); each author's permission is asked at most once.
    `orch_logins`: orch's accounts (default: the login the store writes as)."""

    permissions: dict[str, str | None] = {}
    mine = orch_logins if orch_logins is not None else markers.orch_logins(store.viewer_login())

    def permission(c: Comment) -> str | None:
        if not needs_permission_lookup(c.author, c.author_type, allowed):
            return None
        if c.author not in permissions:
            try:
                permissions[c.author] = store.permission(c.author)
            except OrchError:
                permissions[c.author] = None
        return permissions[c.author]

    return [
        c
        for c in comments
        if markers.orch_marker(c, mine) is None
        and is_authorized(c.author, c.author_type, permission(c), allowed)
    ]
