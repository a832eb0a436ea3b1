"""`orch notify TEXT` and the built-in channels (Slack, Discord, Telegram) against a local
HTTP server on 127.0.0.1: the payload each gets, a failing channel, the token kept out."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from orch.config.model import NotifyConfig, TelegramConfig
from orch.integrations import notify
from orch.status import Status
from tests.helpers import Repo, Result, run_orch
from tests.run_helpers import make_run_project

TOKEN = "123456:AAH-secret-bot-token"


class Hooks:
    """A webhook sink: records (path, body); paths under /fail/ answer 500."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                hooks.calls.append((self.path, body))
                failing = self.path.startswith("/fail/")
                self.send_response(500 if failing else 200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": false}' if failing else b'{"ok": true}')

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    sink = Hooks()
    yield sink
    sink.close()


def _config(home: Path, text: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.yml").write_text(text)


def _notify(tmp_path: Path, env: dict[str, str], *args: str) -> Result:
    return run_orch("notify", *args, cwd=tmp_path, env=env, timeout=60)


def test_orch_notify_posts_each_channels_payload(
    tmp_path: Path, orch_env: dict[str, str], hooks: Hooks
) -> None:
    events = tmp_path / "events.jsonl"
    _config(
        Path(orch_env["ORCH_HOME"]),
        f"""
notify:
  command: "cat >> '{events}'"
  slack_webhook_url: {hooks.base}/slack/T000/B000/XXX
  discord_webhook_url: {hooks.base}/discord/api/webhooks/1/abc
  telegram: {{token_env: ORCH_TEST_TG_TOKEN, chat_id: -100123, api_url: {hooks.base}/tg}}
""",
    )
    env = {**orch_env, "ORCH_TEST_TG_TOKEN": TOKEN}

    done = _notify(tmp_path, env, "deploy finished ✓")

    assert done.code == 0, done
    assert done.out == "command\tsent\nslack\tsent\ndiscord\tsent\ntelegram\tsent\n"
    assert sorted(hooks.calls) == sorted(
        [
            ("/slack/T000/B000/XXX", {"text": "deploy finished ✓"}),
            ("/discord/api/webhooks/1/abc", {"content": "deploy finished ✓"}),
            (f"/tg/bot{TOKEN}/sendMessage", {"chat_id": "-100123", "text": "deploy finished ✓"}),
        ]
    )
    assert [json.loads(line) for line in events.read_text().splitlines()] == [
        {"schema": 1, "event": "message", "text": "deploy finished ✓"}
    ]


def test_a_failing_channel_does_not_stop_the_others_and_the_token_stays_out_of_the_log(
    tmp_path: Path, orch_env: dict[str, str], hooks: Hooks
) -> None:
    _config(
        Path(orch_env["ORCH_HOME"]),
        f"""
notify:
  slack_webhook_url: {hooks.base}/fail/slack
  discord_webhook_url: http://127.0.0.1:1/unreachable
  telegram: {{token_env: ORCH_TEST_TG_TOKEN, chat_id: "42", api_url: {hooks.base}/fail/tg}}
""",
    )
    env = {**orch_env, "ORCH_TEST_TG_TOKEN": TOKEN}

    done = _notify(tmp_path, env, "--json", "hello")

    assert done.code == 1, done
    assert json.loads(done.out) == {
        "schema": 1,
        "sent": [
            {"channel": "slack", "ok": False},
            {"channel": "discord", "ok": False},
            {"channel": "telegram", "ok": False},
        ],
    }
    assert (
        done.err
        == "orch: not delivered through slack, discord, telegram (the reason is in the orch log)\n"
    )
    assert [path for path, _ in hooks.calls] == ["/fail/slack", f"/fail/tg/bot{TOKEN}/sendMessage"]
    log_text = (Path(orch_env["ORCH_HOME"]) / "state" / "logs" / "orch.log").read_text()
    assert "notify (slack): not delivered: HTTP 500" in log_text
    assert "notify (discord): not delivered:" in log_text
    assert "notify (telegram): not delivered: HTTP 500" in log_text
    assert TOKEN not in log_text + done.out + done.err
    assert "/fail/slack" not in log_text  # a webhook URL is a credential too


def test_one_channel_failing_still_delivers_through_the_rest(hooks: Hooks) -> None:
    config = NotifyConfig(
        slack_webhook_url=f"{hooks.base}/fail/slack",
        discord_webhook_url=f"{hooks.base}/discord",
        telegram=TelegramConfig(token_env="TG", chat_id="7", api_url=f"{hooks.base}/tg"),
    )
    event = notify.status_event(
        "o/r", 4, "Fix login", Status.IN_PROGRESS, Status.IN_REVIEW, "PR #9", "u"
    )
    assert event is not None

    sent = notify.send_all(config, event, env={"TG": TOKEN})

    assert [(s.channel, s.ok) for s in sent] == [
        ("slack", False),
        ("discord", True),
        ("telegram", True),
    ]
    text = "orch o/r #4 Fix login → in_review: PR #9 u"
    assert hooks.calls[1:] == [
        ("/discord", {"content": text}),
        (f"/tg/bot{TOKEN}/sendMessage", {"chat_id": "7", "text": text}),
    ]


def test_a_missing_token_variable_sends_nothing_and_says_which(
    hooks: Hooks, caplog: pytest.LogCaptureFixture
) -> None:
    config = NotifyConfig(
        telegram=TelegramConfig(token_env="NO_SUCH_TG", chat_id="7", api_url=hooks.base)
    )

    assert notify.send_all(config, notify.message_event("x"), env={}) == [
        notify.Delivery("telegram", False)
    ]
    assert hooks.calls == []
    assert "the bot token variable NO_SUCH_TG is not set" in caplog.text


def test_no_channel_configured_is_a_usage_error(tmp_path: Path, orch_env: dict[str, str]) -> None:
    done = _notify(tmp_path, orch_env, "hello")
    assert done.code == 2, done
    assert done.err.startswith("orch: no notify channel is configured: set notify.command")


def test_telegram_token_is_a_variable_name_never_the_token(
    tmp_path: Path, orch_env: dict[str, str]
) -> None:
    _config(
        Path(orch_env["ORCH_HOME"]), f"notify:\n  telegram: {{token_env: '{TOKEN}', chat_id: 1}}\n"
    )
    done = _notify(tmp_path, orch_env, "hello")
    assert done.code == 2, done
    assert "notify.telegram.token_env: must be the NAME of the environment variable" in done.err
    assert "AAH-secret" not in done.err


def test_a_status_change_posts_to_the_configured_channels(
    repo: Repo, orch_env: dict[str, str], tmp_path: Path, hooks: Hooks
) -> None:
    project = make_run_project(repo, orch_env, tmp_path, "--local")
    project.configure(
        notify={
            "slack_webhook_url": f"{hooks.base}/slack",
            "telegram": {"token_env": "ORCH_TEST_TG_TOKEN", "chat_id": 5, "api_url": hooks.base},
        }
    )
    project.env["ORCH_TEST_TG_TOKEN"] = TOKEN
    assert project.orch("task", "add", "Ship it", "--body", "b").code == 0
    assert hooks.calls == []  # status:new is not notified

    assert project.orch("task", "close", "1", "--note", "shipped").code == 0

    text = "orch local/widgets #1 Ship it → done local:local/widgets#1"
    assert sorted(hooks.calls) == sorted(
        [("/slack", {"text": text}), (f"/bot{TOKEN}/sendMessage", {"chat_id": "5", "text": text})]
    )


def test_doctor_says_when_the_telegram_token_variable_is_missing(
    repo: Repo, orch_env: dict[str, str], tmp_path: Path
) -> None:
    project = make_run_project(repo, orch_env, tmp_path, "--local")
    project.configure(notify={"telegram": {"token_env": "ORCH_TEST_TG_TOKEN", "chat_id": 5}})

    def notify_check() -> dict[str, str]:
        report = json.loads(project.orch("doctor", "--json").out)
        (check,) = [c for c in report["checks"] if c["name"] == "notify"]
        return check

    missing = notify_check()
    assert (missing["status"], missing["detail"]) == (
        "warn",
        "notify.telegram: ORCH_TEST_TG_TOKEN is not set, so nothing reaches Telegram",
    )
    project.env["ORCH_TEST_TG_TOKEN"] = TOKEN
    present = notify_check()
    assert present["status"] == "ok" and TOKEN not in json.dumps(present)
