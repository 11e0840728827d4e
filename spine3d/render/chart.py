"""Charts beside the 3D view, drawn with matplotlib.

The rotation bar chart, the timeline of a manoeuvre, the neutral zone over sessions and
the colour bars.

They draw into axes of the composed figure (vector in SVG and PDF), in the figure's
theme and typeface; :func:`chart_svg` writes one chart alone as SVG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..scene.describe import ChartData, CohortChart, ColorBar, TimelineData
from ..scene.strings import number
from ..scene.theme import Theme

__all__ = [
    "chart_svg",
    "draw_bars",
    "draw_cohort",
    "draw_cohort_column",
    "draw_colorbar",
    "draw_timeline",
    "draw_timeline_column",
    "style_axes",
]


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


def _kept(tl: TimelineData) -> np.ndarray:
    """Which samples a timeline draws: all, or a clip's frame only the past."""
    x = np.asarray(tl.x, dtype=float)
    if not tl.past_only or tl.now is None:
        return np.ones(len(x), bool)
    return x <= tl.now + 1e-9


def _limits(ys: list[np.ndarray], signed: bool) -> tuple[float, float]:
    """Return a y range that holds every curve with a tenth to spare (from 0 if unsigned)."""
    hi = max((float(np.max(y)) for y in ys if len(y)), default=1.0)
    lo = min((float(np.min(y)) for y in ys if len(y)), default=0.0)
    if not signed:
        return 0.0, (hi * 1.1) or 1.0
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    span = (hi - lo) or 1.0
    return lo - 0.1 * span, hi + 0.1 * span


def draw_timeline(
    ax,
    tl: TimelineData,
    theme: Theme,
    legend_at: tuple[float, float] | None = None,
    wrap_pt: float | None = None,
    x_bins: int = 4,
    legend: bool = True,
    series_legend: bool = True,
) -> None:
    """Line plot over time or sessions (the lower or only axis); a clip draws the past.

    The series, the shaded band (0-1 of the axis' height), a line for each mark and
    one for the drawn moment; phase boundaries as faint lines. ``legend_at`` is the
    legend's upper left in axes fractions (default: inside, upper left); ``wrap_pt``
    breaks legend entries wider than that many points; ``x_bins`` is the most
    intervals between the ticks.
    """
    from .compose import SOFT_HYPHEN, _wrap

    lang = tl.text[2] or "en"
    style_axes(ax, theme, lang)
    ax.xaxis.set_major_formatter(_formatter(lang))
    x = np.asarray(tl.x, dtype=float)
    keep = _kept(tl)
    ys = [np.asarray(y, dtype=float)[keep] for _, y, _ in tl.series]
    # The whole run sets the range: a clip's axes hold still while its curves grow.
    lo, hi = _limits([np.asarray(y, dtype=float) for _, y, _ in tl.series], tl.signed)
    _phase_lines(ax, tl, theme)
    if tl.band is not None:
        band = tl.text[0].format(tl.band_label) if tl.text[0] else tl.band_label or None
        if band and wrap_pt:
            band = _wrap(band, theme.font_pt, wrap_pt)
        elif band:
            band = band.replace(SOFT_HYPHEN, "")
        ax.fill_between(
            x[keep],
            lo,
            lo + np.asarray(tl.band)[keep] * (hi - lo),
            color=theme.restricted,
            alpha=0.22,
            linewidth=0,
            label=band,
        )
    if tl.signed:
        ax.axhline(0.0, color=theme.text, linewidth=0.6)
    for (label, _, colour), y in zip(tl.series, ys, strict=True):
        if wrap_pt:
            label = _wrap(label, theme.font_pt, wrap_pt)
        ax.plot(x[keep], y, color=colour, linewidth=2.0, label=label if series_legend else None)
    _mark_lines(ax, tl, theme, legend=True, wrap_pt=wrap_pt)
    ax.set_xlim(float(x.min()), float(x.max()) if x.max() > x.min() else float(x.min()) + 1)
    ax.set_ylim(lo, hi)
    ax.xaxis.set_major_locator(_locator(x_bins))
    ax.yaxis.set_major_locator(_locator())
    ax.set_xlabel(tl.x_label, fontsize=theme.font_pt, color=theme.text, loc="left")
    if not legend:
        return
    ax.set_title(tl.title, fontsize=theme.font_pt, color=theme.text, loc="left")
    drawn = ax.legend(
        loc="upper left",
        bbox_to_anchor=legend_at,
        fontsize=theme.font_pt,
        frameon=False,
        labelcolor=theme.text,
        handlelength=1.2,
        borderaxespad=0.2,
    )
    drawn.set_zorder(3)


