"""Failure classification on the real captured outputs (reference/clients.md §1.4, §2.3,
§3.3) and on the edge cases that bit earlier orchestrators."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from orch.agents import adapter_for
from orch.agents.classify import Evidence, classify, parse_reset
from orch.config.model import load_config

FIX = Path(__file__).parent / "fixtures" / "agents"
NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
CONFIG = load_config(None, None)
CODEX_STDERR = "Reading additional input from stdin...\n"

CASES = [
    # agent, fixture, exit code, class, detail
    ("claude", "claude-not-logged-in.json", 1, "auth", "Not logged in · Please run /login"),
    ("claude", "claude-401.json", 1, "auth", "Invalid API key · Fix external API key"),
    (
        "claude",
        "claude-403.json",
        1,
        "auth",
        "Failed to authenticate. API Error: 403 Your API key does not have permission.",
    ),
    ("claude", "claude-credit-too-low.json", 1, "usage_limit", "Credit balance is too low"),
    (
        "claude",
        "claude-429.json",
        1,
        "rate_limit",
        "API Error: Request rejected (429) · This request would exceed the rate limit for your organization.",
    ),
    (
        "claude",
        "claude-429-usage-limit.json",
        1,
        "usage_limit",
        "API Error: Request rejected (429) · Usage limit reached.",
    ),
    ("claude", "claude-529.json", 1, "overloaded", None),
    ("claude", "claude-500.json", 1, "overloaded", None),
    (
        "claude",
        "claude-connection-refused.json",
        1,
        "overloaded",
        "API Error: Unable to connect to API (ConnectionRefused)",
    ),
    ("claude", "claude-request-timeout.json", 1, "overloaded", "Request timed out"),
    (
        "claude",
        "claude-max-turns.json",
        1,
        "failed",
        "the agent reached its maximum number of turns",
    ),
    ("claude", "claude-success.json", 0, "no_result", None),
    ("claude", "claude-structured.json", 0, None, ""),
    (
        "codex",
        "codex-missing-env.jsonl",
        1,
        "auth",
        "Missing environment variable: `FAKE_OPENAI_KEY`.",
    ),
    ("codex", "codex-401.jsonl", 1, "auth", None),
    (
        "codex",
        "codex-429.jsonl",
        1,
        "rate_limit",
        "exceeded retry limit, last status: 429 Too Many Requests",
    ),
    (
        "codex",
        "codex-quota.jsonl",
        1,
        "usage_limit",
        "Quota exceeded. Check your plan and billing details.",
    ),
    (
        "codex",
        "codex-usage-limit.jsonl",
        1,
        "usage_limit",
        "You’ve hit your usage limit. Try again later.",
    ),
    ("codex", "codex-500.jsonl", 1, "overloaded", None),
    ("codex", "codex-529.jsonl", 1, "overloaded", None),
    ("codex", "codex-success.jsonl", 0, "no_result", None),
    ("opencode", "opencode-401.jsonl", 1, "auth", "Incorrect API key provided: sk-fake."),
    ("opencode", "opencode-429.jsonl", 1, "rate_limit", None),
    ("opencode", "opencode-quota.jsonl", 1, "usage_limit", None),
    ("opencode", "opencode-529.jsonl", 1, "overloaded", None),
    ("opencode", "opencode-500.jsonl", 1, "overloaded", None),
    ("opencode", "opencode-connection-refused.jsonl", 1, "overloaded", None),
    (
        "opencode",
        "opencode-unknown-error.jsonl",
        1,
        "failed",
        "Unexpected server error. Check server logs for details.",
    ),
    ("opencode", "opencode-success.jsonl", 0, "no_result", None),
]


@pytest.mark.parametrize(
    ("agent", "fixture", "code", "cls", "detail"), CASES, ids=[c[1] for c in CASES]
)
def test_captured_outputs(
    agent: str, fixture: str, code: int, cls: str | None, detail: str | None
) -> None:
    stderr = CODEX_STDERR if agent == "codex" else ""
    out = adapter_for(CONFIG.agents[agent], CONFIG).parse(
        code, (FIX / fixture).read_text(), stderr, now=NOW
    )
    assert out.error_class == cls
    if detail is not None:
        assert out.error_detail == detail


def test_codex_connection_refused_needs_our_timeout() -> None:
    adapter = adapter_for(CONFIG.agents["codex"], CONFIG)
    out = adapter.parse(
        124,
        (FIX / "codex-connection-refused.jsonl").read_text(),
        CODEX_STDERR,
        timed_out=True,
        now=NOW,
    )
    assert out.error_class == "timeout"


def test_benign_warning_does_not_mask_a_timeout() -> None:
    adapter = adapter_for(CONFIG.agents["claude"], CONFIG)
    stderr = "warning: rate limit headers missing; API Error: Request rejected (429)\n"
    assert adapter.parse(-9, "", stderr, timed_out=True).error_class == "timeout"
    assert adapter.parse(-9, "", stderr, idle_killed=True).error_class == "stuck"


def test_warning_on_a_successful_run_is_not_an_error() -> None:
    adapter = adapter_for(CONFIG.agents["claude"], CONFIG)
    out = adapter.parse(
        0,
        (FIX / "claude-structured.json").read_text(),
        "warning: Invalid API key format in ~/.old-config (ignored)\n",
    )
    assert out.error_class is None


@pytest.mark.parametrize(
    "text",
    [
        "diff --git a/http.py\n+    if status == 401:\n+        raise Unauthorized()\n",
        "Fixed the handler for HTTP 429 responses in retry.py",
        "error in tests: expected 401 got 200",
    ],
)
def test_bare_status_numbers_in_unrelated_text_do_not_classify(text: str) -> None:
    assert classify(Evidence(exit_code=1, stderr=text)).error_class == "failed"
    assert classify(Evidence(exit_code=1, messages=(text,), fatal=True)).error_class == "failed"


def test_missing_tool_names_the_tool() -> None:
    got = classify(Evidence(exit_code=127, stderr="sh: 1: cargo: not found\n"))
    assert (got.error_class, got.detail) == ("missing_tool", "required tool not found: cargo")
    got = classify(Evidence(exit_code=1, stderr="bash: line 1: terraform: command not found\n"))
    assert (got.error_class, got.detail) == ("missing_tool", "required tool not found: terraform")


def test_interactive_prompt_text() -> None:
    got = classify(Evidence(exit_code=1, stderr="Overwrite existing file? (y/n)\n"))
    assert got.error_class == "interactive_prompt"


def test_context_overflow() -> None:
    got = classify(
        Evidence(
            exit_code=1,
            status_code=400,
            fatal=True,
            messages=("API Error: 400 prompt is too long: 210000 tokens > 200000 maximum",),
        )
    )
    assert got.error_class == "context_overflow"


def test_clean_run_without_result_is_no_result_not_done() -> None:
    got = classify(Evidence(exit_code=0, has_result=False, result_problem="no result object"))
    assert (got.error_class, got.detail) == ("no_result", "no result object")


def test_killed_process_is_failed() -> None:
    assert classify(Evidence(exit_code=-15)).detail == "the agent was killed (exit -15)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "You've hit your usage limit. Try again in 2 hours 30 minutes.",
            datetime(2026, 11, 21, 10, 30, tzinfo=UTC),
        ),
        (
            "You’ve hit your usage limit. Upgrade or try again in 4 days 2 hours 10 minutes.",
            datetime(2026, 11, 25, 10, 10, tzinfo=UTC),
        ),
        (
            "5-hour limit reached ∙ resets 3pm (Europe/Berlin)",
            datetime(2026, 11, 21, 14, 0, tzinfo=UTC),
        ),
        ("You've hit your limit · resets 7am", datetime(2026, 11, 22, 7, 0, tzinfo=UTC)),
        ("Usage limit; resets at 2026-11-21T12:00:00Z", datetime(2026, 11, 21, 12, 0, tzinfo=UTC)),
        ("Claude AI usage limit reached|1795000000", datetime.fromtimestamp(1795000000, UTC)),
        ("You’ve hit your usage limit. Try again later.", None),
    ],
)
def test_reset_times(text: str, expected: datetime | None) -> None:
    assert parse_reset(text, NOW) == expected


def test_usage_limit_with_reset_time_through_the_adapter() -> None:
    adapter = adapter_for(CONFIG.agents["codex"], CONFIG)
    msg = "You’ve hit your usage limit. Try again in 3 hours."
    stdout = (
        '{"type":"thread.started","thread_id":"t"}\n'
        f'{{"type":"turn.failed","error":{{"message":"{msg}"}}}}\n'
    )
    out = adapter.parse(1, stdout, CODEX_STDERR, now=NOW)
    assert (out.error_class, out.reset_at) == (
        "usage_limit",
        datetime(2026, 11, 21, 11, 0, tzinfo=UTC),
    )


def test_structured_error_without_text_is_failed() -> None:
    got = classify(Evidence(exit_code=0, fatal=True, subtype="error_during_execution"))
    assert (got.error_class, got.detail) == (
        "failed",
        "the agent reported an error (error_during_execution)",
    )
