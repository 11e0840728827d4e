"""Scene keys for slides: theme, language, type, cameras, colour maps (GL-free)."""

import math
import re
import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from spine3d.errors import SpineInputError
from spine3d.scene import load_scene, parse_scene
from spine3d.scene.describe import describe, project
from spine3d.scene.strings import STRINGS
from spine3d.scene.theme import THEMES, colormap, contrast_ratio, hex_to_rgb, lab

ROOT = Path(__file__).resolve().parents[2]


def scene(text: str, name="t"):
    return parse_scene(tomllib.loads(text), f"{name}.toml", name)


def test_every_language_has_every_string_and_field():
    en = STRINGS["en"]
    for lang, table in STRINGS.items():
        assert set(table) == set(en), lang
        for key, value in table.items():
            assert re.findall(r"{(\w+)}", value) == re.findall(r"{(\w+)}", en[key]), (lang, key)


def test_theme_language_and_font_keys():
    s = scene('theme = "dark"\nlanguage = "de"\nfont_pt = 18\n')
    assert (s.theme, s.language, s.font_pt) == ("dark", "de", 18.0)
    assert s.background == THEMES["dark"].background  # unset: the theme's
    s = scene('theme = "dark"\n[view]\nbackground = "#223344"\n')
    assert s.background == "#223344"  # set: the scene's
    with pytest.raises(SpineInputError, match=r"language = \"fr\": expected one of en, de"):
        scene('language = "fr"\n')
    with pytest.raises(SpineInputError, match=r"font_pt = 4: expected a number from 8 to 40"):
        scene("font_pt = 4\n")


def test_dark_theme_text_is_light_and_contrasts():
    for theme in THEMES.values():
        bg = hex_to_rgb(theme.background)
        for colour in (theme.text, theme.axis, theme.restricted, theme.hypermobile):
            assert contrast_ratio(hex_to_rgb(colour), bg) >= 4.5, (theme.name, colour)
    dark = THEMES["dark"]
    assert lab(hex_to_rgb(dark.text))[0] > 80 and lab(hex_to_rgb(dark.axis))[0] > 80


def test_state_colours_differ_from_every_colour_map_colour():
    t = np.linspace(0, 1, 256)
    for theme in THEMES.values():
        maps = np.vstack([colormap(theme.rotation_cmap, t), colormap(theme.gap_cmap, t)])
        for colour in (theme.restricted, theme.hypermobile):
            delta_e = np.linalg.norm(lab(maps) - lab(np.array(hex_to_rgb(colour))), axis=-1)
            assert delta_e.min() > 25, (theme.name, colour, delta_e.min())


def test_rotation_map_is_sequential_and_gap_map_centred_on_zero():
    light = lab(colormap(THEMES["light"].rotation_cmap, np.linspace(0, 1, 64)))[:, 0]
    assert np.all(np.diff(light) > 0)  # lightness rises with the magnitude
    fig = describe(load_scene(ROOT / "scenes" / "tropism.toml"))
    bar = fig.panels[0].colorbar
    assert bar.centre == 0.0 and bar.clim[0] < 0 < bar.clim[1]
    centre = colormap(bar.cmap, 0.5)
    assert np.allclose(bar.colors(0.0), centre)
    # Each side spans its half of the map: the ends are the map's ends.
    assert np.allclose(bar.colors(bar.clim[0]), colormap(bar.cmap, 0.0))
    assert np.allclose(bar.colors(bar.clim[1]), colormap(bar.cmap, 1.0))
    # The balls take those colours.
    for mk in fig.panels[0].markers:
        assert np.allclose(mk.color, bar.colors(mk.gap_mm)), mk


def test_german_scene_has_no_english_builtin_string():
    de = load_scene(ROOT / "scenes" / "hvla_vs_self_twist.toml")
    de = replace(de, language="de")
    fig = describe(de)
    texts = [p.twist_text for p in fig.panels]
    texts += [lb.text for p in fig.panels for lb in p.labels]
    texts += [p.colorbar.title for p in fig.panels if p.colorbar]
    for p in fig.panels:
        tl = p.timeline
        texts += [tl.title, tl.x_label, tl.band_label, *(s[0] for s in tl.series)]
        texts += [m[1] for m in tl.marks]
    words = {w for t in texts for w in re.findall(r"[A-Za-z][a-z]+", t)}
    english = {w for v in STRINGS["en"].values() for w in re.findall(r"[A-Za-z][a-z]+", v)}
    german = {w for v in STRINGS["de"].values() for w in re.findall(r"[A-Za-z][a-z]+", v)}
    assert not words & (english - german), words & (english - german)
    assert "Kavitation" in " ".join(texts) and "Schutzspannung" in " ".join(texts)
    # The same scene in English does use the English table: the check can fail.
    en = describe(replace(de, language="en"))
    assert "reflex" in en.panels[0].twist_text and "guarding" in en.panels[1].twist_text