def _phase_lines(ax, tl: TimelineData, theme: Theme) -> None:
    """Faint lines at the starts of a manoeuvre's phases (after the first)."""
    for a, _, _ in tl.phases[1:]:
        ax.axvline(a, color=theme.neutral_bar, linewidth=0.8, linestyle=(0, (1, 2)), zorder=1)


def _mark_lines(ax, tl: TimelineData, theme: Theme, legend: bool, wrap_pt=None) -> None:
    """Draw a line for each mark (cavitation) and a dashed one for the drawn moment."""
    from .compose import _wrap

    marks = [m for m in tl.marks if not tl.past_only or tl.now is None or m[0] <= tl.now]
    for k, (xv, _) in enumerate(marks):
        label = None
        if legend and k == 0:  # one legend entry for all the pops
            label = tl.text[1].format(len(marks)) if tl.text[1] else None
            if label and wrap_pt:
                label = _wrap(label, theme.font_pt, wrap_pt)
        ax.axvline(xv, color=theme.bubble_line, linewidth=2.0, label=label, zorder=2)
    if tl.now is not None:
        ax.axvline(tl.now, color=theme.text, linewidth=1.0, linestyle=(0, (3, 3)))


_PHASE_ORDER = ("thrust", "twist", "positioning", "preload", "hold", "release", "settle")
"""Which phases a crowded time axis names first (by :attr:`TimelineData.phase_keys`)."""


