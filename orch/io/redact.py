"""Secret redaction for every text that leaves the machine (SPEC §6.6). Pure.

Two sources of secrets: the exact values of secret-looking environment variables
(any name containing TOKEN, KEY, SECRET or PASSWORD, plus names listed in
`workflow.secret_env`), and well-known token shapes. Redaction never raises and never
drops the text around a secret. `redactor_for(config)` is the one place that builds the
redactor for what a project's process sends out (it reads this process's environment).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orch.config.model import Config

MASK = "[REDACTED]"
SECRET_NAME_PARTS = ("TOKEN", "KEY", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL")
# Values shorter than this are too likely to be ordinary words or numbers ("1", "true").
MIN_VALUE_LEN = 6
_HARMLESS_VALUES = frozenset({"true", "false", "none", "null", "undefined"})

# Well-known secret shapes, named (the push scan says which kind it found).
SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        # PEM private keys (whole block, or an unterminated tail).
        (
            "private key",
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:.|\n)*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
        ),
        ("GitHub token", r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
        ("GitHub token", r"\bgh[pousr]_[A-Za-z0-9]{20,}"),
        ("Anthropic key", r"\bsk-ant-[A-Za-z0-9_\-]{16,}"),
        ("OpenAI key", r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_\-]{16,}"),
        ("Slack token", r"\bxox[abprs]-[A-Za-z0-9\-]{10,}"),
        ("AWS access key", r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
        ("Google API key", r"\bAIza[0-9A-Za-z_\-]{35}\b"),
        ("JSON web token", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    )
)
_SHAPES = tuple(pattern for _, pattern in SHAPES)
# `Authorization: Bearer xyz`, `authorization: token xyz` (keep the header name).
_AUTH_HEADER = re.compile(
    r"(?i)(\bauthorization\s*[:=]\s*)(?:(bearer|token|basic)\s+)?([^\s\"',]+)"
)
# `https://user:secret@host` in URLs.
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)([^/\s:@]+):([^/\s@]+)@")


def is_secret_name(name: str, extra: Iterable[str] = ()) -> bool:
    upper = name.upper()
    return name in set(extra) or any(part in upper for part in SECRET_NAME_PARTS)


def secret_values(env: Mapping[str, str], extra_names: Iterable[str] = ()) -> tuple[str, ...]:
    """The values of the secret variables in `env`, longest first (so overlaps mask whole)."""
    extra = tuple(extra_names)
    values = {
        value.strip()
        for name, value in env.items()
        if is_secret_name(name, extra)
        and len(value.strip()) >= MIN_VALUE_LEN
        and value.strip().lower() not in _HARMLESS_VALUES
    }
    return tuple(sorted(values, key=len, reverse=True))


@dataclass(frozen=True)
class Redactor:
    """Masks known secret values and token shapes in any text."""

    values: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str], extra_names: Iterable[str] = ()) -> Redactor:
        return cls(secret_values(env, extra_names))

    def __call__(self, text: str | None) -> str:
        return redact(text, self.values)


def redactor_for(config: Config) -> Redactor:
    """The redactor for everything this process sends out for a project: the secret
    values in its environment, those named in `workflow.secret_env`, and token shapes."""
    return Redactor.from_env(os.environ, config.workflow.secret_env)


def redact(text: str | None, values: Iterable[str] = ()) -> str:
    """`text` with every secret value and token shape replaced by [REDACTED]."""
    if not text:
        return ""
    try:
        result = str(text)
        for value in sorted(set(values), key=len, reverse=True):
            if value and len(value) >= MIN_VALUE_LEN:
                result = result.replace(value, MASK)
        for pattern in _SHAPES:
            result = pattern.sub(MASK, result)
        result = _AUTH_HEADER.sub(_auth_sub, result)
        return _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}{m.group(2)}:{MASK}@", result)
    except Exception:  # never let redaction itself lose the text or crash a publish
        return _fallback(str(text))


def _auth_sub(match: re.Match[str]) -> str:
    scheme = f"{match.group(2)} " if match.group(2) else ""
    if match.group(3) == MASK:
        return match.group(0)
    return f"{match.group(1)}{scheme}{MASK}"


def _fallback(text: str) -> str:
    """Last resort: mask anything long and token-like, keep the rest."""
    return re.sub(r"[A-Za-z0-9_\-]{24,}", MASK, text)


def secret_kinds(text: str | None, values: Iterable[str] = ()) -> list[str]:
    """The kinds of secret in `text` ("GitHub token", "a secret environment value"), never
    the secret itself; empty when clean. The same shapes and values `redact` masks."""
    if not text:
        return []
    found = [name for name, pattern in SHAPES if pattern.search(text)]
    if any(v and len(v) >= MIN_VALUE_LEN and v in text for v in values):
        found.append("a secret environment value")
    return list(dict.fromkeys(found))


def redact_data(data: object, values: Iterable[str] = ()) -> object:
    """Redact every string inside a JSON-like structure (for artifacts that leave)."""
    vals = tuple(values)
    if isinstance(data, str):
        return redact(data, vals)
    if isinstance(data, list | tuple):
        return [redact_data(item, vals) for item in data]
    if isinstance(data, dict):
        return {key: redact_data(value, vals) for key, value in data.items()}
    return data