def test_camera_presets_and_angles():
    base = load_scene(ROOT / "scenes" / "restricted_l4l5.toml")

    def view(**kw):
        p = replace(base.panels[0], view=replace(base.panels[0].view, **kw))
        return describe(replace(base, panels=(p,))).panels[0].view

    def direction(v):
        d = v.position - v.focal_point
        return d / np.linalg.norm(d)

    assert np.allclose(direction(view(camera="lateral")), direction(view(camera="left")))
    ps = direction(view(camera="posterior-superior"))
    assert ps[0] < -0.6 and ps[1] > 0.6
    assert np.allclose(direction(view(azimuth_deg=90.0)), [0, 0, 1], atol=1e-9)
    assert np.allclose(direction(view(azimuth_deg=0.0)), [-1, 0, 0], atol=1e-9)
    up = direction(view(azimuth_deg=0.0, elevation_deg=60.0))
    assert math.isclose(up[1], math.sin(math.radians(60)))
    v = view(azimuth_deg=30.0, distance_mm=1500.0)
    assert math.isclose(np.linalg.norm(v.position - v.focal_point), 1500.0)
    with pytest.raises(SpineInputError, match="not both"):
        scene(
            "[view]\nazimuth_deg = 10\nposition = [0, 0, 900]\nfocal_point = [0, 0, 0]\n"
            "up = [0, 1, 0]\n"
        )


def test_zoom_narrows_the_view_of_one_panel():
    s = scene(
        '[spine]\nlevels = "T10-S1"\n[[panel]]\ntitle = "whole"\n'
        '[[panel]]\ntitle = "close"\nview = { zoom = 2.0 }\n'
    )
    whole, close = describe(s).panels
    assert math.isclose(
        math.tan(math.radians(whole.view.view_angle_deg / 2)),
        2 * math.tan(math.radians(close.view.view_angle_deg / 2)),
    )
    # A vertebra is projected twice as large.
    pts = np.array([m.transform[:3, 3] for m in whole.meshes[:2]])
    a = project(whole.view, pts, (400, 800))
    b = project(close.view, pts, (400, 800))
    assert math.isclose(np.linalg.norm(b[1] - b[0]), 2 * np.linalg.norm(a[1] - a[0]), rel_tol=0.01)


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "[view]\nposition = [0, 0, 0]\nfocal_point = [0, 0, 0]\nup = [0, 1, 0]\n",
            r"at least 1 mm from its focal_point",
        ),
        (
            "[view]\nposition = [nan, 0, 900]\nfocal_point = [0, 0, 0]\nup = [0, 1, 0]\n",
            r"\[view\] position = \[nan, 0, 900\]: expected three numbers",
        ),
        (
            "[view]\nposition = [inf, 0, 900]\nfocal_point = [0, 0, 0]\nup = [0, 1, 0]\n",
            r"expected three numbers",
        ),
        (
            "[view]\nposition = [0, 0, 900]\nfocal_point = [0, 0, 0]\nup = [0, 0, 0]\n",
            r"up = \[0.0, 0.0, 0.0\]: expected a direction that is not zero",
        ),
        (
            "[view]\nposition = [0, 0, 900]\nfocal_point = [0, 0, 0]\nup = [0, 0, 1]\n",
            r"not along the line from position to focal_point",
        ),
        ('[view]\nbackground = "whte"\n', r'background = "whte": expected a colour name'),
        ("[view]\nwidth = 16\n", r"width = 16: expected an integer from 160 to 7200"),
        (
            "[view]\nwidth = 7200\nheight = 160\n",
            r"too flat to hold its text at 14 pt: at least 2100 pixels high",
        ),
        ("[view]\nheight = 8000\n", r"height = 8000: expected an integer from 160 to 7200"),
        ('title = "' + "x" * 2_000_000 + '"\n', r"title = \"x{40}\.\.\. \(2000000 characters\)\""),
    ],
)
def test_values_the_renderer_cannot_draw_are_refused(text, message):
    with pytest.raises(SpineInputError, match=message) as exc:
        scene(text)
    assert "\n" not in str(exc.value) and len(str(exc.value)) < 300


def test_bubbles_differ_from_every_colour_map_colour():
    t = np.linspace(0, 1, 256)
    for theme in THEMES.values():
        maps = np.vstack([colormap(theme.rotation_cmap, t), colormap(theme.gap_cmap, t)])
        delta_e = np.linalg.norm(lab(maps) - lab(np.array(hex_to_rgb(theme.bubble))), axis=-1)
        assert delta_e.min() > 25, (theme.name, delta_e.min())
