"""The tick engine through the CLI: lock, flags, log, concurrency, kill -9 (local store)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from orch.deps import Deps
from orch.paths import Paths
from orch.status import Status
from orch.task import markers
from orch.tick import engine
from tests.helpers import Repo, into_a_slot, make_repo, run_orch, tick_actions
from tests.run_helpers import wait_for
from tests.tick_helpers import LocalProject, local_project

AGENT = Path(__file__).resolve().parent.parent / "bin" / "orch-demo-agent"


@pytest.fixture
def project(repo: Repo, orch_env: dict[str, str]) -> LocalProject:
    p = local_project(repo, {**orch_env, "ORCH_DEMO_DELAY": "0.2"})
    config = p.repo.work / ".orch.yml"
    config.write_text(
        config.read_text()
        + yaml.safe_dump(
            {
                "router": {"mode": "fixed", "agent": "demo", "fallback_executor": "demo"},
                "agents": {"demo": {"command": [str(AGENT)], "output": "json"}},
            }
        )
    )
    return p


def rows(out: str) -> list[tuple[str, int | None, str]]:
    return [(r["phase"], r["task"], r["action"]) for r in tick_actions(out)]


def kinds(project: LocalProject, number: int) -> list[str]:
    found = []
    for comment in project.comments(number):
        marker = markers.parse(comment.body)
        found.append(marker.kind if marker else f"user:{comment.author}")
    return found


def test_second_tick_while_one_runs_says_so_and_exits_0(project: LocalProject) -> None:
    lock = Path(project.env["ORCH_HOME"]) / "state" / "tick.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)  # `orch init` made it (label cache)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl,sys,time; f=open(sys.argv[1],'a+'); "
            "fcntl.flock(f, fcntl.LOCK_EX); f.write('pid 4242 on elsewhere'); f.flush(); "
            "print('locked', flush=True); time.sleep(30)",
            str(lock),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        done = project.orch("tick")
        as_json = project.orch("tick", "--json")
    finally:
        holder.kill()
        holder.wait()
    assert (done.code, done.out) == (0, "")
    assert done.err == "orch: another tick is running (pid 4242 on elsewhere); nothing to do\n"
    assert as_json.code == 0, as_json
    assert json.loads(as_json.out) == {
        "schema": 1,
        "ran": False,
        "holder": "pid 4242 on elsewhere",
        "actions": [],
    }


def test_dry_run_shows_every_action_and_changes_nothing(project: LocalProject) -> None:
    new = project.add_task("Route me")
    routed = project.add_task("Run me", "agent:demo", status=Status.ROUTED)

    done = project.orch("tick", "--dry-run", "--json")

    assert done.code == 0, done
    assert rows(done.out) == [
        ("route", new, "would route"),
        ("dispatch", routed, "would dispatch"),
    ]
    assert (project.status(new), project.status(routed)) == (Status.NEW, Status.ROUTED)
    assert project.comments(new) == project.comments(routed) == []
    state = Path(project.env["ORCH_HOME"]) / "state"
    # Only the label cache `orch init` wrote: no snapshot cache, no task state.
    repo_dir = state / "repos" / "local" / project.repo.work.name
    assert [p.name for p in (state / "repos").rglob("*")] == ["local", repo_dir.name, "labels.json"]


def test_only_runs_the_named_phases_and_rejects_unknown_ones(project: LocalProject) -> None:
    new = project.add_task("Route me")
    done = project.orch("tick", "--only", "route", "--json")
    assert rows(done.out) == [("route", new, "routed")]
    assert project.status(new) is Status.ROUTED  # and dispatch did not run

    bad = project.orch("tick", "--only", "deploy")
    assert (bad.code, bad.out) == (2, "")
    assert bad.err == (
        "orch: --only deploy: unknown phase; use one of: snapshot, repair, owner, pr, mention, "
        "reap, intake, route, dispatch, review, merge, rejoin, jobs\n"
    )


def test_human_output_log_and_orch_log(project: LocalProject) -> None:
    number = project.add_task("Route me")
    done = project.orch("tick", "--only", "route")
    line = f"local/widgets route #{number} routed: demo (default model, medium): fixed router: demo"
    assert done.out == line + "\n"

    shown = project.orch("log", str(number))
    assert shown.code == 0, shown
    assert [entry.split(" ", 3)[2:] for entry in shown.out.splitlines()] == [["INFO", line]]
    assert project.orch("log", "999").out == ""


def test_repair_gives_a_task_exactly_one_status(project: LocalProject) -> None:
    number = project.add_task("Broken", status=Status.NEW)
    project.store.set_labels(number, ["status:new", "status:needs_review"])
    done = project.orch("tick", "--only", "repair", "--json")
    assert rows(done.out) == [("repair", number, "repaired")]
    assert project.issue(number).labels == ("status:needs_review",)


def test_a_failure_is_reported_and_the_rest_goes_on(project: LocalProject) -> None:
    new = project.add_task("Route me")
    broken = project.add_task("PR vanished", status=Status.IN_REVIEW)
    project.store.create_comment(
        broken, markers.render("agent-response", {"attempt": 1, "pr": 999})
    )
    merged = project.add_task("PR merged", status=Status.IN_REVIEW)
    pr = project.store.create_pr("orch/3-pr-merged", "main", "PR merged", "Closes #3")
    project.store.merge_pr(pr.number)

    done = project.orch("tick", "--json", "--only", "route", "--only", "merge")

    assert done.code == 1, done
    document = json.loads(done.out)  # the whole tick: one JSON document
    assert (document["schema"], document["ran"], document["errors"]) == (1, True, 1)
    assert document["projects"] == ["local/widgets"]
    assert rows(done.out) == [
        ("route", new, "routed"),
        ("merge", broken, "error"),
        ("merge", merged, "marked done"),
        ("merge", merged, "closed"),
    ]
    assert tick_actions(done.out)[1]["detail"] == (
        "pull request #999 not found in local/widgets (local store)"
    )
    assert done.err == "orch: tick finished with 1 error(s); see above and `orch log`\n"
    assert project.status(merged) is Status.DONE
    assert project.issue(merged).state == "closed"


def test_ten_ticks_at_once_dispatch_each_task_once(project: LocalProject) -> None:
    numbers = [project.add_task(f"Task {i}", "agent:demo", status=Status.ROUTED) for i in range(3)]
    env = {**project.env, "ORCH_DEMO_DELAY": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "orch", "tick", "--json", "--wait"],
            cwd=project.repo.work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(10)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 10, outs
    dispatched = [r for out, _ in outs for r in rows(out) if r[2] == "dispatched"]
    assert sorted(r[1] for r in dispatched) == numbers
    skipped = [err for _, err in outs if "another tick is running" in err]
    ran = [json.loads(out)["ran"] for out, _ in outs]
    assert len(skipped) == ran.count(False)
    assert ran.count(True) >= 1
    for number in numbers:
        assert project.status(number) is Status.IN_REVIEW
        assert kinds(project, number) == ["claim", "agent-response"]


def test_claims_keep_two_hosts_from_dispatching_the_same_task(
    project: LocalProject, tmp_path: Path
) -> None:
    numbers = [project.add_task(f"Task {i}", "agent:demo", status=Status.ROUTED) for i in range(2)]
    homes = [tmp_path / "host-a", tmp_path / "host-b"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "orch", "tick", "--json", "--wait"],
            cwd=project.repo.work,
            env={**project.env, "ORCH_HOME": str(home)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for home in homes
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, outs
    dispatched = sorted(r[1] for out, _ in outs for r in rows(out) if r[2] == "dispatched")
    assert dispatched == numbers
    for number in numbers:
        assert kinds(project, number) == ["claim", "agent-response"]
        assert project.status(number) is Status.IN_REVIEW


def test_a_live_claim_from_another_host_is_respected(project: LocalProject) -> None:
    number = project.add_task("Run me", "agent:demo", status=Status.ROUTED)
    project.store.create_comment(
        number,
        markers.render(
            "claim", {"host": "ci-runner-7", "run_id": "ci-1", "until": "2999-01-01T00:00:00Z"}
        ),
    )
    done = project.orch("tick", "--json")
    assert rows(done.out) == [("dispatch", number, "skip")]
    assert project.status(number) is Status.ROUTED


def sidecar(project: LocalProject, number: int) -> dict[str, object]:
    path = Path(project.env["ORCH_HOME"]) / "state" / "repos" / "local" / "widgets" / "tasks"
    file = path / f"{number}.json"
    return json.loads(file.read_text()) if file.exists() else {}


def test_kill_9_of_a_tick_leaves_its_supervisor_to_finish(project: LocalProject) -> None:
    number = project.add_task("Run me", "agent:demo", status=Status.ROUTED)
    env = {**project.env, "ORCH_DEMO_DELAY": "2"}
    tick = subprocess.Popen(
        [sys.executable, "-m", "orch", "tick", "--wait"],
        cwd=project.repo.work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert wait_for(lambda: project.status(number) is Status.IN_PROGRESS, timeout=30)
    tick.send_signal(signal.SIGKILL)
    tick.wait()
    assert wait_for(lambda: project.status(number) is Status.IN_REVIEW, timeout=30)
    for _ in range(2):
        assert project.orch("tick").code == 0
    assert kinds(project, number) == ["claim", "agent-response"]
    assert project.status(number) is Status.IN_REVIEW


def test_kill_9_of_a_supervisor_is_reaped_and_published_once(project: LocalProject) -> None:
    number = project.add_task("Run me", "agent:demo", status=Status.ROUTED)
    env = {**project.env, "ORCH_DEMO_DELAY": "5"}
    assert run_orch("tick", cwd=project.repo.work, env=env).code == 0
    assert wait_for(lambda: bool(sidecar(project, number).get("agent_pid")), timeout=30)
    os.kill(int(sidecar(project, number)["supervisor_pid"]), signal.SIGKILL)  # type: ignore[call-overload]

    reaped = project.orch("tick", "--json")

    assert reaped.code == 0, reaped
    assert reaped.out, (reaped, sidecar(project, number), project.status(number))
    assert rows(reaped.out)[0] == ("reap", number, "published")
    allowed = {Status.ROUTED, Status.NEEDS_REVIEW, Status.IN_REVIEW, Status.IN_PROGRESS}
    for _ in range(2):
        assert project.orch("tick", "--wait").code == 0
    assert project.status(number) in allowed - {Status.IN_PROGRESS}
    responses = [k for k in kinds(project, number) if k == "agent-response"]
    bodies = [c.body for c in project.comments(number)]
    assert len(bodies) == len(set(bodies))
    assert len(responses) >= 1


def test_kill_9_at_random_points_then_more_ticks_settle_every_task(project: LocalProject) -> None:
    import random

    rng = random.Random(20261121)
    numbers = [project.add_task(f"Task {i}", "agent:demo", status=Status.ROUTED) for i in range(3)]
    env = {**project.env, "ORCH_DEMO_DELAY": "0.8"}
    for _ in range(4):
        tick = subprocess.Popen(
            [sys.executable, "-m", "orch", "tick", "--wait"],
            cwd=project.repo.work,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        delay = rng.uniform(0.05, 1.5)
        try:
            tick.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            tick.send_signal(signal.SIGKILL)
            tick.wait()
        victims = [n for n in numbers if sidecar(project, n).get("supervisor_pid")]
        if victims and rng.random() < 0.5:
            pid = sidecar(project, rng.choice(victims)).get("supervisor_pid")
            if isinstance(pid, int):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    settled = {Status.IN_REVIEW, Status.NEEDS_REVIEW, Status.DONE}
    for _ in range(8):
        done = run_orch("tick", "--wait", cwd=project.repo.work, env=env)
        assert done.code in (0, 1), done
        if all(project.status(n) in settled for n in numbers):
            break
    for number in numbers:
        assert project.status(number) in settled, (number, kinds(project, number))
        bodies = [c.body for c in project.comments(number)]
        assert len(bodies) == len(set(bodies)), bodies
        attempts = [
            markers.parse(b).data.get("attempt")
            for b in bodies  # type: ignore[union-attr]
            if (markers.parse(b) or markers.Marker("", {}, "")).kind == "agent-response"
        ]
        assert len(attempts) == len(set(attempts)), attempts


def test_due_jobs_fire_in_the_jobs_phase(project: LocalProject) -> None:
    from datetime import UTC, datetime, timedelta

    created = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    config = project.repo.work / ".orch.yml"
    config.write_text(
        config.read_text()
        + yaml.safe_dump(
            {
                "jobs": [
                    {
                        "id": "touch",
                        "schedule": "*/5 * * * *",
                        "type": "bash",
                        "created_at": created,
                        "command": "echo ran >> job-output.txt",
                    }
                ]
            }
        )
    )

    offset = into_a_slot(5)  # both ticks in one slot, whatever the real clock says
    first = project.orch("tick", "--json", "--only", "jobs", clock_offset=offset)
    second = project.orch("tick", "--json", "--only", "jobs", clock_offset=offset)

    assert first.code == 0, first
    assert [(r[0], r[1]) for r in rows(first.out)] == [("jobs", None)]
    assert rows(second.out) == []  # the slot is taken: nothing fires twice
    assert (project.repo.work / "job-output.txt").read_text() == "ran\n"
    # The job's action is logged once (by the tick), not once more by orch.jobs.runs.
    log = (Path(project.env["ORCH_HOME"]) / "state" / "logs" / "orch.log").read_text()
    assert sum(" jobs " in line and "touch" in line for line in log.splitlines()) == 1, log


def test_the_github_actions_template_runs_tick_wait() -> None:
    path = Path(__file__).resolve().parent.parent / "docs" / "github-actions" / "orch-tick.yml"
    workflow = yaml.safe_load(path.read_text())
    assert set(workflow[True]) == {
        "schedule",
        "issues",
        "issue_comment",
        "pull_request",
        "workflow_dispatch",
    }
    steps = workflow["jobs"]["tick"]["steps"]
    assert steps[-1]["run"].strip().endswith("orch tick --wait")
    # The GitHub App token first, GITHUB_TOKEN as the fallback.
    assert steps[-1]["env"]["GH_TOKEN"] == "${{ steps.app-token.outputs.token || github.token }}"


def test_stop_kills_a_running_agent_and_the_task_needs_review(project: LocalProject) -> None:
    number = project.add_task("Slow", "agent:demo", status=Status.ROUTED)
    env = {**project.env, "ORCH_DEMO_DELAY": "30"}
    assert run_orch("tick", cwd=project.repo.work, env=env).code == 0
    assert wait_for(lambda: bool(sidecar(project, number).get("agent_pid")), timeout=30)
    command = project.say(number, project.store.user, "/stop")

    done = project.orch("tick", "--only", "owner", "--json")

    assert done.code == 0, done
    assert [r[2] for r in rows(done.out)] == ["stopped", "acked /stop"]
    assert project.status(number) is Status.NEEDS_REVIEW
    assert kinds(project, number)[-2:] == ["agent-response", "ack"]
    assert project.markers(number, "ack")[0]["comment_id"] == command.id
    response = project.markers(number, "agent-response")[0]
    assert response["status"] != "done"


def test_a_phase_that_fails_to_import_is_an_error_not_a_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path)
    (repo.work / ".orch.yml").write_text("store: local\n")
    home = tmp_path / "orch-home"
    deps = Deps(
        paths=Paths(config_dir=home, state_dir=home / "state"),
        cwd=repo.work,
    )
    phases = (*engine.PHASES[:1], ("route", "orch.tick.no_such_phase"))
    monkeypatch.setattr(engine, "PHASES", phases)

    report = engine.run_tick(deps, engine.TickOptions())

    assert report.errors == 1
    [action] = report.actions
    assert (action.phase, action.action) == ("route", "error")
    assert "orch.tick.no_such_phase" in action.detail
