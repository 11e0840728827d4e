"""Render layer: pyvista figures, clips, the viewer and file outputs.

The package itself is callable: ``spine3d.render(scene, "fig.png")`` renders a scene
(a :class:`~spine3d.scene.SceneSpec`, a path or a shipped scene's name) to a PNG, the
same picture as ``spine3d render``. pyvista is imported only when something is drawn.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path


def render(
    scene,
    out: str | Path,
    size: tuple[int, int] | None = None,
    scale: int = 1,
    transparent: bool | None = None,
) -> Path:
    """Render ``scene`` to the PNG file ``out`` (written atomically); return its path.

    Parameters
    ----------
    scene : SceneSpec, str or Path
        A loaded scene, a scene file, or the name of a shipped scene (``"self_twist"``).
    out : str or Path
        The PNG file to write.
    size : (int, int), optional
        Width and height in pixels; default the scene's own.
    scale : int, default: 1
        Multiplies the size; fonts scale with it.
    transparent : bool, optional
        Overrides the scene's ``[view] transparent``.

    Returns
    -------
    Path
    """
    from ..scene import SceneSpec, load_scene
    from .export import render_scene

    if not isinstance(scene, SceneSpec):
        scene = load_scene(scene)
    return render_scene(scene, Path(out), size=size, scale=scale, transparent=transparent)


class _CallablePackage(types.ModuleType):
    """The ``spine3d.render`` package, which is also the :func:`render` function."""

    def __call__(self, *args, **kwargs) -> Path:
        return render(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