def draw_timeline_column(mfig, frac, put, box, tl: TimelineData, theme: Theme) -> bool:
    """Draw a timeline into a column ``box`` (points from the figure's top left).

    With ``tl.upper`` two axes share the time axis: the load above (contact force or
    muscle moment), the rotation it makes below with the reflex shaded; each titled
    over its axis. The phases are named over the top axis where their names fit (the
    thrust's first), each pop is a line across both axes, the drawn moment a dashed
    line; under the time axis the legend and, by phase, which joints popped.
    ``frac`` turns a box in points into figure fractions; ``put`` writes text at
    points. Returns False (drawing nothing) when the column is too small for the axes.
    """
    from .compose import _wrap

    fs = theme.font_pt
    cx, cy, cw, ch = box
    left, right = 3.6 * fs, 0.8 * fs
    two = bool(tl.upper)
    # A wide column (under a lying patient) puts the legend and notes beside the axes.
    beside = cw >= 26.0 * fs
    side_w = 0.36 * cw if beside else 0.0
    text_w = (side_w if beside else cw) - 3.0 * fs
    legend = []
    if not two:
        legend += [_wrap(lb, fs, text_w) for lb, _, _ in tl.series]
    if tl.band is not None:
        legend.append(_wrap(tl.text[0].format(tl.band_label), fs, text_w))
    # A clip's frame keeps the pops' entry's room before the first pop.
    if (tl.marks or tl.notes_room) and tl.text[1]:
        legend.append(_wrap(tl.text[1], fs, text_w))
    notes = [_wrap(n, fs, text_w + 2.6 * fs) for n in tl.notes]
    # A clip's frame keeps room for the whole run's notes: its axes hold still.
    room = [_wrap(n, fs, text_w + 2.6 * fs) for n in (tl.notes_room or tl.notes)]
    note_h = sum(n.count("\n") + 1 for n in room) * 1.3 * fs
    rows = sum(lb.count("\n") + 1 for lb in legend)
    under = 3.0 * fs
    if not beside:
        under += rows * 1.45 * fs + note_h
    heads = (tl.upper_label, tl.y_label) if two else (tl.title,)
    titles = [_wrap(t, fs, cw - side_w) for t in heads]
    title_h = (titles[0].count("\n") + 1) * 1.2 * fs + 0.15 * fs
    lower_h = (titles[-1].count("\n") + 1) * 1.2 * fs + 0.15 * fs if two else 0.0
    width = cw - left - right - side_w
    names = _phase_names(tl, cx + left, width, fs)
    phases_h = (max((r for _, r, _ in names), default=-1) + 1) * 1.3 * fs + (
        0.2 * fs if names else 0.0
    )
    gap = 1.0 * fs
    top = cy + title_h + phases_h
    axes_h = ch - (top - cy) - under - ((gap + lower_h) if two else 0.0)
    if axes_h < (5.0 if two else 2.5) * fs and note_h and not beside:
        # the joints' list gives way first
        under -= note_h
        axes_h += note_h
        notes = []
    if axes_h < (5.0 if two else 2.5) * fs or width < 4 * fs:
        return False
    x_bins = max(1, int(width / (3.2 * fs)))
    if two:
        h_up = 0.42 * axes_h
        upper_rect = (cx + left, top, width, h_up)
        lower_top = top + h_up + gap + lower_h
        lower_rect = (cx + left, lower_top, width, axes_h - h_up)
        put(titles[0], cx, cy, fs, ha="left", va="top", linespacing=1.2)
        put(titles[1], cx, top + h_up + gap, fs, ha="left", va="top", linespacing=1.2)
    else:
        lower_rect = (cx + left, top, width, axes_h)
        put(titles[0], cx, cy, fs, ha="left", va="top", linespacing=1.2)
    ax = mfig.add_axes(frac(lower_rect))
    draw_timeline(ax, tl, theme, wrap_pt=text_w, x_bins=x_bins, legend=False, series_legend=not two)
    if two:
        up = mfig.add_axes(frac(upper_rect), sharex=ax)
        _draw_upper(up, tl, theme)
        _name_phases(up, names, theme)
    else:
        _name_phases(ax, names, theme)
    handles, labels = ax.get_legend_handles_labels()
    x_leg, y_leg = cx, lower_rect[1] + lower_rect[3] + 2.9 * fs
    if beside:
        x_leg, y_leg = cx + cw - side_w + 0.6 * fs, cy + title_h
    if handles:
        _legend_at(mfig, handles, labels, frac((x_leg, y_leg, 0.0, 0.0))[:2], fs, theme)
    y = y_leg + rows * 1.45 * fs + 0.3 * fs
    for n in notes:
        put(n, x_leg, y, fs, ha="left", va="top", linespacing=1.3)
        y += (n.count("\n") + 1) * 1.3 * fs
    return True


def _draw_upper(ax, tl: TimelineData, theme: Theme) -> None:
    """Draw the load over time on the top axis, without time labels (those are below)."""
    lang = tl.text[2] or "en"
    style_axes(ax, theme, lang)
    x = np.asarray(tl.x, dtype=float)
    keep = _kept(tl)
    ys = [np.asarray(y, dtype=float)[keep] for _, y, _ in tl.upper]
    lo, hi = _limits([np.asarray(y, dtype=float) for _, y, _ in tl.upper], False)
    _phase_lines(ax, tl, theme)
    for (_, _, colour), y in zip(tl.upper, ys, strict=True):
        ax.plot(x[keep], y, color=colour, linewidth=2.0)
    _mark_lines(ax, tl, theme, legend=False)
    ax.set_ylim(lo, hi)
    ax.yaxis.set_major_locator(_locator(3))
    ax.tick_params(axis="x", labelbottom=False)


