"""Axis and force arrows reach the picture, in both themes, and follow their cause."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import rgb_to_hsv

from spine3d.render.figure import render_image
from spine3d.scene import load_scene
from spine3d.scene.describe import describe
from spine3d.scene.theme import DARK_THEME, DEFAULT_THEME, hex_to_rgb

ROOT = Path(__file__).resolve().parents[2]


def pixels_near(scene, theme, colour: str, tol_deg: float = 6.0, **view) -> int:
    panels = tuple(replace(p, view=replace(p.view, **view)) for p in scene.panels)
    fig = describe(replace(scene, panels=panels), theme, size=(960, 540))
    fig = replace(fig, panels=tuple(replace(p, labels=()) for p in fig.panels))
    # Shading darkens the arrows and translucent bone tints them: count saturated
    # pixels near the colour's hue.
    hsv = rgb_to_hsv(render_image(fig)[..., :3] / 255.0)
    hue = rgb_to_hsv(np.array(hex_to_rgb(colour)))[0]
    off = np.abs((hsv[..., 0] - hue + 0.5) % 1.0 - 0.5) * 360
    return int(((off < tol_deg) & (hsv[..., 1] > 0.45) & (hsv[..., 2] > 0.3)).sum())


@pytest.mark.parametrize("theme", [DEFAULT_THEME, DARK_THEME], ids=["light", "dark"])
def test_force_and_axis_arrows_show(theme):
    forces = load_scene(ROOT / "scenes" / "facetectomy_l4l5.toml")
    on = pixels_near(forces, theme, theme.force, forces=True)
    off = pixels_near(forces, theme, theme.force, forces=False)
    assert on > 200 and off < 0.1 * on, (on, off)
    axes = load_scene(ROOT / "scenes" / "coupled_bending.toml")
    on = pixels_near(axes, theme, theme.rotation_axis, 25.0, axes=True)
    off = pixels_near(axes, theme, theme.rotation_axis, 25.0, axes=False)
    # The lumbar axes run inside the translucent bodies: only a few arrows show whole.
    assert on > 50 and off < 0.1 * on, (on, off)


def test_extension_draws_force_arrows_flexion_none():
    scene = load_scene(ROOT / "scenes" / "flexion_extension.toml")
    counts = [
        pixels_near(replace(scene, panels=(p,)), DEFAULT_THEME, DEFAULT_THEME.force)
        for p in scene.panels
    ]
    flexion, extension = counts
    assert extension > 200 and flexion < 0.1 * extension, counts
