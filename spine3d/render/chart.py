"""Charts beside the 3D view, drawn with matplotlib.

The rotation bar chart, the timeline of a manoeuvre, the neutral zone over sessions and
the colour bars.

They draw into axes of the composed figure (vector in SVG and PDF), in the figure's
theme and typeface; :func:`chart_svg` writes one chart alone as SVG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..scene.describe import ChartData, ColorBar, TimelineData
from ..scene.strings import number
from ..scene.theme import Theme

__all__ = ["draw_bars", "draw_colorbar", "draw_timeline", "chart_svg", "style_axes"]


def _formatter(language: str):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: number(round(v, 10) + 0.0, "g", language))


def style_axes(ax, theme: Theme, language: str) -> None:
    """Theme an axes: text, spines and ticks in the theme's ink, no box, local numbers."""
    ax.set_facecolor("none")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(theme.text)
    ax.tick_params(colors=theme.text, labelsize=theme.font_pt, labelcolor=theme.text)
    ax.yaxis.set_major_formatter(_formatter(language))
    ax.title.set_color(theme.text)


def draw_bars(ax, chart: ChartData, theme: Theme, language: str, x_bins: int = 3) -> None:
    """Bar chart of rotation per segment: one row per level, top of the column on top.

    A signed component (``chart.ymin < 0``) runs both ways from a line at zero.
    """
    style_axes(ax, theme, language)
    ax.xaxis.set_major_formatter(_formatter(language))
    n = len(chart.values)
    ax.barh(
        np.arange(n),
        chart.values,
        height=0.74,
        color=chart.colors,
        edgecolor=theme.text,
        linewidth=0.6,
    )
    ax.set_yticks(np.arange(n), chart.names)
    ax.set_ylim(n - 0.4, -0.6)
    ax.set_xlim(chart.ymin, chart.ymax if chart.ymax > 0 else 1.0)
    if chart.ymin < 0:  # a signed component: a line at zero parts the two directions
        ax.axvline(0.0, color=theme.text, linewidth=0.8)
    ax.xaxis.set_major_locator(_locator(x_bins))
    # Left-aligned: a title wider than the bars must not run into the 3D view.
    ax.set_title(chart.title, fontsize=theme.font_pt, color=theme.text, loc="left")


def _locator(nbins: int = 4):
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10])


def draw_timeline(
    ax,
    tl: TimelineData,
    theme: Theme,
    legend_at: tuple[float, float] | None = None,
    wrap_pt: float | None = None,
    x_bins: int = 4,
) -> None:
    """Line plot over time or sessions; a clip's frame draws only the past.

    ``legend_at`` is the legend's upper left in axes fractions (default: inside, upper
    left); ``wrap_pt`` breaks legend entries wider than that many points; ``x_bins`` is
    the most intervals between the time ticks.
    """
    from .compose import SOFT_HYPHEN, _wrap

    lang = tl.text[2] or "en"
    style_axes(ax, theme, lang)
    ax.xaxis.set_major_formatter(_formatter(lang))
    x = np.asarray(tl.x, dtype=float)
    keep = np.ones(len(x), bool) if not tl.past_only or tl.now is None else x <= tl.now + 1e-9
    ymax = max(float(np.max(s[1])) for s in tl.series) * 1.1 or 1.0
    if tl.band is not None:
        band = tl.text[0].format(tl.band_label) if tl.text[0] else tl.band_label or None
        if band and wrap_pt:
            band = _wrap(band, theme.font_pt, wrap_pt)
        elif band:
            band = band.replace(SOFT_HYPHEN, "")
        ax.fill_between(
            x[keep],
            0,
            np.asarray(tl.band)[keep] * ymax,
            color=theme.restricted,
            alpha=0.22,
            linewidth=0,
            label=band,
        )
    for label, y, colour in tl.series:
        if wrap_pt:
            label = _wrap(label, theme.font_pt, wrap_pt)
        ax.plot(x[keep], np.asarray(y)[keep], color=colour, linewidth=2.0, label=label)
    for k, (xv, _) in enumerate(tl.marks):
        label = None
        if k == 0:  # one legend entry for all the pops: the first, and how many more
            more = f" (+{len(tl.marks) - 1})" if len(tl.marks) > 1 else ""
            label = tl.text[1].format(tl.marks[0][1] + more) if tl.text[1] else tl.marks[0][1]
            if wrap_pt:
                label = _wrap(label, theme.font_pt, wrap_pt)
        ax.axvline(xv, color=theme.bubble, linewidth=2.0, label=label)
    if tl.now is not None:
        ax.axvline(tl.now, color=theme.text, linewidth=1.0, linestyle=(0, (3, 3)))
    ax.set_xlim(float(x.min()), float(x.max()) if x.max() > x.min() else float(x.min()) + 1)
    ax.set_ylim(0, ymax)
    ax.xaxis.set_major_locator(_locator(x_bins))
    ax.yaxis.set_major_locator(_locator())
    ax.set_title(tl.title, fontsize=theme.font_pt, color=theme.text, loc="left")
    ax.set_xlabel(tl.x_label, fontsize=theme.font_pt, color=theme.text, loc="left")
    legend = ax.legend(
        loc="upper left",
        bbox_to_anchor=legend_at,
        fontsize=theme.font_pt,
        frameon=False,
        labelcolor=theme.text,
        handlelength=1.2,
        borderaxespad=0.2,
    )
    legend.set_zorder(3)


