"""``spine3d animate``: MP4 and GIF clips from scene files, frames streamed to the encoder.

Every frame is a :class:`~spine3d.scene.describe.Figure` from the same description and
the same :class:`~spine3d.render.figure.FigureRenderer` as ``spine3d render``; the
renderer's actors are moved in place from frame to frame and each picture goes straight
to ffmpeg (imageio-ffmpeg's bundled binary), so memory stays flat however long the clip.
"""

from __future__ import annotations

import math
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
    clip_clock,
    describe,
    fit_view,
    nice_ceiling,
    shown_peak,
    simulate_scene,
    solve_panel,
)
from ..scene.theme import Theme
from .figure import FigureRenderer
from .outputs import check_file

__all__ = [
    "ALPHA_FORMATS",
    "FORMATS",
    "animate",
    "check_output",
    "clip_plan",
    "frames",
]

FORMATS = (".mp4", ".gif", ".webm", ".apng")
"""File types ``spine3d animate`` writes (MP4 for slides: every presentation program plays it)."""

ALPHA_FORMATS = (".webm", ".apng", ".gif")
"""File types that carry a transparent background (MP4's H.264 has no alpha channel)."""

# A palette per frame, undithered: antialiased text and the heat map keep their colours.
# Transparent: one palette entry is kept for pixels whose alpha is under half.
_GIF_FILTER = (
    "split[a][b];[a]palettegen=stats_mode=single:max_colors=256:reserve_transparent={alpha}[p];"
    "[b][p]paletteuse=new=1:dither=none:alpha_threshold=128"
)

# Rough cost of a clip, for the warning before a large one: bytes per pixel per frame of
# each format at our settings, and seconds of rendering per megapixel-frame. Measured
# with anim_sweep_restricted at 960x540 on a shared 2-core machine (software
# renderer); a scene with more bone on screen costs more: the estimate is to a factor 2.
_BYTES_PER_PIXEL = {".mp4": 0.015, ".webm": 0.006, ".gif": 0.06, ".apng": 0.1}
_SECONDS_PER_MEGAPIXEL = 0.4
LARGE_PIXELS = 1920 * 1080
"""A clip larger than this (pixels per frame) asks before it is made."""
LONG_S = 30.0
"""A clip longer than this (seconds) asks before it is made."""


def clip_plan(
    scene: SceneSpec,
    suffix: str,
    fps: int | None = None,
    duration_s: float | None = None,
    size: tuple[int, int] | None = None,
    scale: int = 1,
) -> dict:
    """Return what a clip will be: frames, size, and its expected file size and time.

    Returns
    -------
    dict
        ``fps``, ``duration_s``, ``frames``, ``width``, ``height`` (pixels, after
        ``scale``), ``bytes`` (expected file size) and ``seconds`` (expected time to
        make), and ``large`` (over 1920x1080 or 30 s).
    """
    fps = int(fps or scene.animation.get("fps", 24))
    duration_s = float(duration_s or scene.animation.get("duration_s", 6.0))
    n = max(2, int(round(fps * duration_s)))
    w, h = size or (scene.width, scene.height)
    w, h = w * scale, h * scale
    px = w * h
    return {
        "fps": fps,
        "duration_s": duration_s,
        "frames": n,
        "width": w,
        "height": h,
        "bytes": int(px * n * _BYTES_PER_PIXEL[suffix]),
        "seconds": px * n / 1e6 * _SECONDS_PER_MEGAPIXEL,
        "large": px > LARGE_PIXELS or duration_s > LONG_S,
    }


def check_output(out: Path, transparent: bool = False, need_bytes: int = 0) -> str:
    """Check the output path before any work; return its suffix.

    Raises
    ------
    SpineInputError
        On an unknown extension, a transparent MP4, a missing or unwritable folder, a
        full disk, or no video encoder.
    """
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise SpineInputError(
            f"--out {out}: unknown file type, expected one of {', '.join(FORMATS)}"
        )
    if transparent and suffix not in ALPHA_FORMATS:
        raise SpineInputError(
            f"--out {out}: MP4 (H.264) cannot carry a transparent background; "
            f"use one of {', '.join(ALPHA_FORMATS)} with --transparent"
        )
    check_file(out, f"--out {out}", need_bytes)
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
                replace(p, load=ld.scaled(w)) for p, ld in zip(top.panels, peak, strict=True)
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
        clim = nice_ceiling(max(float(np.abs(r.rotation_deg).max()) for r in runs if r is not None))
        clock = clip_clock(runs, n_frames)

        def at(row) -> SceneSpec:
            panels = tuple(
                p if p.maneuver is None else replace(p, at_ms=float(t))
                for p, t in zip(scene.panels, row, strict=True)
            )
            return replace(scene, panels=panels)

        views = _clip_views(
            [describe(at(clock[k]), theme, size, clim, flash=True) for k in _key_frames(clock)]
        )
        for row in clock:
            fig = describe(at(row), theme, size, clim, flash=True)
            yield _with_views(fig, views)
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


def _key_frames(clock: np.ndarray) -> list[int]:
    """Return the frames whose framing together stands for a manoeuvre clip's.

    Seven evenly spaced (the first and the last among them), so that the posture and
    the thrust are in.
    """
    return sorted({int(k) for k in np.linspace(0, len(clock) - 1, 7)})


