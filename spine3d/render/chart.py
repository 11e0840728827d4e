"""The inset bar chart of rotation per segment, drawn with matplotlib and composited."""

from __future__ import annotations

import io

import numpy as np

from ..scene.describe import ChartData
from ..scene.theme import Theme, hex_to_rgb

__all__ = ["chart_image", "composite"]


def chart_image(chart: ChartData, theme: Theme, size_px: tuple[int, int]) -> np.ndarray:
    """Draw ``chart`` on a transparent background; return (h, w, 4) uint8."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure as MplFigure

    w, h = size_px
    dpi = 100
    fig = MplFigure(figsize=(w / dpi, h / dpi), dpi=dpi)
    fig.patch.set_alpha(0.0)
    ax = fig.add_axes((0.15, 0.26, 0.83, 0.6))
    ax.patch.set_alpha(0.0)
    x = np.arange(len(chart.values))
    ax.bar(x, chart.values, color=chart.colors, edgecolor=hex_to_rgb(theme.text), linewidth=0.4)
    text = hex_to_rgb(theme.text)
    fs = max(5.0, h * 0.045 * 72 / dpi)
    ax.set_xticks(x, chart.names, fontsize=fs * 0.85, rotation=90, color=text)
    ax.tick_params(axis="y", labelsize=fs * 0.9, colors=text)
    ax.set_ylim(0, chart.ymax)
    ax.set_xlim(-0.6, len(x) - 0.4)
    ax.set_title(chart.title, fontsize=fs * 1.1, color=text)
    ax.set_xlabel("level (rotation of the segment below it)", fontsize=fs * 0.85, color=text)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    buf = io.BytesIO()
    fig.savefig(buf, format="raw", dpi=dpi, transparent=True)
    return np.frombuffer(buf.getvalue(), dtype=np.uint8).reshape(h, w, 4).copy()


def composite(image: np.ndarray, overlay: np.ndarray, x: int, y: int) -> np.ndarray:
    """Alpha-composite RGBA ``overlay`` onto ``image`` (RGB or RGBA) at (x, y), top left."""
    h, w = overlay.shape[:2]
    out = image.copy()
    region = out[y : y + h, x : x + w].astype(float)
    a = overlay[..., 3:4].astype(float) / 255.0
    region[..., :3] = overlay[..., :3] * a + region[..., :3] * (1 - a)
    if out.shape[2] == 4:
        region[..., 3:4] = 255 * (a + region[..., 3:4] / 255.0 * (1 - a))
    out[y : y + h, x : x + w] = np.clip(np.round(region), 0, 255).astype(np.uint8)
    return out
