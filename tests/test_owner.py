"""orch.task.owner: slash-command parsing, authorization and decisions (pure, table-driven)."""

from __future__ import annotations

import pytest

from orch.status import Status
from orch.task.owner import (
    Command,
    decide_command,
    decide_feedback,
    help_text,
    is_authorized,
    needs_permission_lookup,
    parse_command,
)

AGENTS = ("claude", "codex", "opencode")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/retry", Command("retry", "", "")),
        ("  /RETRY  \n\nplease use the v2 API\n", Command("retry", "", "please use the v2 API")),
        ("/assign codex", Command("assign", "codex", "")),
        ("/Assign   Codex  ", Command("assign", "Codex", "")),
        ("/context use tabs\nand 80 columns", Command("context", "use tabs", "and 80 columns")),
        ("/priority high", Command("priority", "high", "")),
        ("/stop\r\nnow", Command("stop", "", "now")),
        ("/frobnicate", Command("frobnicate", "", "")),
        ("/usr/bin/env is missing", None),
        ("please /retry", None),
        ("looks good", None),
        ("", None),
    ],
)
def test_parse_command(body: str, expected: Command | None) -> None:
    assert parse_command(body) == expected


@pytest.mark.parametrize(
    ("login", "kind", "permission", "allowed", "ok"),
    [
        ("owner", "User", "admin", (), True),
        ("maint", "User", "maintain", (), True),
        ("dev", "User", "write", (), True),
        ("triager", "User", "triage", (), False),
        ("reader", "User", "read", (), False),
        ("stranger", "User", "none", (), False),
        ("stranger", "User", None, (), False),
        ("friend", "User", "read", ("Friend",), True),
        ("renovate[bot]", "Bot", "write", (), False),
        ("ci-bot", "Bot", "admin", (), False),
        ("renovate[bot]", "Bot", None, ("renovate[bot]",), True),
    ],
)
def test_is_authorized(
    login: str, kind: str, permission: str | None, allowed: tuple[str, ...], ok: bool
) -> None:
    assert is_authorized(login, kind, permission, allowed) is ok


def test_permission_lookup_is_skipped_for_listed_users_and_bots() -> None:
    assert needs_permission_lookup("dev", "User", ()) is True
    assert needs_permission_lookup("dev", "User", ("DEV",)) is False
    assert needs_permission_lookup("dependabot[bot]", "Bot", ()) is False


@pytest.mark.parametrize(
    ("body", "status", "action", "target", "extra"),
    [
        (
            "/retry\nuse the v2 API",
            Status.NEEDS_REVIEW,
            "retry",
            Status.NEW,
            {"context": "use the v2 API", "reset_attempts": True, "clear_agent": True},
        ),
        ("/assign codex", Status.NEW, "assign", Status.ROUTED, {"agent": "codex"}),
        ("/assign gpt", Status.NEW, "invalid", None, {}),
        ("/assign", Status.NEW, "invalid", None, {}),
        ("/unblock", Status.BLOCKED, "unblock", Status.NEW, {}),
        ("/close", Status.IN_REVIEW, "close", Status.DONE, {}),
        (
            "/context mind the tests",
            Status.NEEDS_REVIEW,
            "context",
            Status.ROUTED,
            {"context": "mind the tests"},
        ),
        (
            "/context\nline one\nline two",
            Status.DONE,
            "context",
            Status.ROUTED,
            {"context": "line one\nline two"},
        ),
        ("/context", Status.DONE, "invalid", None, {}),
        ("/context keep going", Status.IN_PROGRESS, "context", None, {"context": "keep going"}),
        ("/priority high", Status.ROUTED, "priority", Status.ROUTED, {"complexity": "complex"}),
        ("/priority low", Status.NEW, "priority", Status.ROUTED, {"complexity": "simple"}),
        ("/priority urgent", Status.NEW, "invalid", None, {}),
        ("/stop", Status.IN_PROGRESS, "stop", Status.NEEDS_REVIEW, {}),
        ("/stop", Status.ROUTED, "invalid", None, {}),
        ("/help", Status.IN_PROGRESS, "help", None, {}),
        ("/retry", Status.IN_PROGRESS, "busy", None, {}),
        ("/assign codex", Status.IN_PROGRESS, "busy", None, {}),
        ("/close", Status.IN_PROGRESS, "busy", None, {}),
        ("/bogus", Status.NEW, "invalid", None, {}),
    ],
)
def test_decide_command(
    body: str, status: Status, action: str, target: Status | None, extra: dict[str, object]
) -> None:
    command = parse_command(body)
    assert command is not None
    decision = decide_command(command, status, AGENTS)
    assert (decision.action, decision.status) == (action, target)
    for key, value in extra.items():
        assert getattr(decision, key) == value
    assert decision.reply  # every handled command is answered


def test_busy_reply_says_what_to_do() -> None:
    command = parse_command("/retry")
    assert command is not None
    assert decide_command(command, Status.IN_PROGRESS, AGENTS).reply == (
        "`/retry`: the task is running; try again when it finishes (or `/stop` it)."
    )


def test_invalid_assign_lists_the_agents() -> None:
    command = parse_command("/assign gpt")
    assert command is not None
    assert decide_command(command, Status.NEW, AGENTS).reply == (
        "`/assign`: `gpt` is not a configured agent; use one of: claude, codex, opencode."
    )


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (Status.DONE, "feedback"),
        (Status.IN_REVIEW, "feedback"),
        (Status.NEEDS_REVIEW, "feedback"),
        (Status.BLOCKED, "feedback"),
        (Status.NEW, "none"),
        (Status.ROUTED, "none"),
        (Status.IN_PROGRESS, "none"),
        (None, "none"),
    ],
)
def test_feedback(status: Status | None, action: str) -> None:
    decision = decide_feedback("  please also update the docs \n", status)
    assert decision.action == action
    if action == "feedback":
        assert decision.status is Status.ROUTED
        assert decision.context == "please also update the docs"


def test_help_lists_every_command() -> None:
    text = help_text()
    for usage in (
        "/retry",
        "/assign AGENT",
        "/unblock",
        "/close",
        "/context TEXT",
        "/priority low|medium|high",
        "/stop",
        "/help",
    ):
        assert f"`{usage}`" in text
