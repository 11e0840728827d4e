"""Mechanics: the 6-DOF segment and static solve, the 1-DOF series law, frozen states."""

from .law import SegmentLaw, compile_law, lever_mm
from .params import mobility_factors, mobility_states, tissue
from .solver import TORQUE_TOL_NMM, reachable_twist_deg, solve, solve3d, sweep
from .state import SpineState, Sweep

__all__ = [
    "TORQUE_TOL_NMM",
    "SegmentLaw",
    "SpineState",
    "Sweep",
    "compile_law",
    "lever_mm",
    "mobility_factors",
    "mobility_states",
    "reachable_twist_deg",
    "solve",
    "solve3d",
    "sweep",
    "tissue",
]
