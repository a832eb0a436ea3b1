"""Publishing from the attempt directory alone: idempotent steps, PR reuse, redaction."""

from __future__ import annotations

from pathlib import Path

from orch.clock import SystemClock
from orch.config.model import load_config
from orch.io.redact import Redactor
from orch.run.decision import Facts, decide
from orch.run.publish import publish
from orch.store.local import LocalStore
from orch.task import markers
from orch.task.attempt import AttemptDir
from tests.helpers import Repo, git

SECRET = "sk-ant-" + "s" * 30


def prepare(repo: Repo, tmp_path: Path, store: LocalStore) -> tuple[AttemptDir, Path, int]:
    issue = store.create_issue("Fix it", "body", ["status:in_progress", "agent:claude"])
    tree = tmp_path / "tree"
    git("worktree", "add", "-q", "-b", "orch/1-fix-it", str(tree), "main", cwd=repo.work)
    (tree / "fix.txt").write_text("fixed\n")  # left uncommitted by the agent
    adir = AttemptDir(tmp_path / "attempt").create()
    adir.write(
        adir.meta,
        {
            "number": issue.number,
            "title": "Fix it",
            "attempt": 1,
            "agent": "claude",
            "model": "sonnet",
            "branch": "orch/1-fix-it",
            "worktree": str(tree),
            "default_branch": "main",
            "base_ref": "refs/remotes/origin/main",
            "has_remote": True,
            "prompt_hash": "abc",
        },
    )
    result = {
        "status": "done",
        "summary": f"fixed with {SECRET}",
        "reason": "",
        "accomplished": ["fixed"],
        "files_changed": ["fix.txt"],
    }
    decision = decide(
        Facts(attempt=1, agent="claude", result=result, error_class=None, commits_ahead=1)
    )
    adir.write(
        adir.result,
        {"outcome": {"result": result, "usage": {"tokens_in": 5}}, "decision": decision.to_json()},
    )
    adir.write(adir.exit, {"exit_code": 0, "signal": None, "duration_s": 3.0})
    return adir, tree, issue.number


def test_publish_commits_pushes_reuses_the_open_pr_and_is_idempotent(
    repo: Repo, tmp_path: Path
) -> None:
    git("fetch", "-q", "origin", cwd=repo.work)
    store = LocalStore(tmp_path / "store", "local/widgets", SystemClock())
    adir, tree, number = prepare(repo, tmp_path, store)
    existing = store.create_pr("orch/1-fix-it", "main", "Fix it", "old body")
    config = load_config(None, None)
    redactor = Redactor()

    first = publish(store, config, adir, redactor=redactor)

    assert first.complete and first.status == "in_review" and first.pr == existing.number
    assert git("status", "--porcelain", cwd=tree) == ""
    log = git("log", "--format=%s|%an", "orch/1-fix-it", "-1", cwd=repo.origin).strip()
    assert log == "orch: Fix it (#1, attempt 1)|orch[bot]"
    assert git("show", "orch/1-fix-it:fix.txt", cwd=repo.origin) == "fixed\n"
    pr = store.get_pr(existing.number)
    assert SECRET not in pr.body and "Closes #1" in pr.body
    assert [p.number for p in [store.find_pr("orch/1-fix-it", "all")] if p] == [existing.number]
    comments = store.list_comments(number)
    assert len(comments) == 1 and SECRET not in comments[0].body
    assert markers.parse(comments[0].body).data["pr"] == existing.number  # type: ignore[union-attr]
    assert sorted(store.get_issue(number).labels) == [
        "agent:claude",
        "model:sonnet",
        "status:in_review",
    ]

    # Publishing again changes nothing.
    head = git("rev-parse", "orch/1-fix-it", cwd=repo.origin)
    again = publish(store, config, adir, redactor=redactor)
    assert again == first
    assert len(store.list_comments(number)) == 1
    assert git("rev-parse", "orch/1-fix-it", cwd=repo.origin) == head


def test_the_pr_reply_follows_a_held_push_then_its_release(repo: Repo, tmp_path: Path) -> None:
    """An attempt that worked on PR feedback answers on the PR; when the push guard held
    it, the reply says so, and the release (a clean branch) answers again with the new
    result — never a stale link."""
    git("fetch", "-q", "origin", cwd=repo.work)
    store = LocalStore(tmp_path / "store", "local/widgets", SystemClock())
    adir, tree, _ = prepare(repo, tmp_path, store)
    store.create_pr("orch/1-fix-it", "main", "Fix it", "old body")
    # LocalStore keeps no PR conversation: an issue stands in for the PR's comments.
    pr = store.create_issue("the PR's conversation", "", [])
    meta = adir.read(adir.meta) or {}
    adir.write(adir.meta, {**meta, "answers": [{"pr": pr.number, "authors": ["alice"]}]})
    (tree / "fix.txt").write_text(f"token = {SECRET}\n")
    config = load_config(None, None)

    held = publish(store, config, adir, redactor=Redactor())

    assert not held.complete and held.status == "needs_review"
    (first,) = [markers.parse(c.body) for c in store.list_comments(pr.number)]
    assert first is not None and first.kind == "reply"
    assert first.data["comment_id"] == held.comment_id
    assert first.text.startswith("@alice Attempt 1 worked on your feedback (status needs_review)")

    git("reset", "-q", "--soft", "HEAD~1", cwd=tree)  # a human takes the secret out
    (tree / "fix.txt").write_text("fixed\n")
    git("add", "fix.txt", cwd=tree)
    git("commit", "-qm", "fix", cwd=tree)
    released = publish(store, config, adir, redactor=Redactor())

    assert released.complete and released.status == "in_review"
    replies = [markers.parse(c.body) for c in store.list_comments(pr.number)]
    assert [r.data["comment_id"] for r in replies if r] == [held.comment_id, released.comment_id]
    assert replies[-1] is not None and "(status in_review)" in replies[-1].text
