"""`orch tick`: the tick lock and the phases of SPEC §5, run per project with isolation.

A tick takes a non-blocking lock on `<state>/tick.lock` (a second tick on the host says so
and leaves with exit 0), then walks every registered project (the current one when none
are registered) through the phases in order. A failure in one phase or one project is
recorded as an `error` action, logged with its cause, and the tick goes on. A registered
project whose configuration does not load is skipped with one `config` error action
naming the file, key and valid values, and counted apart (`orch tick` exits 2 for it
after ticking the others). Only a rate limit in `skip` mode ends the tick early (exit 75).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orch import log
from orch.actions import Action
from orch.errors import AuthError, ConfigError, GhMissing, OrchError, RateLimited, UsageError
from orch.output import Console
from orch.project import find_root, load_project
from orch.store.dryrun import DryRunStore
from orch.task.history import Task
from orch.tick.cache import SnapshotCache
from orch.tick.context import ProjectTick, TickShared, log_exception
from orch.tick.waiting import HEARTBEAT_SECONDS, Ended, WaitEvent, ended, wait_for

if TYPE_CHECKING:
    from orch.deps import Deps
    from orch.project import Project

# (name, module with `run(ctx)`), in SPEC §5 order.
PHASES: tuple[tuple[str, str], ...] = (
    ("snapshot", "orch.tick.snapshot"),
    ("repair", "orch.tick.repair"),
    ("owner", "orch.tick.owner_phase"),
    ("pr", "orch.tick.pr_feedback"),
    ("mention", "orch.tick.mentions"),
    ("reap", "orch.tick.reap"),
    ("intake", "orch.tick.intake"),
    ("route", "orch.tick.route_phase"),
    ("dispatch", "orch.tick.dispatch"),
    ("review", "orch.tick.review_phase"),
    ("merge", "orch.tick.merge"),
    ("rejoin", "orch.tick.rejoin"),
    ("jobs", "orch.tick.jobs_phase"),
)
PHASE_NAMES = tuple(name for name, _ in PHASES)


@dataclass(frozen=True)
class TickOptions:
    dry_run: bool = False
    wait: bool = False
    only: tuple[str, ...] = ()
    wait_timeout: float | None = None
    wait_heartbeat: float = HEARTBEAT_SECONDS  # a `waiting` event at least this often

    def __post_init__(self) -> None:
        unknown = [p for p in self.only if p not in PHASE_NAMES]
        if unknown:
            raise UsageError(
                f"--only {unknown[0]}: unknown phase; use one of: {', '.join(PHASE_NAMES)}"
            )


@dataclass
class TickReport:
    ran: bool  # False when another tick held the lock
    actions: list[Action] = field(default_factory=list)
    errors: int = 0
    projects: list[str] = field(default_factory=list)
    holder: str = ""  # who holds the lock when ran is False
    auth_failed: bool = False  # GitHub refused us (or gh is missing) somewhere
    config_errors: int = 0  # registered projects skipped: their configuration is invalid
    waited: list[tuple[str, int, int | None]] = field(default_factory=list)  # (repo, task, code)
    ended: list[Ended] = field(default_factory=list)  # how the tasks it waited for ended

    def to_json(self) -> dict[str, Any]:
        """`orch tick --json`: the whole pass as one document."""
        if not self.ran:
            return {"ran": False, "holder": self.holder, "actions": []}
        data: dict[str, Any] = {
            "ran": True,
            "projects": self.projects,
            "actions": [action.to_json() for action in self.actions],
            "errors": self.errors,
            "config_errors": self.config_errors,
        }
        if self.waited:
            data["ended"] = [end.to_json() for end in self.ended]
        return data


class TickLockHeld(Exception):
    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


@contextlib.contextmanager
def tick_lock(path: Path) -> Iterator[None]:
    """Hold `<state>/tick.lock` for the block, or raise TickLockHeld at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise TickLockHeld(handle.read().strip()) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock, even after kill -9 of the holder


