"""What one tick knows about one project while its phases run (`ProjectTick`).

Built by the engine after the snapshot; every phase reads tasks and comments from here,
records what it does with `act()`, and refreshes the issues it changed so later phases
see the new labels without another read.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from orch import log
from orch.actions import Action
from orch.errors import AuthError, GhMissing, OrchError, RateLimited
from orch.integrations import notify
from orch.status import Status
from orch.store.base import Comment, Issue, Mention, PullRequest, PullThread
from orch.task.history import Task, orch_logins, set_status

if TYPE_CHECKING:
    from orch.deps import Deps
    from orch.project import Project
    from orch.store.base import Store
    from orch.task.history import Task
    from orch.tick.cache import SnapshotCache


@dataclass
class Started:
    """A supervisor this tick started: a run, a task's review or a PR's (for `--wait`)."""

    project: str
    task: int
    process: subprocess.Popen[bytes]
    started_at: float  # Clock.monotonic() when it was started
    kind: str = "run"  # run | review | pr-review (`@orch review` on a PR orch did not open)


@dataclass
class TickShared:
    """Facts shared by the projects of one tick (host-wide counts, started supervisors)."""

    host: str
    run_id: str
    dry_run: bool
    wait: bool
    emit: Callable[[Action], None]
    started: list[Started] = field(default_factory=list)
    dispatched_dry: int = 0  # dispatches a dry run pretended to make


@dataclass
class ProjectTick:
    deps: Deps
    project: Project
    store: Store
    shared: TickShared
    cache: SnapshotCache
    phase: str = "snapshot"
    issues: dict[int, Issue] = field(default_factory=dict)
    comments: dict[int, tuple[Comment, ...]] = field(default_factory=dict)
    changed: set[int] = field(default_factory=set)
    # Closed orch issues updated since the last tick (feedback, /retry on done tasks) and
    # the pull requests of task branches, from the same snapshot request.
    closed: dict[int, Issue] = field(default_factory=dict)
    pulls: tuple[PullRequest, ...] = ()  # task PRs: open ones and recently closed ones
    # Closed tasks still marked in_review/in_progress/routed found by a full read.
    stranded: dict[int, Issue] = field(default_factory=dict)
    # Open task PRs with their reviews and comments, and comments mentioning orch (SPEC §12).
    open_pulls: tuple[PullThread, ...] = ()
    mentions: tuple[Mention, ...] = ()
    snapshot_ok: bool = False
    permissions: dict[str, str] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)
    errors: int = 0
    retry: set[int] = field(default_factory=set)  # tasks to look at again next tick
    auth_failed: bool = False
    # Issues whose status label no maintainer approved yet (SPEC §8): left out of `issues`.
    waiting: dict[int, Issue] = field(default_factory=dict)
    approved: set[int] = field(default_factory=set)
    _orch_logins: frozenset[str] | None = None

    @property
    def repo(self) -> str:
        return self.project.repo

    @property
    def dry_run(self) -> bool:
        return self.shared.dry_run

    def track(self, number: int, process: subprocess.Popen[bytes], kind: str = "run") -> None:
        """Remember a process this tick started (max_parallel, `--wait`), from now."""
        now = self.deps.clock.monotonic()
        self.shared.started.append(Started(self.repo, number, process, now, kind))

    def act(self, action: str, task: int | None = None, detail: str = "") -> Action:
        """Record (and show, and log) one thing this phase did or, in dry run, would do."""
        record = Action(
            project=self.repo, phase=self.phase, action=action, task=task, detail=detail
        )
        self.actions.append(record)
        if action == "error":
            self.errors += 1
            if not self.dry_run and self.project.config.notify.configured:
                notify.send_all(
                    self.project.config.notify,
                    notify.error_event(self.repo, self.phase, task, detail),
                    cwd=self.project.root,
                )
        self.shared.emit(record)
        return record

    def would(self, action: str) -> str:
        """The verb shown for an action: "would route" in a dry run, else "routed"."""
        return f"would {action}" if self.dry_run else _past(action)

    # -- tasks ---------------------------------------------------------------------------

    def tasks(self, *statuses: Status) -> list[Task]:
        """Tasks in the given statuses (all tasks when none given), oldest first."""

        found = [Task.from_issue(i) for i in self.issues.values()]
        if statuses:
            found = [t for t in found if t.status in statuses]
        return sorted(found, key=lambda t: (t.issue.created_at, t.number))

    def move(
        self,
        task: Task,
        to: Status,
        *,
        action: str,
        trigger: str,
        reason: str,
        detail: str | None = None,
        note: bool = True,
        comments: Iterable[Comment] | None = None,
    ) -> Issue:
        """One status move in this tick: show it (`action`, "would …" in a dry run, with
        `detail` or the reason), set the status through set_status (the transition table,
        the status hooks, the note) and keep the tick's view of the issue current."""
        self.act(self.would(action), task.number, reason if detail is None else detail)
        updated = set_status(
            self.store,
            task.number,
            to,
            trigger=trigger,
            reason=reason,
            note=note,
            issue=task.issue,
            comments=None if comments is None else tuple(comments),
        )
        self.refresh(updated)
        return updated

    def refresh(self, issue: Issue) -> None:
        """Remember an issue a phase just changed (closed issues leave the open set)."""
        if issue.state == "open":
            self.issues[issue.number] = issue
            self.closed.pop(issue.number, None)
        else:
            self.issues.pop(issue.number, None)
            if issue.number in self.closed:
                self.closed[issue.number] = issue

    def comments_for(self, number: int) -> tuple[Comment, ...]:
        """The task's recent comments: from the snapshot when it carried them, else read."""
        if number not in self.comments:
            self.comments[number] = tuple(self.store.list_comments(number))
        return self.comments[number]

    def forget_comments(self, number: int) -> None:
        self.comments.pop(number, None)

    @property
    def orch_logins(self) -> frozenset[str]:
        """orch's own logins (markers by anyone else are plain text): free after the snapshot."""
        if self._orch_logins is None:
            self._orch_logins = orch_logins(self.store, self.project.config.workflow.orch_logins)
        return self._orch_logins

    def permission(self, login: str) -> str:
        """The author's permission on the repository, asked once per tick."""
        key = login.lower()
        if key not in self.permissions:
            self.permissions[key] = self.store.permission(login)
        return self.permissions[key]

    def each(self, items: Iterable[Task], work: Callable[[Task], None]) -> None:
        """Run `work` per task; an error on one task is recorded and the others go on."""

        for task in items:
            try:
                work(task)
            except RateLimited:
                raise
            except Exception as exc:  # isolation: one task never stops the phase
                log_exception(self, exc, task.number)


