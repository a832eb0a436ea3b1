"""Rendering of the texts orch posts about an attempt (SPEC §2.3, §6.5). Pure.

`agent_response()` gives the `orch:agent-response` marker data and the Markdown of the
comment; `pr_body()` the pull-request body. Callers redact the results before posting
(orch.io.redact); these functions only lay text out and cap its size.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from orch import taskid
from orch.clock import format_duration

# GitHub refuses comment bodies over 65536 characters; stay well below.
MAX_COMMENT = 60_000
STDERR_TAIL = 3_000
PROMPT_SHOWN = 10_000
LIST_ITEMS = 30

BADGES = {"claude": "🟣 Claude", "codex": "🟢 Codex", "opencode": "🔵 OpenCode"}
FOOTER = "<sub>Posted by orch · comment `/help` on this issue for the commands it understands</sub>"


@dataclass(frozen=True)
class AttemptReport:
    """Everything one attempt's comment says."""

    number: int
    attempt: int
    agent: str
    model: str | None
    status: str  # the agent's result status, or "failed" when there is no result
    task_status: str  # the status the task moves to
    duration_s: float
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    prompt_hash: str = ""
    branch: str = ""
    pr: int | None = None
    pr_url: str = ""
    error_class: str | None = None
    error_detail: str = ""
    summary: str = ""
    reason: str = ""
    accomplished: Sequence[str] = ()
    remaining: Sequence[str] = ()
    blockers: Sequence[str] = ()
    files_changed: Sequence[str] = ()
    learnings: Sequence[str] = ()
    warnings: Sequence[str] = ()  # facts that contradict the agent's report
    stderr_tail: str = ""
    prompt: str = ""
    pushed_sha: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def badge(agent: str) -> str:
    return BADGES.get(agent, f"🤖 {agent}")


def marker_data(report: AttemptReport) -> dict[str, Any]:
    """The machine-readable facts of the comment (SPEC §2.3, plus what History reads)."""
    data: dict[str, Any] = {
        "attempt": report.attempt,
        "agent": report.agent,
        "model": report.model,
        "status": report.status,
        "task_status": report.task_status,
        "duration_s": round(report.duration_s, 1),
        "tokens_in": report.tokens_in,
        "tokens_out": report.tokens_out,
        "cost_usd": round(report.cost_usd, 6),
        "prompt_hash": report.prompt_hash,
        "branch": report.branch,
        "pr": report.pr,
        "error_class": report.error_class,
    }
    if report.learnings:
        data["learnings"] = [_cap(x, 300) for x in report.learnings[:10]]
    if report.blockers:
        data["blockers"] = [_cap(x, 300) for x in report.blockers[:10]]
    if report.pushed_sha:
        data["head_sha"] = report.pushed_sha
    data.update(report.extra)
    return data


def agent_response(report: AttemptReport) -> tuple[dict[str, Any], str]:
    """(marker data, Markdown) of the `orch:agent-response` comment."""
    lines: list[str] = []
    summary = _one_line(report.summary) or _fallback_summary(report)
    lines.append(f"### {badge(report.agent)}: {summary}")
    lines.append("")
    lines += _metadata_table(report)
    lines.append("")
    errors = _errors(report)
    if errors:
        lines += ["#### Errors & blockers", "", *errors, ""]
    for title, items in (
        ("Accomplished", report.accomplished),
        ("Remaining", report.remaining),
    ):
        if items:
            lines += [f"#### {title}", "", *_bullets(items), ""]
    if report.files_changed:
        lines += ["#### Files changed", "", *_bullets(report.files_changed, code=True), ""]
    if report.learnings:
        lines += ["#### Learnings", "", *_bullets(report.learnings), ""]
    if report.stderr_tail.strip():
        lines += _details("Agent stderr (tail)", _tail(report.stderr_tail, STDERR_TAIL))
    if report.prompt.strip():
        lines += _details("Prompt sent", _cap(report.prompt, PROMPT_SHOWN))
    lines.append(FOOTER)
    text = "\n".join(lines)
    if len(text) > MAX_COMMENT:
        text = text[: MAX_COMMENT - 40] + "\n\n… (comment truncated)\n"
    return marker_data(report), text


