"""``spine3d animate``: MP4 and GIF clips from scene files, frames streamed to the encoder.

Every frame is a :class:`~spine3d.scene.describe.Figure` from the same description and
the same :class:`~spine3d.render.figure.FigureRenderer` as ``spine3d render``; the
renderer's actors are moved in place from frame to frame and each picture goes straight
to ffmpeg (imageio-ffmpeg's bundled binary), so memory stays flat however long the clip.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import SpineInputError
from ..geometry import atomic_path
from ..scene import SceneSpec
from ..scene.describe import (
    Figure,
    View,
    describe,
    nice_ceiling,
    shown_peak,
    simulate_scene,
    solve_panel,
)
from ..scene.theme import Theme
from .figure import FigureRenderer

__all__ = ["FORMATS", "animate", "check_output", "frames"]

FORMATS = (".mp4", ".gif")
"""File types ``spine3d animate`` writes."""

# A palette per frame, undithered: antialiased text and the heat map keep their colours.
_GIF_FILTER = (
    "split[a][b];[a]palettegen=stats_mode=single:max_colors=256:reserve_transparent=0[p];"
    "[b][p]paletteuse=new=1:dither=none"
)


def check_output(out: Path) -> str:
    """Check the output path before any work; return its suffix.

    Raises
    ------
    SpineInputError
        On an unknown extension, a missing or unwritable folder, or no video encoder.
    """
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise SpineInputError(
            f"--out {out}: unknown file type, expected one of {', '.join(FORMATS)}"
        )
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise SpineInputError(f"--out {out}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise SpineInputError(f"--out {out}: folder {folder} is not writable")
    try:
        import imageio_ffmpeg

        imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # the package or its binary is missing
        raise SpineInputError(
            "no video encoder: ffmpeg (from the imageio-ffmpeg package) is not available"
        ) from None
    return suffix


def _kind(scene: SceneSpec) -> str:
    kind = scene.animation.get("kind", "auto")
    if kind == "auto":
        return "maneuver" if any(p.maneuver is not None for p in scene.panels) else "sweep"
    return kind


def frames(
    scene: SceneSpec,
    n_frames: int,
    theme: Theme | None = None,
    size: tuple[int, int] | None = None,
) -> Iterator[Figure]:
    """Yield the ``n_frames`` figures of the scene's clip, one at a time.

    A sweep turns 0 > twist > 0 (a half sine); a manoeuvre plays its simulated time
    from start to end with the clock in the panel text; an orbit turns the camera about
    the vertical through its focal point. Colour limits and the camera framing are
    fixed over the clip, so that colours and sizes compare from frame to frame.
    """
    kind = _kind(scene)
    u = np.linspace(0.0, 1.0, n_frames)
    if kind == "sweep":
        peak = [p.load for p in scene.panels]
        top = replace(scene, panels=tuple(replace(p, maneuver=None) for p in scene.panels))
        clim = nice_ceiling(max(shown_peak(p, solve_panel(p)) for p in top.panels))
        first = None
        for x in u:
            w = math.sin(math.pi * x)
            panels = tuple(
                replace(
                    p,
                    load=replace(
                        p.load,
                        twist_deg=None if ld.twist_deg is None else ld.twist_deg * w,
                        torque_nm=None if ld.torque_nm is None else ld.torque_nm * w,
                    ),
                )
                for p, ld in zip(top.panels, peak, strict=True)
            )
            fig = describe(replace(top, panels=panels), theme, size, clim)
            first = first or fig
            yield _keep_views(fig, first)
    elif kind == "maneuver":
        runs = [
            simulate_scene(scene, i) if p.maneuver is not None else None
            for i, p in enumerate(scene.panels)
        ]
        runs = [getattr(r, "last", r) for r in runs]
        end = max(r.t_ms[-1] for r in runs if r is not None)
        clim = nice_ceiling(max(float(np.abs(r.rotation_deg).max()) for r in runs if r is not None))
        first = None
        for x in u:
            t = float(end * x)
            panels = tuple(p if p.maneuver is None else replace(p, at_ms=t) for p in scene.panels)
            fig = describe(replace(scene, panels=panels), theme, size, clim, flash=True)
            first = first or fig
            yield _keep_views(fig, first)
    elif kind == "orbit":
        fig0 = describe(scene, theme, size)
        turn = math.radians(float(scene.animation.get("orbit_deg", 360.0)))
        for x in u:
            a = turn * x
            c, s = math.cos(a), math.sin(a)
            rot = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
            views = [
                View(
                    p.view.focal_point + rot @ (p.view.position - p.view.focal_point),
                    p.view.focal_point,
                    rot @ p.view.up,
                )
                for p in fig0.panels
            ]
            yield replace(
                fig0,
                panels=tuple(replace(p, view=v) for p, v in zip(fig0.panels, views, strict=True)),
            )
    else:
        raise SpineInputError(f"{scene.source}: [animation] kind = {kind!r}: unknown")


def _keep_views(fig: Figure, first: Figure) -> Figure:
    """Keep the first frame's cameras: framing that follows the pose would jitter."""
    return replace(
        fig,
        panels=tuple(
            replace(p, view=f.view) for p, f in zip(fig.panels, first.panels, strict=True)
        ),
    )


