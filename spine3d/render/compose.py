"""Lay a figure out on the slide and compose it with matplotlib.

The layout is set in points on a figure as wide as a 16:9 slide
(:data:`~spine3d.scene.theme.SLIDE_WIDTH_CM`), so text takes the same share of the slide
at any pixel size. Each panel gets a 3D area shaped like what its camera frames (the
GL window renders only these areas), a column for its chart on the left, a gutter on
the right for the level labels and, when panels' colours mean different things, its
own colour bar. Title, panel titles and caption take rows only when they
have text. Everything but the 3D pixels is drawn by matplotlib: vector in SVG and PDF.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..scene.describe import Figure, PanelDrawing, project
from ..scene.theme import SLIDE_WIDTH_CM

__all__ = ["Layout", "PanelBoxes", "compose", "figure_layout", "text_width_pt"]

CREDIT_SCALE = 0.8
"""Size of the line that credits imported bones, relative to the smallest text."""

Box = tuple[float, float, float, float]  # x, y (from the top), width, height; points


@lru_cache(maxsize=4)
def _font(bold: bool):
    """DejaVu Sans at 100 px, the typeface matplotlib draws (for measuring text)."""
    import matplotlib
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name), 100)


def text_width_pt(text: str, size_pt: float, bold: bool = False) -> float:
    """Width of one line of ``text`` at ``size_pt``, points."""
    return max((_font(bold).getlength(line) for line in text.split("\n")), default=0.0) * (
        size_pt / 100.0
    )


SOFT_HYPHEN = "\u00ad"
"""Where a long word of the string table may break (drawn as "-" there, else nothing)."""


def _wrap(text: str, size_pt: float, width_pt: float) -> str:
    """Wrap ``text`` to lines at most ``width_pt`` wide."""
    if SOFT_HYPHEN in text:
        return _wrap_hyphenated(text, size_pt, width_pt)
    if not text or text_width_pt(text, size_pt) <= width_pt:
        return text
    per_char = text_width_pt(text, size_pt) / len(text)
    return "\n".join(textwrap.wrap(text, max(8, int(width_pt / per_char)), break_long_words=False))


def _wrap_hyphenated(text: str, size_pt: float, width_pt: float) -> str:
    """Wrap ``text`` word by word, breaking a word too long for a line at a soft hyphen.

    A long compound (German "Schutz\u00adspannung") is marked in the string table
    where it may break; it breaks there, with a hyphen, only when it would not fit.
    """

    def fits(line: str) -> bool:
        return text_width_pt(line, size_pt) <= width_pt

    lines: list[str] = []
    # Words part at ordinary spaces only: a no-break space ("10 N m") holds.
    for word in (w for w in text.replace("\n", " ").split(" ") if w):
        plain = word.replace(SOFT_HYPHEN, "")
        if lines and fits(f"{lines[-1]} {plain}"):
            lines[-1] += f" {plain}"
            continue
        parts = word.split(SOFT_HYPHEN)
        line = parts[0]
        for part in parts[1:]:
            if fits(line + part):
                line += part
            else:
                lines.append(line + "-")
                line = part
        lines.append(line)
    return "\n".join(lines)


def _wrap_drawn(text: str, size_pt: float, width_pt: float, px_per_pt: float, family) -> str:
    """Wrap ``text`` so that each line, as drawn at ``px_per_pt``, is at most ``width_pt``.

    Small figures draw text at a few pixels per character, where the glyphs snap to
    whole pixels and a line comes out wider than its outline measure: such lines are
    wrapped again word by word, measured as matplotlib draws them.
    """
    wrapped = _wrap(text, size_pt, width_pt)
    if not wrapped:
        return wrapped
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    renderer = RendererAgg(1, 1, 72.0 * px_per_pt)
    prop = FontProperties(family=family, size=size_pt)

    def drawn_pt(line: str) -> float:
        w, _, _ = renderer.get_text_width_height_descent(line, prop, ismath=False)
        return w / px_per_pt

    if all(drawn_pt(line) <= width_pt for line in wrapped.split("\n")):
        return wrapped
    lines: list[str] = []
    for word in text.split():
        if lines and drawn_pt(f"{lines[-1]} {word}") <= width_pt:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return "\n".join(lines)


def _lines(text: str) -> int:
    return text.count("\n") + 1 if text else 0


@dataclass(frozen=True)
class PanelBoxes:
    """Where one panel's parts go, points from the figure's top left.

    ``across`` marks a panel whose column lies across the 3D area (a lying patient):
    its level labels stand in a row above the area (``gutter``) and its chart, if
    any, spans the panel under it.
    """

    box: Box
    area: Box
    gutter: Box
    chart: Box | None
    colorbar: Box | None
    title: str
    readout: str
    across: bool = False


@dataclass(frozen=True)
class Layout:
    """The figure on the slide: size in points, pixels per point, the parts' boxes."""

    width_pt: float
    height_pt: float
    px_per_pt: float
    title: str
    title_box: Box | None
    caption: str
    caption_box: Box | None
    panels: tuple[PanelBoxes, ...]
    colorbar: Box | None
    credit: str = ""
    credit_box: Box | None = None

    def px(self, box: Box) -> tuple[int, int, int, int]:
        """Return ``box`` in whole pixels."""
        k = self.px_per_pt
        # Sizes rounded on their own: boxes of one size stay one size wherever they are.
        return tuple(int(round(v * k)) for v in box)  # type: ignore[return-value]

    def area_px(self, i: int) -> tuple[int, int, int, int]:
        """Panel ``i``'s 3D area in whole pixels (at least 1 x 1)."""
        x, y, w, h = self.px(self.panels[i].area)
        return x, y, max(w, 1), max(h, 1)


