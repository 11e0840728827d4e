"""Off-screen export of scenes to PNG."""

from __future__ import annotations

from pathlib import Path

from ..scene import SceneSpec
from ..scene.describe import describe
from ..scene.theme import DEFAULT_THEME, Theme
from .figure import render_figure

__all__ = ["render_scene"]


def render_scene(
    scene: SceneSpec,
    out: Path,
    size: tuple[int, int] | None = None,
    scale: int = 1,
    transparent: bool | None = None,
    theme: Theme = DEFAULT_THEME,
) -> Path:
    """Solve and render ``scene`` to the PNG file ``out`` (written atomically).

    Parameters
    ----------
    scene : SceneSpec
    out : Path
    size : (int, int), optional
        Width and height in pixels; default the scene's own.
    scale : int, default: 1
        Multiplies the size; fonts scale with it.
    transparent : bool, optional
        Overrides the scene's ``[view] transparent``.
    theme : Theme, default: DEFAULT_THEME
    """
    fig = describe(scene, theme, size)
    if transparent is not None and transparent != fig.transparent:
        from dataclasses import replace

        fig = replace(fig, transparent=transparent)
    return render_figure(fig, out, scale=scale)
