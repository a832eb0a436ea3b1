"""Parsing the real captured outputs (tests/fixtures/agents) into AgentOutcome."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orch.agents import adapter_for
from orch.agents.base import AgentOutcome
from orch.config.model import Config, load_config

FIX = Path(__file__).parent / "fixtures" / "agents"
NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
RESULT = {
    "status": "done",
    "summary": "Added NOTES.md",
    "reason": "",
    "accomplished": ["wrote NOTES.md"],
    "remaining": [],
    "blockers": [],
    "files_changed": ["NOTES.md"],
    "needs_help": False,
    "learnings": [],
}
ROUTE = {"executor": "codex", "complexity": "complex", "reason": "fake router"}
CODEX_STDERR = "Reading additional input from stdin...\n"


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(None, None)


def parse(
    config: Config,
    agent: str,
    fixture: str,
    code: int,
    *,
    mode: str = "run",
    stderr: str = "",
    **kw: object,
) -> AgentOutcome:
    adapter = adapter_for(config.agents[agent], config)
    return adapter.parse(code, (FIX / fixture).read_text(), stderr, mode=mode, now=NOW, **kw)  # type: ignore[arg-type]


def test_claude_stream_json_run(config: Config) -> None:
    out = parse(config, "claude", "claude-stream-success.jsonl", 0)
    assert out.error_class is None
    assert out.result == RESULT
    assert out.usage.tokens_in == 1500  # input + cache read + cache creation
    assert out.usage.tokens_out == 250
    assert out.usage.cost_usd == pytest.approx(0.01234)
    assert out.usage.turns == 3
    assert out.usage.duration_s == pytest.approx(1.45)
    assert out.usage.model == "claude-opus-4-8[1m]"
    assert out.session_id == "5b0c7f6e-1d2a-4f8e-9a51-3e0c2d9b7a11"
    assert out.permission_denials == ()


def test_claude_json_route(config: Config) -> None:
    out = parse(config, "claude", "claude-route.json", 0, mode="route")
    assert (out.error_class, out.result) == (None, ROUTE)


def test_claude_plain_success_without_result_is_no_result(config: Config) -> None:
    out = parse(config, "claude", "claude-success.json", 0)
    assert out.result is None
    assert out.error_class == "no_result"
    assert out.final_text == "hi from fake"
    assert out.usage.cost_usd == pytest.approx(0.000185)
    assert out.session_id == "90688d23-9408-4268-bb0f-5dee48a99a85"


def test_claude_missing_structured_output_key_is_no_result(config: Config) -> None:
    out = parse(config, "claude", "claude-no-structured.json", 0)
    assert (out.error_class, out.result) == ("no_result", None)


def test_claude_permission_denials_are_reported(config: Config) -> None:
    out = parse(config, "claude", "claude-permission-denied.json", 0)
    assert out.result == RESULT
    assert out.permission_denials == (
        {
            "tool_name": "Bash",
            "tool_use_id": "toolu_1",
            "tool_input": {"command": "git commit -qm x"},
        },
    )


def test_claude_text_mode_failure_on_stdout(config: Config) -> None:
    out = parse(config, "claude", "claude-text-429.stdout", 1)
    assert out.error_class == "rate_limit"


def test_claude_needs_verbose_is_failed_with_the_message(config: Config) -> None:
    out = adapter_for(config.agents["claude"], config).parse(
        1, "", (FIX / "claude-stream-verbose-required.stderr").read_text(), now=NOW
    )
    assert out.error_class == "failed"
    assert out.error_detail == (
        "Error: When using --print, --output-format=stream-json requires --verbose"
    )


def test_codex_run_with_output_file(config: Config) -> None:
    out = parse(
        config,
        "codex",
        "codex-result.jsonl",
        0,
        stderr=CODEX_STDERR,
        output_file_text=(FIX / "codex-result.last-message.txt").read_text(),
    )
    assert out.error_class is None
    assert out.result == RESULT
    assert (out.usage.tokens_in, out.usage.tokens_out, out.usage.turns) == (2400, 310, 1)
    assert out.usage.cost_usd is None
    assert out.session_id == "01a1fcc3-4cfe-73f0-8614-4e9d810228a2"
    assert out.failed_commands == ("/bin/bash -lc 'exit 3' (exit 3)",)


def test_codex_result_from_last_agent_message_without_output_file(config: Config) -> None:
    out = parse(config, "codex", "codex-result.jsonl", 0, stderr=CODEX_STDERR)
    assert out.result == RESULT


def test_codex_route(config: Config) -> None:
    out = parse(config, "codex", "codex-route.jsonl", 0, mode="route", stderr=CODEX_STDERR)
    assert (out.error_class, out.result) == (None, ROUTE)


def test_codex_warning_item_is_not_an_error(config: Config) -> None:
    out = parse(config, "codex", "codex-success.jsonl", 0, stderr=CODEX_STDERR)
    assert out.error_class == "no_result"  # "hi from fake" is no result object
    assert out.final_text == "hi from fake"
    assert (out.usage.tokens_in, out.usage.tokens_out) == (24, 10)


def test_opencode_run_result(config: Config) -> None:
    out = parse(config, "opencode", "opencode-result.jsonl", 0)
    assert out.error_class is None
    assert out.result == RESULT
    assert (out.usage.tokens_in, out.usage.tokens_out, out.usage.turns) == (1900, 160, 2)
    assert out.usage.cost_usd == pytest.approx(0.005)
    assert out.session_id == "ses_e033a7883ffeRRjOXM615bu867"
    assert out.final_text.startswith("Done.\n{")


def test_opencode_route(config: Config) -> None:
    out = parse(config, "opencode", "opencode-route.jsonl", 0, mode="route")
    assert (out.error_class, out.result) == (None, ROUTE)


def test_opencode_auto_reject_is_interactive_prompt(config: Config) -> None:
    out = parse(
        config,
        "opencode",
        "opencode-auto-reject.jsonl",
        0,
        stderr=(FIX / "opencode-auto-reject.stderr").read_text(),
    )
    assert out.error_class == "interactive_prompt"
    assert out.result is None


def test_command_agent_json_and_text(tmp_path: Path) -> None:
    (tmp_path / ".orch.yml").write_text(
        "agents:\n  j: {command: j, output: json}\n  t: {command: t}\n"
    )
    config = load_config(None, tmp_path)
    j = adapter_for(config.agents["j"], config).parse(
        0,
        '{"result": ' + json.dumps(RESULT) + ', "usage": {"tokens_in": 5, "cost_usd": 0.5}}\n',
        "",
        now=NOW,
    )
    assert (j.error_class, j.result, j.usage.tokens_in, j.usage.cost_usd) == (None, RESULT, 5, 0.5)
    t = adapter_for(config.agents["t"], config).parse(
        0, "I did it.\n```json\n" + json.dumps(RESULT) + "\n```\n", "", now=NOW
    )
    assert (t.error_class, t.result) == (None, RESULT)
    bad = adapter_for(config.agents["t"], config).parse(0, '{"status": "finished"}', "", now=NOW)
    assert (bad.error_class, bad.result) == ("no_result", None)


def test_invalid_result_status_is_never_done(config: Config) -> None:
    text = '{"type":"result","subtype":"success","is_error":false,"result":"x","structured_output":{"status":"DONE!","summary":"s"}}'
    out = adapter_for(config.agents["claude"], config).parse(0, text, "", now=NOW)
    assert out.result is None
    assert out.error_class == "no_result"
    assert "status" in out.error_detail
