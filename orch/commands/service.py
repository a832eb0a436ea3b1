"""`orch service`: Run `orch tick` unattended: systemd, launchd or cron."""

from __future__ import annotations

from orch.commands._common import group

app = group("service", "Run `orch tick` unattended: systemd, launchd or cron.")
