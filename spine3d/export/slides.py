"""A PowerPoint deck of scenes (python-pptx): a title slide, then a slide per scene.

Each slide has the scene's title and caption as text, its figure at full resolution
(rendered as ``spine3d render`` does, without the title and caption rows the slide
already shows), and in the speaker notes the numbers a lecturer would say: the twist
and torque, the rotation of each segment and its share of the twist, and the share of a
restricted or hypermobile segment. A clip scene (one with an ``[animation]`` table)
becomes an embedded MP4 with its still as the poster frame.
"""

from __future__ import annotations

import io
import tempfile
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..geometry import atomic_path
from ..render._offscreen import png_bytes
from ..render.animate import animate
from ..render.figure import render_image
from ..scene import SceneSpec
from ..scene.describe import Figure, describe
from ..scene.theme import DEFAULT_THEME, Theme

__all__ = ["CLIP_SIZE", "SLIDE_SIZE_IN", "is_clip", "speaker_notes", "write_slides"]

SLIDE_SIZE_IN = (13.333, 7.5)
"""Width and height of a 16:9 slide, inches."""

CLIP_SIZE = (1280, 720)
"""Frame size of an embedded clip, pixels (a slide shows it at about this size)."""

_EMU_PER_IN = 914400


def is_clip(scene: SceneSpec) -> bool:
    """Return whether the scene file has an ``[animation]`` table (a clip, not a still)."""
    try:
        return "animation" in tomllib.loads(Path(scene.source).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return False


def speaker_notes(fig: Figure) -> str:
    """Return the numbers of a figure a lecturer would say, one paragraph per panel.

    Parameters
    ----------
    fig : Figure
        As :func:`spine3d.scene.describe.describe` returns it (every panel solved).
    """
    lines = []
    for panel in fig.panels:
        state = panel.state
        d = state.to_dict()
        shown = set(panel.levels)
        segs = [s for s in d["segments"] if s["upper"] in shown]
        head = f"{panel.title}: " if panel.title else ""
        lines.append(
            f"{head}twist {state.twist_deg:+.1f}° of T1 on the sacrum, "
            f"torque {state.torque_nm:.1f} N m."
        )
        if panel.timeline is not None and panel.twist_text:  # a manoeuvre: its moment
            lines.append(panel.twist_text + ".")
        if not segs:
            continue
        top = sorted(segs, key=lambda s: -abs(s["rotation_deg"]["axial"]))[:3]
        lines.append(
            "Most rotation: "
            + ", ".join(
                f"{s['name']} {abs(s['rotation_deg']['axial']):.1f}° ({100 * s['share']:.0f}%)"
                for s in top
            )
            + "."
        )
        for s in segs:
            if s["mobility"] != "normal":
                lines.append(
                    f"{s['name']} is {s['mobility']}: {abs(s['rotation_deg']['axial']):.2f}°, "
                    f"{100 * s['share']:.1f}% of the twist."
                )
        lines.append(
            "Rotation per segment (°): "
            + ", ".join(f"{s['name']} {s['rotation_deg']['axial']:.2f}" for s in segs)
            + "."
        )
    return "\n".join(lines)


def _png(image: np.ndarray) -> io.BytesIO:
    return io.BytesIO(png_bytes(image))


def _figure_image(scene: SceneSpec, theme: Theme) -> tuple[np.ndarray, Figure]:
    """Render the figure without its title and caption (the slide has them as text).

    A figure without a title or a caption reserves no row for them.
    """
    fig = describe(replace(scene, title="", caption=""), theme)
    return render_image(fig), fig


def _text(slide, text: str, box: tuple[float, float, float, float], size_pt: float, bold=False):
    from pptx.enum.text import PP_ALIGN
    from pptx.util import Emu, Pt

    left, top, width, height = (Emu(int(v * _EMU_PER_IN)) for v in box)
    frame = slide.shapes.add_textbox(left, top, width, height).text_frame
    frame.word_wrap = True
    p = frame.paragraphs[0]
    p.text = text
    p.alignment = PP_ALIGN.CENTER
    p.font.size = Pt(size_pt)
    p.font.bold = bold
    return frame


def _fit(w_px: int, h_px: int, box: tuple[float, float, float, float]) -> tuple[int, ...]:
    """Place a w x h picture centred in ``box`` (inches), as large as fits; EMU."""
    left, top, width, height = box
    s = min(width / w_px, height / h_px)
    w, h = w_px * s, h_px * s
    return tuple(
        int(v * _EMU_PER_IN) for v in (left + (width - w) / 2, top + (height - h) / 2, w, h)
    )


def write_slides(
    scenes: Sequence[SceneSpec],
    out: Path,
    title: str | None = None,
    theme: Theme = DEFAULT_THEME,
    progress: Callable[[], None] | None = None,
) -> Path:
    """Write a deck of ``scenes`` to ``out`` (.pptx), atomically.

    Parameters
    ----------
    scenes : sequence of SceneSpec
    out : Path
    title : str, optional
        Title of the deck; default "Spine biomechanics".
    theme : Theme, default: DEFAULT_THEME
    progress : callable, optional
        Called after each scene's slide.
    """
    from pptx import Presentation
    from pptx.util import Emu

    import spine3d

    deck = Presentation()
    deck.slide_width = Emu(int(SLIDE_SIZE_IN[0] * _EMU_PER_IN))
    deck.slide_height = Emu(int(SLIDE_SIZE_IN[1] * _EMU_PER_IN))
    blank = deck.slide_layouts[6]
    w_in, h_in = SLIDE_SIZE_IN

    first = deck.slides.add_slide(blank)
    _text(first, title or "Spine biomechanics", (0.8, 2.4, w_in - 1.6, 1.6), 40, True)
    _text(
        first,
        f"{len(scenes)} figure{'s' if len(scenes) != 1 else ''} made with spine3d "
        f"{spine3d.__version__}",
        (0.8, 4.2, w_in - 1.6, 0.8),
        20,
    )
    with tempfile.TemporaryDirectory(prefix="spine3d-slides-") as tmp:
        for k, scene in enumerate(scenes):
            slide = deck.slides.add_slide(blank)
            _text(slide, scene.title or scene.name, (0.4, 0.15, w_in - 0.8, 0.8), 28, True)
            if scene.caption:
                _text(slide, scene.caption, (0.6, h_in - 1.0, w_in - 1.2, 0.85), 16)
            image, fig = _figure_image(scene, theme)
            box = (0.3, 1.0, w_in - 0.6, h_in - 2.1)
            place = _fit(image.shape[1], image.shape[0], box)
            if is_clip(scene):
                movie = Path(tmp) / f"clip{k}.mp4"
                animate(scene, movie, size=CLIP_SIZE, theme=theme)
                slide.shapes.add_movie(
                    str(movie), *place, poster_frame_image=_png(image), mime_type="video/mp4"
                )
            else:
                slide.shapes.add_picture(_png(image), *place)
            slide.notes_slide.notes_text_frame.text = speaker_notes(fig)
            if progress:
                progress()
        out = Path(out)
        with atomic_path(out, ".pptx") as part:
            deck.save(str(part))
    return out