def _bars_differ(fig: Figure) -> bool:
    bars = {(p.colorbar.title, p.colorbar.clim, p.colorbar.cmap) for p in fig.panels if p.colorbar}
    return len(bars) > 1


def _colorbar_width(fig: Figure) -> float:
    fs = fig.theme.font_pt
    ticks = max(
        (
            text_width_pt(f"{v:g}", fs)
            for p in fig.panels
            if p.colorbar
            for v in np.linspace(*p.colorbar.clim, p.colorbar.n_labels)
        ),
        default=0.0,
    )
    return 1.0 * fs + 0.5 * fs + ticks + 0.6 * fs + 1.3 * fs + 0.6 * fs


def _longest(p: PanelDrawing, fs: float) -> float:
    """Width of the widest line of the labels beside the bone, as they may be broken.

    A segment's state goes onto its own line; a phrase of several words onto two.
    """
    widths = []
    for lb in p.labels:
        if lb.kind != "level":
            continue
        for part in lb.text.split("  "):
            w = text_width_pt(part, fs, bold=True)
            if " " in part and "(" not in part and w > 8 * fs:
                w = 0.6 * w
            widths.append(w)
    return max(widths, default=0.0)


def _side(p: PanelDrawing, panel_w: float, fs: float, spare: float | None = None) -> float:
    """Width of a panel's chart column, points: more of what the 3D view leaves over."""
    if not _has_chart(p):
        return 0.0
    wide = p.timeline is not None or p.cohort is not None
    least = (0.34 if wide else 0.3) * panel_w
    most = max(least, min(0.42 * panel_w, 320.0 if wide else 200.0))
    if spare is None:
        return least
    return float(np.clip(spare - _longest(p, fs) - 2.6 * fs, least, most))


ACROSS_ASPECT = 1.3
"""A lying patient's panel whose framed outline is wider than this (width / height)
lies across: its labels go above the 3D area and its chart under it."""


def _across(p: PanelDrawing) -> bool:
    lying = not np.allclose(p.frame, np.eye(4))
    return lying and (p.view.aspect or 0.0) > ACROSS_ASPECT


def _has_chart(p: PanelDrawing) -> bool:
    return p.chart is not None or p.timeline is not None or p.cohort is not None


def _label_rows(p: PanelDrawing, fs: float, width_pt: float) -> tuple[int, int]:
    """Rows of level labels above a panel that lies across: (plain rows, marked rows).

    Plain level names stand in one row (thinned when they would not fit side by side,
    see :func:`_thin`); a label that names a segment's state takes a row of its own
    above them.
    """
    levels = [lb for lb in p.labels if lb.kind == "level"]
    plain = [lb for lb in levels if "  (" not in lb.text]
    marked = len(levels) - len(plain)
    return (1 if plain else 0), (1 if marked else 0)


def _thin(names: list[str], widths: list[float], room: float, gap: float) -> list[int]:
    """Which of a row of level names (in order along the column) to keep so they fit.

    All of them when they fit; else every second, third... with the first and the last
    always kept.
    """
    n = len(names)
    for step in range(1, n + 1):
        keep = sorted(set(range(0, n, step)) | {n - 1})
        if sum(widths[k] + gap for k in keep) <= room:
            return keep
    return [0, n - 1][:n]


def _top_band(p: PanelDrawing, fs: float, width_pt: float) -> float:
    """Height of the label row(s) above a panel that lies across, points."""
    plain, marked = _label_rows(p, fs, width_pt)
    if not plain + marked:
        return 0.0
    return (plain + marked) * 1.25 * fs + 1.2 * fs


def _gutter(p: PanelDrawing, fs: float) -> float:
    """Least width of a panel's label gutter, points: a leader and the label lines.

    A label longer than the room right of the 3D area breaks into lines there.
    """
    if not any(lb.kind == "level" for lb in p.labels):
        return 0.0
    return _longest(p, fs) + 2.2 * fs


