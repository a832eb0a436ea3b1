"""`orch prune`: removes exactly what it listed (worktrees, branches, stray folders of
done/closed/missing tasks) and nothing a running or open task owns. Real git, real
detached supervisors, the fake agent, the local store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orch.admin import prune
from tests.helpers import Repo, git
from tests.run_helpers import RunProject, claude_envelope, make_run_project, result_obj, wait_for

REPO = "local/widgets"


@pytest.fixture
def project(repo: Repo, orch_env: dict[str, str], tmp_path: Path) -> RunProject:
    return make_run_project(repo, orch_env, tmp_path, "--local")


def add_task(project: RunProject, title: str) -> int:
    done = project.orch("task", "add", title, "--body", "b", "--agent", "claude")
    assert done.code == 0, done
    return int(done.out.strip())


def branches(project: RunProject) -> list[str]:
    return sorted(
        git(
            "for-each-ref", "--format=%(refname:short)", "refs/heads", cwd=project.repo.work
        ).split()
    )


def test_task_number_of_folders_and_branches() -> None:
    assert prune.task_number("12-fix-login") == 12
    assert prune.task_number("orch/12-fix-login", "orch/") == 12
    assert prune.task_number("orch/fix", "orch/") is None
    assert prune.task_number("feature/12-x", "orch/") is None
    assert prune.task_number("junk") is None


def test_prune_removes_what_it_listed_and_never_a_running_task(project: RunProject) -> None:
    ok = {
        "steps": [{"write": "hello.txt", "text": "hi\n"}, {"stdout": claude_envelope(result_obj())}]
    }
    hang = {"steps": [{"stdout": '{"type":"system","subtype":"init"}\n'}, {"hang": True}]}
    project.scenario({"claude": [ok, ok, hang]})
    done_task, open_task, running_task = (
        add_task(project, t) for t in ("Done one", "Open one", "Running one")
    )
    assert project.orch("task", "run", str(done_task)).code == 0
    assert project.orch("task", "run", str(open_task)).code == 0
    assert project.orch("task", "close", str(done_task)).code == 0
    assert project.orch("task", "run", "--detach", str(running_task)).code == 0
    assert wait_for(lambda: project.sidecar(REPO, running_task).get("agent_pid"))
    trees = project.state / "worktrees" / REPO
    (trees / "junk").mkdir()
    (trees / "junk" / "left.txt").write_text("x")
    (trees / "99-gone-task").mkdir()
    work = project.repo.work  # a branch of no task, with a commit that is not on origin
    git("checkout", "-q", "-b", "orch/77-unpushed", cwd=work)
    git("commit", "-q", "--allow-empty", "-m", "local only", cwd=work)
    git("checkout", "-q", "main", cwd=work)
    git("branch", "orch/78-merged", cwd=work)  # a branch of no task, all of it on origin
    before = sorted(p.name for p in trees.iterdir())
    assert before == ["1-done-one", "2-open-one", "3-running-one", "99-gone-task", "junk"]

    listed = project.orch("prune", "--dry-run", "--json")

    assert listed.code == 0, listed
    plan = json.loads(listed.out)
    remove = sorted((i["kind"], Path(i["name"]).name, i["reason"]) for i in plan["remove"])
    assert remove == [
        ("branch", "1-done-one", "task #1 is closed or does not exist"),
        ("branch", "78-merged", "task #78 is closed or does not exist"),
        ("folder", "99-gone-task", "task #99 is closed or does not exist"),
        ("folder", "junk", "no task owns it"),
        ("worktree", "1-done-one", "task #1 is closed or does not exist"),
    ]
    keep = sorted((i["kind"], Path(i["name"]).name, i["reason"]) for i in plan["keep"])
    assert keep == [
        ("branch", "2-open-one", "task #2 is in_review"),
        ("branch", "3-running-one", "a supervisor is running it"),
        ("branch", "77-unpushed", "has commits on no remote (push or delete it yourself)"),
        ("worktree", "2-open-one", "task #2 is in_review"),
        ("worktree", "3-running-one", "a supervisor is running it"),
    ]
    assert sorted(p.name for p in trees.iterdir()) == before  # a dry run removes nothing
    assert "orch/1-done-one" in branches(project)

    pruned = project.orch("prune")

    assert pruned.code == 0, pruned
    shown = sorted(line.split("\t")[:3] for line in pruned.out.splitlines())
    assert shown == sorted([["removed", i["kind"], i["name"]] for i in plan["remove"]])
    assert sorted(p.name for p in trees.iterdir()) == ["2-open-one", "3-running-one"]
    assert branches(project) == [
        "main",
        "orch/2-open-one",
        "orch/3-running-one",
        "orch/77-unpushed",
    ]
    registered = git("worktree", "list", "--porcelain", cwd=project.repo.work)
    assert "1-done-one" not in registered and "3-running-one" in registered
    assert project.sidecar(REPO, running_task).get("agent_pid")  # still running, untouched
    assert project.orch("task", "kill", str(running_task)).code == 0

    again = project.orch("service", "prune", "--dry-run")
    assert again.code == 0, again
    assert again.out == ""
