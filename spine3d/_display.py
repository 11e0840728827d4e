"""Rich display in notebooks (``_repr_png_``, ``_repr_html_``) for states and figures.

The classes that show themselves live in GL-free layers; drawing needs the render layer
above them. So this module holds only a slot: the package fills it (``spine3d``'s
``__init__``) with a function that imports the drawing code when a notebook first asks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["RichDisplay", "set_display"]

_DISPLAY: Callable[[str, Any], Any] | None = None


def set_display(fn: Callable[[str, Any], Any]) -> None:
    """Set the function that turns an object into ``"png"`` bytes or ``"html"`` text."""
    global _DISPLAY
    _DISPLAY = fn


class RichDisplay:
    """Mixin: IPython shows the object as its figure (a PNG) or as HTML."""

    __slots__ = ()

    def _repr_png_(self) -> bytes | None:
        return _DISPLAY("png", self) if _DISPLAY is not None else None

    def _repr_html_(self) -> str | None:
        return _DISPLAY("html", self) if _DISPLAY is not None else None
