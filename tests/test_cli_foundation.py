"""The foundation commands through the real CLI on the local store (no network):
`orch init --local`, `task add/list/get/assign/retry/unblock/close`, config errors."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import Repo, Result

Orch = Callable[..., Result]


def issue_file(repo: Repo, number: int) -> dict:  # type: ignore[type-arg]
    return json.loads((repo.work / ".orch" / "local" / "issues" / f"{number}.json").read_text())


@pytest.fixture
def project(orch: Orch, repo: Repo) -> Repo:
    result = orch("init", "--local")
    assert result.code == 0, result
    return repo


def test_init_local(orch: Orch, repo: Repo, orch_env: dict[str, str]) -> None:
    result = orch("init", "--local")
    assert result.code == 0, result
    root = repo.work
    assert result.out.splitlines() == [
        f"project local/widgets at {root} (store: local)",
        f"write {root / '.orch.yml'}",
        f"register it in {Path(orch_env['ORCH_HOME']) / 'config.yml'}",
        "create 22 labels: status:new, status:routed, status:in_progress, status:in_review, "
        "status:needs_review, status:blocked, status:done, complexity:simple, complexity:medium, "
        "complexity:complex, no-agent, plan, scheduled, agent:claude, agent:codex, "
        "agent:opencode, model:gpt-5.1-codex-mini, model:gpt-5.2, model:gpt-5.3-codex, "
        "model:haiku, model:opus, model:sonnet",
        "ignore .orch/ in .git/info/exclude",
    ]
    assert (root / ".orch.yml").read_text().splitlines()[-1] == "store: local"
    labels = json.loads((root / ".orch" / "local" / "labels.json").read_text())
    assert labels["status:in_progress"] == {
        "color": "fbca04",
        "description": "orch: an agent is working on it",
    }
    assert "/.orch/" in (root / ".git" / "info" / "exclude").read_text().splitlines()
    # Idempotent: a second init changes nothing and says so.
    again = orch("init", "--local")
    assert again.code == 0, again
    assert again.out.splitlines() == [
        f"project local/widgets at {root} (store: local)",
        "labels: all present",
    ]
    global_config = (Path(orch_env["ORCH_HOME"]) / "config.yml").read_text()
    assert global_config == f"projects:\n- {root}\n"


def test_add_list_get_assign_close(orch: Orch, project: Repo) -> None:
    added = orch("task", "add", "Fix login", "--label", "bug", "--body", "It breaks.")
    assert added.code == 0, added
    assert added.out == "1\n"
    assert issue_file(project, 1)["labels"] == ["bug", "status:new"]

    listed = orch("task", "list", "--json")
    assert listed.code == 0, listed
    data = json.loads(listed.out)
    assert data["schema"] == 1
    [task] = data["tasks"]
    assert (task["number"], task["title"], task["status"], task["labels"]) == (
        1,
        "Fix login",
        "new",
        ["bug", "status:new"],
    )
    assert orch("task", "list").out == "#1\tnew\t-\tFix login\n"

    assigned = orch("task", "assign", "1", "codex")
    assert assigned.code == 0, assigned
    assert assigned.out == "#1 new -> routed\n"
    assert issue_file(project, 1)["labels"] == ["agent:codex", "bug", "status:routed"]

    closed = orch("task", "close", "1", "--note", "done")
    assert closed.code == 0, closed
    record = issue_file(project, 1)
    assert record["state"] == "closed"
    assert record["labels"] == ["agent:codex", "bug", "status:done"]
    [comment] = record["comments"]
    assert comment["body"].startswith(
        '<!-- orch:status {"from":"routed","reason":"done","to":"done","v":1} -->'
    )
    assert comment["body"].endswith("closed by the owner: done")

    assert orch("task", "list").out == ""
    assert orch("task", "list", "--all").out == "#1\tdone\tcodex\tFix login\n"

    got = orch("task", "get", "1", "--json")
    detail = json.loads(got.out)["task"]
    assert (detail["status"], detail["attempts"], detail["agent"], detail["state"]) == (
        "done",
        0,
        "codex",
        "closed",
    )


def test_add_reads_body_from_stdin_and_sets_choices(orch: Orch, project: Repo) -> None:
    added = orch(
        "task",
        "add",
        "Sub task",
        "--body-file",
        "-",
        "--agent",
        "claude",
        "--complexity",
        "simple",
        input="from stdin\n",
    )
    assert added.out == "1\n", added
    child = orch("task", "add", "Child", "--parent", "1", "--no-agent", "--json")
    task = json.loads(child.out)["task"]
    assert task["labels"] == ["no-agent", "status:new"]
    assert issue_file(project, 2)["body"] == "Parent: #1\n"
    record = issue_file(project, 1)
    assert record["body"] == "from stdin\n"
    assert record["labels"] == ["agent:claude", "complexity:simple", "status:new"]


def test_list_filters(orch: Orch, project: Repo) -> None:
    for title in ("One", "Two", "Three"):
        orch("task", "add", title)
    orch("task", "assign", "2", "codex")
    orch("task", "assign", "3", "claude")
    assert orch("task", "list", "--status", "routed").out == (
        "#2\trouted\tcodex\tTwo\n#3\trouted\tclaude\tThree\n"
    )
    assert orch("task", "list", "--agent", "claude").out == "#3\trouted\tclaude\tThree\n"
    assert orch(
        "task", "list", "--status", "new", "--status", "routed", "--agent", "codex"
    ).out == ("#2\trouted\tcodex\tTwo\n")
    bad = orch("task", "list", "--status", "finished")
    assert (bad.code, bad.err) == (
        2,
        "orch: --status 'finished': use one of new, routed, in_progress, in_review, "
        "needs_review, blocked, done\n",
    )


def test_retry_and_unblock(orch: Orch, project: Repo) -> None:
    orch("task", "add", "One")
    orch("task", "assign", "1", "codex")
    orch("task", "close", "1")
    retried = orch("task", "retry", "1")
    assert retried.out == "#1 done -> new\n", retried
    record = issue_file(project, 1)
    assert (record["state"], record["labels"]) == (
        "open",
        ["status:new"],
    )  # reopened, agent cleared
    orch("task", "add", "Two", "--agent", "codex")
    unblocked = orch("task", "unblock", "all")
    assert unblocked.code == 0 and unblocked.out == "", unblocked  # nothing blocked
    bad = orch("task", "unblock", "soon")
    assert (bad.code, bad.err) == (
        2,
        "orch: unblock takes a task id (7, i7) or 'all' (got 'soon')\n",
    )


def test_dry_run_writes_nothing(orch: Orch, project: Repo) -> None:
    orch("task", "add", "One")
    before = issue_file(project, 1)
    result = orch("task", "assign", "1", "codex", "--dry-run")
    assert result.code == 0, result
    assert result.out.splitlines() == [  # agent:codex exists since `orch init`
        'would: PATCH repos/local/widgets/issues/1 {"labels": ["agent:codex", "status:routed"]}',
    ]
    assert issue_file(project, 1) == before
    added = orch("task", "add", "Two", "--dry-run")
    assert added.out == (
        'would: POST repos/local/widgets/issues {"body": "", "labels": ["status:new"], "title": "Two"}\n'
    )
    assert not (project.work / ".orch" / "local" / "issues" / "2.json").exists()


@pytest.mark.parametrize(
    ("args", "code", "err"),
    [
        (
            ("task", "get", "99999"),
            1,
            "orch: issue #99999 not found in local/widgets (local store)\n",
        ),
        (
            ("task", "assign", "1", "nope"),
            2,
            "orch: unknown agent 'nope'; configured agents: claude, codex, opencode "
            "(add one under `agents:` in .orch.yml)\n",
        ),
        (
            ("task", "add", "X", "--complexity", "huge"),
            2,
            "orch: unknown complexity 'huge'; use one of simple, medium, complex\n",
        ),
        (("task", "add", "  "), 2, "orch: a task needs a non-empty TITLE\n"),
        (
            ("task", "add", "X", "--body-file", "/nonexistent/file"),
            2,
            "orch: --body-file /nonexistent/file: No such file or directory\n",
        ),
    ],
)
def test_bad_input_one_line_and_exit_code(
    orch: Orch, project: Repo, args: tuple[str, ...], code: int, err: str
) -> None:
    orch("task", "add", "One")
    result = orch(*args)
    assert (result.code, result.err, result.out) == (code, err, "")


def test_running_task_refuses_owner_changes(orch: Orch, project: Repo) -> None:
    orch("task", "add", "One")
    path = project.work / ".orch" / "local" / "issues" / "1.json"
    record = json.loads(path.read_text())
    record["labels"] = ["status:in_progress"]
    path.write_text(json.dumps(record))
    result = orch("task", "retry", "1")
    assert (result.code, result.err) == (
        1,
        "orch: #1 is running; `orch task kill 1` first, then retry\n",
    )


def test_broken_yaml(orch: Orch, project: Repo) -> None:
    (project.work / ".orch.yml").write_text("store: local\nworkflow: [unclosed\n")
    result = orch("task", "list")
    assert result.code == 2
    assert result.err.startswith(
        f"orch: {project.work / '.orch.yml'}: line 3, column 1: invalid YAML"
    )
    assert len(result.err.splitlines()) == 1
    assert "Traceback" not in result.err


def test_wrong_type_in_config(orch: Orch, project: Repo) -> None:
    (project.work / ".orch.yml").write_text("store: local\nworkflow:\n  max_attempts: many\n")
    result = orch("task", "list")
    assert (result.code, result.err) == (
        2,
        f"orch: {project.work / '.orch.yml'}: workflow.max_attempts: "
        "must be a whole number >= 1 (got a string)\n",
    )


def test_unknown_key_is_a_warning(orch: Orch, project: Repo) -> None:
    (project.work / ".orch.yml").write_text("store: local\nworkflw: {}\n")
    result = orch("task", "list")
    assert result.code == 0
    assert result.err.startswith(
        f"orch: warning: {project.work / '.orch.yml'}: unknown key 'workflw'"
    )


def test_outside_a_git_repository(orch: Orch, tmp_path: Path) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    result = orch("task", "list", cwd=outside)
    assert (result.code, result.err) == (
        1,
        f"orch: {outside} is not inside a git repository: run orch in your project's "
        "checkout or pass --project PATH|OWNER/REPO\n",
    )


def test_no_gh_on_path(orch_env: dict[str, str], repo: Repo, tmp_path: Path) -> None:
    import shutil
    import sys

    from tests.helpers import run_orch

    bin_dir = tmp_path / "bin"  # git and python, but no gh
    bin_dir.mkdir()
    for tool in ("git",):
        (bin_dir / tool).symlink_to(shutil.which(tool) or tool)
    (repo.work / ".orch.yml").write_text("gh:\n  repo: acme/widgets\n")
    env = {**orch_env, "PATH": f"{bin_dir}:{os.path.dirname(sys.executable)}"}
    result = run_orch("task", "list", cwd=repo.work, env=env)
    assert result.code == 1, result
    assert len(result.err.splitlines()) == 1
    assert result.err.startswith("orch: gh is not installed")


def test_config_commands(orch: Orch, project: Repo, orch_env: dict[str, str]) -> None:
    assert orch("config", "get", "workflow.max_parallel").out == "4\n"
    assert orch("config", "get", "store").out == "local\n"
    assert orch("config", "get", "model_map.complex").out == (
        '{"claude": "opus", "codex": "gpt-5.3-codex"}\n'
    )
    missing = orch("config", "get", "workflow.nope")
    assert (missing.code, missing.err) == (
        2,
        "orch: unknown config key 'workflow.nope'; see `orch config show`\n",
    )
    shown = json.loads(orch("config", "show", "--json").out)
    assert shown["config"]["store"] == "local"
    assert shown["files"]["project"] == str(project.work / ".orch.yml")
    home = Path(orch_env["ORCH_HOME"])
    assert orch("config", "path").out.splitlines() == [
        f"global_config: {home / 'config.yml'}",
        f"state_dir: {home / 'state'}",
        f"log_file: {home / 'state' / 'logs' / 'orch.log'}",
        f"project_config: {project.work / '.orch.yml'}",
    ]


def test_version_and_help(orch: Orch) -> None:
    from orch import __version__

    assert orch("--version").out == f"orch {__version__}\n"
    helped = orch("--help")
    assert helped.code == 0
    assert "75  deferred: GitHub rate limit active in skip mode; nothing was changed" in helped.out
