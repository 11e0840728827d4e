"""spine3d: a 3D spine biomechanics visualizer for teaching facet-joint mechanics.

>>> import spine3d
>>> model = spine3d.load_model()
>>> state = spine3d.solve(model, twist_deg=35.0, mobility={"L4-L5": "restricted"})
"""

from . import _display
from .anatomy import load_model
from .errors import MeshFileError, SpineInputError, UnreachableTwistError
from .mechanics import SpineState, reachable_twist_deg, solve, sweep

__version__ = "0.1.0"


def show(obj, interactive: bool | None = None) -> None:
    """Display a scene file, a scene, a solved state or a figure in a notebook.

    An image of the figure, and with ``pip install 'spine3d[notebook]'`` an interactive
    3D view (see :func:`spine3d.export.notebook.show`).
    """
    from .export.notebook import show as _show

    _show(obj, interactive)


def _represent(kind: str, obj):
    # States and figures show themselves in notebooks through this (see _display).
    from .export.notebook import represent

    return represent(kind, obj)


_display.set_display(_represent)

__all__ = [
    "MeshFileError",
    "SpineInputError",
    "SpineState",
    "UnreachableTwistError",
    "load_model",
    "reachable_twist_deg",
    "show",
    "solve",
    "sweep",
]
