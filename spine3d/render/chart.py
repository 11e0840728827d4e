"""The inset bar chart of rotation per segment, drawn with Pillow and composited.

Pillow draws the few bars and labels in milliseconds; the font is the DejaVu Sans that
matplotlib ships (a pyvista dependency), so nothing is fetched at run time.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from ..scene.describe import ChartData
from ..scene.theme import Theme, hex_to_rgb

__all__ = ["chart_image", "font"]


@lru_cache(maxsize=32)
def font(size: int):
    """Return DejaVu Sans at ``size`` pixels (the font matplotlib ships)."""
    import matplotlib
    from PIL import ImageFont

    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    return ImageFont.truetype(str(path), size)


def _ticks(ymax: float) -> list[float]:
    for step in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20, 50):
        if ymax / step <= 6:
            return [i * step for i in range(int(ymax / step + 1e-9) + 1)]
    return [0.0, ymax]


def _rgb255(c) -> tuple[int, int, int]:
    return tuple(int(round(255 * x)) for x in c)  # type: ignore[return-value]


def chart_image(chart: ChartData, theme: Theme, size_px: tuple[int, int]) -> np.ndarray:
    """Draw ``chart`` on a transparent background; return (h, w, 4) uint8."""
    from PIL import Image, ImageDraw

    w, h = size_px
    img = Image.new("RGBA", (w, h), (255, 255, 255, 0))
    draw = ImageDraw.Draw(img)
    text = _rgb255(hex_to_rgb(theme.text)) + (255,)
    fs = max(9, int(min(h * 0.065, w * 0.058)))
    small = font(max(6, int(fs * 0.85)))
    big = font(fs)
    # Plot area: room for the title above, y labels left, rotated x labels below.
    label_w = max(draw.textlength(n, font=small) for n in chart.names)
    left, top = int(fs * 2.6), int(fs * 1.8)
    bottom = h - int(label_w + fs * 2.2)
    right = w - int(fs * 0.5)
    draw.text(((left + right) / 2, 0), chart.title, font=big, fill=text, anchor="ma")
    ymax = chart.ymax if chart.ymax > 0 else 1.0
    scale = (bottom - top) / ymax
    for t in _ticks(ymax):
        y = bottom - t * scale
        draw.line([(left - 4, y), (left, y)], fill=text, width=1)
        draw.text((left - 6, y), f"{t:g}", font=small, fill=text, anchor="rm")
    draw.line([(left, top), (left, bottom)], fill=text, width=1)
    draw.line([(left, bottom), (right, bottom)], fill=text, width=1)
    n = len(chart.values)
    slot = (right - left) / max(n, 1)
    edge = text
    for i, (value, colour) in enumerate(zip(chart.values, chart.colors, strict=True)):
        x0 = left + slot * (i + 0.12)
        x1 = left + slot * (i + 0.88)
        y0 = bottom - min(value, ymax) * scale
        draw.rectangle([x0, y0, x1, bottom], fill=_rgb255(colour) + (255,), outline=edge, width=1)
        # Rotated tick label: draw on its own layer, turn it, paste it under the bar.
        tw = int(draw.textlength(chart.names[i], font=small)) + 2
        layer = Image.new("RGBA", (tw, fs + 2), (255, 255, 255, 0))
        ImageDraw.Draw(layer).text((0, 0), chart.names[i], font=small, fill=text)
        layer = layer.rotate(90, expand=True)
        img.alpha_composite(layer, (int((x0 + x1) / 2 - layer.width / 2), bottom + 4))
    draw.text(
        ((left + right) / 2, h - 2),
        "level (segment below it)",
        font=small,
        fill=text,
        anchor="md",
    )
    return np.asarray(img).copy()