def _extent_mm(p: PanelDrawing) -> tuple[float, float]:
    """Width and height, mm, of what a panel frames, across and up its view."""
    v = p.view
    d = np.asarray(v.focal_point, float) - np.asarray(v.position, float)
    d /= np.linalg.norm(d)
    right = np.cross(d, np.asarray(v.up, float))
    right /= np.linalg.norm(right)
    up = np.cross(right, d)
    pts = np.asarray(p.fit_points if p.fit_points is not None else np.zeros((1, 3)), float)
    return float(np.ptp(pts @ right)) or 1.0, float(np.ptp(pts @ up)) or 1.0


def _panel_widths(
    fig: Figure, total: float, body_h: float, own: list[float], fs: float, pad: float
) -> list[float]:
    """Panel widths, points, that draw every panel at one scale (points per mm).

    A lying patient beside an upright one: at one scale a column is as long lying as
    standing. Each panel needs its chart column (a share of its width), its 3D area at
    that scale and its label gutter (upright) or nothing beside (lying: the labels
    stand above); no area may be taller than its panel's body (less the label band).
    The scale is the largest at which the needs fit in ``total``; what is left over is
    shared in proportion.
    """
    sizes = [_extent_mm(p) for p in fig.panels]

    def share(p: PanelDrawing) -> float:
        return 0.0 if not _has_chart(p) else (0.34 if p.timeline is not None else 0.3)

    def need(p: PanelDrawing, size, k: float, own_bar: float) -> float:
        inner = k * size[0] / _FILL + pad + own_bar + (0.0 if _across(p) else _gutter(p, fs))
        # ... and never narrower than its title
        title = text_width_pt(p.title, fig.theme.panel_title_pt) + pad
        return max(inner / (1.0 - share(p)), title)

    most = min(
        (body_h - (_top_band(p, fs, total / len(fig.panels)) if _across(p) else 0.0))
        * _FILL
        / size[1]
        for p, size in zip(fig.panels, sizes, strict=True)
    )
    lo, hi = 0.0, most
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        widths = [need(p, z, mid, o) for p, z, o in zip(fig.panels, sizes, own, strict=True)]
        if sum(widths) > total:
            hi = mid
        else:
            lo = mid
    widths = [need(p, z, lo, o) for p, z, o in zip(fig.panels, sizes, own, strict=True)]
    return [w * total / sum(widths) for w in widths]


_FILL = 0.9
"""Share of a 3D area the framed outline spans (the scene layer's camera fit)."""


def _readout_rows(p: PanelDrawing) -> int:
    """Return the rows kept for a panel's readout whatever its text.

    A clip's frames share them: a manoeuvre's readout runs longer, a practitioner's
    (phases before the thrust) longest.
    """
    if p.timeline is None:
        return 1
    return 3 if len(p.timeline.phases) > 2 else 2


