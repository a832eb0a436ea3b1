"""`orch task`: create, inspect, route, run and steer tasks (one module per concern)."""

from orch.commands.task import manage  # noqa: F401  (registers its commands)
from orch.commands.task._app import app

__all__ = ["app"]
