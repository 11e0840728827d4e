"""Off-screen export of scenes to PNG, SVG or PDF."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..errors import SpineInputError
from ..scene import SceneSpec
from ..scene.describe import describe, scene_theme
from ..scene.theme import Theme, min_height_px
from .figure import MAX_FRAMEBUFFER_PX, check_size, render_figure

__all__ = ["check_scene", "render_scene"]


def _figure(scene, size, transparent, theme):
    fig = describe(scene, theme, size)
    if transparent is not None and transparent != fig.transparent:
        fig = replace(fig, transparent=transparent)
    return fig


def check_scene(scene: SceneSpec, size: tuple[int, int] | None = None, scale: int = 1) -> None:
    """Refuse, before anything is solved or written, a figure larger than the renderer draws.

    Raises
    ------
    SpineInputError
        Naming the scene, the size and the limit.
    """
    w, h = size or (scene.width, scene.height)
    if h < min_height_px(w, scene.font_pt):
        raise SpineInputError(
            f"{scene.source}: image {w}x{h}: too flat to hold its text at {scene.font_pt:g} pt: "
            f"at least {min_height_px(w, scene.font_pt)} pixels high for that width"
        )
    if max(w, h) * scale > MAX_FRAMEBUFFER_PX:
        raise SpineInputError(
            f"{scene.source}: image {w * scale}x{h * scale}: at most {MAX_FRAMEBUFFER_PX} "
            "pixels a side (the renderer's largest framebuffer); use a smaller --scale or size"
        )


def render_scene(
    scene: SceneSpec,
    out: Path,
    size: tuple[int, int] | None = None,
    scale: int = 1,
    transparent: bool | None = None,
    theme: Theme | None = None,
) -> Path:
    """Solve and render ``scene`` to ``out`` (.png, .svg or .pdf), written atomically.

    Parameters
    ----------
    scene : SceneSpec
    out : Path
    size : (int, int), optional
        Width and height in pixels; default the scene's own.
    scale : int, default: 1
        Multiplies the pixels only: the text keeps its share of the figure.
    transparent : bool, optional
        Overrides the scene's ``[view] transparent``.
    theme : Theme, optional
        Default: the scene's ``theme`` and ``font_pt``.
    """
    fig = _figure(scene, size, transparent, theme or scene_theme(scene))
    check_size(fig, scale)
    return render_figure(fig, out, scale=scale)
