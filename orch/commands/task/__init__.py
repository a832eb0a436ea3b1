"""`orch task`: create, inspect, route, run and steer tasks (one module per concern)."""

from orch.commands.task import manage  # noqa: F401  (registers its commands)
from orch.commands.task import run  # noqa: F401  (registers run, kill, live, logs, attach, cost)
from orch.commands.task import route  # noqa: F401  (registers route)
from orch.commands.task import tree  # noqa: F401  (registers tree)
from orch.commands.task._app import app

__all__ = ["app"]