def _metadata_table(report: AttemptReport) -> list[str]:
    tokens = f"{report.tokens_in:,} in / {report.tokens_out:,} out"
    status = f"`{report.status}`"
    if report.task_status and report.task_status != report.status:
        status += f" → `status:{report.task_status}`"
    rows = [
        ("Status", status),
        ("Agent", report.agent),
        ("Model", report.model or "default"),
        ("Attempt", str(report.attempt)),
        ("Duration", format_duration(report.duration_s)),
        ("Tokens", tokens),
        ("Cost", f"${report.cost_usd:.4f}"),
        ("Prompt hash", f"`{report.prompt_hash}`" if report.prompt_hash else "—"),
    ]
    if report.branch:
        rows.append(("Branch", f"`{report.branch}`"))
    if report.pr:
        rows.append(("Pull request", f"#{report.pr}"))
    out = ["| | |", "|---|---|"]
    out += [f"| {key} | {_cell(value)} |" for key, value in rows]
    return out


def _errors(report: AttemptReport) -> list[str]:
    items: list[str] = []
    if report.error_class:
        detail = _one_line(report.error_detail)
        items.append(f"- **{report.error_class}**" + (f": {detail}" if detail else ""))
    # A done that ships a PR needs no reason; a done that asks a human says why.
    if report.reason and (report.status != "done" or report.task_status == "needs_review"):
        items.append(f"- Reason: {_one_line(report.reason)}")
    items += [f"- Blocker: {_one_line(b)}" for b in report.blockers[:LIST_ITEMS]]
    items += [f"- ⚠️ {_one_line(w)}" for w in report.warnings]
    return items


def _fallback_summary(report: AttemptReport) -> str:
    if report.error_class:
        return f"attempt {report.attempt} failed ({report.error_class})"
    return f"attempt {report.attempt} finished ({report.status})"


def pr_title(issue_title: str, number: int) -> str:
    """PR titles come from the issue title (agents' summaries are too verbose)."""
    return _cap(_one_line(issue_title), 200) or f"orch task {taskid.ref(number)}"


def pr_body(report: AttemptReport) -> str:
    lines = ["## Summary", "", _cap(report.summary.strip(), 4000) or "(no summary)", ""]
    if report.accomplished:
        lines += ["### What was done", "", *_bullets(report.accomplished), ""]
    if report.remaining:
        lines += ["### Remaining", "", *_bullets(report.remaining), ""]
    if report.files_changed:
        lines += ["### Files changed", "", *_bullets(report.files_changed, code=True), ""]
    if taskid.is_internal(report.number):  # no issue to close: merge watch reads the branch
        lines += [f"orch internal task {taskid.text(report.number)}", ""]
    else:
        lines += [f"Closes #{report.number}", ""]
    model = f" ({report.model})" if report.model else ""
    lines.append(
        f"<sub>Opened by orch: {badge(report.agent)}{model}, attempt {report.attempt}.</sub>"
    )
    return "\n".join(lines)


def _bullets(items: Sequence[str], *, code: bool = False) -> list[str]:
    shown = [_one_line(str(x)) for x in items[:LIST_ITEMS] if str(x).strip()]
    out = [f"- `{x}`" if code else f"- {x}" for x in shown]
    if len(items) > LIST_ITEMS:
        out.append(f"- … and {len(items) - LIST_ITEMS} more")
    return out


def _details(summary: str, body: str) -> list[str]:
    fence = "`" * max(3, _longest_backtick_run(body) + 1)
    return [
        "<details>",
        f"<summary>{summary}</summary>",
        "",
        fence,
        body.rstrip("\n"),
        fence,
        "",
        "</details>",
        "",
    ]


def _longest_backtick_run(text: str) -> int:
    runs = re.findall(r"`+", text)
    return max((len(r) for r in runs), default=0)


def _one_line(text: str) -> str:
    return _cap(" ".join(str(text).split()), 500)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tail(text: str, limit: int) -> str:
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]
