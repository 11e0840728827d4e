"""The inset bar chart of rotation per segment, drawn with Pillow and composited.

Pillow draws the few bars and labels in milliseconds; the font is the DejaVu Sans that
matplotlib ships (a pyvista dependency), so nothing is fetched at run time.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..scene.describe import ChartData
from ..scene.theme import Theme, hex_to_rgb

__all__ = ["chart_image", "font", "timeline_image"]


@lru_cache(maxsize=32)
def font(size: int):
    """Return DejaVu Sans at ``size`` pixels (the font matplotlib ships)."""
    import matplotlib
    from PIL import ImageFont

    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    return ImageFont.truetype(str(path), size)


def _ticks(ymax: float) -> list[float]:
    """Round tick values from 0 to at most ``ymax`` (at most 7 of them)."""
    mag = 10 ** math.floor(math.log10(ymax)) if ymax > 0 else 1.0
    for m in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10):
        step = m * mag
        if ymax / step <= 6:
            return [round(i * step, 10) for i in range(int(ymax / step + 1e-9) + 1)]
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


def timeline_image(tl, theme: Theme, size_px: tuple[int, int]) -> np.ndarray:
    """Draw a :class:`~spine3d.scene.describe.TimelineData` line plot; return (h, w, 4) uint8."""
    from PIL import Image, ImageDraw

    w, h = size_px
    img = Image.new("RGBA", (w, h), (255, 255, 255, 0))
    draw = ImageDraw.Draw(img)
    text = _rgb255(hex_to_rgb(theme.text)) + (255,)
    fs = max(9, int(min(h * 0.065, w * 0.05)))
    small, big = font(max(7, int(fs * 0.85))), font(fs)
    left, top = int(fs * 3.0), int(fs * 1.9)
    right, bottom = w - int(fs * 1.8), h - int(fs * 3.6)
    draw.text(((left + right) / 2, 0), tl.title, font=big, fill=text, anchor="ma")
    x = np.asarray(tl.x, dtype=float)
    x0, x1 = float(x.min()), float(x.max()) if x.max() > x.min() else float(x.min()) + 1
    ymax = max(float(np.max(s[1])) for s in tl.series) * 1.1 or 1.0
    ticks = _ticks(ymax)
    ymax = max(ymax, ticks[-1])

    def px(xv, yv):
        return left + (xv - x0) / (x1 - x0) * (right - left), bottom - yv / ymax * (bottom - top)

    if tl.band is not None:
        # Shaded band: its height is the band's value (0-1) of the plot height.
        band_rgb = _rgb255(hex_to_rgb(theme.restricted)) + (60,)
        pts = [px(xv, bv * ymax) for xv, bv in zip(x, tl.band, strict=True)]
        draw.polygon([(left, bottom), *pts, (right, bottom)], fill=band_rgb)
        draw.text(
            (right - 4, bottom - 4),
            f"shaded: {tl.band_label}",
            font=small,
            fill=band_rgb[:3] + (255,),
            anchor="rd",
        )
    for t in ticks:
        _, y = px(x0, t)
        draw.line([(left - 4, y), (left, y)], fill=text, width=1)
        draw.text((left - 6, y), f"{t:g}", font=small, fill=text, anchor="rm")
    for xt in _ticks(x1 - x0 if x1 > x0 else 1.0):
        xv = x0 + xt
        if xv > x1 + 1e-9:
            break
        xp, _ = px(xv, 0)
        draw.line([(xp, bottom), (xp, bottom + 4)], fill=text, width=1)
        draw.text((xp, bottom + 6), f"{xv:g}", font=small, fill=text, anchor="ma")
    draw.line([(left, top), (left, bottom)], fill=text, width=1)
    draw.line([(left, bottom), (right, bottom)], fill=text, width=1)
    for _, y, colour in tl.series:
        draw.line(
            [px(xv, yv) for xv, yv in zip(x, y, strict=True)],
            fill=_rgb255(colour) + (255,),
            width=max(2, fs // 6),
        )
    pop = _rgb255(hex_to_rgb(theme.bubble)) + (255,)
    for xv, _ in tl.marks:
        xp, _ = px(xv, 0)
        draw.line([(xp, top), (xp, bottom)], fill=pop, width=2)
    if tl.marks:
        # One label for all the pops, under the legend: the first, and how many more.
        xp, _ = px(tl.marks[0][0], 0)
        more = f" (+{len(tl.marks) - 1})" if len(tl.marks) > 1 else ""
        label_y = top + int(fs * 1.1) * len(tl.series) + 6
        draw.text((xp + 4, label_y), f"pop: {tl.marks[0][1]}{more}", font=small, fill=pop)
    if tl.now is not None:
        xp, _ = px(tl.now, 0)
        for yy in range(top, bottom, 8):
            draw.line([(xp, yy), (xp, min(yy + 4, bottom))], fill=text, width=1)
    draw.text(((left + right) / 2, h - 2), tl.x_label, font=small, fill=text, anchor="md")
    legend_y = top + 2
    for label, _, colour in tl.series:
        draw.line(
            [(left + 8, legend_y + fs // 2), (left + 28, legend_y + fs // 2)],
            fill=_rgb255(colour) + (255,),
            width=3,
        )
        draw.text((left + 32, legend_y), label, font=small, fill=text)
        legend_y += int(fs * 1.1)
    return np.asarray(img).copy()