def figure_layout(fig: Figure, scale: int = 1) -> Layout:
    """Lay ``fig`` out at ``fig.width`` x ``fig.height`` pixels times ``scale``."""
    th = fig.theme
    fs = th.font_pt
    width_pt = SLIDE_WIDTH_CM / 2.54 * 72.0
    height_pt = width_pt * fig.height / fig.width
    pad = 0.6 * fs
    y = pad
    px_per_pt = fig.width * scale / width_pt
    title = _wrap_drawn(fig.title, th.title_pt, width_pt - 2 * pad, px_per_pt, th.font_family)
    title_box = None
    if title:
        h = _lines(title) * th.title_pt * 1.25
        title_box = (pad, y, width_pt - 2 * pad, h)
        y += h + 0.5 * pad
    caption = _wrap_drawn(fig.caption, th.caption_pt, width_pt - 2 * pad, px_per_pt, th.font_family)
    caption_h = _lines(caption) * th.caption_pt * 1.3
    bottom = height_pt - pad - (caption_h + 0.5 * pad if caption else 0.0)
    caption_box = (pad, bottom + 0.5 * pad, width_pt - 2 * pad, caption_h) if caption else None
    credit = _wrap_drawn(
        fig.credit, CREDIT_SCALE * fs, width_pt - 2 * pad, px_per_pt, th.font_family
    )
    credit_box = None
    if credit:  # a line of its own under everything, right-aligned
        credit_h = _lines(credit) * CREDIT_SCALE * fs * 1.25
        credit_box = (pad, height_pt - 0.5 * pad - credit_h, width_pt - 2 * pad, credit_h)
        bottom -= credit_h + (0.0 if caption else 0.5 * pad)
        if caption_box is not None:
            caption_box = (*caption_box[:1], caption_box[1] - credit_h, *caption_box[2:])

    n = len(fig.panels)
    shared_bar = any(p.colorbar for p in fig.panels) and not _bars_differ(fig)
    bar_w = _colorbar_width(fig) if any(p.colorbar for p in fig.panels) else 0.0
    panels_w = width_pt - (bar_w if shared_bar else 0.0)
    widths = [panels_w / n] * n

    def rows_for(widths: list[float]):
        titles = [
            _wrap(p.title, th.panel_title_pt, w - pad)
            for p, w in zip(fig.panels, widths, strict=True)
        ]
        readouts = [
            _wrap(p.twist_text, fs, w - 2 * pad) for p, w in zip(fig.panels, widths, strict=True)
        ]
        titles_h = max(_lines(t) for t in titles) * th.panel_title_pt * 1.25
        # A readout row is kept even while it is empty (a clip's first frame, before
        # the twist): the frames of a clip share this layout. A manoeuvre's runs longer.
        rows = [max(_lines(t), _readout_rows(p)) for t, p in zip(readouts, fig.panels, strict=True)]
        readout_h = max(rows) * fs * 1.3
        body_top = y + titles_h + (0.3 * pad if titles_h else 0.0)
        body_bottom = bottom - readout_h - (0.3 * pad if readout_h else 0.0)
        return titles, readouts, body_top, max(body_bottom - body_top, fs)

    titles, readouts, body_top, body_h = rows_for(widths)
    if any(_across(p) for p in fig.panels) and n > 1:
        # A lying patient beside an upright one: each panel as wide as its 3D area
        # needs at one common height, so that the lying body is not shrunk to fit.
        own = [bar_w if p.colorbar and not shared_bar else 0.0 for p in fig.panels]
        widths = _panel_widths(fig, panels_w, body_h, own, fs, pad)
        titles, readouts, body_top, body_h = rows_for(widths)
    x0s = [sum(widths[:i]) for i in range(n)]
    colorbar_box = None
    if shared_bar:
        colorbar_box = (panels_w, body_top + 0.1 * body_h, bar_w, 0.6 * body_h)

    # Panels share one height of 3D area: the smallest any of them can have. Panels
    # that lie across (a lying patient) share theirs, upright ones theirs.
    heights = []
    for p, panel_w in zip(fig.panels, widths, strict=True):
        own = bar_w if p.colorbar and not shared_bar else 0.0
        if _across(p):
            room = panel_w - own - pad
            room -= _side(p, panel_w, fs)
            band = _top_band(p, fs, room)
            heights.append(max(min(room / p.view.aspect, body_h - band), fs))
            continue
        avail = panel_w - _side(p, panel_w, fs) - own
        room = avail - pad - _gutter(p, fs)
        aspect = p.view.aspect or room / body_h
        heights.append(min(max(room, fs), body_h * aspect) / aspect)
    across = [_across(p) for p in fig.panels]
    shared_h = {
        kind: min((h for h, a in zip(heights, across, strict=True) if a == kind), default=0.0)
        for kind in (True, False)
    }
    boxes = []
    for i, p in enumerate(fig.panels):
        x0, panel_w = x0s[i], widths[i]
        own_bar = bar_w if (p.colorbar and not shared_bar) else 0.0
        area_h = shared_h[across[i]]
        if across[i]:
            boxes.append(
                _across_boxes(p, x0, panel_w, own_bar, body_top, body_h, area_h, fs, pad)
                + (titles[i], readouts[i])
            )
            continue
        side = _side(p, panel_w, fs, panel_w - own_bar - pad - area_h * (p.view.aspect or 0.5))
        gutter = _gutter(p, fs)
        avail = panel_w - side - own_bar - pad
        aspect = p.view.aspect or (avail - gutter) / body_h
        area_w = area_h * aspect
        # The 3D block (area and its labels) is centred in the room the chart leaves,
        # as far as its longest label allows.
        slack = max(avail - area_w - max(gutter, _longest(p, fs) + 2.6 * fs), 0.0)
        ax = x0 + side + 0.5 * pad + 0.5 * slack
        ay = body_top + 0.5 * (body_h - area_h)
        chart = None
        if side:
            ch = body_h  # a timeline's legend goes under it
            if p.timeline is None:  # a row per level
                ch = min(body_h, (len(p.chart.names) * 1.3 + 5.5) * fs)
            chart = (x0 + 0.5 * pad, body_top, side - pad, ch)
        own = None
        if own_bar:
            own = (x0 + panel_w - own_bar, body_top + 0.1 * body_h, own_bar, 0.6 * body_h)
        boxes.append(
            (
                (x0, body_top, panel_w, body_h),
                (ax, ay, area_w, area_h),
                (ax + area_w, ay, x0 + panel_w - own_bar - ax - area_w, area_h),
                chart,
                own,
                titles[i],
                readouts[i],
            )
        )
    boxes = [
        PanelBoxes(*b[:5], title=b[5], readout=b[6], across=across[i]) for i, b in enumerate(boxes)
    ]
    return Layout(
        width_pt=width_pt,
        height_pt=height_pt,
        px_per_pt=px_per_pt,
        title=title,
        title_box=title_box,
        caption=caption,
        caption_box=caption_box,
        panels=tuple(boxes),
        colorbar=colorbar_box,
        credit=credit,
        credit_box=credit_box,
    )