def _clip_views(figs: list[Figure]) -> list[View]:
    """One camera per panel that frames what the panel draws in every one of ``figs``.

    A manoeuvre's patient moves into the posture and its arrow grows: a camera fitted
    to one frame would cut another; one that follows the pose would jitter. Panels that
    the first figure frames as one (same levels, same camera) stay framed as one.
    """
    first = figs[0].panels
    groups: dict[tuple, list[int]] = {}
    for i, p in enumerate(first):
        key = tuple(np.round(np.r_[p.view.position, p.view.focal_point], 3))
        groups.setdefault(key, []).append(i)
    out: list[View | None] = [None] * len(first)
    for members in groups.values():
        pts = np.vstack(
            [
                f.panels[i].fit_points
                for f in figs
                for i in members
                if f.panels[i].fit_points is not None
            ]
        )
        p = first[members[0]]
        view = fit_view(pts, p.view.position - p.view.focal_point, p.view.up, None, p.zoom)
        for i in members:
            out[i] = view
    return out


def _with_views(fig: Figure, views: list[View]) -> Figure:
    return replace(
        fig, panels=tuple(replace(p, view=v) for p, v in zip(fig.panels, views, strict=True))
    )


def _keep_views(fig: Figure, first: Figure) -> Figure:
    """Keep the first frame's cameras: framing that follows the pose would jitter."""
    return replace(
        fig,
        panels=tuple(
            replace(p, view=f.view) for p, f in zip(fig.panels, first.panels, strict=True)
        ),
    )


def _even(img: np.ndarray, background: tuple[int, ...]) -> np.ndarray:
    """Pad (never scale) to even width and height, as H.264 needs, with the background.

    ``img`` is (h, w, 3) or, transparent, (h, w, 4); the padding of a transparent frame
    is transparent.
    """
    h, w, c = img.shape
    if h % 2 == 0 and w % 2 == 0:
        return img
    out = np.empty((h + h % 2, w + w % 2, c), dtype=np.uint8)
    out[...] = (*background[:3], 0)[:c]
    out[:h, :w] = img
    return out


def _writer_options(suffix: str, alpha: bool) -> dict:
    """imageio-ffmpeg options for a format: codec, pixel formats and filters."""
    if suffix == ".gif":
        # Keep our palette (pal8); as rgb24 the encoder would requantise to its default
        # palette and fringe every edge.
        return dict(
            codec="gif",
            pix_fmt_out="pal8",
            quality=None,
            output_params=["-filter_complex", _GIF_FILTER.format(alpha=int(alpha))],
        )
    if suffix == ".webm":
        return dict(
            codec="libvpx-vp9",
            pix_fmt_out="yuva420p" if alpha else "yuv420p",
            quality=None,
            output_params=["-b:v", "0", "-crf", "32", "-row-mt", "1"],
        )
    if suffix == ".apng":
        return dict(
            codec="apng",
            pix_fmt_out="rgba" if alpha else "rgb24",
            quality=None,
            output_params=["-plays", "0", "-f", "apng"],
        )
    return dict(codec="libx264", pix_fmt_out="yuv420p", quality=8, output_params=[])


def _encode(
    scene,
    tmp: Path,
    suffix: str,
    n: int,
    fps: int,
    theme,
    size,
    background,
    progress,
    scale: int = 1,
    transparent: bool = False,
):
    """Render the ``n`` frames one at a time and stream them to ffmpeg writing ``tmp``."""
    import imageio_ffmpeg

    renderer = writer = None
    try:
        for k, fig in enumerate(frames(scene, n, theme, size)):
            fig = replace(fig, transparent=transparent)
            if renderer is None:
                renderer = FigureRenderer(fig, scale)
                img = _even(renderer.image(), background)
                writer = imageio_ffmpeg.write_frames(
                    str(tmp),
                    (img.shape[1], img.shape[0]),
                    fps=fps,
                    pix_fmt_in="rgba" if transparent else "rgb24",
                    macro_block_size=1,
                    ffmpeg_log_level="error",
                    **_writer_options(suffix, transparent),
                )
                writer.send(None)
            else:
                img = _even(renderer.image(fig), background)
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
    scale: int = 1,
    transparent: bool = False,
) -> Path:
    """Render the scene's clip to ``out`` (.mp4, .gif, .webm or .apng), written atomically.

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
    scale : int, default: 1
        Multiplies the frame size, fonts included.
    transparent : bool, default: False
        A transparent background (WebM with alpha, APNG, or GIF with a transparent
        palette entry; not MP4). A scene's ``[view] transparent`` is for figures.

    Returns
    -------
    Path
        ``out``. A failure leaves no file behind.
    """
    from PIL import ImageColor

    suffix = Path(out).suffix.lower()
    plan = clip_plan(scene, suffix if suffix in FORMATS else ".mp4", fps, duration_s, size, scale)
    check_output(Path(out), transparent, plan["bytes"])
    background = ImageColor.getrgb(scene.background)[:3]
    with atomic_path(Path(out), suffix) as tmp:
        _encode(
            scene,
            tmp,
            suffix,
            plan["frames"],
            plan["fps"],
            theme,
            size,
            background,
            progress,
            scale,
            transparent,
        )
    return Path(out)
