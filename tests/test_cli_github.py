"""Issue-level acceptance for the foundation: the real CLI driving the real gh against the
GitHub emulator — effects on GitHub and the number of requests each command makes."""

from __future__ import annotations

import json

from orch.task import markers
from tests.emulator.server import Emulator
from tests.helpers import Repo, run_orch


def test_init_add_list_assign_close(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    def orch(*args: str):  # type: ignore[no-untyped-def]
        emulator.reset_log()
        return run_orch(*args, cwd=gh_repo.work, env=gh_env)

    init = orch("init")
    assert init.code == 0, init
    # 13 fixed labels, plus agent:/model: labels of the configured agents and model_map
    # (created once here, so routing and running never list or create labels).
    assert len(emulator.label_names()) == 22
    assert {"agent:claude", "agent:codex", "model:haiku", "model:opus"} <= set(
        emulator.label_names()
    )
    # one access check (gh, login, write permission: before anything is written), one
    # label list, one create per label
    assert emulator.count() == 24
    assert emulator.count("GET", "/repos/acme/widgets") == 1
    assert orch("init").out.splitlines()[-1] == "labels: all present"
    assert emulator.count() == 1

    added = orch("task", "add", "Fix login", "--label", "bug")
    assert (added.code, added.out) == (0, "1\n"), added
    assert emulator.labels_of(1) == ["bug", "status:new"]
    assert emulator.issue(1)["title"] == "Fix login"

    listed = orch("task", "list", "--json")
    [task] = json.loads(listed.out)["tasks"]
    assert (task["number"], task["status"], task["labels"]) == (1, "new", ["bug", "status:new"])
    assert emulator.count() == 1

    assigned = orch("task", "assign", "1", "codex")
    assert assigned.out == "#1 new -> routed\n", assigned
    assert emulator.labels_of(1) == ["agent:codex", "bug", "status:routed"]
    label_writes = emulator.count("PATCH", "/repos/acme/widgets/issues/1") + emulator.count(
        "PUT", "/repos/acme/widgets/issues/1/labels"
    )
    assert label_writes == 1  # status and agent change together, in one write
    assert emulator.count("DELETE") == 0  # never remove-then-add

    closed = orch("task", "close", "1", "--note", "done")
    assert closed.out == "#1 routed -> done\n", closed
    issue = emulator.issue(1)
    assert issue["state"] == "closed"
    assert emulator.labels_of(1) == ["agent:codex", "bug", "status:done"]
    [comment] = emulator.comments(1)
    marker = markers.parse(comment["body"])
    assert marker is not None and marker.kind == "status"
    assert marker.data == {"v": 1, "from": "routed", "to": "done", "reason": "done"}


def test_unknown_issue(gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator) -> None:
    result = run_orch("task", "get", "99999", cwd=gh_repo.work, env=gh_env)
    assert result.code == 1, result
    assert len(result.err.splitlines()) == 1 and "99999" in result.err
    assert "Traceback" not in result.err


def test_bad_token_exits_4(gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator) -> None:
    env = {**gh_env, "GH_ENTERPRISE_TOKEN": "not-a-valid-token"}
    result = run_orch("task", "list", cwd=gh_repo.work, env=env)
    assert result.code == 4, result
    assert len(result.err.splitlines()) == 1


def test_rate_limited_skip_mode_exits_75_and_changes_nothing(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    from tests.emulator.fixtures import write_orch_config

    write_orch_config(
        gh_repo.work, emulator, backoff={"mode": "skip", "base_seconds": 0.3, "max_seconds": 3}
    )
    emulator.rate_limit(100, reset_in=600)
    result = run_orch("task", "add", "Never", cwd=gh_repo.work, env=gh_env)
    assert result.code == 75, result
    assert len(result.err.splitlines()) == 1
    emulator.clear_faults()
    assert emulator.issues() == []