def _across_boxes(
    p: PanelDrawing,
    x0: float,
    panel_w: float,
    own_bar: float,
    body_top: float,
    body_h: float,
    area_h: float,
    fs: float,
    pad: float,
) -> tuple:
    """Boxes of a panel that lies across: its chart on the left, labels above its 3D area.

    Returns (box, area, gutter, chart, colour bar box), points; the gutter is the band
    of labels above the area.
    """
    side = _side(p, panel_w, fs)
    room = panel_w - own_bar - pad - side
    band = _top_band(p, fs, room)
    area_w = min(area_h * p.view.aspect, room)
    top = body_top + 0.5 * max(body_h - band - area_h, 0.0)
    ax = x0 + side + 0.5 * pad + 0.5 * (room - area_w)
    ay = top + band
    chart = None
    if side:
        chart = (x0 + 0.5 * pad, body_top, side - pad, body_h)
    own = None
    if own_bar:
        own = (x0 + panel_w - own_bar, body_top + 0.1 * body_h, own_bar, 0.6 * body_h)
    return (
        (x0, body_top, panel_w, body_h),
        (ax, ay, area_w, area_h),
        (x0 + side, top, room + pad, band),
        chart,
        own,
    )


def bone_mask(area: np.ndarray) -> np.ndarray:
    """(h, w) bool: pixels of a rendered 3D area (RGBA) where something was drawn."""
    return area[..., 3] > 8


@dataclass(frozen=True)
class PlacedLabel:
    """A label as drawn: text, box (pixels, x, y from the top, w, h) and panel."""

    panel: int
    text: str
    box: tuple[float, float, float, float]
    leader: tuple[tuple[float, float], tuple[float, float]] | None
    source: str = ""  # the label's text before it was broken into lines


