"""Publishing a finished attempt, and finishing one whose supervisor died (SPEC §6.6).

`unpublished()` finds the newest attempt that ran (or started) but was not published
completely; `publish_pending()` recovers a lost supervisor's run (stops its orphaned
agent), decides its outcome if that was not done yet (orch.run.outcome), publishes it
(orch.run.publish: idempotent) and records its cost. `orch task run` calls it after the
agent and for `--publish-only`; the tick's reap phase calls it for dead runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orch import log
from orch.errors import EXIT_FAILED, OrchError, os_reason
from orch.io import proc
from orch.io.faults import fault_point
from orch.io.redact import redactor_for
from orch.run.decision import Decision
from orch.run.outcome import finish_attempt
from orch.run.publish import PublishError, publish
from orch.run.result import RunResult
from orch.run.supervisor import ExitInfo, kill_group, read_exit
from orch.task import budget
from orch.task.attempt import AttemptDir, attempts, read_sidecar, update_sidecar
from orch.task.ops import ensure_labels_cached

if TYPE_CHECKING:
    from orch.deps import Deps
    from orch.project import Project
    from orch.store.base import Store


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

    meta = adir.read(adir.meta) or {}
    number = int(meta["number"])
    config = project.config
    redactor = redactor_for(config)
    try:
        exit_info = read_exit(adir)
        if exit_info is None:
            exit_info = _recover_lost(deps, project, adir)
        if adir.read(adir.result) is None:
            finish_attempt(deps, project, adir, exit_info, lost=exit_info.reason == "lost")
        fault_point("publish")
        published = publish(
            store,
            config,
            adir,
            redactor=redactor,
            ensure_labels=lambda names: ensure_labels_cached(store, names, deps.paths),
            push_env=lambda: deps.push_env(project),
        )
    except (OrchError, OSError) as exc:
        # A full disk or a vanished file is one line too (exit 1), never a traceback; what
        # is done is recorded, so the next try finishes without doing anything twice.
        why = exc.message if isinstance(exc, OrchError) else os_reason(exc)
        raise PublishError(
            f"task #{number}: attempt {meta['attempt']} ran but publishing stopped: "
            f"{redactor(why)}; it is saved in {adir.path} and "
            f"`orch task run --publish-only {number}` (or the next tick) finishes it",
            exit_code=exc.exit_code if isinstance(exc, OrchError) else EXIT_FAILED,
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

    log.setup(deps.paths).info("%s %s", project.repo, redactor(result.line()))
    return result


def _record_cost(deps: Deps, project: Project, adir: AttemptDir, number: int, attempt: int) -> None:
    """Add the attempt's cost to the host's daily ledger (orch.task.budget; a cache)."""

    usage = adir.read(adir.usage) or {}
    try:
        cost = float(usage.get("cost_usd") or 0)
        budget.record(deps.paths, project.repo, number, attempt, cost, deps.clock.now())
    except (OSError, TypeError, ValueError) as exc:
        log.get().warning(
            "%s #%s: cost not added to the daily ledger: %s", project.repo, number, exc
        )


def _recover_lost(deps: Deps, project: Project, adir: AttemptDir) -> ExitInfo:
    """The supervisor died mid-run: stop its orphaned agent, record what is known."""

    meta = adir.read(adir.meta) or {}
    sidecar = read_sidecar(deps.paths, project.repo, int(meta["number"]))
    pid = sidecar.get("agent_pid")
    if isinstance(pid, int) and proc.pid_alive(pid):
        recorded = sidecar.get("agent_start")
        if recorded is None or str(proc.process_start_time(pid)) == str(recorded):
            kill_group(pid, 5.0, deps.clock, lambda: proc.pid_alive(pid))
    info = ExitInfo(
        None, None, False, False, False, 0.0, pid if isinstance(pid, int) else None, reason="lost"
    )
    adir.write(adir.exit, {**info.to_json(), "lost": True})
    return info
