"""The Projects V2 board: `orch project board …` and status changes moving board items,
with the real gh against the emulator (SPEC §3, §4 gh.project_*, §6.5 step 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from orch.integrations.board import resolve_map
from orch.io.yamledit import set_nested
from orch.status import Status
from tests.emulator.server import Emulator
from tests.helpers import Repo, Result, run_orch
from tests.run_helpers import RunProject, claude_envelope, make_run_project, result_obj


def orch(repo: Repo, env: dict[str, str], *args: str) -> Result:
    return run_orch(*args, cwd=repo.work, env=env)


def config_of(repo: Repo) -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((repo.work / ".orch.yml").read_text())


def statuses(emulator: Emulator, board: dict) -> dict[int, str | None]:  # type: ignore[type-arg]
    return {i["number"]: i["status"] for i in emulator.project_items(board["id"])}


def link(repo: Repo, env: dict[str, str], board: dict) -> None:  # type: ignore[type-arg]
    done = orch(repo, env, "project", "board", "link", board["id"])
    assert done.code == 0, done


# ---------------------------------------------------------------------------- pure parts


def test_resolve_map_prefers_configured_ids_then_names_then_defaults() -> None:
    options = [("o1", "Todo"), ("o2", "Doing"), ("o3", "Waiting"), ("o4", "Done")]
    assert resolve_map(options, {"in_progress": "Doing", "review": ["Review", "waiting"]}, {}) == {
        "backlog": "o1",
        "in_progress": "o2",
        "review": "o3",
        "done": "o4",
    }
    # A configured id wins; an id the board does not have falls back to the names.
    assert resolve_map(options, {}, {"done": "o1", "backlog": "gone"}) == {
        "backlog": "o1",
        "in_progress": "o2",
        "done": "o1",
    }


def test_set_nested_keeps_the_rest_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / ".orch.yml"
    path.write_text(
        "# my settings\nstore: github\ngh:\n  repo: acme/widgets\n  host: example.com\n"
        "workflow:\n  max_attempts: 3  # keep\n"
    )

    set_nested(path, ("gh", "project_id"), "PVT_1")
    set_nested(path, ("gh", "project_status_map"), {"done": "o4"})

    text = path.read_text()
    assert text.startswith("# my settings\nstore: github\n")
    assert text.endswith("workflow:\n  max_attempts: 3  # keep\n")
    assert yaml.safe_load(text)["gh"] == {
        "repo": "acme/widgets",
        "host": "example.com",
        "project_id": "PVT_1",
        "project_status_map": {"done": "o4"},
    }


# ---------------------------------------------------------------------------- commands


def test_list_link_info_and_sync(gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator) -> None:
    emulator.add_project("Other")
    board = emulator.add_project("Roadmap")
    new = int(emulator.add_issue("New one", "b", [Status.NEW.label])["number"])
    review = int(emulator.add_issue("Stuck one", "b", [Status.NEEDS_REVIEW.label])["number"])
    emulator.add_issue("Not a task", "b", [])
    before = config_of(gh_repo)["gh"]

    listed = orch(gh_repo, gh_env, "project", "board", "list", "--json")
    assert listed.code == 0, listed
    boards = json.loads(listed.out)["boards"]
    assert [(b["number"], b["title"]) for b in boards] == [(1, "Other"), (2, "Roadmap")]
    assert boards[1]["id"] == board["id"]

    link(gh_repo, gh_env, board)
    gh = config_of(gh_repo)["gh"]
    assert {k: gh[k] for k in before} == before  # repo, host, backoff kept
    assert gh["project_id"] == board["id"]
    assert gh["project_status_field_id"] == board["status_field_id"]
    options = board["options"]
    assert gh["project_status_map"] == {
        "backlog": options["Todo"],
        "in_progress": options["In Progress"],
        "review": options["In Review"],
        "done": options["Done"],
    }

    info = orch(gh_repo, gh_env, "project", "board", "info")
    assert info.code == 0, info
    lines = info.out.splitlines()
    assert lines[0] == f"board #2 Roadmap ({board['id']})"
    assert (
        lines[1] == f"Status field {board['status_field_id']}: Todo, In Progress, In Review, Done"
    )
    assert [line.split()[0] for line in lines[2:]] == ["backlog", "in_progress", "review", "done"]
    assert lines[4].split("->")[1].strip() == "In Review"
    assert "needs_review" in lines[4] and "blocked" in lines[4]

    emulator.reset_log()
    dry = orch(gh_repo, gh_env, "project", "board", "sync", "--dry-run")
    assert dry.code == 0, dry
    assert emulator.count(operation="OrchBoardAdd") == 0 and statuses(emulator, board) == {}
    assert dry.out.splitlines() == [
        f"would: added #{new} -> Todo  New one",
        f"would: added #{review} -> In Review  Stuck one",
    ]

    emulator.reset_log()
    synced = orch(gh_repo, gh_env, "project", "board", "sync")
    assert synced.code == 0, synced
    assert statuses(emulator, board) == {new: "Todo", review: "In Review"}
    # board read + items read + issues list, then add + set per task
    assert emulator.count(operation="OrchBoardAdd") == 2
    assert emulator.count(operation="OrchBoardSet") == 2
    assert emulator.count() == 3 + 4, emulator.log_lines()

    emulator.reset_log()
    again = orch(gh_repo, gh_env, "project", "board", "sync", "--json")
    assert again.code == 0, again
    assert [t["action"] for t in json.loads(again.out)["tasks"]] == ["ok", "ok"]
    assert emulator.count(operation="OrchBoardSet") == 0


def test_info_fix_fills_the_map_from_configured_names(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    board = emulator.add_project("Kanban", statuses=("Backlog", "Doing", "Waiting", "Shipped"))
    path = gh_repo.work / ".orch.yml"
    config = config_of(gh_repo)
    config["gh"].update(
        project_id=board["id"],
        project_status_names={"review": "Waiting", "done": ["Released", "Shipped"]},
    )
    path.write_text(yaml.safe_dump(config))

    shown = orch(gh_repo, gh_env, "project", "board", "info", "--json")
    assert shown.code == 0, shown
    data = json.loads(shown.out)
    assert data["missing"] == [] and data["fixed"] is False
    assert {c: v["option"] for c, v in data["columns"].items()} == {
        "backlog": "Backlog",
        "in_progress": "Doing",
        "review": "Waiting",
        "done": "Shipped",
    }
    assert "project_status_map" not in config_of(gh_repo)["gh"]

    fixed = orch(gh_repo, gh_env, "project", "board", "info", "--fix")
    assert fixed.code == 0, fixed
    gh = config_of(gh_repo)["gh"]
    assert gh["project_status_map"]["review"] == board["options"]["Waiting"]
    assert gh["project_status_map"]["done"] == board["options"]["Shipped"]
    assert gh["project_status_field_id"] == board["status_field_id"]


def test_board_commands_need_the_github_store(repo: Repo, orch_env: dict[str, str]) -> None:
    assert run_orch("init", "--local", cwd=repo.work, env=orch_env).code == 0

    done = run_orch("project", "board", "list", cwd=repo.work, env=orch_env)

    assert done.code != 0
    assert "needs the GitHub store" in done.err and "Traceback" not in done.err


def test_unknown_board_id_says_how_to_find_one(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    done = orch(gh_repo, gh_env, "project", "board", "link", "PVT_nope")
    assert done.code != 0
    assert "orch project board list" in done.err and "Traceback" not in done.err


# ---------------------------------------------------------------------------- status changes


@pytest.fixture
def project(gh_repo: Repo, gh_env: dict[str, str], tmp_path: Path) -> RunProject:
    return make_run_project(gh_repo, gh_env, tmp_path, "--repo", "acme/widgets")


def test_status_changes_move_the_board_item_and_a_quiet_tick_stays_at_one_request(
    project: RunProject, emulator: Emulator
) -> None:
    board = emulator.add_project("Roadmap")
    link(project.repo, project.env, board)
    number = int(
        emulator.add_issue("Say hello", "Add hello.txt", [Status.NEW.label, "agent:claude"])[
            "number"
        ]
    )
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
    emulator.reset_log()

    done = project.orch("task", "run", str(number))

    assert done.code == 0, done
    assert statuses(emulator, board) == {number: "In Review"}
    # new -> in_progress (add + set: the item is new), in_progress -> in_review (set only:
    # the item id is cached in the state dir)
    assert emulator.count(operation="OrchBoardAdd") == 1, emulator.log_lines()
    assert emulator.count(operation="OrchBoardSet") == 2, emulator.log_lines()
    assert emulator.count(operation="OrchBoard") == 0  # the map is in .orch.yml: no read
    print("requests new->in_review with a board:", emulator.count())

    # An owner closes the task by command: done column.
    closed = project.orch("task", "close", str(number))
    assert closed.code == 0, closed
    assert statuses(emulator, board) == {number: "Done"}

    other = int(emulator.add_issue("Waits", "x", [Status.NEEDS_REVIEW.label])["number"])
    assert project.orch("tick").code == 0
    emulator.reset_log()
    quiet = project.orch("tick")
    assert quiet.code == 0, quiet
    assert emulator.count() == 1, emulator.log_lines()
    assert other not in statuses(emulator, board)  # untouched tasks cost nothing


def test_a_board_failure_never_fails_the_status_change(
    project: RunProject, emulator: Emulator
) -> None:
    project.configure(
        gh={
            "project_id": "PVT_gone",
            "project_status_field_id": "PVTSSF_x",
            "project_status_map": {"backlog": "a", "in_progress": "b", "review": "c", "done": "d"},
        }
    )
    number = int(emulator.add_issue("Say hello", "x", [Status.NEW.label, "agent:claude"])["number"])
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
    assert Status.IN_REVIEW.label in emulator.labels_of(number)
    assert f"#{number}: board not updated" in done.err
    assert "Traceback" not in done.err
