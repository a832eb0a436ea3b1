"""`orch task`: create, inspect, route, run and steer tasks (one module per concern)."""

# Importing each module registers its commands on the shared `app`.
from orch.commands.task import manage, review, route, run, tree
from orch.commands.task._app import app

__all__ = ["app", "manage", "review", "route", "run", "tree"]
