"""Readable lines from captured agent output streams (`orch task logs`)."""

from __future__ import annotations

from pathlib import Path

from orch.agents.transcript import describe, render

FIXTURES = Path(__file__).parent / "fixtures" / "agents"


def lines(name: str) -> list[str]:
    return render((FIXTURES / name).read_text().splitlines())


def test_claude_stream() -> None:
    shown = lines("claude-stream-success.jsonl")
    assert shown[:3] == [
        "session started (model claude-opus-4-8[1m])",
        "API retry 1: overloaded",
        '🔧 Bash: printf \'%s\\n\' "edited by fake model" >> NOTES.md && git add NOTES.md && git commit -qm "fake model edit"',
    ]
    assert shown[-1].startswith('✅ result ($0.0123): {"status":"done","summary":"Added NOTES.md"')


def test_codex_stream() -> None:
    assert lines("codex-success.jsonl") == [
        "warning: Model metadata for `fake-model` not found. Defaulting to fallback metadata; "
        "this can degrade performance and cause issues.",
        "🔧 shell: /bin/bash -lc 'echo fake-tool-ran'",
        "💬 hi from fake",
        "turn completed (24 in / 10 out)",
    ]


def test_opencode_stream() -> None:
    shown = lines("opencode-success.jsonl")
    assert shown and shown[-1].startswith("step finished (")


def test_plain_and_broken_lines() -> None:
    assert describe("  plain text  ") == "plain text"
    assert describe("{not json") == "{not json"
    assert describe("") == ""
    assert (
        describe(
            '{"type":"user","message":{"content":[{"type":"tool_result","is_error":true,"content":"boom"}]}}'
        )
        == "   ✗ boom"
    )
    assert len(describe("x" * 500)) == 160
