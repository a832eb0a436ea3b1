"""The agent's result contract (SPEC §6.4) and the router's answer: JSON Schemas + checks.

The schemas are strict (every property required, no extras) because codex's
`--output-schema` sends them as an OpenAI strict json_schema, which demands that.
Validation of what comes back is lenient about optional fields (an agent that forgets
`learnings` still has a result) but never about `status`: missing or unknown → no result.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from orch.config.model import COMPLEXITIES

RESULT_STATUSES = ("done", "in_progress", "blocked", "needs_review")
_LIST_FIELDS = ("accomplished", "remaining", "blockers", "files_changed", "learnings")
_STRINGS = {"type": "array", "items": {"type": "string"}}

RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": list(RESULT_STATUSES)},
        "summary": {"type": "string"},
        "reason": {"type": "string"},
        "accomplished": _STRINGS,
        "remaining": _STRINGS,
        "blockers": _STRINGS,
        "files_changed": _STRINGS,
        "needs_help": {"type": "boolean"},
        "learnings": _STRINGS,
    },
    "required": [
        "status",
        "summary",
        "reason",
        "accomplished",
        "remaining",
        "blockers",
        "files_changed",
        "needs_help",
        "learnings",
    ],
    "additionalProperties": False,
}

ROUTE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "executor": {"type": "string"},
        "complexity": {"type": "string", "enum": list(COMPLEXITIES)},
        "reason": {"type": "string"},
    },
    "required": ["executor", "complexity", "reason"],
    "additionalProperties": False,
}


# A `plan` task's result: the run result plus the sub-issues to create (orch.task.plan). Strict
# like the others (codex): `complexity` is one of COMPLEXITIES or "" (let the router pick).
CHILD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "body": {"type": "string"},
        "complexity": {"type": "string", "enum": [*COMPLEXITIES, ""]},
    },
    "required": ["title", "body", "complexity"],
    "additionalProperties": False,
}
PLAN_SCHEMA: dict[str, Any] = {
    **RESULT_SCHEMA,
    "properties": {
        **RESULT_SCHEMA["properties"],
        "children": {"type": "array", "items": CHILD_SCHEMA},
    },
    "required": [*RESULT_SCHEMA["required"], "children"],
}


def schema_for(mode: str) -> dict[str, Any]:
    if mode == "plan":
        return PLAN_SCHEMA
    return ROUTE_SCHEMA if mode == "route" else RESULT_SCHEMA


def validate_children(value: Any) -> list[dict[str, Any]]:
    """The usable sub-issues of a plan result (lenient: entries without a title are
    dropped; an unknown complexity becomes None)."""
    if not isinstance(value, list):
        return []
    found: list[dict[str, Any]] = []
    for item in value:
        if isinstance(item, str):
            item = {"title": item}
        if not isinstance(item, Mapping):
            continue
        title = item.get("title")
        if not isinstance(title, str) or not title.strip():
            continue
        body = item.get("body")
        complexity = item.get("complexity")
        found.append(
            {
                "title": " ".join(title.split())[:250],
                "body": body if isinstance(body, str) else "",
                "complexity": complexity if complexity in COMPLEXITIES else None,
            }
        )
    return found


def schema_text(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, separators=(",", ":"), sort_keys=True)


def validate_result(obj: Any) -> tuple[dict[str, Any] | None, str]:
    """A normalised SPEC §6.4 result, or (None, what is wrong)."""
    if not isinstance(obj, Mapping):
        return None, "the result is not a JSON object"
    status = obj.get("status")
    if status not in RESULT_STATUSES:
        return None, f"result status {status!r} is not one of {', '.join(RESULT_STATUSES)}"
    clean: dict[str, Any] = {"status": status}
    for key in ("summary", "reason"):
        value = obj.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            return None, f"result field {key!r} must be a string"
        clean[key] = value
    for key in _LIST_FIELDS:
        value = obj.get(key) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            return None, f"result field {key!r} must be a list of strings"
        clean[key] = [v if isinstance(v, str) else json.dumps(v) for v in value]
    clean["needs_help"] = bool(obj.get("needs_help", False))
    if "children" in obj:  # plan tasks only; absent from ordinary results
        clean["children"] = validate_children(obj.get("children"))
    return clean, ""


def validate_route(obj: Any) -> tuple[dict[str, Any] | None, str]:
    """The router's {executor, complexity, reason}, or (None, what is wrong)."""
    if not isinstance(obj, Mapping):
        return None, "the router's answer is not a JSON object"
    executor = obj.get("executor")
    if not isinstance(executor, str) or not executor.strip():
        return None, "the router's answer has no executor"
    complexity = obj.get("complexity")
    if complexity not in COMPLEXITIES:
        return None, f"complexity {complexity!r} is not one of {', '.join(COMPLEXITIES)}"
    reason = obj.get("reason", "")
    if not isinstance(reason, str):
        return None, "the router's reason is not a string"
    return {"executor": executor.strip(), "complexity": complexity, "reason": reason.strip()}, ""


