"""`orch project`: Projects ticked by `orch tick`: add, list, remove."""

from __future__ import annotations

from orch.commands._common import group

app = group("project", "Projects ticked by `orch tick`: add, list, remove.")
