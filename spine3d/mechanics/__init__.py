"""Mechanics: the 6-DOF segment, static solve and time domain, frozen states."""

from .params import mobility_factors, mobility_states, tissue
from .segment import lever_mm
from .solver import reachable_twist_deg, solve, solve3d, sweep
from .state import SpineState, Sweep

__all__ = [
    "SpineState",
    "Sweep",
    "lever_mm",
    "mobility_factors",
    "mobility_states",
    "reachable_twist_deg",
    "solve",
    "solve3d",
    "sweep",
    "tissue",
]
