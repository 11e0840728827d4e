"""Lay a rendered panel strip out as a figure: title, caption, panel titles, charts.

Text and charts are drawn with Pillow onto the image pyvista rendered, so the GL
window only holds the 3D panels (the costly pixels), and type is set the same on every
machine (DejaVu Sans, shipped with matplotlib).
"""

from __future__ import annotations

import textwrap

import numpy as np

from ..scene.describe import Figure
from ..scene.theme import hex_to_rgb
from .chart import chart_image, font, timeline_image

__all__ = ["compose"]


def _wrap(text: str, size: int, width: int, draw_font) -> str:
    """Wrap ``text`` into lines no wider than ``width`` pixels at font ``size``."""
    if draw_font.getlength(text) <= width:
        return text
    per_line = max(10, int(len(text) * width / draw_font.getlength(text)))
    return "\n".join(textwrap.wrap(text, per_line))


def compose(fig: Figure, panels: np.ndarray, height: int) -> np.ndarray:
    """Return the whole figure: ``panels`` (the GL render) between title and caption.

    Parameters
    ----------
    fig : Figure
    panels : (h, W, 3 or 4) uint8
        The rendered panels, side by side, without title or caption rows.
    height : int
        Height of the whole figure, pixels.

    Returns
    -------
    (H, W, 3 or 4) uint8
    """
    from PIL import Image, ImageColor, ImageDraw

    h_body, width = panels.shape[:2]
    top = int(round(height * fig.theme.title_row))
    mode = "RGBA" if panels.shape[2] == 4 else "RGB"
    background = ImageColor.getrgb(fig.background)[:3]
    canvas = Image.new(mode, (width, height), background + ((0 if fig.transparent else 255),))
    canvas.paste(Image.fromarray(np.ascontiguousarray(panels), mode), (0, top))
    draw = ImageDraw.Draw(canvas)
    theme = fig.theme
    ink = tuple(int(round(255 * c)) for c in hex_to_rgb(theme.text)) + (255,)
    ink = ink if mode == "RGBA" else ink[:3]

    def text(value: str, size: int, xy: tuple[float, float], anchor: str) -> None:
        draw.multiline_text(
            xy,
            value,
            font=font(size),
            fill=ink,
            anchor=anchor,
            align="center" if anchor[0] == "m" else "left",
            spacing=size // 4,
        )

    size = max(8, int(theme.title_size * height))
    if fig.title:
        text(
            _wrap(fig.title, size, int(width * 0.96), font(size)), size, (width / 2, top / 2), "mm"
        )
    size = max(7, int(theme.caption_size * height))
    if fig.caption:
        caption = _wrap(fig.caption, size, int(width * 0.94), font(size))
        text(caption, size, (width / 2, top + h_body + (height - top - h_body) / 2), "mm")
    n = len(fig.panels)
    cw, ch = theme.chart_size
    for i, panel in enumerate(fig.panels):
        x0, x1 = width * i / n, width * (i + 1) / n
        size = max(7, int(theme.panel_title_size * height))
        if panel.title:
            text(panel.title, size, ((x0 + x1) / 2, top + size * 0.3), "ma")
        small = max(6, int(theme.caption_size * 0.8 * height))
        if panel.twist_text:
            text(panel.twist_text, small, (x0 + small * 0.6, top + h_body - small * 0.5), "ld")
        timeline = getattr(panel, "timeline", None)
        if panel.chart is not None or timeline is not None:
            # Upper left of the panel, under its title: labels and the colour bar are right.
            size_px = (int(width / n * cw), int(height * ch))
            if timeline is not None:
                size_px = (int(width / n * 0.36), int(height * 0.34))
                pixels = timeline_image(timeline, theme, size_px)
            else:
                pixels = chart_image(panel.chart, theme, size_px)
            chart = Image.fromarray(pixels, "RGBA")
            at = (int(x0 + 0.01 * width / n), top + int(0.06 * height))
            if mode == "RGBA":
                canvas.alpha_composite(chart, at)
            else:
                canvas.paste(chart, at, mask=chart)
    return np.asarray(canvas).copy()
