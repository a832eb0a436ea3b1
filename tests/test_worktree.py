"""Task worktrees: created from origin's up-to-date default branch, re-used, never the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from orch.run import worktree as wt
from tests.helpers import Repo, git


def test_slug_and_branch() -> None:
    assert wt.slugify("Fix: the LOGIN page (again)!") == "fix-the-login-page-again"
    assert wt.slugify("x" * 60) == "x" * 40
    assert wt.slugify("a" * 39 + " b") == "a" * 39
    assert wt.slugify("日本語") == "task"
    assert wt.branch_name("orch/", 12, "Add docs") == "orch/12-add-docs"


def test_created_from_up_to_date_origin_and_reused(repo: Repo, tmp_path: Path) -> None:
    # Someone pushes to origin/main after the checkout was made: the worktree starts from it.
    other = tmp_path / "other"
    git("clone", "-q", str(repo.origin), str(other), cwd=tmp_path)
    (other / "new.txt").write_text("new\n")
    git("add", "new.txt", cwd=other)
    git("commit", "-q", "-m", "upstream change", cwd=other)
    git("push", "-q", "origin", "main", cwd=other)
    upstream = git("rev-parse", "HEAD", cwd=other).strip()
    trees = tmp_path / "state" / "worktrees" / "acme" / "widgets"

    tree = wt.ensure(repo.work, trees, 3, "Add docs", branch_prefix="orch/", default_branch="main")

    assert tree.path == trees / "3-add-docs" and tree.branch == "orch/3-add-docs" and tree.created
    assert git("rev-parse", "HEAD", cwd=tree.path).strip() == upstream
    assert git("symbolic-ref", "--short", "HEAD", cwd=tree.path).strip() == "orch/3-add-docs"
    assert git("symbolic-ref", "--short", "HEAD", cwd=repo.work).strip() == "main"
    (tree.path / "work.txt").write_text("w\n")

    again = wt.ensure(
        repo.work, trees, 3, "Add docs (renamed)", branch_prefix="orch/", default_branch="main"
    )
    assert (again.path, again.branch, again.created) == (tree.path, tree.branch, False)
    assert (again.path / "work.txt").read_text() == "w\n"


def test_continues_a_branch_pushed_earlier(repo: Repo, tmp_path: Path) -> None:
    git("checkout", "-q", "-b", "orch/4-resume", cwd=repo.work)
    (repo.work / "earlier.txt").write_text("e\n")
    git("add", "earlier.txt", cwd=repo.work)
    git("commit", "-q", "-m", "earlier attempt", cwd=repo.work)
    git("push", "-q", "origin", "orch/4-resume", cwd=repo.work)
    git("checkout", "-q", "main", cwd=repo.work)
    git("branch", "-q", "-D", "orch/4-resume", cwd=repo.work)

    tree = wt.ensure(
        repo.work, tmp_path / "trees", 4, "Resume", branch_prefix="orch/", default_branch="main"
    )

    assert (tree.path / "earlier.txt").exists()


def test_stale_directory_is_replaced(repo: Repo, tmp_path: Path) -> None:
    trees = tmp_path / "trees"
    (trees / "5-stale").mkdir(parents=True)
    (trees / "5-stale" / "junk").write_text("junk")
    tree = wt.ensure(repo.work, trees, 5, "Stale", branch_prefix="orch/", default_branch="main")
    assert not (tree.path / "junk").exists() and (tree.path / "README.md").exists()


def test_failure_names_gits_error(repo: Repo, tmp_path: Path) -> None:
    with pytest.raises(wt.WorktreeError) as info:
        wt.ensure(
            repo.work, tmp_path / "trees", 6, "X", branch_prefix="orch/", default_branch="trunk"
        )
    assert info.value.message == (
        "cannot prepare the worktree for task #6: git fetch failed: "
        "fatal: couldn't find remote ref refs/heads/trunk"
    )
    with pytest.raises(wt.WorktreeError, match="refusing to create the worktree"):
        wt.ensure(
            repo.work, repo.work / "inside", 7, "X", branch_prefix="orch/", default_branch="main"
        )
