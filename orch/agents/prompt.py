"""The agent's prompts (SPEC §6.2): templates, untrusted-text cleaning, size caps.

Templates are Markdown files, `agent_system.md` and `agent_message.md`, shipped in the
`orch.prompts` package and overridable file by file from `workflow.prompts_dir`.

Template syntax (small on purpose):

- `{{name}}` is replaced by the variable's value (lists become one item per line);
  unknown names become empty.
- `{{#if name}}…{{else}}…{{/if}}` keeps the first part when `name` is non-blank, else the
  optional `{{else}}` part. Blocks may nest.
- Values are inserted once and never scanned again, so `{{…}}` inside an issue body stays
  literal text.

Untrusted text (issue body, comments, owner context) is cleaned (HTML comments,
zero-width and bidi control characters removed), capped, and wrapped in
`<untrusted-data>` blocks that the system prompt tells the agent to treat as data.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from orch.agents.result import schema_for
from orch.errors import ConfigError

SYSTEM_TEMPLATE = "agent_system.md"
MESSAGE_TEMPLATE = "agent_message.md"

BODY_CAP = 20_000
COMMENT_CAP = 4_000
CONTEXT_CAP = 8_000
MESSAGE_CAP = 120_000
SYSTEM_CAP = 40_000

_IF_RE = re.compile(
    r"\{\{#if\s+([A-Za-z_][A-Za-z0-9_]*)\s*\}\}"
    r"((?:(?!\{\{#if\s).)*?)"
    r"(?:\{\{else\}\}((?:(?!\{\{#if\s).)*?))?"
    r"\{\{/if\}\}",
    re.DOTALL,
)
_VAR_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_HTML_COMMENT_RE = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
# Zero-width and bidi controls, BOM, and C0/C1 controls other than \t and \n.
_INVISIBLE_RE = re.compile(
    "[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad"
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
)
_DELIMITER_RE = re.compile(r"</?\s*untrusted-data[^>]*>", re.IGNORECASE)


def render_template(template: str, values: Mapping[str, Any]) -> str:
    """Render the small template language described in the module docstring."""

    def truthy(name: str) -> bool:
        return bool(_as_text(values.get(name)).strip())

    text = template
    while True:
        replaced = _IF_RE.sub(
            lambda m: m.group(2) if truthy(m.group(1)) else (m.group(3) or ""), text
        )
        if replaced == text:
            break
        text = replaced
    return _VAR_RE.sub(lambda m: _as_text(values.get(m.group(1))), text)


def _as_text(value: Any) -> str:
    if value is None or value is False:
        return ""
    if isinstance(value, list | tuple):
        return "\n".join(_as_text(v) for v in value)
    return str(value)


def clean_untrusted(text: str | None, cap: int = BODY_CAP) -> str:
    """Strip HTML comments and invisible control characters; cap the size."""
    if not text:
        return ""
    cleaned = _HTML_COMMENT_RE.sub("", text.replace("\r\n", "\n"))
    cleaned = _INVISIBLE_RE.sub("", cleaned)
    cleaned = _DELIMITER_RE.sub("[untrusted-data tag removed]", cleaned).strip()
    return cap_text(cleaned, cap)


def cap_text(text: str, cap: int) -> str:
    if len(text) <= cap:
        return text
    return text[:cap].rstrip() + f"\n… [truncated: {len(text) - cap} more characters]"


def untrusted_block(source: str, text: str, cap: int = BODY_CAP) -> str:
    """Cleaned text wrapped in a delimited block the agent treats as data."""
    cleaned = clean_untrusted(text, cap)
    return f'<untrusted-data source="{source}">\n{cleaned}\n</untrusted-data>' if cleaned else ""


@dataclass(frozen=True)
class ContextComment:
    author: str
    created_at: str
    body: str


@dataclass(frozen=True)
class PromptContext:
    """The facts a task's prompt is made of (gathered by the runner)."""

    repo: str
    number: int
    title: str
    body: str
    labels: Sequence[str]
    branch: str
    worktree: str
    default_branch: str
    attempt: int
    max_attempts: int
    agent: str
    model: str | None
    comments: Sequence[ContextComment] = ()
    owner_context: Sequence[str] = ()
    previous: Sequence[Mapping[str, Any]] = ()  # agent-response marker data, oldest first
    learnings: Sequence[str] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    review: Mapping[str, Any] | None = None  # the last orch:review asking for changes
    # Feedback from the pull request since the last attempt (ack marker data: `pr`,
    # `author`, `context`), oldest first (orch.tick.pr_feedback).
    pr_feedback: Sequence[Mapping[str, Any]] = ()


