"""Off-screen set-up: choose EGL where there is no display, and write images atomically."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from ..geometry import write_atomic

__all__ = ["png_bytes", "prepare_offscreen", "save_png"]


def prepare_offscreen() -> None:
    """Render without a window; without a display, ask VTK for EGL (no X warnings)."""
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    import pyvista as pv

    pv.OFF_SCREEN = True


def png_bytes(image: np.ndarray) -> bytes:
    """Return an (h, w, 3|4) uint8 image encoded as PNG."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def save_png(image: np.ndarray, path: Path) -> None:
    """Write an (h, w, 3|4) uint8 image to ``path`` as PNG, atomically."""
    write_atomic(Path(path), png_bytes(image))