def _phase_names(tl: TimelineData, x0: float, w: float, fs: float, rows: int = 2) -> list:
    """Where the phase names go over an axis at ``x0``, ``w`` wide (points).

    By priority (the thrust's first), each at its span's middle, kept over the axis,
    in the first of ``rows`` rows where it touches no other; a name that fits in none
    is left out. Returns ``[(x in data, row, name), ...]``.
    """
    from .compose import text_width_pt

    if not tl.phases:
        return []
    x = np.asarray(tl.x, dtype=float)
    lo, hi = float(x.min()), float(x.max()) if x.max() > x.min() else float(x.min()) + 1
    taken: list[list[tuple[float, float]]] = [[] for _ in range(rows)]
    order = sorted(
        range(len(tl.phases)),
        key=lambda k: (
            _PHASE_ORDER.index(tl.phase_keys[k])
            if k < len(tl.phase_keys) and tl.phase_keys[k] in _PHASE_ORDER
            else len(_PHASE_ORDER)
        ),
    )
    out = []
    for k in order:
        a, b, name = tl.phases[k]
        at = x0 + (0.5 * (a + b) - lo) / (hi - lo) * w
        half = 0.5 * text_width_pt(name, fs) + 0.3 * fs
        # Kept over the axis (a name may stand off its span's middle, never off its span).
        at = min(max(at, x0 - 3.0 * fs + half), x0 + w + 0.8 * fs - half)
        span = (at - half, at + half)
        start, end = (x0 + (v - lo) / (hi - lo) * w for v in (a, b))
        if span[1] < start or span[0] > end:
            continue
        for row in range(rows):
            if not any(span[0] < t1 and t0 < span[1] for t0, t1 in taken[row]):
                taken[row].append(span)
                out.append((lo + (at - x0) / w * (hi - lo), row, name))
                break
    return out


def _name_phases(ax, names: list, theme: Theme) -> None:
    """Write the phase names (:func:`_phase_names`) over ``ax``, row 0 nearest to it."""
    from matplotlib.transforms import blended_transform_factory

    fs = theme.font_pt
    where = blended_transform_factory(ax.transData, ax.transAxes)
    for x, row, name in names:
        ax.annotate(
            name,
            (x, 1.0),
            xycoords=where,
            xytext=(0.0, 0.3 * fs + row * 1.3 * fs),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=fs,
            color=theme.text,
            annotation_clip=False,
        )


def draw_cohort(ax, chart: CohortChart, theme: Theme, language: str = "en") -> None:
    """Pops per joint over a cohort: left facets to the left, right ones to the right.

    One row per segment, top of the column on top; the upper side's bars in the
    theme's ``upside`` colour, the target's name in bold; a diamond beside each bar
    whose facet the single model popped too.
    """
    from matplotlib.ticker import FuncFormatter

    style_axes(ax, theme, language)
    # Counts both ways from the middle: a left bar's length is no negative count.
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda v, _: number(abs(round(v, 10)) + 0.0, "g", language))
    )
    n = len(chart.names)
    rows = np.arange(n)
    counts = np.asarray(chart.counts, dtype=float)
    top = max(float(counts.max()) if counts.size else 0.0, 1.0)
    for side, sign in ((0, -1.0), (1, 1.0)):
        ax.barh(
            rows,
            sign * counts[:, side],
            height=0.7,
            color=chart.colors[side],
            edgecolor=theme.text,
            linewidth=0.6,
            zorder=2,
        )
        popped = np.asarray(chart.single, bool)[:, side]
        ax.plot(
            sign * (counts[popped, side] + 0.06 * top),
            rows[popped],
            linestyle="none",
            marker="D",
            markersize=0.55 * theme.font_pt,
            markerfacecolor=theme.bubble_line,
            markeredgecolor=theme.text,
            markeredgewidth=0.6,
            zorder=3,
        )
    ax.axvline(0.0, color=theme.text, linewidth=0.8)
    ax.set_yticks(rows, chart.names)
    for label, name in zip(ax.get_yticklabels(), chart.names, strict=True):
        if name == chart.target:
            label.set_fontweight("bold")
    ax.set_ylim(n - 0.4, -0.6)
    lim = 1.15 * top + 0.5
    ax.set_xlim(-lim, lim)
    ax.xaxis.set_major_locator(_locator(4))
    ax.set_xlabel(chart.x_label, fontsize=theme.font_pt, color=theme.text)


