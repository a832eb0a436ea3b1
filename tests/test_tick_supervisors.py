"""One rule for "is this supervisor alive" (pid, start time, not a zombie) and safe
sidecar updates from several processes at once."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import time
from pathlib import Path

from orch.io import proc
from orch.io.locks import TaskLock
from orch.paths import Paths
from orch.run.view import agent_alive, supervisor_alive
from orch.task.attempt import read_sidecar, record_process, update_sidecar
from orch.tick.supervisors import at_work
from tests.helpers import Repo, run_orch

REPO = "local/widgets"


def _zombie() -> subprocess.Popen[bytes]:
    """A child that exited and that this process does not reap (yet)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    stat = Path(f"/proc/{child.pid}/stat")
    deadline = time.monotonic() + 10
    while stat.read_text().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return child


def test_a_zombie_supervisor_is_dead_everywhere(repo: Repo, orch_env: dict[str, str]) -> None:
    assert run_orch("init", "--local", cwd=repo.work, env=orch_env).code == 0
    paths = Paths(
        config_dir=Path(orch_env["ORCH_HOME"]), state_dir=Path(orch_env["ORCH_HOME"]) / "state"
    )
    zombie = _zombie()
    try:
        start = proc.process_start_time(zombie.pid)
        fields = {"supervisor_pid": zombie.pid, "supervisor_start": start}
        update_sidecar(paths, REPO, 7, **fields)
        assert not supervisor_alive(fields)
        assert not agent_alive({"agent_pid": zombie.pid, "agent_start": start})

        live = run_orch("task", "live", "--json", cwd=repo.work, env=orch_env)
        assert live.code == 0, live
        assert json.loads(live.out)["live"] == []
    finally:
        zombie.wait()
    me = {
        "supervisor_pid": proc.os.getpid(),
        "supervisor_start": proc.process_start_time(proc.os.getpid()),
    }
    assert supervisor_alive(me)
    assert not supervisor_alive({**me, "supervisor_start": "1"})  # a reused pid


def _writer(state: str, key: str, rounds: int) -> None:
    paths = Paths(config_dir=Path(state), state_dir=Path(state))
    for n in range(rounds):
        update_sidecar(paths, REPO, 1, **{key: n})


def test_concurrent_sidecar_updates_lose_nothing(tmp_path: Path) -> None:
    keys = [f"field{i}" for i in range(4)]
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_writer, args=(str(tmp_path), k, 60)) for k in keys]
    for w in writers:
        w.start()
    for w in writers:
        w.join(60)
        assert w.exitcode == 0
    data = read_sidecar(Paths(config_dir=tmp_path, state_dir=tmp_path), REPO, 1)
    assert {k: data.get(k) for k in keys} == dict.fromkeys(keys, 59)


def test_kill_during_setup_reaches_the_attempt_that_starts(tmp_path: Path) -> None:
    """`/stop` right after dispatch: the sidecar names the previous attempt (or none) until
    the supervisor records the new one; the stop request must reach the new attempt, not
    interrupt the supervisor (which would publish "the supervisor was interrupted")."""
    from orch.clock import SystemClock
    from orch.run.view import kill

    paths = Paths(config_dir=tmp_path, state_dir=tmp_path / "state")
    old_dir = tmp_path / "attempts" / "1"
    new_dir = tmp_path / "attempts" / "2"
    old_dir.mkdir(parents=True)
    new_dir.mkdir(parents=True)
    supervisor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    agent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        update_sidecar(
            paths,
            REPO,
            3,
            supervisor_pid=supervisor.pid,
            supervisor_start=proc.process_start_time(supervisor.pid),
            attempt_dir=str(old_dir),
        )

        class AgentStartsWhileKillWaits(SystemClock):
            """The supervisor records the new attempt while `kill` waits: on its first pause."""

            started = False

            def sleep(self, seconds: float) -> None:
                if not self.started:
                    self.started = True
                    update_sidecar(
                        paths,
                        REPO,
                        3,
                        attempt_dir=str(new_dir),
                        agent_pid=agent.pid,
                        agent_start=proc.process_start_time(agent.pid),
                    )

        kill(paths, AgentStartsWhileKillWaits(), REPO, 3, wait_s=5)

        assert json.loads((new_dir / "stop.json").read_text())["reason"] == "stopped by owner"
        assert not (old_dir / "stop.json").exists()
        assert supervisor.poll() is None  # asked, not signalled
    finally:
        supervisor.kill()
        agent.kill()
        supervisor.wait()
        agent.wait()


def test_a_task_is_at_work_from_its_start_not_from_its_lock(tmp_path: Path) -> None:
    """A detached run or review is recorded by the tick that starts it, before the child
    takes the task's lock: the review and mention phases must see it at once."""
    paths = Paths(config_dir=tmp_path, state_dir=tmp_path / "state")
    assert not at_work(paths, "acme/widgets", 5)

    child = subprocess.Popen(["sleep", "30"])
    try:
        record_process(paths, "acme/widgets", 5, "supervisor", child.pid)
        assert at_work(paths, "acme/widgets", 5)  # started, no lock taken yet
    finally:
        child.kill()
        child.wait()
    assert not at_work(paths, "acme/widgets", 5)  # its record outlived it: not at work

    with TaskLock(paths, "acme/widgets", 5):  # a run by hand: the lock alone
        assert at_work(paths, "acme/widgets", 5)
