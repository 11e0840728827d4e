"""Colours, colour maps and type: one theme for every figure (GL-free).

Two themes ship, ``light`` and ``dark``. Type is set in points for the figure's
physical size: a figure is laid out as if it filled the width of a 16:9 slide
(:data:`SLIDE_WIDTH_CM`), so ``font_pt`` means the same on the slide whatever the
pixel size; ``--scale`` only adds pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

__all__ = [
    "DARK_THEME",
    "DEFAULT_THEME",
    "SLIDE_WIDTH_CM",
    "TEST_THEME",
    "THEMES",
    "Theme",
    "colormap",
    "contrast_ratio",
    "fraction",
    "hex_to_rgb",
    "lab",
    "min_height_px",
    "theme_named",
]

SLIDE_WIDTH_CM = 33.867
"""Width of a 16:9 widescreen slide (13.333 in): the physical size a figure is set for."""


def hex_to_rgb(colour: str) -> tuple[float, float, float]:
    """Return an ``#rrggbb`` colour or a colour name as three floats in 0-1.

    Raises
    ------
    ValueError
        For a colour that is neither (the loader turns it into one line).
    """
    from matplotlib.colors import to_rgb

    return tuple(float(c) for c in to_rgb(colour))  # type: ignore[return-value]


@lru_cache(maxsize=8)
def _cmap(name: str):
    import matplotlib

    return matplotlib.colormaps[name]


def colormap(name: str, t: np.ndarray) -> np.ndarray:
    """Colours of the matplotlib colour map ``name`` at positions ``t`` in 0-1; (..., 3) floats."""
    t = np.clip(np.asarray(t, dtype=float), 0.0, 1.0)
    return np.asarray(_cmap(name)(t))[..., :3]


def fraction(
    value: np.ndarray, clim: tuple[float, float], centre: float | None = None
) -> np.ndarray:
    """Position in 0-1 of ``value`` on a colour map over ``clim``.

    With ``centre`` the map is diverging: ``centre`` falls on 0.5 and each side is
    stretched over its own half (matplotlib's ``TwoSlopeNorm``), so zero gap is the
    map's neutral colour however lopsided the range is.
    """
    v = np.asarray(value, dtype=float)
    lo, hi = clim
    if centre is None:
        return np.clip((v - lo) / (hi - lo), 0.0, 1.0)
    below = 0.5 * (v - lo) / (centre - lo)
    above = 0.5 + 0.5 * (v - centre) / (hi - centre)
    return np.clip(np.where(v < centre, below, above), 0.0, 1.0)


def _linear(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb, dtype=float)
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def contrast_ratio(a, b) -> float:
    """WCAG contrast ratio of two sRGB colours (floats 0-1): 1 (same) to 21."""
    w = np.array([0.2126, 0.7152, 0.0722])
    la, lb = float(_linear(a) @ w), float(_linear(b) @ w)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def lab(rgb) -> np.ndarray:
    """CIE L*a*b* (D65) of sRGB colours (..., 3) floats 0-1: distances are perceptual."""
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = _linear(rgb) @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])],
        axis=-1,
    )


@dataclass(frozen=True)
class Theme:
    """The look of a figure.

    Attributes
    ----------
    name : str
        ``"light"`` or ``"dark"``.
    background : str
        Background colour when the scene sets none.
    text, halo : str
        Colour of every text, axis and tick, and of the thin outline drawn around text
        on a transparent figure (so that it reads on a white and on a black slide).
    rotation_cmap : str
        Sequential, colour-blind-safe matplotlib map for a magnitude (segment rotation).
    gap_cmap : str
        Diverging matplotlib map for a signed quantity (facet gap), centred on zero.
    gap_range_mm : (float, float)
        Facet gap shown by the colour map, mm: cartilage compression is tenths of a
        millimetre, gapping up to about one.
    restricted, hypermobile : str
        Label colours of a segment's state: far from every colour of both maps.
    bubble : str
        A cavitated joint: far from every colour of both maps, as the facet balls beside
        it take the gap map's colours.
    bubble_line : str
        The same hue as a line on a chart, dark enough to read on the background.
    font_pt : float
        The smallest text, points, on a figure the width of a slide
        (:data:`SLIDE_WIDTH_CM`); every other size is a multiple of it.
    font_family : str
        One typeface for every text of a figure (shipped with matplotlib).
    label_size : float
        Label size in the interactive viewer, a fraction of the window height.
    rib, cartilage : str
        Colours of the ribs and of the costal cartilages and sternum.
    bone_opacity_axes : float
        Bone opacity when the axes of rotation are drawn: they pass through the bodies.
    rotation_axis, force : str
        Arrows of the segments' axes of rotation and of the facet contact forces: far
        from the bone and from both maps' ends, and from each other.
    rib_opacity : float
        The rib cage is drawn translucent so the vertebrae stay visible.
    table, table_opacity : str, float
        The table under a lying patient: faint, so that it never hides bone.
    hold : str
        Markers of the stabilising holds on the shoulder and the pelvis.
    upside : str
        The upper side's bars in a cohort's chart (side posture); the other side's are
        ``neutral_bar``.
    """

    name: str = "light"
    background: str = "white"
    bone: str = "#e9dcc3"
    text: str = "#1b1b1b"
    halo: str = "#ffffff"
    accent: str = "#c0392b"
    facet: str = "#8e5a9b"
    axis: str = "#2d2d2d"
    restricted: str = "#117a3d"
    hypermobile: str = "#a3159a"
    bubble: str = "#00ffd0"
    bubble_line: str = "#00a386"
    bubble_scale: float = 1.8
    flash: str = "#fff27a"
    flash_ms: float = 30.0
    ghost_opacity: float = 0.18
    bone_opacity_gap: float = 0.35
    bone_opacity_axes: float = 0.4
    rib: str = "#e3d3b4"
    cartilage: str = "#b7d3e6"
    rib_opacity: float = 0.4
    rotation_cmap: str = "cividis"
    gap_cmap: str = "RdBu"
    gap_range_mm: tuple[float, float] = (-0.2, 1.0)
    neutral_bar: str = "#9a9a9a"
    rotation_axis: str = "#009e60"
    force: str = "#e07b00"
    table: str = "#8c96a3"
    table_opacity: float = 0.22
    hold: str = "#4a6fa5"
    upside: str = "#3b6fb6"
    font_pt: float = 14.0
    font_family: str = "DejaVu Sans"
    label_size: float = 0.0155
    anti_aliasing: bool = True
    font: str = "arial"

    @property
    def title_pt(self) -> float:
        """Figure title, points."""
        return 1.6 * self.font_pt

    @property
    def panel_title_pt(self) -> float:
        """Panel titles, points."""
        return 1.25 * self.font_pt

    @property
    def caption_pt(self) -> float:
        """Caption, points."""
        return 1.15 * self.font_pt


DEFAULT_THEME = Theme()
"""The light theme of lecture figures."""

DARK_THEME = Theme(
    name="dark",
    background="#15171c",
    text="#f2f2f2",
    halo="#000000",
    accent="#ff7b6b",
    facet="#c39bd3",
    axis="#e6e6e6",
    restricted="#5fd38d",
    hypermobile="#ff79e1",
    neutral_bar="#8a8a8a",
    rotation_axis="#3ddc97",
    force="#ffb13b",
    table="#9aa6b5",
    table_opacity=0.2,
    hold="#8fb4ea",
    upside="#6fa3ef",
    bubble_line="#00ffd0",
)
"""For dark slides: every text, axis, tick and arrow is light."""

THEMES = {"light": DEFAULT_THEME, "dark": DARK_THEME}

TEST_THEME = replace(DEFAULT_THEME, anti_aliasing=False)
"""For image regression: no anti-aliasing (used at small sizes, e.g. 400x300)."""


TEXT_ROWS = 20.0
"""A figure is at least this many lines of its smallest text tall (title, panel titles,
readouts, caption and a 3D area): a flatter one cannot hold its text."""


def min_height_px(width_px: int, font_pt: float) -> int:
    """Least height, pixels, of a figure ``width_px`` wide that holds its text.

    The figure is as wide as a slide (:data:`SLIDE_WIDTH_CM`), so its height in points
    is fixed by its shape.
    """
    width_pt = SLIDE_WIDTH_CM / 2.54 * 72.0
    return int(np.ceil(TEXT_ROWS * font_pt * width_px / width_pt))


def theme_named(name: str, font_pt: float | None = None) -> Theme:
    """Return the theme ``name`` (``light`` or ``dark``), with ``font_pt`` if given."""
    theme = THEMES[name]
    return theme if font_pt is None else replace(theme, font_pt=float(font_pt))