def draw_cohort_column(mfig, frac, put, box, chart: CohortChart, theme: Theme) -> bool:
    """Draw a cohort's chart into a column ``box`` (points from the figure's top left).

    The title, the sides named over their bars (the upper side marked), the bars, the
    legend (the single model's diamond, the upper side's colour) and the summary, its
    numbers run together and wrapped. Returns False (drawing nothing) when the column
    is too small.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from .compose import _wrap, text_width_pt

    fs = theme.font_pt
    cx, cy, cw, ch = box
    label_w = max((text_width_pt(nm, fs, bold=True) for nm in chart.names), default=2 * fs)
    title = _wrap(chart.title, fs, cw)
    summary = _wrap("; ".join(chart.summary), fs, cw)
    labels = [chart.single_label] + ([chart.upside_label] if chart.upside is not None else [])
    # One row for the legend when both entries fit side by side, else one each.
    side_by_side = sum(text_width_pt(t, fs) + 3.0 * fs for t in labels) <= cw
    legend_rows = 1 if side_by_side else len(labels)
    title_h = (title.count("\n") + 1) * 1.25 * fs
    heads_h = 1.4 * fs
    under = 2.2 * fs + legend_rows * 1.45 * fs + 0.3 * fs
    under += (summary.count("\n") + 1) * 1.3 * fs
    rect = (
        cx + label_w + 1.0 * fs,
        cy + title_h + heads_h,
        cw - label_w - 1.6 * fs,
        min(ch - title_h - heads_h - under, (len(chart.names) * 1.5 + 0.6) * fs),
    )
    if min(rect[2], rect[3]) < 3 * fs:
        return False
    put(title, cx, cy, fs, ha="left", va="top", linespacing=1.25)
    ax = mfig.add_axes(frac(rect))
    draw_cohort(ax, chart, theme, chart.language)
    ax.set_xlabel("")  # the title says what is counted
    for side, x in ((0, rect[0] + 0.25 * rect[2]), (1, rect[0] + 0.75 * rect[2])):
        up = chart.upside == side
        put(
            chart.sides[side],
            x,
            cy + title_h,
            fs,
            ha="center",
            va="top",
            color=chart.colors[side] if up else theme.text,
            fontweight="bold" if up else "normal",
        )
    handles = [
        Line2D(
            [],
            [],
            linestyle="none",
            marker="D",
            markersize=0.55 * fs,
            markerfacecolor=theme.bubble_line,
            markeredgecolor=theme.text,
        )
    ]
    if chart.upside is not None:
        handles.append(Patch(facecolor=chart.colors[chart.upside], edgecolor=theme.text))
    y = rect[1] + rect[3] + 2.2 * fs
    _legend_at(
        mfig,
        handles,
        labels,
        frac((cx, y, 0.0, 0.0))[:2],
        fs,
        theme,
        ncols=len(labels) if side_by_side else 1,
        columnspacing=1.0,
    )
    y += legend_rows * 1.45 * fs + 0.3 * fs
    put(summary, cx, y, fs, ha="left", va="top", linespacing=1.3)
    return True


def _legend_at(mfig, handles, labels, at, fs: float, theme: Theme, **kwargs) -> None:
    """Draw a frameless legend with its upper left corner at ``at`` (figure fractions)."""
    drawn = mfig.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=at,
        bbox_transform=mfig.transFigure,
        fontsize=fs,
        frameon=False,
        labelcolor=theme.text,
        handlelength=1.2,
        borderaxespad=0.0,
        borderpad=0.0,
        **kwargs,
    )
    drawn.set_zorder(3)


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
