"""`orch task live --watch` refreshes until no task runs (issue #14 item 6)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from orch.clock import utc_iso
from orch.io import proc
from orch.paths import Paths
from orch.task.attempt import update_sidecar
from tests.helpers import Repo, run_orch


def test_watch_in_a_pipe_shows_changes_and_ends_when_nothing_runs(
    repo: Repo, orch_env: dict[str, str]
) -> None:
    home = Path(orch_env["ORCH_HOME"])
    paths = Paths(config_dir=home, state_dir=home / "state")
    # A stand-in supervisor: alive until its stdin closes.
    supervisor = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    update_sidecar(
        paths,
        "acme/widgets",
        7,
        supervisor_pid=supervisor.pid,
        supervisor_start=proc.process_start_time(supervisor.pid),
        agent="claude",
        model="sonnet",
        attempt=1,
        started_at=utc_iso(datetime.now(UTC)),
    )
    watcher = subprocess.Popen(
        [sys.executable, "-m", "orch", "task", "live", "--watch", "--interval", "0.2"],
        cwd=repo.work,
        env=orch_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout is not None
        first = watcher.stdout.readline()
        assert first.startswith("acme/widgets#7\tclaude\tsonnet\tattempt 1\t"), first
        assert first.rstrip("\n").endswith(f"\tpid {supervisor.pid}")
        assert supervisor.stdin is not None
        supervisor.stdin.close()
        supervisor.wait(timeout=30)
        rest, err = watcher.communicate(timeout=60)
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 0
    assert rest == ""
    assert err == "1 task(s) running\nno task is running on this host\n"


def test_watch_refuses_json(repo: Repo, orch_env: dict[str, str]) -> None:
    done = run_orch("task", "live", "--watch", "--json", cwd=repo.work, env=orch_env)
    assert (done.code, done.err) == (2, "orch: --watch refreshes a table; use --json without it\n")
