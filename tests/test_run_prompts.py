"""Whose comments reach the agent's prompt: the SPEC §7.1 rule orch.task.owner applies to commands."""

from __future__ import annotations

from pathlib import Path

from orch.clock import SystemClock
from orch.run.prompts import trusted_comments
from orch.store.local import LocalStore


def test_only_people_who_may_steer_orch_are_quoted(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "local", "acme/widgets", SystemClock(), user="owner")
    store.set_permission("writer", "write")
    store.set_permission("reader", "read")
    number = store.create_issue("Fix it", "", ["status:new"]).number
    store.create_comment(number, "the owner speaks")
    for author, author_type, body in [
        ("writer", "User", "a collaborator with write access"),
        ("reader", "User", "a reader: not trusted"),
        ("stranger", "User", "anyone else: not trusted"),
        ("Helper", "User", "listed in allowed_users (any case)"),
        ("dependabot[bot]", "User", "a bot by its name: not trusted"),
        ("ci", "Bot", "a bot by its type: not trusted"),
        ("listed[bot]", "Bot", "a bot listed in allowed_users"),
    ]:
        store.add_comment(number, body, author=author, author_type=author_type)
    store.create_comment(number, '<!-- orch:route {"agent": "codex", "v": 1} -->\nrouted')

    trusted = trusted_comments(store, store.list_comments(number), ("helper", "listed[bot]"))

    assert [(c.author, c.body) for c in trusted] == [
        ("owner", "the owner speaks"),
        ("writer", "a collaborator with write access"),
        ("Helper", "listed in allowed_users (any case)"),
        ("listed[bot]", "a bot listed in allowed_users"),
    ]
