"""The tick: one stateless pass of phases over every registered project (SPEC §5).

`engine` holds the lock and runs the phases; one module per phase (or small group).
"""

from orch.tick.engine import PHASE_NAMES, TickOptions, TickReport, run_tick

__all__ = ["PHASE_NAMES", "TickOptions", "TickReport", "run_tick"]
