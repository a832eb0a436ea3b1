"""Failure classification (SPEC §6.4, reference/clients.md §4): a pure function.

Adapters pull the error-bearing parts out of a CLI's output into `Evidence` (structured
fields first: claude `is_error`/`api_error_status`/`subtype`, codex `turn.failed`,
opencode `error.data.statusCode`); `classify()` maps that to one class. Only error
channels are read — never the agent's own messages or tool output — so a bare `401` in
a diff or a log line classifies nothing. A wall-clock or idle kill wins over any text,
so a benign warning on stderr cannot mask a timeout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

AUTH = "auth"
USAGE_LIMIT = "usage_limit"
RATE_LIMIT = "rate_limit"
OVERLOADED = "overloaded"
CONTEXT_OVERFLOW = "context_overflow"
TIMEOUT = "timeout"
STUCK = "stuck"
MISSING_TOOL = "missing_tool"
INTERACTIVE_PROMPT = "interactive_prompt"
NO_RESULT = "no_result"
FAILED = "failed"

ERROR_CLASSES = (
    AUTH,
    USAGE_LIMIT,
    RATE_LIMIT,
    OVERLOADED,
    CONTEXT_OVERFLOW,
    TIMEOUT,
    STUCK,
    MISSING_TOOL,
    INTERACTIVE_PROMPT,
    NO_RESULT,
    FAILED,
)
# Classes after which the same agent should not be tried again soon.
COOLDOWN_CLASSES = (AUTH, USAGE_LIMIT)
# Classes worth retrying on a later tick with the same agent.
TRANSIENT_CLASSES = (RATE_LIMIT, OVERLOADED)


@dataclass(frozen=True)
class Evidence:
    """The error-bearing parts of one agent run, as found by its adapter."""

    exit_code: int
    timed_out: bool = False
    idle_killed: bool = False
    status_code: int | None = None  # HTTP status reported by the CLI in a structured field
    messages: tuple[str, ...] = ()  # error texts from structured error fields, in order
    subtype: str | None = None  # claude result subtype / terminal reason
    stderr: str = ""
    unstructured: str = ""  # output of CLIs with no error structure (command agents)
    has_result: bool = False
    result_problem: str = ""
    prompt_rejected: str = ""  # the permission prompt a CLI auto-rejected (opencode)
    fatal: bool = False  # a structured field says the run failed (is_error, turn.failed…)


@dataclass(frozen=True)
class Classification:
    error_class: str | None
    detail: str = ""
    reset_at: datetime | None = None


_I = re.IGNORECASE
_AUTH = re.compile(
    r"not logged in|please run /login|invalid api key|incorrect api key|failed to authenticate|"
    r"authentication[_ ]error|\b401 unauthorized|\bstatus:? 401\b|\b403 forbidden|"
    r"missing environment variable|invalid x-api-key|oauth token (has )?expired|"
    r"invalid bearer token|api key .{0,40}(not valid|invalid|revoked)|permission_error|"
    r"does not have permission|no api key|unauthorized: ",
    _I,
)
_USAGE = re.compile(
    r"credit balance is too low|hit your .{0,40}limit|usage limit|quota exceeded|"
    r"exceeded your current quota|insufficient_quota|"
    r"limit reached.{0,40}resets|out of (extra )?usage|spending (cap|limit)|"
    r"weekly limit|monthly limit|daily limit",
    _I,
)
_RATE = re.compile(
    r"rate[_ ]limit|too many requests|request rejected \(429\)|last status: 429|"
    r"\bstatus:? 429\b|\b429 too many|temporarily limiting requests",
    _I,
)
_OVERLOAD = re.compile(
    r"overloaded|\b529\b(?= (overloaded|<unknown status code>))|high demand|"
    r"internal server error|service unavailable|bad gateway|gateway timeout|"
    r"unable to connect to api|cannot connect to api|connection (refused|reset|failed)|"
    r"request timed out|reconnecting\.\.\.|server-side issue|\b5\d\d (internal|service|bad)",
    _I,
)
_CONTEXT = re.compile(
    r"prompt is too long|context[_ ]length[_ ]exceeded|maximum context length|"
    r"context window|input is too long|too many tokens|exceeds the context",
    _I,
)
_INTERACTIVE = re.compile(
    r"permission requested: .*auto-rejecting|\(y/n\)|\[y/n\]|press enter to continue|"
    r"do you want to proceed\?|waiting for (user )?input|requires approval|"
    r"the user rejected permission",
    _I,
)
_MISSING_TOOL = re.compile(
    r"(?:^|\s|:)(?P<a>[\w./+-]+): (?:command )?not found\b|"
    r"command not found: (?P<b>[\w./+-]+)|"
    r"spawn (?P<c>[\w./+-]+) ENOENT|"
    r"No such file or directory.{0,10}'(?P<d>[\w./+-]+)'",
    re.MULTILINE,
)


def classify(ev: Evidence, now: datetime | None = None) -> Classification:
    """One class (or None for a clean run) from the evidence of one agent run."""
    if ev.timed_out:
        return Classification(TIMEOUT, "the agent ran past its wall-clock timeout and was killed")
    if ev.idle_killed:
        return Classification(
            STUCK, "the agent produced no output past the idle timeout and was killed"
        )

    if not ev.fatal and ev.exit_code == 0 and ev.has_result:
        return Classification(None)  # retries that recovered, warnings: not failures
    text = "\n".join(m for m in ev.messages if m)
    detail = _first_line(text) or _first_line(ev.stderr) or _first_line(ev.unstructured)

    by_status = _from_status(ev.status_code, text)
    if by_status:
        return _with_reset(by_status, detail, text, now)
    if text:
        found = _from_text(text)
        if found:
            return _with_reset(found, detail, text, now)
    if ev.subtype in ("error_max_turns", "max_turns"):
        return Classification(FAILED, "the agent reached its maximum number of turns")
    if ev.prompt_rejected:
        return Classification(
            INTERACTIVE_PROMPT,
            f"the agent asked for permission and was refused: {ev.prompt_rejected}",
        )
    # Plain text channels count only when the run failed: a warning on a successful
    # run's stderr is not an error.
    failed_run = ev.exit_code != 0 or not ev.has_result
    if failed_run:
        loose = "\n".join(t for t in (ev.stderr, ev.unstructured) if t)
        tool = _missing_tool(loose, ev.exit_code)
        if tool:
            return Classification(MISSING_TOOL, f"required tool not found: {tool}", None)
        if _INTERACTIVE.search(loose):
            line = _matching_line(_INTERACTIVE, loose)
            return Classification(
                INTERACTIVE_PROMPT, f"the agent waited for interactive input: {line}"
            )
        found = _from_text(_tail(loose))
        if found:
            return _with_reset(found, _matching_line_any(loose) or detail, loose, now)
    if ev.fatal or (text and (ev.exit_code != 0 or not ev.has_result)):
        what = (
            f"the agent reported an error ({ev.subtype})"
            if ev.subtype
            else "the agent reported an error"
        )
        return Classification(FAILED, detail or what)
    if ev.exit_code != 0:
        reason = detail or f"the agent exited with code {ev.exit_code}"
        if ev.exit_code < 0 or ev.exit_code in (124, 137, 143):
            reason = (
                f"the agent was killed (exit {ev.exit_code}); {reason}"
                if detail
                else (f"the agent was killed (exit {ev.exit_code})")
            )
        return Classification(FAILED, reason)
    if not ev.has_result:
        return Classification(NO_RESULT, ev.result_problem or "the agent returned no result")
    return Classification(None)


def _from_status(code: int | None, text: str) -> str | None:
    if code is None:
        return None
    if code in (401, 403):
        return USAGE_LIMIT if _USAGE.search(text) else AUTH
    if code == 429:
        return USAGE_LIMIT if _USAGE.search(text) else RATE_LIMIT
    if code == 402:
        return USAGE_LIMIT
    if code >= 500:
        return OVERLOADED
    if code == 400 or code == 413:
        if _USAGE.search(text):
            return USAGE_LIMIT
        if _CONTEXT.search(text):
            return CONTEXT_OVERFLOW
    return None


def _from_text(text: str) -> str | None:
    # Order matters: "Usage limit reached" comes with a 429 text; quota beats rate limit.
    if _USAGE.search(text):
        return USAGE_LIMIT
    if _AUTH.search(text):
        return AUTH
    if _CONTEXT.search(text):
        return CONTEXT_OVERFLOW
    if _RATE.search(text):
        return RATE_LIMIT
    if _OVERLOAD.search(text):
        return OVERLOADED
    return None


def _with_reset(cls: str, detail: str, text: str, now: datetime | None) -> Classification:
    reset = parse_reset(text, now) if cls in (USAGE_LIMIT, RATE_LIMIT) else None
    return Classification(cls, detail, reset)


def _missing_tool(text: str, exit_code: int) -> str | None:
    match = _MISSING_TOOL.search(text)
    if match:
        return next(g for g in match.groups() if g)
    if exit_code == 127:
        return _first_line(text) or "an executable"
    return None


def _matching_line(pattern: re.Pattern[str], text: str) -> str:
    for line in text.splitlines():
        if pattern.search(line):
            return line.strip()[:300]
    return ""


def _matching_line_any(text: str) -> str:
    for pattern in (_USAGE, _AUTH, _CONTEXT, _RATE, _OVERLOAD):
        line = _matching_line(pattern, text)
        if line:
            return line
    return ""


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line[:300]
    return ""


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


# --- reset times -----------------------------------------------------------------------

_IN_RE = re.compile(
    r"(?:try again|resets?|available again|retry)\s+in\s+"
    r"(?P<spec>(?:\d+\s*(?:days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)\b[\s,]*(?:and\s+)?)+)",
    _I,
)
_UNIT_RE = re.compile(r"(\d+)\s*(days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)\b", _I)
_ISO_RE = re.compile(
    r"(?:resets?|try again|until|after)\D{0,12}(\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d)?(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)",
    _I,
)
_CLOCK_RE = re.compile(
    r"(?:resets?|try again)(?:\s+at)?\s+(?P<h>\d{1,2})(?::(?P<m>\d\d))?\s*(?P<ap>[ap]\.?m\.?)?"
    r"(?:\s*\((?P<tz>[A-Za-z_]+(?:/[A-Za-z_+-]+)*)\))?",
    _I,
)
_EPOCH_RE = re.compile(r"limit reached\|(\d{10})\b", _I)


def parse_reset(text: str, now: datetime | None = None) -> datetime | None:
    """When a usage or rate limit lifts, from the CLI's message (None when not said).

    Understands `try again in 4 days 2 hours 10 minutes`, `resets 3pm (Europe/Berlin)`,
    `resets at 2026-11-21T10:00:00Z` and claude's old `…limit reached|1795000000`.
    Relative and clock-time forms need `now` (the Clock seam's time).
    """
    match = _EPOCH_RE.search(text)
    if match:
        return datetime.fromtimestamp(int(match.group(1)), UTC)
    match = _ISO_RE.search(text)
    if match:
        try:
            value = datetime.fromisoformat(match.group(1).replace("Z", "+00:00").replace(" ", "T"))
        except ValueError:
            value = None
        if value is not None:
            return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    if now is None:
        return None
    match = _IN_RE.search(text)
    if match:
        seconds = 0
        for amount, unit in _UNIT_RE.findall(match.group("spec")):
            unit = unit.lower()
            scale = (
                86400
                if unit.startswith("d")
                else 3600
                if unit.startswith("h")
                else (60 if unit.startswith("m") else 1)
            )
            seconds += int(amount) * scale
        if seconds:
            return now.astimezone(UTC) + timedelta(seconds=seconds)
    match = _CLOCK_RE.search(text)
    if match and (match.group("ap") or match.group("m")):
        hour = int(match.group("h"))
        minute = int(match.group("m") or 0)
        ampm = (match.group("ap") or "").lower().replace(".", "")
        if ampm == "pm" and hour < 12:
            hour += 12
        if ampm == "am" and hour == 12:
            hour = 0
        if hour > 23 or minute > 59:
            return None
        zone = UTC
        if match.group("tz"):
            try:
                zone = ZoneInfo(match.group("tz"))  # type: ignore[assignment]
            except (ZoneInfoNotFoundError, ValueError):
                zone = UTC
        local_now = now.astimezone(zone)
        candidate = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if candidate <= local_now:
            candidate += timedelta(days=1)
        return candidate.astimezone(UTC)
    return None
