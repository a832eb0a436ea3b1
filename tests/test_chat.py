"""`orch chat`: the chat agent's prompt carries the open tasks, the answer is printed and
kept in the history, and a proposed command runs only once the owner confirms. Real
processes, the local store and the fake agent CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orch.assist import chat
from orch.clock import SystemClock
from orch.store.local import LocalStore
from tests.helpers import Repo
from tests.run_helpers import RunProject, make_run_project

REPO = "local/widgets"
PROMPTS = Path(__file__).resolve().parents[1] / "prompts"  # this checkout's templates


@pytest.fixture
def project(repo: Repo, orch_env: dict[str, str], tmp_path: Path) -> RunProject:
    p = make_run_project(repo, orch_env, tmp_path, "--local")
    p.configure(workflow={"prompts_dir": str(PROMPTS)})
    for title in ("Fix the login page", "Add dark mode"):
        assert p.orch("task", "add", title, "--body", "b").code == 0
    assert p.orch("task", "assign", "2", "claude").code == 0
    return p


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


def _labels(project: RunProject, number: int) -> list[str]:
    store = LocalStore(project.repo.work / ".orch" / "local", REPO, SystemClock())
    return sorted(store.get_issue(number).labels)


def test_one_message_gets_an_answer_from_a_prompt_holding_the_open_tasks(
    project: RunProject,
) -> None:
    project.scenario(
        {
            "claude": {
                "expect_argv_prefix": ["-p", "--output-format", "json"],
                "expect_argv_contains": [["--model", "haiku"]],
                "record": "calls/claude-{n}.json",
                "steps": [
                    {
                        "stdout": _answer(
                            "Nothing is running. #2 is routed to claude and waits for a tick."
                        )
                    }
                ],
            }
        }
    )

    done = project.orch("chat", "what is running?")

    assert done.code == 0, done
    assert done.out == "Nothing is running. #2 is routed to claude and waits for a tick.\n"
    (call,) = project.calls()
    prompt = call["stdin"]
    assert "#1 [new] agent: - — Fix the login page" in prompt
    assert "#2 [routed] agent: claude — Add dark mode" in prompt
    assert (
        "Running sessions on this host (0):" in prompt
        and "Cost today (UTC, this host): $0.00" in prompt
    )
    assert prompt.rstrip().endswith("The owner says:\n\nwhat is running?")
    assert "GH_TOKEN" not in call["env"] and call["cwd"] != str(project.repo.work)

    listed = project.orch("chat", "history")
    assert listed.code == 0, listed
    lines = listed.out.splitlines()
    assert lines[0].endswith("  claude/haiku  > what is running?")
    assert lines[1:] == ["    Nothing is running. #2 is routed to claude and waits for a tick."]
    assert project.orch("chat", "history", "--search", "DARK").out == ""
    found = json.loads(project.orch("chat", "history", "--search", "routed", "--json").out)
    assert [e["message"] for e in found["history"]] == ["what is running?"]


def test_a_proposed_command_runs_only_after_confirmation(project: RunProject) -> None:
    answer = 'I can close it for you.\nRUN: orch task close 1 --note "fixed upstream"'
    project.scenario({"claude": {"steps": [{"stdout": _answer(answer)}]}})

    refused = project.orch_input("n\n", "chat", "close task 1, it was fixed upstream")

    assert refused.code == 0, refused
    assert refused.out == "I can close it for you.\n"
    assert 'run `orch task close 1 --note "fixed upstream"`? [y/N] ' in refused.err
    assert "not run: orch task close 1" in refused.err
    assert "status:new" in _labels(project, 1)

    silent = project.orch("chat", "close task 1")  # no answer on stdin: not confirmed
    assert silent.code == 0, silent
    assert "status:new" in _labels(project, 1)

    confirmed = project.orch_input("y\n", "chat", "close task 1, it was fixed upstream")

    assert confirmed.code == 0, confirmed
    assert confirmed.out.startswith(
        'I can close it for you.\n$ orch task close 1 --note "fixed upstream"\n'
    )
    assert "status:done" in _labels(project, 1)
    history = json.loads(project.orch("chat", "history", "--json").out)["history"]
    assert [e["ran"] for e in history] == [
        [],
        [],
        [{"command": 'orch task close 1 --note "fixed upstream"', "exit_code": 0}],
    ]


def test_yes_runs_the_proposed_commands_without_asking(project: RunProject) -> None:
    project.scenario(
        {"claude": {"steps": [{"stdout": _answer("Done.\nRUN: orch task close 2\nRUN: rm -rf /")}]}}
    )

    done = project.orch("chat", "--yes", "close 2")

    assert done.code == 0, done
    assert "status:done" in _labels(project, 2)
    assert "rm -rf" not in done.out + done.err  # only orch commands are ever proposed


def test_repl_keeps_agent_and_model_sticky(project: RunProject) -> None:
    project.scenario(
        {
            "claude": {
                "expect_argv_contains": [["--model", "opus"]],
                "record": "calls/claude-{n}.json",
                "steps": [{"stdout": _answer("Hello from opus.")}],
            }
        }
    )

    done = project.orch_input("/agent\n/model opus\n/help\nhello\n/agent nope\n/quit\n", "chat")

    assert done.code == 0, done
    assert done.out.splitlines()[:2] == ["claude:haiku", "claude:opus"]
    assert "/agent [NAME]" in done.out and "Hello from opus." in done.out
    assert "orch: unknown agent 'nope'; configured: claude, codex, opencode" in done.out
    again = project.orch("chat", "hi")  # the choice outlives the session
    assert again.code == 0 and again.out == "Hello from opus.\n", again


def test_run_lines_are_parsed_and_only_orch_commands_kept() -> None:
    text = (
        "Sure.\nRUN: orch task retry 3\n- RUN: `orch tick`\nRUN: orch chat hi\nRUN: ls\nRUN: orch task retry 3\n"
        "RUN: orch --config /tmp/evil.yml task run 3\nRUN: orch service uninstall\nRUN: orch commit --yes\n"
        "RUN: orch task close 'unbalanced"
    )
    assert chat.proposed_commands(text) == ["orch task retry 3", "orch tick"]
    assert chat.answer_text_only(text) == "Sure."


def test_codex_as_the_chat_agent_read_only(project: RunProject) -> None:
    events = "".join(
        json.dumps(e) + "\n"
        for e in (
            {"type": "thread.started", "thread_id": "t-1"},
            {
                "type": "item.completed",
                "item": {"id": "i0", "type": "agent_message", "text": "Codex here."},
            },
            {
                "type": "turn.completed",
                "usage": {"input_tokens": 10, "cached_input_tokens": 0, "output_tokens": 3},
            },
        )
    )
    project.scenario(
        {
            "codex": {
                "expect_argv_contains": [["--sandbox", "read-only"]],
                "expect_argv_lacks": ["--output-schema"],
                "steps": [
                    {"write_after_flag": "-o", "text": "Codex here.\nRUN: orch tick"},
                    {"stdout": events},
                ],
            }
        }
    )

    done = project.orch_input("/agent codex\nhi\nn\n/quit\n", "chat")

    assert done.code == 0, done
    assert done.out == "codex:default\nCodex here.\n"
    assert "run `orch tick`? [y/N] " in done.err and "not run: orch tick" in done.err
