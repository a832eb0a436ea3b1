"""`notify: {command: …}`: one JSON event on the command's stdin (SPEC §4), real processes."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from orch.clock import SystemClock
from orch.integrations import notify
from orch.status import Status
from orch.store.base import Issue
from orch.store.local import LocalStore
from orch.task.history import set_status
from tests.emulator.server import Emulator
from tests.helpers import Repo
from tests.run_helpers import RunProject, claude_envelope, make_run_project, result_obj

REPO = "local/widgets"


def events(path: Path) -> list[dict]:  # type: ignore[type-arg]
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# ---------------------------------------------------------------------------- pure


def test_status_event_only_for_the_statuses_a_human_cares_about() -> None:
    assert notify.status_event("a/b", 3, "T", Status.IN_PROGRESS, Status.IN_REVIEW, "", "u") == {
        "schema": 1,
        "event": "status",
        "repo": "a/b",
        "task": 3,
        "title": "T",
        "from": "in_progress",
        "to": "in_review",
        "reason": "",
        "url": "u",
    }
    for quiet in (Status.NEW, Status.ROUTED, Status.IN_PROGRESS):
        assert notify.status_event("a/b", 3, "T", Status.NEW, quiet) is None
    assert notify.status_event("a/b", 3, "T", Status.DONE, Status.DONE) is None
    assert notify.error_event("a/b", "dispatch", 4, "boom")["event"] == "error"


# ---------------------------------------------------------------------------- the runner


def test_send_writes_the_event_on_stdin_of_a_shell_string_or_argv(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    event = notify.status_event("a/b", 1, "T", Status.IN_PROGRESS, Status.DONE, "ok")
    assert event is not None

    assert notify.send(f"cat >> '{out}'", event) is True
    assert notify.send(
        [sys.executable, "-c", f"import sys; open({str(out)!r}, 'a').write(sys.stdin.read())"],
        event,
    )

    assert events(out) == [event, event]


def test_send_survives_failing_missing_and_hanging_commands(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    event = notify.error_event("a/b", "route", None, "x")
    assert notify.send("echo nope >&2; exit 3", event) is False
    assert notify.send([str(tmp_path / "no-such-program")], event) is False
    started = time.monotonic()
    assert notify.send("sleep 30", event, timeout=0.5) is False
    assert time.monotonic() - started < 5
    text = caplog.text
    assert "exited 3: nope" in text and "cannot run" in text and "within 0.5s" in text


def _issue_store(tmp_path: Path) -> tuple[LocalStore, Issue]:
    store = LocalStore(tmp_path / "local", REPO, SystemClock())
    issue = store.create_issue("Ship it", "b", [Status.IN_PROGRESS.label])
    return store, issue


def test_a_hanging_or_failing_notify_never_breaks_a_status_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notify, "TIMEOUT_SECONDS", 0.5)
    store, issue = _issue_store(tmp_path)
    store.status_hooks.add(notify.status_hook("sleep 30", REPO))
    store.status_hooks.add(notify.status_hook("exit 1", REPO))
    out = tmp_path / "events.jsonl"
    store.status_hooks.add(notify.status_hook(f"cat >> '{out}'", REPO))

    started = time.monotonic()
    updated = set_status(store, issue.number, Status.BLOCKED, trigger="result", reason="waiting")

    assert time.monotonic() - started < 5
    assert Status.BLOCKED.label in updated.labels
    assert Status.BLOCKED.label in store.get_issue(issue.number).labels
    assert [(e["from"], e["to"], e["reason"]) for e in events(out)] == [
        ("in_progress", "blocked", "waiting")
    ]


# ---------------------------------------------------------------------------- end to end


@pytest.fixture
def project(repo: Repo, orch_env: dict[str, str], tmp_path: Path) -> RunProject:
    return make_run_project(repo, orch_env, tmp_path, "--local")


def test_a_run_notifies_in_review_once(project: RunProject, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    project.configure(notify={"command": ["sh", "-c", f"cat >> '{out}'"]})
    added = project.orch("task", "add", "Add a greeting", "--agent", "claude")
    assert added.code == 0, added
    number = int(added.out.strip())
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

    done = project.orch("task", "run", str(number))

    assert done.code == 0, done
    # new -> in_progress is not notified; in_progress -> in_review is, once.
    assert events(out) == [
        {
            "schema": 1,
            "event": "status",
            "repo": REPO,
            "task": number,
            "title": "Add a greeting",
            "from": "in_progress",
            "to": "in_review",
            "reason": "",
            "url": f"local:{REPO}#{number}",
        }
    ]
    assert project.orch("task", "close", str(number)).code == 0
    assert [e["to"] for e in events(out)] == ["in_review", "done"]


def test_tick_errors_are_notified(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator, tmp_path: Path
) -> None:
    from tests.emulator.fixtures import write_orch_config

    out = tmp_path / "events.jsonl"
    write_orch_config(gh_repo.work, emulator, extra={"notify": {"command": f"cat >> '{out}'"}})
    number = int(emulator.add_issue("Go", "x", [Status.ROUTED.label, "agent:claude"])["number"])
    # Every comment write is refused: the dispatch claim fails.
    emulator.server_error(
        None,
        status=422,
        until=time.time() + 3600,
        method="POST",
        path=f"/repos/acme/widgets/issues/{number}/comments",
    )
    from tests.helpers import run_orch

    done = run_orch("tick", cwd=gh_repo.work, env=gh_env)

    assert done.code in (0, 1), done
    errors = [e for e in events(out) if e["event"] == "error"]
    assert errors, (done, events(out))
    assert errors[0]["repo"] == "acme/widgets" and errors[0]["phase"] == "dispatch"
    assert errors[0]["task"] == number and errors[0]["reason"]
