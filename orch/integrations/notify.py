"""Notifications (SPEC §4 `notify:`): the command and the built-in HTTP channels.

Events are sent for status changes into in_review, needs_review, blocked and done, for
tick errors, and for `orch notify TEXT`:

    {"schema": 1, "event": "status", "repo", "task", "title", "from", "to", "reason", "url"}
    {"schema": 1, "event": "error",  "repo", "task", "title", "from", "to", "reason", "url",
     "phase"}
    {"schema": 1, "event": "message", "text"}

`send_all()` delivers one event through every configured channel:
- `command`: a shell string (run by /bin/sh -c) or an argv list, the event as JSON on
  its stdin;
- `slack_webhook_url` (`{"text"}`), `discord_webhook_url` (`{"content"}`) and
  `telegram` (`POST {api_url}/bot<token>/sendMessage` with `chat_id` and `text`; the
  token read from the environment variable `token_env` names): one line of text
  (`message_text()`), standard-library HTTP.
Each has a 10 s timeout; a failure (exit code, timeout, HTTP error, missing program or
token) is logged under the channel's name (never its URL or token) and never fails or
stops what orch was doing, nor the other channels.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orch.config.model import NotifyConfig
from orch.io import proc
from orch.io.redact import redact
from orch.status import Status

log = logging.getLogger("orch")

NOTIFY_STATUSES = (Status.IN_REVIEW, Status.NEEDS_REVIEW, Status.BLOCKED, Status.DONE)
TIMEOUT_SECONDS = 10.0


def status_event(
    repo: str,
    number: int,
    title: str,
    src: Status | None,
    to: Status,
    reason: str = "",
    url: str = "",
) -> dict[str, Any] | None:
    """The event for a status change, or None when that change is not notified (pure)."""
    if to not in NOTIFY_STATUSES or src is to:
        return None
    return {
        "schema": 1,
        "event": "status",
        "repo": repo,
        "task": number,
        "title": title,
        "from": src.value if src else None,
        "to": to.value,
        "reason": reason,
        "url": url,
    }


def error_event(repo: str, phase: str, task: int | None, detail: str) -> dict[str, Any]:
    """The event for a tick error (pure)."""
    return {
        "schema": 1,
        "event": "error",
        "repo": repo,
        "task": task,
        "title": "",
        "from": None,
        "to": None,
        "reason": detail,
        "url": "",
        "phase": phase,
    }


def message_event(text: str) -> dict[str, Any]:
    """The event for `orch notify TEXT` (pure)."""
    return {"schema": 1, "event": "message", "text": text}


def message_text(event: Mapping[str, Any]) -> str:
    """One human line for a chat channel (Slack, Discord, Telegram) (pure)."""
    kind = event.get("event")
    if kind == "message":
        return str(event.get("text") or "")
    task = f"#{event['task']}" if event.get("task") is not None else ""
    where = " ".join(p for p in (str(event.get("repo") or ""), task) if p)
    title = f" {event['title']}" if event.get("title") else ""
    reason = f": {event['reason']}" if event.get("reason") else ""
    url = f" {event['url']}" if event.get("url") else ""
    if kind == "error":
        return f"orch error in {event.get('phase')} ({where}){reason}"
    return f"orch {where}{title} → {event.get('to')}{reason}{url}"


@dataclass(frozen=True)
class Delivery:
    channel: str  # command | slack | discord | telegram
    ok: bool

    def to_json(self) -> dict[str, Any]:
        return {"channel": self.channel, "ok": self.ok}


def send_all(
    config: NotifyConfig,
    event: Mapping[str, Any],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> list[Delivery]:
    """Send `event` through every configured channel; one Delivery per channel. Never raises."""
    environ = dict(env if env is not None else os.environ)
    timeout = TIMEOUT_SECONDS if timeout is None else timeout
    sent: list[Delivery] = []
    if config.command:
        sent.append(
            Delivery("command", send(config.command, event, cwd=cwd, timeout=timeout, env=environ))
        )
    text = message_text(event)
    if config.slack_webhook_url:
        ok = post_json("slack", config.slack_webhook_url, {"text": text}, timeout)
        sent.append(Delivery("slack", ok))
    if config.discord_webhook_url:
        ok = post_json("discord", config.discord_webhook_url, {"content": text[:2000]}, timeout)
        sent.append(Delivery("discord", ok))
    if config.telegram:
        sent.append(Delivery("telegram", _telegram(config, text, environ, timeout)))
    return sent


def _telegram(config: NotifyConfig, text: str, env: Mapping[str, str], timeout: float) -> bool:
    telegram = config.telegram
    assert telegram is not None
    token = env.get(telegram.token_env, "").strip()
    if not token:
        log.warning(
            "notify (telegram): the bot token variable %s is not set; nothing sent",
            telegram.token_env,
        )
        return False
    url = f"{telegram.api_url}/bot{token}/sendMessage"
    body = {"chat_id": telegram.chat_id, "text": text[:4096]}
    return post_json("telegram", url, body, timeout, secrets=(token,))


def post_json(
    channel: str, url: str, body: Mapping[str, Any], timeout: float, *, secrets: Sequence[str] = ()
) -> bool:
    """POST `body` as JSON; True on a 2xx answer. Never raises; a failure is logged with
    the channel's name, never the URL (a webhook URL or bot URL is a credential)."""
    data = json.dumps(dict(body), ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "orch-notify"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            answer.read(4096)
            return True
    except urllib.error.HTTPError as exc:
        detail = f"HTTP {exc.code} {exc.reason}: {_body_tail(exc)}"
    except (urllib.error.URLError, OSError, ValueError) as exc:  # refused, DNS, timeout
        detail = str(getattr(exc, "reason", None) or exc)
    for secret in (*secrets, url):
        detail = detail.replace(secret, "***")
    log.warning("notify (%s): not delivered: %s", channel, redact(detail))
    return False


def _body_tail(exc: urllib.error.HTTPError) -> str:
    try:
        raw = exc.read(300)
    except OSError:
        return ""
    return " ".join(raw.decode("utf-8", errors="replace").split())


def argv_of(command: str | Sequence[str]) -> list[str]:
    if isinstance(command, str):
        return ["/bin/sh", "-c", command]
    return [str(part) for part in command]


def send(
    command: str | Sequence[str] | None,
    event: Mapping[str, Any],
    *,
    cwd: Path | None = None,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
) -> bool:
    """Run the notify command with `event` as JSON on stdin; True when it exited 0.
    Never raises: a failure is logged (and returns False)."""
    if not command:
        return False
    argv = argv_of(command)
    timeout = TIMEOUT_SECONDS if timeout is None else timeout
    payload = json.dumps(dict(event), ensure_ascii=False) + "\n"
    what = f"notify ({event.get('event')} #{event.get('task')})"
    try:
        done = proc.run(
            argv,
            cwd=cwd,
            env=dict(env if env is not None else os.environ),
            input=payload,
            timeout=timeout,
        )
    except Exception as exc:  # a missing program, an OS error: never fail orch
        log.warning("%s: cannot run %s: %s", what, argv[0], exc)
        return False
    if done.timed_out:
        log.warning("%s: the command did not finish within %gs and was stopped", what, timeout)
        return False
    if done.returncode != 0:
        tail = " ".join(done.stderr.split())[-300:]
        log.warning("%s: the command exited %s: %s", what, done.returncode, tail)
        return False
    return True


def status_hook(
    config: NotifyConfig | str | Sequence[str], repo: str, cwd: Path | None = None
) -> Any:
    """A tasks.set_status hook that sends the status event through every channel (a bare
    command: through that command alone)."""
    if not isinstance(config, NotifyConfig):
        config = NotifyConfig(command=config if isinstance(config, str) else tuple(config))

    def hook(issue: Any, src: Status | None, to: Status, reason: str) -> None:
        event = status_event(repo, issue.number, issue.title, src, to, reason, issue.url)
        if event is not None:
            send_all(config, event, cwd=cwd)

    return hook
