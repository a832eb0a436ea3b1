"""An attempt starts only when it can (SPEC §12, issue #10 items 5 and 6): an agent that
is not configured or not installed is never dispatched, a detached supervisor that cannot
start says so on the task once, and an OS error while preparing an attempt (a path that
is a file, a full disk) is one line and exit 1, with the task left `routed`, never
`in_progress`. Local store, real git, the real CLI, strict fake agents."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from orch.clock import SystemClock, parse_iso, utc_iso
from orch.status import Status
from orch.store.local import LocalStore
from orch.task import markers
from tests.helpers import Repo
from tests.run_helpers import RunProject, claude_envelope, make_run_project, result_obj

REPO = "local/widgets"


@pytest.fixture
def project(repo: Repo, orch_env: dict[str, str], tmp_path: Path) -> RunProject:
    return make_run_project(repo, orch_env, tmp_path, "--local")


def store(project: RunProject) -> LocalStore:
    return LocalStore(project.repo.work / ".orch" / "local", REPO, SystemClock())


def routed_task(project: RunProject, title: str, agent: str) -> int:
    labels = [Status.ROUTED.label, f"agent:{agent}", "complexity:simple"]
    return store(project).create_issue(title, "Please add hello.txt.", labels).number


def kinds(project: RunProject, number: int) -> list[str]:
    found = [markers.parse(c.body) for c in store(project).list_comments(number)]
    return [m.kind for m in found if m is not None]


def notes(project: RunProject, number: int) -> list[markers.Marker]:
    found = [markers.parse(c.body) for c in store(project).list_comments(number)]
    return [m for m in found if m is not None and m.kind == "status"]


def age_note(project: RunProject, number: int, minutes: int) -> None:
    """Move the task's setup-failure note back in time (the clock seam of a subprocess)."""
    path = project.repo.work / ".orch" / "local" / "issues" / f"{number}.json"
    data = json.loads(path.read_text())
    for comment in data["comments"]:
        marker = markers.parse(comment["body"])
        if marker is not None and marker.data.get("setup_failed"):
            when = parse_iso(comment["created_at"]) - timedelta(minutes=minutes)
            comment["created_at"] = utc_iso(when)
    path.write_text(json.dumps(data))


def labels(project: RunProject, number: int) -> list[str]:
    return sorted(store(project).get_issue(number).labels)


# --- item 5: unknown or missing agents are never dispatched -----------------------------


def test_unknown_agent_goes_to_needs_review_once_and_is_never_claimed(project: RunProject) -> None:
    number = routed_task(project, "Ghost agent", "nosuchagent")

    ticks = [project.orch("tick") for _ in range(3)]

    assert [t.code for t in ticks] == [0, 0, 0], ticks
    assert ticks[0].out == (
        f"{REPO} dispatch #{number} marked needs_review: agent 'nosuchagent' is not configured "
        "(configured agents: claude, codex, opencode); use `/assign AGENT` or fix the agent: label\n"
    )
    assert [t.out for t in ticks[1:]] == ["", ""]
    assert labels(project, number) == [
        "agent:nosuchagent",
        "complexity:simple",
        Status.NEEDS_REVIEW.label,
    ]
    assert kinds(project, number) == ["status"]  # exactly one note, no claim ever
    (note,) = notes(project, number)
    assert note.data["reason"] == (
        "agent 'nosuchagent' is not configured (configured agents: claude, codex, opencode); "
        "use `/assign AGENT` or fix the agent: label"
    )
    assert project.calls() == []


def test_an_agent_not_installed_here_is_never_dispatched(project: RunProject) -> None:
    project.configure(agents={"ghost": {"command": "ghost-cli-not-installed", "like": "claude"}})
    number = routed_task(project, "Ghost CLI", "ghost")

    first = project.orch("tick")
    second = project.orch("tick")

    assert (first.code, second.code, second.out) == (0, 0, ""), (first, second)
    assert first.out == (
        f"{REPO} dispatch #{number} marked needs_review: agent 'ghost' is not installed on this "
        "host (ghost-cli-not-installed not found on PATH); install it or use `/assign AGENT` to "
        "pick another\n"
    )
    assert kinds(project, number) == ["status"]
    assert Status.NEEDS_REVIEW.label in labels(project, number)