def _even(img: np.ndarray, background: tuple[int, int, int]) -> np.ndarray:
    """Pad (never scale) to even width and height, as H.264 needs, with the background."""
    h, w = img.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return img
    out = np.empty((h + h % 2, w + w % 2, 3), dtype=np.uint8)
    out[...] = background
    out[:h, :w] = img[..., :3]
    return out


def _encode(scene, tmp: Path, suffix: str, n: int, fps: int, theme, size, background, progress):
    """Render the ``n`` frames one at a time and stream them to ffmpeg writing ``tmp``."""
    import imageio_ffmpeg

    renderer = writer = None
    try:
        for k, fig in enumerate(frames(scene, n, theme, size)):
            if renderer is None:
                renderer = FigureRenderer(replace(fig, transparent=False))
                img = _even(renderer.image(), background)
                params = ["-filter_complex", _GIF_FILTER] if suffix == ".gif" else []
                writer = imageio_ffmpeg.write_frames(
                    str(tmp),
                    (img.shape[1], img.shape[0]),
                    fps=fps,
                    codec="gif" if suffix == ".gif" else "libx264",
                    # GIF: keep our palette (pal8); as rgb24 the encoder would requantise
                    # to its default palette and fringe every edge.
                    pix_fmt_out="yuv420p" if suffix == ".mp4" else "pal8",
                    quality=None if suffix == ".gif" else 8,
                    macro_block_size=1,
                    output_params=params,
                    ffmpeg_log_level="error",
                )
                writer.send(None)
            else:
                img = _even(renderer.image(replace(fig, transparent=False)), background)
            writer.send(np.ascontiguousarray(img))
            if progress:
                progress(k + 1, n)
    finally:
        if writer is not None:
            writer.close()
        if renderer is not None:
            renderer.close()


def animate(
    scene: SceneSpec,
    out: Path,
    fps: int | None = None,
    duration_s: float | None = None,
    size: tuple[int, int] | None = None,
    theme: Theme | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Render the scene's clip to ``out`` (.mp4 or .gif), written atomically.

    Parameters
    ----------
    scene : SceneSpec
    out : Path
    fps : int, optional
        Frames per second; default the scene's ``[animation] fps``.
    duration_s : float, optional
        Clip length, seconds; default the scene's ``[animation] duration_s``.
    size : (int, int), optional
        Frame width and height; default the scene's.
    theme : Theme, optional
        Default: the scene's ``theme`` and ``font_pt``.
    progress : callable, optional
        Called with (frames done, frames in all) after each frame.

    Returns
    -------
    Path
        ``out``. A failure leaves no file behind.
    """
    from PIL import ImageColor

    suffix = check_output(Path(out))
    fps = int(fps or scene.animation.get("fps", 24))
    duration_s = float(duration_s or scene.animation.get("duration_s", 6.0))
    n = max(2, int(round(fps * duration_s)))
    background = ImageColor.getrgb(scene.background)[:3]
    with atomic_path(Path(out), suffix) as tmp:
        _encode(scene, tmp, suffix, n, fps, theme, size, background, progress)
    return Path(out)