def draw_colorbar(cax, bar: ColorBar, theme: Theme, language: str) -> None:
    """Draw a vertical colour bar: the map (diverging maps centred), round ticks, its title."""
    import matplotlib
    from matplotlib.cm import ScalarMappable
    from matplotlib.colorbar import Colorbar
    from matplotlib.colors import Normalize, TwoSlopeNorm

    lo, hi = bar.clim
    norm = Normalize(lo, hi) if bar.centre is None else TwoSlopeNorm(bar.centre, lo, hi)
    mappable = ScalarMappable(norm=norm, cmap=matplotlib.colormaps[bar.cmap])
    cb = Colorbar(cax, mappable, orientation="vertical")
    cb.outline.set_edgecolor(theme.text)
    cb.ax.tick_params(colors=theme.text, labelsize=theme.font_pt, labelcolor=theme.text)
    cb.set_ticks(np.round(np.linspace(lo, hi, bar.n_labels), 10) + 0.0)
    cb.ax.yaxis.set_major_formatter(_formatter(language))
    cb.set_label(bar.title, fontsize=theme.font_pt, color=theme.text)


def chart_svg(draw, path: Path, theme: Theme, size_cm: tuple[float, float] = (12.0, 9.0)) -> Path:
    """Write one chart alone as SVG: ``draw(ax)`` draws it; written atomically.

    ``draw`` is e.g. ``lambda ax: draw_bars(ax, chart, theme, "en", label)``.
    """
    import io

    from matplotlib.figure import Figure

    from ..geometry import write_atomic

    fig = Figure(figsize=(size_cm[0] / 2.54, size_cm[1] / 2.54))
    fig.patch.set_alpha(0.0)
    with _rc(theme):
        ax = fig.add_subplot()
        draw(ax)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="svg", transparent=True)
    write_atomic(Path(path), buf.getvalue())
    return Path(path)


def _rc(theme: Theme, halo: bool = False):
    """Matplotlib settings of a figure: the theme's typeface, text as text in SVG, a halo."""
    import matplotlib
    from matplotlib import patheffects

    rc = {
        "font.family": theme.font_family,
        "svg.fonttype": "none",
        "pdf.fonttype": 42,
        "text.color": theme.text,
        "axes.unicode_minus": False,
    }
    if halo:
        rc["path.effects"] = [patheffects.withStroke(linewidth=2.5, foreground=theme.halo)]
    return matplotlib.rc_context(rc)
