"""spine3d: a 3D spine biomechanics visualizer for teaching facet-joint mechanics.

>>> import spine3d
>>> model = spine3d.load_model()
>>> state = spine3d.solve(model, twist_deg=35.0, mobility={"L4-L5": "restricted"})
>>> scene = spine3d.load_scene("self_twist")  # a shipped scene, or a path
>>> spine3d.render(scene, "self_twist.png")  # doctest: +SKIP

Names are imported on first use, so ``import spine3d`` (and ``spine3d --help``) stays
fast: NumPy, the solver and the renderer load only when something asks for them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from . import _display
from .errors import MeshFileError, SpineInputError, UnreachableTwistError

__version__ = "0.1.0"

_LAZY = {
    "load_model": "spine3d.anatomy",
    "SpineState": "spine3d.mechanics",
    "reachable_twist_deg": "spine3d.mechanics",
    "solve": "spine3d.mechanics",
    "solve3d": "spine3d.mechanics",
    "sweep": "spine3d.mechanics",
    "load_scene": "spine3d.scene",
}


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
    "__version__",
    "load_model",
    "load_scene",
    "reachable_twist_deg",
    "show",
    "render",
    "solve",
    "solve3d",
    "sweep",
]

if TYPE_CHECKING:  # for type checkers and editors; at run time these load on first use
    from .anatomy import load_model
    from .mechanics import SpineState, reachable_twist_deg, solve, solve3d, sweep
    from .scene import load_scene


def __getattr__(name: str):
    if name == "render":
        # ``spine3d.render`` is the rendering package, callable as ``spine3d.render(...)``.
        return import_module("spine3d.render")
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'spine3d' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