def template_text(name: str, prompts_dir: str | Path | None = None) -> str:
    """A template from the user's prompts directory when it has one, else orch's own."""
    if prompts_dir:
        candidate = Path(prompts_dir).expanduser() / name
        if candidate.is_file():
            try:
                return candidate.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(
                    f"workflow.prompts_dir: cannot read {candidate}: {exc.strerror}"
                ) from exc

    return files("orch.prompts").joinpath(name).read_text(encoding="utf-8")


def variables(ctx: PromptContext) -> dict[str, Any]:
    """Template variables for a context (pure)."""
    previous_lines = []
    for data in ctx.previous[-5:]:
        line = (
            f"- Attempt {data.get('attempt', '?')} ({data.get('agent', '?')}"
            f"{', ' + str(data['model']) if data.get('model') else ''}): "
            f"{data.get('status', '?')}"
        )
        if data.get("error_class"):
            line += f", error `{data['error_class']}`"
        if data.get("summary"):
            line += f" — {clean_untrusted(str(data['summary']), 500)}"
        previous_lines.append(line)
        for blocker in data.get("blockers") or []:
            previous_lines.append(f"  - blocker: {clean_untrusted(str(blocker), 300)}")
    last = ctx.previous[-1] if ctx.previous else {}
    comments = [
        untrusted_block(f"comment by {c.author} at {c.created_at}", c.body, COMMENT_CAP)
        for c in ctx.comments
    ]
    owner_context = [untrusted_block("owner context", t, CONTEXT_CAP) for t in ctx.owner_context]
    return {
        "repo": ctx.repo,
        "number": ctx.number,
        "title": clean_untrusted(ctx.title, 300),
        "labels": ", ".join(ctx.labels),
        "body": untrusted_block("issue body", ctx.body) or "(the issue has no description)",
        "branch": ctx.branch,
        "worktree": ctx.worktree,
        "default_branch": ctx.default_branch,
        "attempt": ctx.attempt,
        "max_attempts": ctx.max_attempts,
        "agent": ctx.agent,
        "model": ctx.model or "default",
        "comments": "\n\n".join(c for c in comments if c),
        "owner_context": "\n\n".join(c for c in owner_context if c),
        "previous_attempts": "\n".join(previous_lines),
        "last_error": str(last.get("error_class") or "") if last else "",
        "learnings": "\n".join(f"- {clean_untrusted(x, 300)}" for x in ctx.learnings[-20:]),
        "result_schema": _result_schema_text(),
        "review_notes": _review_notes(ctx.review),
        "pr_feedback": "\n\n".join(
            block
            for block in (
                untrusted_block(
                    f"feedback by {f.get('author', '?')} on PR #{f.get('pr', '?')}",
                    str(f.get("context") or ""),
                    CONTEXT_CAP,
                )
                for f in ctx.pr_feedback
            )
            if block
        ),
        **ctx.extra,
    }


def _review_notes(review: Mapping[str, Any] | None) -> str:
    """The reviewer's verdict on the last attempt, for the next one (orch.review.task)."""
    if not review:
        return ""
    lines = [
        f"The reviewer ({review.get('reviewer', '?')}) answered `{review.get('decision')}` "
        f"for commit `{str(review.get('head_sha') or '')[:12]}`:",
        "",
        clean_untrusted(str(review.get("summary") or ""), 2_000),
    ]
    notes = [clean_untrusted(str(n), 1_000) for n in review.get("notes") or []]
    if notes:
        lines += ["", *(f"- {n}" for n in notes if n)]
    return "\n".join(lines)


def _result_schema_text() -> str:
    """The result contract (SPEC §6.4), from the agents layer that validates it."""

    return json.dumps(schema_for("run"), indent=1, sort_keys=True)


@dataclass(frozen=True)
class Prompts:
    system: str
    message: str

    @property
    def hash(self) -> str:
        digest = hashlib.sha256(f"{self.system}\n\0\n{self.message}".encode())
        return digest.hexdigest()[:12]


def build_prompts(ctx: PromptContext, prompts_dir: str | Path | None = None) -> Prompts:
    """Render both templates for a task."""
    values = variables(ctx)
    system = render_template(template_text(SYSTEM_TEMPLATE, prompts_dir), values)
    message = render_template(template_text(MESSAGE_TEMPLATE, prompts_dir), values)
    return finished(system, message)


def finished(system: str, message: str) -> Prompts:
    """Rendered templates made ready to send: tidied and capped to their sizes."""
    return Prompts(
        system=cap_text(tidy(system), SYSTEM_CAP), message=cap_text(tidy(message), MESSAGE_CAP)
    )


def tidy(text: str) -> str:
    """Collapse the blank-line runs that skipped template blocks leave behind."""
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