def run_tick(
    deps: Deps,
    options: TickOptions,
    on_action: Callable[[Action], None] | None = None,
    on_wait: Callable[[WaitEvent], None] | None = None,
) -> TickReport:
    """One pass over every registered project. Never prints; `on_action` sees each action,
    `on_wait` each event while --wait waits for the supervisors it started."""

    logger = log.setup(deps.paths)
    report = TickReport(ran=True)

    def emit(action: Action) -> None:
        report.actions.append(action)
        logger.info("%s%s", "dry-run " if options.dry_run else "", action.line())
        if on_action is not None:
            on_action(action)

    host = socket.gethostname()
    shared = TickShared(
        host=host,
        run_id=f"{host}-{os.getpid()}-{secrets.token_hex(3)}",
        dry_run=options.dry_run,
        wait=options.wait,
        emit=emit,
    )
    try:
        with tick_lock(deps.paths.tick_lock):
            logger.info("tick %s started%s", shared.run_id, " (dry run)" if options.dry_run else "")
            projects, report.config_errors = _projects(deps, emit)
            for project in projects:
                report.projects.append(project.repo)
                errors, auth_failed = _isolated(deps, project, shared, options, emit)
                report.errors += errors
                report.auth_failed = report.auth_failed or auth_failed
            logger.info(
                "tick %s finished: %d actions, %d errors",
                shared.run_id,
                len(report.actions),
                report.errors,
            )
    except TickLockHeld as held:
        logger.info("tick skipped: another tick holds the lock (%s)", held.holder or "unknown")
        return TickReport(ran=False, holder=held.holder)
    if options.wait and shared.started:
        report.waited = wait_for(
            shared.started,
            deps.clock,
            on_wait or (lambda event: None),
            heartbeat=options.wait_heartbeat,
            timeout=options.wait_timeout,
        )
        kinds = {(s.project, s.task): s.kind for s in shared.started}
        report.ended = ended(deps.paths, report.waited, kinds)
    return report


def _projects(deps: Deps, emit: Callable[[Action], None]) -> tuple[list[Project], int]:
    """The registered projects (global `projects:`), else the current checkout's; and how
    many registered ones were skipped because their configuration is invalid."""

    registered = deps.global_config().projects
    if not registered or deps.project_spec:
        return [deps.project()], 0
    found: list[Project] = []
    broken = 0
    for entry in registered:
        root = find_root(Path(entry))
        try:
            if root is None:
                raise ConfigError(
                    f"{deps.global_file}: projects: {entry} is not a git repository; "
                    f"fix the path or run `orch project remove {entry}`"
                )
            found.append(load_project(root, deps.global_file))
        except OrchError as exc:
            invalid = isinstance(exc, ConfigError)
            broken += invalid
            log.get().warning("%s: %s", entry, exc.message)
            phase = "config" if invalid else "snapshot"
            emit(Action(project=entry, phase=phase, action="error", detail=exc.message))
    return found, broken


def _isolated(
    deps: Deps,
    project: Project,
    shared: TickShared,
    options: TickOptions,
    emit: Callable[[Action], None],
) -> tuple[int, bool]:
    """One project's tick; a failure outside its phases (its store) is recorded too."""

    try:
        return _tick_project(deps, project, shared, options)
    except RateLimited:
        raise
    except Exception as exc:
        if isinstance(exc, OrchError):
            detail = exc.message
            log.get().warning("%s: %s", project.repo, detail)
        else:
            detail = f"{type(exc).__name__}: {exc}"
            log.get().exception("%s: internal error", project.repo)
        emit(Action(project=project.repo, phase="snapshot", action="error", detail=detail))
        return 1, isinstance(exc, AuthError | GhMissing)


def _tick_project(
    deps: Deps, project: Project, shared: TickShared, options: TickOptions
) -> tuple[int, bool]:
    """Run the phases for one project; return (errors recorded, authentication failed)."""

    store = deps.store(project)
    if options.dry_run:
        store = DryRunStore(store, _StderrConsole())
    cache = SnapshotCache.load(deps.paths.repo_dir(project.repo) / "snapshot.json")
    ctx = ProjectTick(deps=deps, project=project, store=store, shared=shared, cache=cache)
    for name, module in PHASES:
        if options.only and name not in options.only and name != "snapshot":
            continue
        if name != "snapshot" and not ctx.snapshot_ok:
            break  # nothing to work on without the snapshot (its error is recorded)
        ctx.phase = name
        try:
            import_module(module).run(ctx)
        except RateLimited:
            raise
        except Exception as exc:  # isolation: one phase never stops the others
            log_exception(ctx, exc, None)
    if ctx.snapshot_ok and not options.dry_run:
        statuses = {
            n: (t.status.value if t.status else None)
            for n, t in ((n, Task.from_issue(i)) for n, i in ctx.issues.items())
        }
        cache.update(ctx.issues, statuses, ctx.retry, ctx.closed, ctx.waiting)
        try:
            cache.save()
        except OSError as exc:
            ctx.phase = "snapshot"
            ctx.act("error", None, f"cannot save the snapshot cache: {exc.strerror}")
    return ctx.errors, ctx.auth_failed


class _StderrConsole(Console):
    """Dry-run writes go to stderr, so `tick --json --dry-run` keeps stdout pure JSON."""

    def out(self, line: str = "") -> None:
        sys.stderr.write(line + "\n")