def validate(mode: str, obj: Any) -> tuple[dict[str, Any] | None, str]:
    if mode == "review":  # a review verdict (orch.task.verdict), else a plain result
        verdict, _ = validate_verdict(obj)
        if verdict is not None:
            return verdict, ""
    return validate_route(obj) if mode == "route" else validate_result(obj)


_MAX_SCAN = 400_000


def json_objects(text: str) -> list[Any]:
    """Every top-level JSON object embedded in free text, in order (fenced or bare)."""
    decoder = json.JSONDecoder()
    text = text[-_MAX_SCAN:]
    found: list[Any] = []
    index = text.find("{")
    while index != -1:
        try:
            obj, end = decoder.raw_decode(text, index)
        except ValueError:
            index = text.find("{", index + 1)
            continue
        found.append(obj)
        index = text.find("{", end)
    return found


def last_json_object(text: str, mode: str = "run") -> dict[str, Any] | None:
    """The last embedded object that validates for `mode` (SPEC §6.4: 'else the last JSON
    object in its final message')."""
    for obj in reversed(json_objects(text)):
        clean, _ = validate(mode, obj)
        if clean is not None:
            return clean
    return None


def pick_result(mode: str, structured: Any, final_text: str) -> tuple[dict[str, Any] | None, str]:
    """Structured output first, else the last valid JSON object of the final text."""
    problem = ""
    if structured is not None:
        clean, problem = validate(mode, structured)
        if clean is not None:
            return clean, ""
    found = last_json_object(final_text, mode)
    if found is not None:
        return found, ""
    if not problem:
        what = "router answer" if mode == "route" else "result object"
        problem = (
            f"no valid {what} in the agent's output"
            if final_text.strip()
            else (f"the agent produced no final message (no {what})")
        )
    return None, problem


# A reviewer's verdict (orch.task.verdict decides what it means).
DECISIONS = ("approve", "request_changes", "reject")
NOTES_CAP = 20  # notes kept from one verdict
NOTE_CHARS = 1_000
SUMMARY_CHARS = 4_000

REVIEW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "decision": {"type": "string", "enum": list(DECISIONS)},
        "summary": {"type": "string"},
        "notes": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["decision", "summary", "notes"],
    "additionalProperties": False,
}


def validate_verdict(obj: Any) -> tuple[dict[str, Any] | None, str]:
    """A normalised verdict, or (None, what is wrong). Anything unclear is no verdict:
    a reviewer's garbage must never count as an approval."""
    if not isinstance(obj, Mapping):
        return None, "the verdict is not a JSON object"
    decision = obj.get("decision")
    if decision not in DECISIONS:
        return None, f"verdict decision {decision!r} is not one of {', '.join(DECISIONS)}"
    summary = obj.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        return None, "the verdict has no summary"
    notes = obj.get("notes", [])
    if notes is None:
        notes = []
    if isinstance(notes, str):
        notes = [notes]
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        return None, "verdict notes must be a list of strings"
    clean_notes = [_cap(n.strip(), NOTE_CHARS) for n in notes if n.strip()][:NOTES_CAP]
    return {
        "decision": decision,
        "summary": _cap(summary.strip(), SUMMARY_CHARS),
        "notes": clean_notes,
    }, ""


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
