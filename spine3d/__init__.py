"""spine3d: a 3D spine biomechanics visualizer for teaching facet-joint mechanics.

>>> import spine3d
>>> model = spine3d.load_model()
>>> state = spine3d.solve(model, twist_deg=35.0, mobility={"L4-L5": "restricted"})
"""

from .anatomy import load_model
from .errors import MeshFileError, SpineInputError, UnreachableTwistError
from .mechanics import SpineState, reachable_twist_deg, solve, solve3d, sweep

__version__ = "0.1.0"

__all__ = [
    "MeshFileError",
    "SpineInputError",
    "SpineState",
    "UnreachableTwistError",
    "load_model",
    "reachable_twist_deg",
    "solve",
    "solve3d",
    "sweep",
]
