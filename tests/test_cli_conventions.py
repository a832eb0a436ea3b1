"""gh's conventions (SPEC §12): help on a bare `orch`, `--jq`, one JSON document under
--dry-run, completion scripts, tables on a terminal and TSV in a pipe, global options
after the sub-command, help pages with one-line summaries, word metavars and examples,
and GH_HOST honoured as gh honours it."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import yaml

from orch.cli import build_command, run
from tests.emulator.server import Emulator
from tests.helpers import Repo, Result, run_orch

Orch = Callable[..., Result]


@pytest.fixture
def project(orch: Orch) -> Orch:
    assert orch("init", "--local").code == 0
    assert orch("task", "add", "Fix login", "--label", "bug").out == "1\n"
    assert orch("task", "add", "Tidy [docs]", "--agent", "codex").out == "2\n"
    return orch


def test_bare_orch_prints_help_on_stdout_and_exits_0(orch: Orch) -> None:
    done = orch()
    assert (done.code, done.err) == (0, ""), done
    assert done.out.startswith("Usage: orch [OPTIONS] COMMAND [ARGS]...\n")
    assert "Examples:" in done.out and "Exit codes:" in done.out
    group = orch("task")
    assert (group.code, group.err) == (0, ""), group
    assert group.out.startswith("Usage: orch task [OPTIONS] COMMAND [ARGS]...\n")


def test_jq_filters_and_implies_json(project: Orch) -> None:
    numbers = project("task", "list", "--jq", ".tasks[].number")
    assert (numbers.code, numbers.out) == (0, "1\n2\n"), numbers
    titles = project("task", "list", '--jq=.tasks[] | select(.agent == "codex") | .title')
    assert titles.out == "Tidy [docs]\n", titles
    task = project("task", "get", "1", "--jq", ".task | {number, status}")
    assert json.loads(task.out) == {"number": 1, "status": "new"}, task


def test_jq_errors_are_one_line_usage_errors(project: Orch) -> None:
    bad = project("task", "list", "--jq", ".tasks[")
    assert bad.code == 2, bad
    assert bad.out == "" and len(bad.err.splitlines()) == 1
    assert bad.err.startswith("orch: --jq '.tasks[': ")
    nowhere = project("task", "attach", "1", "--jq", ".")
    assert (nowhere.code, nowhere.err) == (
        2,
        "orch: --jq works only with commands that have --json\n",
    ), nowhere
    missing = project("task", "list", "--jq")
    assert missing.code == 2 and "--jq needs an expression" in missing.err


def test_dry_run_json_is_one_document_with_the_writes(project: Orch, repo: Repo) -> None:
    done = project("task", "add", "Three", "--dry-run", "--json")
    assert done.code == 0, done
    data = json.loads(done.out)
    assert data["schema"] == 1 and data["dry_run"] is True
    assert data["task"]["title"] == "Three"
    assert data["would"] == [
        'would: POST repos/local/widgets/issues {"body": "", "labels": ["status:new"], '
        '"title": "Three"}'
    ]
    assert done.err == data["would"][0] + "\n"
    assert not (repo.work / ".orch" / "local" / "issues" / "3.json").exists()
    assigned = json.loads(project("task", "assign", "1", "claude", "--dry-run", "--json").out)
    assert assigned["changes"][0]["to"] == "routed"
    assert len(assigned["would"]) == 1
    run_plan = json.loads(project("task", "run", "2", "--dry-run", "--json").out)
    assert run_plan["run"] is None and run_plan["would"][0].startswith("would: set task #2")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(orch: Orch, shell: str) -> None:
    done = orch("completion", shell)
    assert done.code == 0, done
    assert "_ORCH_COMPLETE=complete_" + shell in done.out.replace("%(", "")
    assert "orch" in done.out


def test_completion_answers_the_shell(orch: Orch, orch_env: dict[str, str], repo: Repo) -> None:
    env = {
        **orch_env,
        "_ORCH_COMPLETE": "complete_bash",
        "COMP_WORDS": "orch task ro",
        "COMP_CWORD": "2",
    }
    done = run_orch(cwd=repo.work, env=env)
    assert (done.code, done.out) == (0, "route\n"), done
    unknown = orch("completion", "tcsh")
    assert (unknown.code, unknown.err) == (
        2,
        "orch: completion 'tcsh': use one of bash, zsh, fish\n",
    )


def test_lists_are_tab_separated_without_header_in_a_pipe(project: Orch) -> None:
    done = project("task", "list")
    assert done.out == "#1\tnew\t-\tFix login\n#2\tnew\tcodex\tTidy [docs]\n", done


def _on_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Run orch with stdout on a pseudo-terminal; what it printed there."""
    leader, follower = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "orch", *args],
        cwd=cwd,
        env={**env, "COLUMNS": "100", "NO_COLOR": "1"},
        stdout=follower,
        stderr=subprocess.PIPE,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    child.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_lists_have_a_header_row_on_a_terminal(
    project: Orch, repo: Repo, orch_env: dict[str, str]
) -> None:
    shown = _on_terminal(["task", "list"], repo.work, orch_env)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", shown)  # the header is bold
    lines = [line.rstrip() for line in plain.splitlines()]
    assert lines == [
        "TASK  STATUS  AGENT  TITLE",
        "#1    new     -      Fix login",
        "#2    new     codex  Tidy [docs]",
    ], shown