def test_a_supervisor_that_cannot_start_its_agent_ends_in_needs_review(project: RunProject) -> None:
    """What a supervisor started before a config change meets: a usage error, recorded."""
    number = routed_task(project, "Changed config", "claude")

    done = project.orch("task", "run", str(number), "--agent", "nosuchagent", "--supervisor")

    assert done.code == 0, done
    assert done.out == (
        f"#{number} needs_review status:needs_review: agent 'nosuchagent' is not configured "
        "(configured agents: claude, codex, opencode); use `/assign AGENT` or fix the agent: label\n"
    )
    assert labels(project, number) == [
        "agent:claude",
        "complexity:simple",
        Status.NEEDS_REVIEW.label,
    ]
    assert kinds(project, number) == ["status"]


def test_in_a_terminal_an_unknown_agent_changes_nothing(project: RunProject) -> None:
    number = routed_task(project, "Typo", "claude")

    done = project.orch("task", "run", str(number), "--agent", "nosuchagent")

    assert (done.code, done.out) == (2, ""), done
    assert done.err == (
        "orch: agent 'nosuchagent' is not configured (configured agents: claude, codex, "
        "opencode); use `/assign AGENT` or fix the agent: label\n"
    )
    assert labels(project, number) == ["agent:claude", "complexity:simple", Status.ROUTED.label]
    assert kinds(project, number) == []


# --- item 6: OS errors while preparing an attempt ---------------------------------------


def test_a_file_where_the_attempts_folder_belongs_is_one_line_and_exit_1(
    project: RunProject,
) -> None:
    number = routed_task(project, "Blocked folder", "claude")
    project.scenario({"claude": {"steps": [{"exit": 99}]}})
    task_dir = project.task_dir(REPO, number)
    task_dir.mkdir(parents=True)
    (task_dir / "attempts").write_text("a file where a folder should be")

    done = project.orch("task", "run", str(number))

    assert (done.code, done.out) == (1, ""), done
    assert done.err == (
        f"orch: task #{number}: cannot prepare attempt 1 on this host: Not a directory: "
        f"{task_dir / 'attempts' / '1'}; the task was not started\n"
    )
    assert labels(project, number) == ["agent:claude", "complexity:simple", Status.ROUTED.label]
    assert kinds(project, number) == []  # in a terminal the error line is the whole story
    assert project.calls() == []


def test_a_file_where_the_worktrees_folder_belongs_leaves_the_task_routed(
    project: RunProject,
) -> None:
    number = routed_task(project, "No tree", "claude")
    project.scenario({"claude": {"steps": [{"exit": 99}]}})
    (project.state / "worktrees" / "local").mkdir(parents=True)
    (project.state / "worktrees" / REPO).write_text("a file where a folder should be")

    done = project.orch("task", "run", str(number), "--supervisor")

    assert (done.code, done.out) == (1, ""), done
    (line,) = done.err.splitlines()
    assert line.startswith(f"orch: task #{number}: cannot prepare attempt 1 on this host: ")
    assert "Traceback" not in done.err
    assert labels(project, number) == ["agent:claude", "complexity:simple", Status.ROUTED.label]
    (note,) = notes(project, number)
    assert note.data["setup_failed"] is True and note.data["to"] == "routed"
    assert note.data["reason"] == line.removeprefix(f"orch: task #{number}: ").removesuffix(
        "; the task was not started"
    )
    assert project.calls() == []