def _overlaps(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _free(mask, box, ox, oy) -> bool:
    """No drawn pixel of the area (at ``ox``, ``oy``) under ``box`` (pixels)."""
    h, w = mask.shape
    x0, y0 = int(math.floor(box[0] - ox)), int(math.floor(box[1] - oy))
    x1, y1 = int(math.ceil(box[0] + box[2] - ox)), int(math.ceil(box[1] + box[3] - oy))
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    return x1 <= x0 or y1 <= y0 or not mask[y0:y1, x0:x1].any()


def place_labels(
    lay: Layout, i: int, panel: PanelDrawing, mask: np.ndarray, fs_px: float
) -> list[PlacedLabel]:
    """Place panel ``i``'s labels in pixels, off the bone.

    Level labels stand in the gutter right of the 3D area, at the height of their
    vertebra, spread so they never touch, each with a leader line that starts where the
    bone ends. Notes stand near their point, moved along a spiral to the first spot
    that covers no drawn pixel and no other label.
    """
    ax, ay, aw, ah = lay.area_px(i)
    pb = lay.panels[i]
    bx, by, bw, bh = lay.px(pb.box)
    placed: list[PlacedLabel] = []
    line_h = fs_px * 1.25
    levels = [lb for lb in panel.labels if lb.kind == "level"]
    notes = [lb for lb in panel.labels if lb.kind != "level"]
    blocked = [lay.px(b) for b in (pb.chart, pb.colorbar) if b is not None]
    if levels and pb.across:
        placed += _place_across(lay, i, panel, levels, mask, fs_px)
    elif levels:
        anchors = project(panel.view, np.array([lb.anchor for lb in levels]), (aw, ah))
        anchors += (ax, ay)
        order = np.argsort(anchors[:, 1])
        ys = anchors[order, 1].copy()
        room0 = bx + bw - (ax + aw + 1.6 * fs_px) - 0.6 * fs_px
        if pb.colorbar is not None:
            room0 = lay.px(pb.colorbar)[0] - (ax + aw + 1.6 * fs_px)
        said_all = [_fit_line(levels[j].text, fs_px, room0) for j in order]
        tall = [t.count("\n") + 1 for t in said_all]
        for k in range(1, len(ys)):
            ys[k] = max(ys[k], ys[k - 1] + line_h * (tall[k - 1] + tall[k]) / 2 + 1.0)
        over = ys[-1] + line_h / 2 - (by + bh)
        if over > 0:
            ys -= over
        for k in range(len(ys) - 2, -1, -1):  # pushed up: keep them apart from the top too
            ys[k] = min(ys[k], ys[k + 1] - line_h * (tall[k] + tall[k + 1]) / 2 - 1.0)
        x_text = ax + aw + 1.6 * fs_px
        for k, idx in enumerate(order):
            lb = levels[idx]
            said = said_all[k]
            w = text_width_pt(said, 1.0, bold=True) * fs_px
            rows = said.count("\n") + 1
            box = (x_text, ys[k] - line_h * rows / 2, w, line_h * rows)
            start = _leave_bone(mask, anchors[idx] - (ax, ay), (x_text - ax, ys[k] - ay))
            leader = None
            if start is not None:
                leader = ((start[0] + ax, start[1] + ay), (x_text - 0.3 * fs_px, ys[k]))
            placed.append(PlacedLabel(i, said, box, leader, lb.text))
    if notes:
        points = project(panel.view, np.array([lb.position for lb in notes]), (aw, ah)) + (ax, ay)
        for lb, (px, py) in zip(notes, points, strict=True):
            w = text_width_pt(lb.text, 1.0, bold=lb.bold) * fs_px
            spot = None
            for r in np.arange(0.0, 12.0, 0.5) * fs_px:
                for a in np.linspace(0, 2 * np.pi, 16, endpoint=False) if r else [0.0]:
                    cx, cy = px + r * math.cos(a), py - r * math.sin(a)
                    box = (cx - w / 2, cy - line_h / 2, w, line_h)
                    inside = (
                        box[0] >= bx
                        and box[1] >= by
                        and box[0] + box[2] <= bx + bw
                        and box[1] + box[3] <= by + bh
                    )
                    if (
                        inside
                        and _free(mask, box, ax, ay)
                        and not any(_overlaps(box, q.box) for q in placed)
                        and not any(_overlaps(box, b) for b in blocked)
                    ):
                        spot = box
                        break
                if spot is not None:
                    break
            if spot is None:  # nowhere free: keep it at its point rather than drop it
                spot = (px - w / 2, py - line_h / 2, w, line_h)
            moved = math.hypot(spot[0] + w / 2 - px, spot[1] + line_h / 2 - py)
            leader = None
            if moved > 2.5 * fs_px and 0 <= px - ax < aw and 0 <= py - ay < ah:
                start = _leave_bone(mask, (px - ax, py - ay), (spot[0] - ax, spot[1] - ay))
                if start is not None:
                    leader = ((start[0] + ax, start[1] + ay), (spot[0] + w / 2, spot[1] + line_h))
            placed.append(PlacedLabel(i, lb.text, spot, leader, lb.text))
    return placed


def _spread(xs: np.ndarray, widths: np.ndarray, lo: float, hi: float, gap: float) -> np.ndarray:
    """Centres near ``xs`` (sorted) for boxes ``widths`` wide that never touch, in [lo, hi]."""
    c = xs.astype(float).copy()
    for k in range(1, len(c)):
        c[k] = max(c[k], c[k - 1] + 0.5 * (widths[k - 1] + widths[k]) + gap)
    over = c[-1] + 0.5 * widths[-1] - hi if len(c) else 0.0
    if over > 0:
        c -= over
    for k in range(len(c) - 2, -1, -1):
        c[k] = min(c[k], c[k + 1] - 0.5 * (widths[k] + widths[k + 1]) - gap)
    under = lo - (c[0] - 0.5 * widths[0]) if len(c) else 0.0
    if under > 0:
        c += under
    return c


def _place_across(lay: Layout, i: int, panel: PanelDrawing, levels, mask, fs_px: float):
    """Level labels of a panel that lies across: in rows above its 3D area.

    Plain level names stand nearest the bone at their vertebra's x, in one row or two
    staggered; labels that name a segment's state take the row above. Each has a
    leader line from where the bone ends to the label's foot.
    """
    ax, ay, aw, ah = lay.area_px(i)
    pb = lay.panels[i]
    line_h = fs_px * 1.25
    anchors = project(panel.view, np.array([lb.anchor for lb in levels]), (aw, ah)) + (ax, ay)
    plain = [k for k, lb in enumerate(levels) if "  (" not in lb.text]
    marked = [k for k, lb in enumerate(levels) if "  (" in lb.text]
    gx, gy, gw, gh = lay.px(pb.gutter)
    room = gw - 0.6 * fs_px  # as the layout measured it
    rows_plain, _ = _label_rows(panel, fs_px, room)
    gap = 0.8 * fs_px
    lo, hi = gx + 0.3 * fs_px, gx + gw - 0.3 * fs_px
    foot = gy + gh - 0.6 * fs_px  # the lowest row's baseline, above the bone's area
    out = []

    def put(keys, row, said_of):
        if not keys:
            return
        keys = sorted(keys, key=lambda k: anchors[k, 0])
        said = [said_of(levels[k].text) for k in keys]
        widths = np.array([text_width_pt(t, 1.0, bold=True) * fs_px for t in said])
        xs = _spread(anchors[keys, 0], widths, lo, hi, gap)
        y = foot - row * line_h
        for k, t, w, x in zip(keys, said, widths, xs, strict=True):
            box = (x - w / 2, y - line_h, w, line_h)
            start = _leave_bone(mask, anchors[k] - (ax, ay), (x - ax, y - ay))
            leader = None
            if start is not None:
                leader = ((start[0] + ax, start[1] + ay), (x, y - 0.1 * fs_px))
            out.append(PlacedLabel(i, t, box, leader, levels[k].text))

    order = sorted(plain, key=lambda k: anchors[k, 0])
    widths = [text_width_pt(levels[k].text, 1.0, bold=True) * fs_px for k in order]
    kept = _thin([levels[k].text for k in order], widths, hi - lo, gap)
    put([order[k] for k in kept], 0, str)
    put(marked, rows_plain, lambda t: t.replace("  (", " ("))
    return out


def _fit_line(text: str, fs_px: float, room_px: float) -> str:
    """Break a label that is wider than ``room_px``: a state onto its own line, else words."""
    if text_width_pt(text, 1.0, bold=True) * fs_px <= room_px:
        return text
    if "  (" in text:
        return text.replace("  (", "\n(", 1)
    per_char = text_width_pt(text, 1.0, bold=True) * fs_px / len(text)
    return "\n".join(textwrap.wrap(text, max(6, int(room_px / per_char))))


def _leave_bone(mask: np.ndarray, a, b) -> tuple[float, float] | None:
    """Return the point past the last drawn pixel on the segment ``a`` -> ``b`` (area pixels).

    None when ``a`` lies outside the area (a close-up that cut its vertebra off).
    """
    h, w = mask.shape
    if not (0 <= a[0] < w and 0 <= a[1] < h):
        return None
    n = int(max(abs(b[0] - a[0]), abs(b[1] - a[1]))) + 1
    xs = np.linspace(a[0], b[0], n)
    ys = np.linspace(a[1], b[1], n)
    inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
    hit = np.zeros(n, bool)
    hit[inside] = mask[ys[inside].astype(int), xs[inside].astype(int)]
    last = np.flatnonzero(hit)
    k = min(int(last[-1]) + 3, n - 1) if len(last) else 0
    return float(xs[k]), float(ys[k])


def _draw_chart(mfig, frac, put, panel: PanelDrawing, box: Box, th, language: str) -> None:
    """Draw a panel's bar chart or timeline in its column ``box`` (points).

    A column too small for the axes at this type size gets no chart rather than a
    crushed one.
    """
    from .chart import draw_bars

    cx, cy, cw, ch = box
    fs = th.font_pt
    if panel.cohort is not None:
        from .chart import draw_cohort_column

        draw_cohort_column(mfig, frac, put, box, panel.cohort, th)
    elif panel.timeline is not None:
        from .chart import draw_timeline_column

        draw_timeline_column(mfig, frac, put, box, panel.timeline, th)
    else:
        chart = panel.chart
        label_w = max(text_width_pt(nm, fs) for nm in chart.names)
        title = _wrap(chart.title, fs, cw - 0.5 * fs)
        top = (_lines(title) * 1.25 + 0.5) * fs
        rect = (
            cx + label_w + 1.0 * fs,
            cy + top,
            cw - label_w - 2.0 * fs,
            ch - top - 2.2 * fs,
        )
        if min(rect[2], rect[3]) < 2 * fs:
            return
        ax = mfig.add_axes(frac(rect))
        bins = max(1, min(4, int(rect[2] / (2.6 * fs))))
        draw_bars(ax, replace(chart, title=""), th, language, bins)
        # The title spans the column, not only the bars.
        put(title, cx, cy, fs, ha="left", va="top", linespacing=1.25)


def compose(fig: Figure, lay: Layout, areas: list[np.ndarray]):
    """Compose the figure: ``areas`` (the rendered 3D areas) among text and charts.

    Parameters
    ----------
    fig : Figure
    lay : Layout
        From :func:`figure_layout`.
    areas : list of (h, w, 4) uint8
        Each panel's rendered 3D area, ``lay.area_px(i)`` in size.

    Returns
    -------
    (matplotlib.figure.Figure, list of PlacedLabel)
        A figure that saves to PNG, SVG or PDF; where its labels went.
    """
    from matplotlib import patheffects
    from matplotlib.figure import Figure as MplFigure
    from matplotlib.lines import Line2D

    from .chart import _rc, draw_colorbar

    th = fig.theme
    k = lay.px_per_pt
    dpi = 72.0 * k
    W, H = lay.px((0, 0, lay.width_pt, lay.height_pt))[2:]
    transparent = fig.transparent
    placed: list[PlacedLabel] = []
    rc = _rc(th, halo=transparent)
    rc.__enter__()
    try:
        mfig = MplFigure(figsize=(W / dpi, H / dpi), dpi=dpi)
        mfig.patch.set_facecolor(fig.background)
        mfig.patch.set_alpha(0.0 if transparent else 1.0)

        def frac(box: Box):  # a box in points -> figure fraction, y up
            return (
                box[0] / lay.width_pt,
                1 - (box[1] + box[3]) / lay.height_pt,
                box[2] / lay.width_pt,
                box[3] / lay.height_pt,
            )

        def put(text, x_pt, y_pt, size, **kw):
            mfig.text(
                x_pt / lay.width_pt,
                1 - y_pt / lay.height_pt,
                text,
                fontsize=size,
                color=kw.pop("color", th.text),
                **kw,
            )

        if lay.title_box:
            b = lay.title_box
            put(lay.title, b[0] + b[2] / 2, b[1], th.title_pt, ha="center", va="top")
        if lay.caption_box:
            b = lay.caption_box
            put(
                lay.caption,
                b[0] + b[2] / 2,
                b[1],
                th.caption_pt,
                ha="center",
                va="top",
                multialignment="center",
                linespacing=1.3,
            )
        if lay.credit_box:
            b = lay.credit_box
            put(
                lay.credit,
                b[0] + b[2],
                b[1],
                CREDIT_SCALE * th.font_pt,
                ha="right",
                va="top",
                multialignment="right",
            )
        fs_px = th.font_pt * k
        for i, (panel, pb) in enumerate(zip(fig.panels, lay.panels, strict=True)):
            ax_px, ay_px, aw, ah = lay.area_px(i)
            area = areas[i]
            mfig.figimage(area, xo=ax_px, yo=H - ay_px - ah, origin="upper", zorder=1)
            x0, y0, w0, _ = pb.box
            if pb.title:
                put(
                    pb.title,
                    x0 + w0 / 2,
                    y0 - 0.3 * th.font_pt,
                    th.panel_title_pt,
                    ha="center",
                    va="bottom",
                )
            # This figure's readout (a clip's frame has its own), in the layout's row.
            readout = _wrap(panel.twist_text, th.font_pt, pb.box[2] - 1.2 * th.font_pt)
            if readout:
                put(
                    readout,
                    x0 + 0.6 * th.font_pt,
                    y0 + pb.box[3] + 0.3 * th.font_pt,
                    th.font_pt,
                    ha="left",
                    va="top",
                    linespacing=1.3,
                )
            if pb.chart is not None:
                _draw_chart(mfig, frac, put, panel, pb.chart, th, fig.language)
            bar_box = pb.colorbar or (lay.colorbar if i == len(fig.panels) - 1 else None)
            if panel.colorbar is not None and bar_box is not None:
                bx, by, _, bh = bar_box
                cax = mfig.add_axes(frac((bx + 0.5 * th.font_pt, by, 1.0 * th.font_pt, bh)))
                draw_colorbar(cax, panel.colorbar, th, fig.language)
            labels = place_labels(lay, i, panel, bone_mask(area), fs_px)
            colours = {lb.text: lb.color for lb in panel.labels}
            for lb in labels:
                colour = colours[lb.source]
                x, y, w, h = lb.box
                mfig.text(
                    x / W,
                    1 - (y + h / 2) / H,
                    lb.text,
                    fontsize=th.font_pt,
                    fontweight="bold",
                    color=colour,
                    ha="left",
                    va="center",
                    multialignment="left",
                    linespacing=1.05,
                    zorder=3,
                )
                if lb.leader is not None:
                    (xa, ya), (xb, yb) = lb.leader
                    mfig.add_artist(
                        Line2D(
                            [xa / W, xb / W],
                            [1 - ya / H, 1 - yb / H],
                            transform=mfig.transFigure,
                            color=colour,
                            linewidth=1.0,
                            zorder=2,
                            path_effects=[patheffects.withStroke(linewidth=3.0, foreground=th.halo)]
                            if transparent
                            else [patheffects.Normal()],
                        )
                    )
            placed += labels
    finally:
        rc.__exit__(None, None, None)
    return mfig, placed


def to_array(mfig, transparent: bool) -> np.ndarray:
    """Draw a composed figure to pixels: (H, W, 3) or, when transparent, (H, W, 4) uint8."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(mfig)
    canvas.draw()
    img = np.asarray(canvas.buffer_rgba())
    return img.copy() if transparent else img[..., :3].copy()