def test_global_options_work_after_the_subcommand(
    project: Orch, repo: Repo, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = project("task", "list", "--project", str(repo.work), "-q", cwd=elsewhere)
    assert (done.code, done.out) == (0, "#1\tnew\t-\tFix login\n#2\tnew\tcodex\tTidy [docs]\n")
    verbose = project("task", "get", "1", "--json", "--verbose")
    assert verbose.code == 0 and json.loads(verbose.out)["task"]["number"] == 1


def _jq_examples() -> list[str]:
    from orch.commands.help_text import HELP

    # `task publish` needs GitHub: tests/test_internal_tasks.py runs it.
    return [
        e
        for _, examples in HELP.values()
        for e in examples
        if "--jq" in e and "task publish" not in e
    ]


@pytest.mark.parametrize("example", _jq_examples())
def test_every_jq_example_in_the_help_selects_from_real_output(project: Orch, example: str) -> None:
    argv = shlex.split(example.replace(" 12", " 1"))[1:]

    done = project(*argv)

    assert done.code == 0 and "--jq" not in done.err, (example, done)


@pytest.mark.parametrize("where", ["before", "after"])
def test_jq_with_a_global_option_that_takes_a_value(
    project: Orch, repo: Repo, tmp_path: Path, where: str
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    command = ["task", "get", "1", "--jq", ".task.title"]
    scope = ["--project", str(repo.work)]
    argv = scope + command if where == "before" else command + scope

    done = project(*argv, cwd=elsewhere)

    assert (done.code, done.out, done.err) == (0, "Fix login\n", ""), done


def _pages() -> Iterator[tuple[str, object]]:
    def walk(command: object, path: tuple[str, ...]) -> Iterator[tuple[str, object]]:
        yield " ".join(path), command
        for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
            yield from walk(sub, (*path, name))

    yield from walk(build_command(), ())


def _help(path: str) -> str:
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        assert run([*path.split(), "--help"]) == 0
    return buffer.getvalue()


def test_every_help_page_has_examples_word_metavars_and_short_summaries() -> None:
    for path, command in _pages():
        page = _help(path)
        assert "\nExamples:\n" in page.replace("  Examples:", "Examples:"), path
        assert "<str>" not in page and "<int>" not in page and "<list[" not in page, (path, page)
        assert "{" not in page.splitlines()[0], (path, page.splitlines()[0])
        summary = command.get_short_help_str(limit=200)  # type: ignore[attr-defined]
        assert len(summary) <= 60 and not summary.endswith("..."), (path, summary)
    listing = _help("task")
    assert "..." not in listing.split("Commands:")[1], listing


def test_choices_are_listed_in_help() -> None:
    page = _help("task list")
    assert "--status STATUS" in page
    assert "new, routed, in_progress, in_review, needs_review, blocked, done" in " ".join(
        page.split()
    )


def test_gh_host_is_the_default_host(
    repo: Repo, gh_env: dict[str, str], emulator: Emulator
) -> None:
    # gh.repo only: the host comes from GH_HOST, as it does for gh itself.
    (repo.work / ".orch.yml").write_text(yaml.safe_dump({"gh": {"repo": "acme/widgets"}}))
    emulator.add_issue("From GH_HOST", labels=["status:new"])
    env = {**gh_env, "GH_HOST": emulator.host}
    done = run_orch("task", "list", "--json", cwd=repo.work, env=env)
    assert done.code == 0, done
    assert [t["title"] for t in json.loads(done.out)["tasks"]] == ["From GH_HOST"]
    shown = run_orch("config", "get", "gh.host", cwd=repo.work, env=env)
    assert shown.out == f"{emulator.host}\n", shown
    without = run_orch("config", "get", "gh.host", cwd=repo.work, env=gh_env)
    assert without.out == "github.com\n", without
