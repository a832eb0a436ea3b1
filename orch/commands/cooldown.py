"""`orch cooldown`: Agents cooling down after usage limits or auth errors."""

from __future__ import annotations

from orch.commands._common import group

app = group("cooldown", "Agents cooling down after usage limits or auth errors.")
