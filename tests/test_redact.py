"""Redaction (SPEC §6.6): secret env values and token shapes, never losing the rest."""

from __future__ import annotations

import pytest

from orch.io.redact import MASK, Redactor, redact, redact_data, secret_values

GHP = "ghp_" + "a" * 36
CASES = [
    ("plain text stays", "plain text stays"),
    (f"token {GHP} here", f"token {MASK} here"),
    ("gho_" + "B" * 36, MASK),
    ("github_pat_" + "11ABCDEFG0" * 4, MASK),
    ("key sk-ant-api03-" + "x" * 30 + " end", f"key {MASK} end"),
    ("key sk-proj-" + "Y" * 30, f"key {MASK}"),
    ("slack xoxb-1234567890-abcdefghij", f"slack {MASK}"),
    ("aws AKIAABCDEFGHIJKLMNOP done", f"aws {MASK} done"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlX2hlcmU", f"jwt {MASK}"),
    ("Authorization: Bearer abc.def-123", f"Authorization: Bearer {MASK}"),
    ("authorization: token 0123456789abcdef", f"authorization: token {MASK}"),
    ("https://user:s3cretpass@github.com/o/r.git", f"https://user:{MASK}@github.com/o/r.git"),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIE\nabc\n-----END RSA PRIVATE KEY-----\nafter",
        f"{MASK}\nafter",
    ),
    ("status 401 and 429 are just numbers", "status 401 and 429 are just numbers"),
    ("sk-short", "sk-short"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_token_shapes(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_exact_values_of_secret_variables() -> None:
    env = {
        "MY_API_KEY": "hunter2-very-secret",
        "DB_PASSWORD": "pa55word!",
        "CUSTOM": "custom-secret-value",
        "HOME": "/root",
        "SHORT_TOKEN": "abc",  # too short to mask safely
        "FLAG_SECRET": "true",
    }
    redactor = Redactor.from_env(env, extra_names=["CUSTOM"])
    text = "k=hunter2-very-secret p=pa55word! c=custom-secret-value home=/root abc true"
    assert redactor(text) == f"k={MASK} p={MASK} c={MASK} home=/root abc true"


def test_longest_value_first() -> None:
    values = secret_values({"A_TOKEN": "abcdef", "B_TOKEN": "abcdefghij"})
    assert values == ("abcdefghij", "abcdef")
    assert redact("x abcdefghij y", values) == f"x {MASK} y"


def test_empty_and_none() -> None:
    assert redact(None) == ""
    assert redact("") == ""


def test_redact_data_walks_structures() -> None:
    data = {"a": [f"x {GHP}", 3, None], "b": {"c": GHP}}
    assert redact_data(data) == {"a": [f"x {MASK}", 3, None], "b": {"c": MASK}}
