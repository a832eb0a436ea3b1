"""`orch commit`: logical commits with Conventional Commits messages, on real git, with the
fake agent CLI for the drafted messages."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from orch.assist import commit
from orch.assist.commit import Change, Group
from tests.helpers import Repo, git
from tests.run_helpers import RunProject, make_run_project

PROMPTS = Path(__file__).resolve().parents[1] / "prompts"  # this checkout's templates


@pytest.fixture
def project(repo: Repo, orch_env: dict[str, str], tmp_path: Path) -> RunProject:
    p = make_run_project(repo, orch_env, tmp_path, "--local")
    p.configure(workflow={"prompts_dir": str(PROMPTS)})
    git("add", ".orch.yml", cwd=repo.work)
    git("commit", "-q", "-m", "chore: orch config", cwd=repo.work)
    return p


def dirty(work: Path) -> None:
    """Staged, unstaged and untracked changes in three areas."""
    (work / "README.md").write_text("# widgets\n\nNow with docs.\n")  # unstaged
    (work / "src").mkdir()
    (work / "src" / "app.py").write_text("def main() -> int:\n    return 42\n")  # untracked
    (work / "tests").mkdir()
    (work / "tests" / "test_app.py").write_text("from src.app import main\n")
    git("add", "tests/test_app.py", cwd=work)  # staged


def log(work: Path) -> list[str]:
    return git("log", "--format=%s", cwd=work).splitlines()


def status(work: Path) -> str:
    return git("status", "--porcelain", "--untracked-files=all", cwd=work)


def test_dry_run_no_llm_shows_the_plan_and_commits_nothing(project: RunProject) -> None:
    work = project.repo.work
    dirty(work)
    before = (log(work), status(work))

    done = project.orch("commit", "--dry-run", "--no-llm")

    assert done.code == 0, done
    assert done.out == (
        "would commit\tdocs: update README.md\tREADME.md\n"
        "would commit\tfeat(src): add app.py\tsrc/app.py\n"
        "would commit\ttest: add test_app.py\ttests/test_app.py\n"
    )
    assert (log(work), status(work)) == before


def test_no_llm_yes_leaves_a_clean_tree_with_conventional_commits(project: RunProject) -> None:
    work = project.repo.work
    (work / "old.txt").write_text("x\n")
    git("add", "old.txt", cwd=work)
    git("commit", "-q", "-m", "chore: old", cwd=work)
    git("rm", "-q", "old.txt", cwd=work)  # a staged deletion
    dirty(work)

    done = project.orch("commit", "--no-llm", "--yes")

    assert done.code == 0, done
    assert status(work) == ""
    new = log(work)[:4][::-1]
    assert new == [
        "docs: update README.md",
        "chore: remove old.txt",
        "feat(src): add app.py",
        "test: add test_app.py",
    ]
    assert all(commit.CC_SUBJECT.match(s) for s in new)
    touched = [
        git("show", "--name-only", "--format=", f"HEAD~{n}", cwd=work).split() for n in (3, 2, 1, 0)
    ]
    assert touched == [
        ["README.md"],
        ["old.txt"],
        ["src/app.py"],
        ["tests/test_app.py"],
    ]  # one group each
    assert [line.split("\t")[1] for line in done.out.splitlines()] == new


def test_m_makes_exactly_one_commit_with_that_message(project: RunProject) -> None:
    work = project.repo.work
    dirty(work)
    count = len(log(work))

    done = project.orch("commit", "-m", "feat: the whole lot")

    assert done.code == 0, done
    assert status(work) == ""
    assert len(log(work)) == count + 1 and log(work)[0] == "feat: the whole lot"
    assert sorted(git("show", "--name-only", "--format=", "HEAD", cwd=work).split()) == [
        "README.md",
        "src/app.py",
        "tests/test_app.py",
    ]


def _answer(text: str) -> str:
    return (
        json.dumps(
            {
                "type": "result",
                "subtype": "success",
                "is_error": False,
                "result": text,
                "num_turns": 1,
                "total_cost_usd": 0.0004,
                "usage": {"input_tokens": 900, "output_tokens": 12},
            }
        )
        + "\n"
    )


def test_the_agent_drafts_each_message_from_the_file_list_and_the_diff(project: RunProject) -> None:
    work = project.repo.work
    (work / "README.md").write_text("# widgets\n\nA line about frobnication.\n")
    (work / "src").mkdir()
    (work / "src" / "app.py").write_text("ANSWER = 42\n")
    project.scenario(
        {
            "claude": [
                {
                    "expect_argv_prefix": ["-p", "--output-format", "json"],
                    "expect_stdin_contains": [
                        "- modified README.md",
                        "+A line about frobnication.",
                        "@@",
                    ],
                    "record": "calls/claude-{n}.json",
                    "steps": [
                        {"stdout": _answer("```\ndocs: explain frobnication in the readme\n```")}
                    ],
                },
                {
                    "expect_stdin_contains": ["- added src/app.py", "+ANSWER = 42"],
                    "record": "calls/claude-{n}.json",
                    "steps": [
                        {
                            "stdout": _answer(
                                "feat(src): add the answer constant\n\nEveryone needs one."
                            )
                        }
                    ],
                },
            ]
        }
    )

    done = project.orch("commit", "--yes")

    assert done.code == 0, done
    assert done.err == ""
    assert log(work)[:2] == [
        "feat(src): add the answer constant",
        "docs: explain frobnication in the readme",
    ]
    body = git("log", "-1", "--format=%B", cwd=work).strip()
    assert body == "feat(src): add the answer constant\n\nEveryone needs one."
    first, second = project.calls()
    assert '<untrusted-data source="diff">' in first["stdin"] and "src/app.py" not in first["stdin"]
    assert "README.md" not in second["stdin"]
    assert "GH_TOKEN" not in first["env"] and first["cwd"] != str(work)  # never in the checkout


def test_the_diff_is_capped_at_commit_max_diff_bytes(project: RunProject) -> None:
    work = project.repo.work
    project.configure(commit={"max_diff_bytes": 2000})
    git("add", ".orch.yml", cwd=work)
    git("commit", "-q", "-m", "chore: cap", cwd=work)
    (work / "big.txt").write_text("".join(f"line {i}\n" for i in range(5000)))
    project.scenario(
        {
            "claude": {
                "record": "calls/claude-{n}.json",
                "steps": [{"stdout": _answer("chore: add a big file")}],
            }
        }
    )

    done = project.orch("commit", "--yes")

    assert done.code == 0, done
    (call,) = project.calls()
    assert "+line 10\n" in call["stdin"] and "+line 4999" not in call["stdin"]
    assert "The diff was cut at 2000 bytes" in call["stdin"]
    assert len(call["stdin"].encode()) < 2000 + 3000  # the template and the file list around it


def test_without_an_agent_one_warning_and_heuristic_messages(project: RunProject) -> None:
    work = project.repo.work
    dirty(work)
    env = dict(project.env)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != str(project.bin))
    project.env = env

    done = project.orch("commit", "--yes")

    assert done.code == 0, done
    warnings = [line for line in done.err.splitlines() if line.startswith("orch: warning:")]
    assert len(warnings) == 1 and "using the path heuristic" in warnings[0], done.err
    assert status(work) == ""
    assert sorted(log(work)[:3]) == [
        "docs: update README.md",
        "feat(src): add app.py",
        "test: add test_app.py",
    ]


def test_file_names_are_literal_never_patterns(project: RunProject) -> None:
    work = project.repo.work
    (work / "lib").mkdir()
    (work / "lib" / "a.py").write_text("a\n")
    (work / "lib" / "b.py").write_text("b\n")
    git("add", "lib", cwd=work)
    git("commit", "-q", "-m", "chore: lib", cwd=work)
    (work / "lib" / "a.py").write_text("a2\n")  # modified, in group "lib"
    (work / "*.py").write_text("star\n")  # a file literally named `*.py`, at the top

    done = project.orch("commit", "--no-llm", "--yes")

    assert done.code == 0, done
    assert git("show", "--name-only", "--format=", "HEAD~1", cwd=work).split() == ["*.py"]
    assert git("show", "--name-only", "--format=", "HEAD", cwd=work).split() == ["lib/a.py"]
    assert status(work) == ""


def test_a_pipe_without_yes_is_refused_and_commits_nothing(project: RunProject) -> None:
    work = project.repo.work
    dirty(work)
    count = len(log(work))
    done = project.orch("commit", "--no-llm")
    assert done.code == 2, done
    assert done.err == (
        "orch: not a terminal: pass --yes to accept the drafted messages, "
        "or --dry-run to see them\n"
    )
    assert len(log(work)) == count


def test_heuristics_and_cleaning_are_pure() -> None:
    group = Group("orch", (Change(" M", "orch/a.py"), Change("??", "orch/b.py")))
    assert commit.heuristic_message(group) == "chore(orch): update a.py, b.py"
    many = Group("orch", tuple(Change("??", f"orch/m{i}.py") for i in range(5)))
    assert commit.heuristic_message(many) == "feat(orch): add 5 files"
    ci = Group(".github", (Change(" M", ".github/workflows/ci.yml"),))
    assert commit.heuristic_message(ci) == "ci(.github): update ci.yml"
    spaced = Group("src dir", (Change("??", "src dir/ü.py"),))
    assert commit.heuristic_message(spaced) == "feat(src-dir): add ü.py"
    assert commit.CC_SUBJECT.match(commit.heuristic_message(spaced))
    assert commit.clean_message("Fixed stuff") is None
    assert commit.clean_message('"fix(api): handle 404"') == "fix(api): handle 404"
    assert (
        commit.clean_message("```text\nfeat!: drop py3.9\n\nBREAKING.\n```")
        == "feat!: drop py3.9\n\nBREAKING."
    )
    assert commit.capped("héllo", 2) == ("h", True)
    assert [
        g.key
        for g in commit.group_changes(
            [
                Change("??", "b/x"),
                Change(" M", "a.md"),
                Change(" M", "Makefile"),
                Change(" M", "b/y"),
            ]
        )
    ] == ["(top)", "docs", "b"]


def test_on_a_terminal_each_draft_is_accepted_edited_or_rejected(project: RunProject) -> None:
    work = project.repo.work
    dirty(work)  # three groups: docs, src, tests
    master, slave = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "orch", "commit", "--no-llm"],
        cwd=work,
        env=project.env,
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(slave)
    # docs: edit (a non-CC text first, refused), src: reject, tests: accept.
    os.write(master, b"e\nupdated the readme\ne\ndocs(readme): say what widgets does\nr\na\n")
    out, err = child.communicate(timeout=120)
    os.close(master)

    assert child.returncode == 0, err
    assert [line.split("\t")[1] for line in out.splitlines()] == [
        "docs(readme): say what widgets does",
        "test: add test_app.py",
    ]
    assert "not a Conventional Commits subject" in err
    assert log(work)[:2] == ["test: add test_app.py", "docs(readme): say what widgets does"]
    assert status(work) == "?? src/app.py\n"  # the rejected group is left as it was
