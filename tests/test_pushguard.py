"""The scan before every push (orch.run.pushguard): real git, every secret kind, both places."""

from __future__ import annotations

from pathlib import Path

import pytest

from orch.run import pushguard
from orch.run.checkout import changes, record
from tests.helpers import git, make_repo

ENV_VALUES = ("s3rv1ce-pa55word-xyz", "db-secret-value-42")
SECRETS = {
    "ghp": ("GitHub token", "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
    "github_pat": ("GitHub token", "github_pat_11ABCDEFG0" + "x" * 40),
    "gho": ("GitHub token", "gho_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"),
    "sk-ant": ("Anthropic key", "sk-ant-api03-" + "q" * 32),
    "sk-proj": ("OpenAI key", "sk-proj-" + "r" * 40),
    "akia": ("AWS access key", "AKIA" + "ABCDEFGHIJKLMNOP"),
    "pem": (
        "private key",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
    ),
    "env1": ("a secret environment value", ENV_VALUES[0]),
    "env2": ("a secret environment value", ENV_VALUES[1]),
}


def branch_with(tmp_path: Path, *, message: str = "work", text: str = "ok\n") -> Path:
    repo = make_repo(tmp_path)
    git("checkout", "-q", "-b", "orch/1-x", cwd=repo.work)
    (repo.work / "src.txt").write_text("line one\n" + text)
    git("add", "src.txt", cwd=repo.work)
    git("commit", "-q", "-m", message, cwd=repo.work)
    return repo.work


@pytest.mark.parametrize("kind", sorted(SECRETS))
@pytest.mark.parametrize("place", ["message", "added line"])
def test_every_kind_is_found_in_both_places(tmp_path: Path, kind: str, place: str) -> None:
    name, secret = SECRETS[kind]
    work = (
        branch_with(tmp_path, message=f"add config\n\n{secret}\n")
        if place == "message"
        else branch_with(tmp_path, text=f"{secret}\n")
    )
    sha = git("rev-parse", "HEAD", cwd=work).strip()

    (finding,) = pushguard.scan(work, "origin/main", "orch/1-x", ENV_VALUES)

    where = "commit message" if place == "message" else "src.txt:2"
    assert (finding.commit, finding.where, finding.kinds[0]) == (sha, where, name)
    reason = pushguard.held_reason([finding], 1)
    assert secret.splitlines()[0] not in reason
    assert f"in {where} of commit {sha[:12]}" in reason and name in reason


def test_a_clean_branch_and_pushed_commits_have_no_findings(tmp_path: Path) -> None:
    work = branch_with(tmp_path)
    assert pushguard.scan(work, "origin/main", "orch/1-x", ENV_VALUES) == []
    # A commit already on the remote's branch is not sent again, so not scanned again.
    (work / "a.txt").write_text(SECRETS["ghp"][1])
    git("add", "a.txt", cwd=work)
    git("commit", "-q", "-m", "leak", cwd=work)
    git("push", "-q", "origin", "orch/1-x", cwd=work)
    assert pushguard.scan(work, "origin/main", "orch/1-x", ENV_VALUES) == []


def test_author_fields_are_scanned(tmp_path: Path) -> None:
    work = branch_with(tmp_path)
    git(
        "commit",
        "-q",
        "--amend",
        "--no-edit",
        f"--author=x <{ENV_VALUES[0]}@example.com>",
        cwd=work,
    )
    (finding,) = pushguard.scan(work, "origin/main", "orch/1-x", ENV_VALUES)
    assert finding.where == "author/committer"


def test_added_lines_numbers_follow_the_hunks() -> None:
    patch = (
        "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -3,0 +4,2 @@ def f():\n+x\n+y\n"
        "@@ -9 +11 @@\n-old\n+new\ndiff --git a/gone b/gone\n--- a/gone\n+++ /dev/null\n"
        "@@ -1 +0,0 @@\n-bye\n"
    )
    assert pushguard.added_lines(patch) == [("a.py", 4, "x"), ("a.py", 5, "y"), ("a.py", 11, "new")]


def test_checkout_changes_name_commits_branches_and_files(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    (repo.work / "dirty.txt").write_text("mine\n")
    before = record(repo.work)
    assert changes(before, record(repo.work)) == []
    (repo.work / "dirty.txt").write_text("mine, then the agent's\n")  # already dirty, edited again
    (repo.work / "new.txt").write_text("x\n")
    git("add", "new.txt", cwd=repo.work)
    git("commit", "-q", "-m", "agent", cwd=repo.work)
    found = changes(before, record(repo.work))
    assert found[0].startswith("HEAD ") and found[1:] == ["dirty.txt"]