def log_exception(ctx: ProjectTick, exc: BaseException, task: int | None) -> None:

    # Whatever failed is looked at again next tick, even if its issue does not change.
    ctx.retry |= {task} if task is not None else set(ctx.changed)
    if isinstance(exc, AuthError | GhMissing):
        ctx.auth_failed = True
    if isinstance(exc, OrchError):
        detail = exc.message
        log.get().warning("%s %s #%s: %s", ctx.repo, ctx.phase, task, detail)
    else:
        detail = f"{type(exc).__name__}: {exc}"
        log.get().exception("%s %s #%s: internal error", ctx.repo, ctx.phase, task)
    ctx.act("error", task, detail)


_PAST = {
    "route": "routed",
    "dispatch": "dispatched",
    "repair": "repaired",
    "close": "closed",
    "publish": "published",
    "requeue": "requeued",
    "stop": "stopped",
    "intake": "taken in",
    "rejoin": "rejoined",
    "ack": "acked",
    "mark done": "marked done",
    "mark needs_review": "marked needs_review",
    "clean up": "cleaned up",
    "kill": "killed",
}


def _past(action: str) -> str:
    verb, _, rest = action.partition(" ")
    if action in _PAST:
        return _PAST[action]
    if verb in _PAST:
        return f"{_PAST[verb]} {rest}".strip()
    return action
