"""The agent-response comment and the PR body (pure rendering)."""

from __future__ import annotations

from orch.clock import format_duration
from orch.run.render import AttemptReport, agent_response, badge, pr_body, pr_title

REPORT = AttemptReport(
    number=7,
    attempt=2,
    agent="codex",
    model="gpt-5.2",
    status="done",
    task_status="in_review",
    duration_s=125.4,
    tokens_in=12345,
    tokens_out=678,
    cost_usd=0.5,
    prompt_hash="abc123",
    branch="orch/7-fix-it",
    pr=9,
    summary="Fixed the parser",
    accomplished=("parser handles | pipes",),
    files_changed=("src/parse.py",),
    learnings=("run make test",),
    stderr_tail="warning: something\n",
    prompt="# Task #7\n```\ncode\n```\n",
)


def test_agent_response_whole_text() -> None:
    data, text = agent_response(REPORT)
    assert data == {
        "attempt": 2,
        "agent": "codex",
        "model": "gpt-5.2",
        "status": "done",
        "task_status": "in_review",
        "duration_s": 125.4,
        "tokens_in": 12345,
        "tokens_out": 678,
        "cost_usd": 0.5,
        "prompt_hash": "abc123",
        "branch": "orch/7-fix-it",
        "pr": 9,
        "error_class": None,
        "learnings": ["run make test"],
    }
    assert text == (
        "### 🟢 Codex: Fixed the parser\n"
        "\n"
        "| | |\n"
        "|---|---|\n"
        "| Status | `done` → `status:in_review` |\n"
        "| Agent | codex |\n"
        "| Model | gpt-5.2 |\n"
        "| Attempt | 2 |\n"
        "| Duration | 2m 05s |\n"
        "| Tokens | 12,345 in / 678 out |\n"
        "| Cost | $0.5000 |\n"
        "| Prompt hash | `abc123` |\n"
        "| Branch | `orch/7-fix-it` |\n"
        "| Pull request | #9 |\n"
        "\n"
        "#### Accomplished\n"
        "\n"
        "- parser handles | pipes\n"
        "\n"
        "#### Files changed\n"
        "\n"
        "- `src/parse.py`\n"
        "\n"
        "#### Learnings\n"
        "\n"
        "- run make test\n"
        "\n"
        "<details>\n<summary>Agent stderr (tail)</summary>\n\n```\nwarning: something\n```\n\n</details>\n"
        "\n"
        "<details>\n<summary>Prompt sent</summary>\n\n````\n# Task #7\n```\ncode\n```\n````\n\n</details>\n"
        "\n"
        "<sub>Posted by orch · comment `/help` on this issue for the commands it understands</sub>"
    )


def test_failure_has_errors_section_and_fallback_summary() -> None:
    from dataclasses import replace

    report = replace(
        REPORT,
        status="failed",
        task_status="needs_review",
        error_class="timeout",
        error_detail="the agent ran past its wall-clock timeout",
        summary="",
        warnings=("1 tool call(s) were denied permission",),
        pr=None,
    )
    data, text = agent_response(report)
    assert data["error_class"] == "timeout"
    lines = text.splitlines()
    assert lines[0] == "### 🟢 Codex: attempt 2 failed (timeout)"
    start = lines.index("#### Errors & blockers")
    assert lines[start + 2 : start + 4] == [
        "- **timeout**: the agent ran past its wall-clock timeout",
        "- ⚠️ 1 tool call(s) were denied permission",
    ]


def test_comment_is_capped() -> None:
    from dataclasses import replace

    _, text = agent_response(
        replace(REPORT, accomplished=tuple("x" * 400 for _ in range(500)), prompt="p" * 200_000)
    )
    assert len(text) <= 60_000


def test_pr_body_and_title() -> None:
    assert pr_body(REPORT) == (
        "## Summary\n\nFixed the parser\n\n"
        "### What was done\n\n- parser handles | pipes\n\n"
        "### Files changed\n\n- `src/parse.py`\n\n"
        "Closes #7\n\n"
        "<sub>Opened by orch: 🟢 Codex (gpt-5.2), attempt 2.</sub>"
    )
    assert pr_title("  Fix\nthe   thing ", 7) == "Fix the thing"
    assert pr_title("", 7) == "orch task #7"


def test_badges_and_durations() -> None:
    assert [badge(a) for a in ("claude", "codex", "opencode", "kimi")] == [
        "🟣 Claude",
        "🟢 Codex",
        "🔵 OpenCode",
        "🤖 kimi",
    ]
    assert [format_duration(s) for s in (0, 59.6, 61, 3725)] == [
        "0s",
        "1m 00s",
        "1m 01s",
        "1h 02m 05s",
    ]
