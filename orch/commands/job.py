"""`orch job`: Scheduled jobs: add, list, remove, enable, disable, tick."""

from __future__ import annotations

from orch.commands._common import group

app = group("job", "Scheduled jobs: add, list, remove, enable, disable, tick.")
