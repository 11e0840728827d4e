"""Colours, colour maps and font sizes: one theme for every figure (GL-free)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

__all__ = ["DEFAULT_THEME", "TEST_THEME", "Theme", "colormap", "hex_to_rgb"]


def hex_to_rgb(colour: str) -> tuple[float, float, float]:
    """Return an ``#rrggbb`` colour as three floats in 0-1."""
    c = colour.lstrip("#")
    return tuple(int(c[i : i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]


def colormap(stops: tuple[tuple[float, str], ...], t: np.ndarray) -> np.ndarray:
    """Interpolate colour ``stops`` at positions ``t`` in 0-1; return (..., 3) floats."""
    pos = np.array([s[0] for s in stops])
    rgb = np.array([hex_to_rgb(s[1]) for s in stops])
    t = np.clip(np.asarray(t, dtype=float), 0.0, 1.0)
    return np.stack([np.interp(t, pos, rgb[:, k]) for k in range(3)], axis=-1)


@dataclass(frozen=True)
class Theme:
    """The look of a figure. Font sizes are fractions of the image height.

    Attributes
    ----------
    rotation_stops : tuple of (float, str)
        Colour map for segment rotation, cold (still) to hot (turning).
    title_row, caption_row : float
        Heights of the title and caption strips above and below the panels, as
        fractions of the image height.
    gap_range_mm : (float, float)
        Facet gap shown by the colour map, mm: cartilage compression is tenths of a
        millimetre, gapping up to about one.
    gap_stops : tuple of (float, str)
        Map for facet gap over that range: compressed (red), touching (pale), gapping
        (blue).
    """

    bone: str = "#e9dcc3"
    text: str = "#1b1b1b"
    accent: str = "#c0392b"
    facet: str = "#8e5a9b"
    axis: str = "#2d2d2d"
    restricted: str = "#1f4e96"
    hypermobile: str = "#c2185b"
    bubble: str = "#35c4f0"
    bubble_scale: float = 1.8
    flash: str = "#fff27a"
    flash_ms: float = 30.0
    ghost_opacity: float = 0.18
    bone_opacity_gap: float = 0.35
    rotation_stops: tuple[tuple[float, str], ...] = (
        (0.0, "#2c5aa0"),
        (0.35, "#9fc4e8"),
        (0.55, "#f2e6c9"),
        (0.8, "#f08a4b"),
        (1.0, "#b2182b"),
    )
    gap_range_mm: tuple[float, float] = (-0.2, 1.0)
    gap_stops: tuple[tuple[float, str], ...] = (
        (0.0, "#b2182b"),
        (0.2 / 1.2, "#f4f0e6"),
        (1.0, "#2166ac"),
    )
    neutral_bar: str = "#9a9a9a"
    title_row: float = 0.085
    caption_row: float = 0.08
    title_size: float = 0.030
    caption_size: float = 0.019
    label_size: float = 0.0155
    panel_title_size: float = 0.021
    chart_size: tuple[float, float] = (0.3, 0.3)
    anti_aliasing: bool = True
    font: str = "arial"


DEFAULT_THEME = Theme()
"""The theme of lecture figures."""

TEST_THEME = replace(DEFAULT_THEME, anti_aliasing=False)
"""For image regression: no anti-aliasing (used at small sizes, e.g. 400x300)."""
