"""Send a message through every configured notification channel."""

from __future__ import annotations

from typing import Annotated

import typer

from orch.commands._common import JsonOpt, deps


def command(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="The message to send.")],
    json_out: JsonOpt = False,
) -> None:
    """Send TEXT through every configured notify channel (command, Slack, Discord,
    Telegram). Exit 1 when a channel failed, 2 when none is configured.

    \b
    Examples:
      orch notify "deploy finished"
      orch notify --json "nightly run done"
    """
    from orch import log
    from orch.errors import OrchError, UsageError
    from orch.integrations import notify
    from orch.output import emit_json
    from orch.project import find_root

    d = deps(ctx)
    if not text.strip():
        raise UsageError(
            'nothing to send: give the message text, e.g. orch notify "deploy finished"'
        )
    log.setup(d.paths)
    root = None
    if d.project_spec or find_root(d.cwd) is not None:
        root = d.project().root  # the project's .orch.yml (merged over config.yml)
        config = d.project().config.notify
    else:
        config = d.global_config().notify
    if not config.configured:
        raise UsageError(
            "no notify channel is configured: set notify.command, notify.slack_webhook_url, "
            "notify.discord_webhook_url or notify.telegram in .orch.yml or config.yml"
        )
    sent = notify.send_all(config, notify.message_event(text), cwd=root)
    if json_out:
        emit_json({"sent": [s.to_json() for s in sent]})
    else:
        for delivery in sent:
            d.console.out(
                f"{delivery.channel}\t{'sent' if delivery.ok else 'failed (see orch log)'}"
            )
    failed = [s.channel for s in sent if not s.ok]
    if failed:
        raise OrchError(
            f"not delivered through {', '.join(failed)} (the reason is in the orch log)"
        )