def test_disk_full_while_writing_the_prompt(project: RunProject) -> None:
    """ENOSPC cannot be made on demand without a mount: ORCH_TEST_FAULT (orch.io.faults)
    raises the real OSError at the prompt write."""
    number = routed_task(project, "Full disk", "claude")
    project.scenario({"claude": {"steps": [{"exit": 99}]}})
    project.env["ORCH_TEST_FAULT"] = "prompt:ENOSPC"

    ticked = project.orch("tick", "--wait")

    assert ticked.code == 0, ticked
    assert ticked.err == (
        f"orch: waiting for {REPO}#{number} (0s)\n"
        f"orch: {REPO}#{number}: supervisor exited 1\n"
        f"orch: {REPO}#{number}: unknown (no result recorded; see `orch task logs`); "
        "supervisor exit 1\n"
    )
    log = (project.task_dir(REPO, number) / "supervisor.log").read_text()
    assert log == (
        f"orch: task #{number}: cannot prepare attempt 1 on this host: No space left on device: "
        "<ORCH_TEST_FAULT prompt>; the task was not started\n"
    )
    assert labels(project, number) == ["agent:claude", "complexity:simple", Status.ROUTED.label]
    assert kinds(project, number) == ["claim", "status"]
    (note,) = notes(project, number)
    assert note.data["reason"] == (
        "cannot prepare attempt 1 on this host: No space left on device: <ORCH_TEST_FAULT prompt>"
    )
    # Nothing half-made is left for reap or --publish-only to take for a run.
    assert not (project.task_dir(REPO, number) / "attempts" / "1").exists()
    assert project.calls() == []

    # The next tick waits (a note per try, not per tick) and changes nothing.
    waiting = project.orch("tick")
    assert (waiting.code, waiting.out, waiting.err) == (0, "", ""), waiting
    assert kinds(project, number) == ["claim", "status"]

    # Five minutes later (the note moved back in time) and with room on the disk again,
    # the next tick runs it.
    age_note(project, number, minutes=6)
    project.env.pop("ORCH_TEST_FAULT")
    project.scenario(
        {
            "claude": {
                "steps": [
                    {"write": "hello.txt", "text": "hello\n"},
                    {"stdout": claude_envelope(result_obj())},
                ]
            }
        }
    )
    again = project.orch("tick", "--wait")
    assert again.code == 0, again
    assert Status.IN_REVIEW.label in labels(project, number)


def test_disk_full_while_publishing_is_one_line_and_publish_only_finishes(
    project: RunProject,
) -> None:
    number = routed_task(project, "Full at the end", "claude")
    project.scenario(
        {
            "claude": {
                "steps": [
                    {"write": "hello.txt", "text": "hello\n"},
                    {"stdout": claude_envelope(result_obj())},
                ]
            }
        }
    )
    project.env["ORCH_TEST_FAULT"] = "publish:ENOSPC"

    done = project.orch("task", "run", str(number))

    assert (done.code, done.out) == (1, ""), done
    (line,) = done.err.splitlines()
    assert line.startswith(
        f"orch: task #{number}: attempt 1 ran but publishing stopped: No space left on device: "
    )
    project.env.pop("ORCH_TEST_FAULT")
    finished = project.orch("task", "run", "--publish-only", str(number))
    assert finished.code == 0, finished
    assert Status.IN_REVIEW.label in labels(project, number)


def test_a_tick_that_cannot_make_the_supervisor_log_claims_nothing(project: RunProject) -> None:
    number = routed_task(project, "No log", "claude")
    project.scenario({"claude": {"steps": [{"exit": 99}]}})
    task_dir = project.task_dir(REPO, number)
    task_dir.parent.mkdir(parents=True)
    task_dir.write_text("a file where the task's folder should be")

    ticked = project.orch("tick")

    assert ticked.code == 1, ticked
    assert ticked.out == (
        f"{REPO} dispatch #{number} error: cannot start a supervisor here: File exists: {task_dir}\n"
    )
    assert ticked.err == "orch: tick finished with 1 error(s); see above and `orch log`\n"
    assert kinds(project, number) == []  # no claim left behind for the next tick to trip on
    assert labels(project, number) == ["agent:claude", "complexity:simple", Status.ROUTED.label]


def test_a_lock_folder_that_is_a_file_is_one_line(project: RunProject) -> None:
    number = routed_task(project, "No locks", "claude")
    locks = project.state / "locks"
    locks.parent.mkdir(parents=True, exist_ok=True)
    locks.write_text("a file where the locks folder should be")

    done = project.orch("task", "run", str(number))

    assert (done.code, done.out) == (1, ""), done
    assert done.err == (
        f"orch: task #{number}: cannot take its lock {locks / 'local__widgets__1.lock'}: "
        "File exists\n"
    )
    assert labels(project, number) == ["agent:claude", "complexity:simple", Status.ROUTED.label]
