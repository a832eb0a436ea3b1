"""`orch config`: Show the configuration and where it lives."""

from __future__ import annotations

from orch.commands._common import group

app = group("config", "Show the configuration and where it lives.")
