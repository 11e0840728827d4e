"""Slide-ready figures: legibility, composition, labels off the bone, formats."""

import subprocess
import sys
import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from matplotlib.text import Text
from PIL import Image

from spine3d.render.compose import bone_mask, figure_layout
from spine3d.render.figure import FigureRenderer, render_image
from spine3d.scene import load_scene, parse_scene
from spine3d.scene.describe import describe
from spine3d.scene.schema import CAMERAS
from spine3d.scene.theme import THEMES, contrast_ratio, hex_to_rgb, theme_named

ROOT = Path(__file__).resolve().parents[2]
SCENES = sorted((ROOT / "scenes").glob("*.toml"))
SIZE = (960, 540)


def cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "spine3d._cli.main", *args], capture_output=True, text=True, cwd=cwd
    )


def compose(fig, scale=1):
    r = FigureRenderer(fig, scale)
    try:
        areas = r.areas()
        mfig, placed = r.compose()
    finally:
        r.close()
    return r.layout, areas, mfig, placed


def texts(mfig):
    return [t for t in mfig.findobj(Text) if t.get_text().strip() and t.get_visible()]


def test_smallest_text_is_font_pt_and_scale_keeps_the_layout():
    scene = load_scene(ROOT / "scenes" / "hvla_vs_self_twist.toml")
    fig = describe(scene, size=SIZE)
    lay1, _, mfig, _ = compose(fig)
    sizes = [t.get_fontsize() for t in texts(mfig)]
    assert min(sizes) == pytest.approx(14.0)  # points on a 33.9 cm slide
    big = describe(replace(scene, font_pt=20.0), size=SIZE)
    assert min(t.get_fontsize() for t in texts(compose(big)[2])) == pytest.approx(20.0)
    # --scale: the same layout in points, twice the pixels per point.
    lay2 = figure_layout(fig, scale=2)
    assert lay2.panels == lay1.panels and lay2.px_per_pt == pytest.approx(2 * lay1.px_per_pt)
    # ... and the title's ink takes the same share of the picture.
    one, two = render_image(fig), render_image(fig, scale=2)
    assert two.shape[:2] == (2 * one.shape[0], 2 * one.shape[1])

    def ink_rows(img):
        top = img[: img.shape[0] // 12].astype(int)
        return (np.abs(top - 255).max(-1) > 100).any(1).sum() / img.shape[0]

    assert ink_rows(two) == pytest.approx(ink_rows(one), rel=0.15)


@pytest.mark.parametrize("name", ["light", "dark"])
def test_theme_text_contrasts_with_its_background(name):
    scene = replace(
        load_scene(ROOT / "scenes" / "restricted_l4l5.toml"),
        theme=name,
        background=THEMES[name].background,
    )
    fig = describe(scene, size=SIZE)
    lay, _, _, placed = compose(fig)
    img = render_image(fig).astype(float) / 255
    bg = np.array(hex_to_rgb(THEMES[name].background))
    k = lay.px_per_pt
    x, y, w, h = (int(v * k) for v in lay.title_box)
    title = img[y : y + h, x : x + w].reshape(-1, 3)
    ink = title[np.abs(title - bg).max(-1) > 0.3]
    assert len(ink) > 200
    # The ink is the theme's text colour: light on dark, dark on light.
    assert max(contrast_ratio(c, bg) for c in ink[::7]) >= 4.5
    assert (ink.mean() > bg.mean()) == (name == "dark")
    for lb in placed:  # every label too
        x, y, w, h = (int(v) for v in lb.box)
        patch = img[y : y + h, x : x + w].reshape(-1, 3)
        assert max(contrast_ratio(c, bg) for c in patch[::5]) >= 4.5, lb.text


def test_transparent_figure_reads_on_white_and_on_black_slides():
    scene = load_scene(ROOT / "scenes" / "restricted_l4l5.toml")
    fig = replace(describe(scene, size=SIZE), transparent=True)
    lay, _, _, placed = compose(fig)
    rgba = render_image(fig).astype(float) / 255
    assert rgba.shape[2] == 4 and rgba[0, 0, 3] == 0
    k = lay.px_per_pt
    boxes = [tuple(int(v * k) for v in lay.title_box)] + [
        tuple(int(v) for v in lb.box) for lb in placed
    ]
    for slide in ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0)):
        shown = rgba[..., :3] * rgba[..., 3:] + np.array(slide) * (1 - rgba[..., 3:])
        for x, y, w, h in boxes:
            patch = shown[y : y + h, x : x + w].reshape(-1, 3)
            best = max(contrast_ratio(c, slide) for c in patch[::3])
            assert best >= 4.5, (slide, (x, y, w, h), best)


def test_labels_never_cover_bone_in_any_shipped_scene_or_camera():
    cases = [(load_scene(p), None) for p in SCENES]
    base = load_scene(ROOT / "scenes" / "restricted_l4l5.toml")
    cases += [(base, c) for c in CAMERAS]
    for scene, camera in cases:
        if camera is not None:
            scene = replace(
                scene,
                panels=tuple(replace(p, view=replace(p.view, camera=camera)) for p in scene.panels),
            )
        fig = describe(scene, size=SIZE)
        lay, areas, _, placed = compose(fig)
        assert placed or not any(p.labels for p in fig.panels)
        for lb in placed:
            for i, area in enumerate(areas):
                ax, ay, _, _ = lay.area_px(i)
                mask = bone_mask(area)
                x, y, w, h = lb.box
                x0, y0 = max(int(x - ax), 0), max(int(y - ay), 0)
                x1, y1 = (
                    min(int(x + w - ax) + 1, mask.shape[1]),
                    min(int(y + h - ay) + 1, mask.shape[0]),
                )
                covered = mask[y0:y1, x0:x1].sum() if x1 > x0 and y1 > y0 else 0
                assert covered == 0, (scene.name, camera, lb.text, covered)
        for a in placed:  # and no label covers another
            for b in placed:
                if a is not b:
                    overlap = (
                        a.box[0] < b.box[0] + b.box[2]
                        and b.box[0] < a.box[0] + a.box[2]
                        and a.box[1] < b.box[1] + b.box[3]
                        and b.box[1] < a.box[1] + a.box[3]
                    )
                    assert not overlap, (scene.name, camera, a.text, b.text)


@pytest.mark.parametrize("name", ["self_twist", "restricted_l4l5", "facet_orientation", "tropism"])
def test_bone_fills_its_panel(name):
    fig = describe(load_scene(ROOT / "scenes" / f"{name}.toml"), size=SIZE)
    lay, areas, _, _ = compose(fig)
    for i, area in enumerate(areas):
        # Panels framed together (same levels, same camera) are measured together.
        same = [
            bone_mask(a)
            for a, p in zip(areas, fig.panels, strict=True)
            if np.allclose(p.view.position, fig.panels[i].view.position) and a.shape == area.shape
        ]
        mask = np.logical_or.reduce(same)
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        h, w = mask.shape
        # Nothing cut: the drawing stays off the edges ...
        assert rows[0] > 0 and cols[0] > 0 and rows[-1] < h - 1 and cols[-1] < w - 1
        # ... and fills: at most 15% of either side is empty margin.
        assert (rows[-1] - rows[0] + 1) / h >= 0.85, (name, i, (rows[-1] - rows[0]) / h)
        assert (cols[-1] - cols[0] + 1) / w >= 0.85, (name, i, (cols[-1] - cols[0]) / w)


def scene(text):
    return parse_scene(tomllib.loads(text), "t.toml", "t")


def test_panels_with_different_colour_meanings_get_their_own_bars():
    two = scene(
        '[spine]\nlevels = "L1-S1"\n[[panel]]\nview = { color_by = "segment_rotation" }\n'
        '[[panel]]\nview = { color_by = "facet_gap" }\n'
    )
    lay = figure_layout(describe(two, size=SIZE))
    assert lay.colorbar is None and all(p.colorbar is not None for p in lay.panels)
    same = scene('[spine]\nlevels = "L1-S1"\n[[panel]]\n[[panel]]\n')
    lay = figure_layout(describe(same, size=SIZE))
    assert lay.colorbar is not None and all(p.colorbar is None for p in lay.panels)
    _, _, mfig, _ = compose(describe(two, size=SIZE))
    titles = {t.get_text() for t in texts(mfig)}
    assert {"segment rotation (°)", "facet gap (mm)"} <= titles


def test_no_caption_row_without_caption_and_long_caption_stays_below():
    bare = scene('[spine]\nlevels = "L1-S1"\n')
    with_caption = scene('caption = "short"\n[spine]\nlevels = "L1-S1"\n')
    a, b = (figure_layout(describe(s, size=SIZE)) for s in (bare, with_caption))
    assert a.caption_box is None and b.caption_box is not None
    assert a.panels[0].box[3] > b.panels[0].box[3]  # the panel takes the room
    long = scene(
        'caption = "' + "a long caption that goes on " * 20 + '"\n[spine]\nlevels = "L1-S1"\n'
    )
    lay = figure_layout(describe(long, size=SIZE))
    area = lay.panels[0].area
    assert lay.caption.count("\n") >= 3
    assert lay.caption_box[1] >= area[1] + area[3]


def test_a_close_up_beside_the_whole_column():
    s = scene(
        '[spine]\nlevels = "T10-S1"\n[[panel]]\ntitle = "whole"\n'
        '[[panel]]\ntitle = "close"\nview = { zoom = 3.0 }\n'
    )
    _, areas, _, _ = compose(describe(s, size=SIZE))
    whole, close = (bone_mask(a) for a in areas)
    assert whole.shape == close.shape

    # The whole column stays inside its area; the close-up runs off its edges.
    def edges(m):
        return sum(bool(e.any()) for e in (m[0], m[-1], m[:, 0], m[:, -1]))

    assert edges(whole) == 0 and edges(close) >= 2


def test_svg_and_pdf_have_vector_text_and_the_3d_view_as_pixels(tmp_path):
    good = str(ROOT / "scenes" / "restricted_l4l5.toml")
    r = cli("render", good, "--out", str(tmp_path / "fig.svg"), "--width", "960", "--height", "540")
    assert r.returncode == 0, r.stderr
    svg = (tmp_path / "fig.svg").read_text()
    assert "Self-twist with a restricted L4-L5" in svg and "<text" in svg
    assert svg.count("<image") == 2  # one raster per panel
    r = cli("render", good, "--out", str(tmp_path / "fig.pdf"), "--width", "960", "--height", "540")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "fig.pdf").read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.pdf", "fig.svg"]


def test_out_png_is_a_file_and_a_folder_only_when_asked(tmp_path):
    good = str(ROOT / "scenes" / "facet_orientation.toml")
    other = str(ROOT / "scenes" / "tropism.toml")
    size = ("--width", "480", "--height", "270")
    r = cli("render", good, "--out", str(tmp_path / "fig.png"), *size)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "fig.png").is_file()
    assert Image.open(tmp_path / "fig.png").size == (480, 270)
    r = cli("render", good, other, "--out", str(tmp_path / "two.png"), *size)
    assert r.returncode == 2 and "need a folder" in r.stderr and not (tmp_path / "two.png").exists()
    r = cli("render", good, other, "--out", str(tmp_path / "figs"), *size)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == [
        "facet_orientation.png",
        "tropism.png",
    ]


def test_dark_theme_option(tmp_path):
    good = str(ROOT / "scenes" / "facet_orientation.toml")
    r = cli(
        "render",
        good,
        "--out",
        str(tmp_path / "d.png"),
        "--theme",
        "dark",
        "--width",
        "480",
        "--height",
        "270",
    )
    assert r.returncode == 0, r.stderr
    img = np.asarray(Image.open(tmp_path / "d.png").convert("RGB")).astype(float) / 255
    assert np.allclose(img[0, 0], hex_to_rgb(THEMES["dark"].background), atol=0.01)


def test_too_large_a_figure_is_refused_naming_the_limit(tmp_path):
    good = str(ROOT / "scenes" / "self_twist.toml")
    r = cli("render", good, "--scale", "4", "--out", str(tmp_path / "big.png"))
    assert r.returncode == 2
    assert "7680x4320" in r.stderr and "7200" in r.stderr and "framebuffer" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not list(tmp_path.iterdir())


def test_a_figure_too_flat_for_its_text_is_refused_before_anything_is_written(tmp_path):
    good = str(ROOT / "scenes" / "self_twist.toml")
    other = str(ROOT / "scenes" / "tropism.toml")
    r = cli("render", good, other, "--width", "7200", "--height", "160", "--out", str(tmp_path))
    assert r.returncode == 2 and "too flat to hold its text" in r.stderr, r.stderr
    assert not list(tmp_path.iterdir())
    r = cli("render", good, "--font-pt", "30", "--height", "700", "--out", str(tmp_path / "x.png"))
    assert r.returncode == 2 and "at 30 pt: at least 1200 pixels" in r.stderr, r.stderr


def test_a_panel_that_draws_no_bone_fails_loudly(tmp_path):
    bad = tmp_path / "away.toml"
    bad.write_text("[view]\nposition = [0, 0, 2000]\nfocal_point = [0, 0, 4000]\nup = [0, 1, 0]\n")
    r = cli(
        "render", str(bad), "--out", str(tmp_path / "away.png"), "--width", "480", "--height", "270"
    )
    assert r.returncode == 2, r.stderr
    assert "panel 1 drew no bone" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "away.png").exists()


def test_clip_timeline_shows_only_the_past():
    from matplotlib.figure import Figure as MplFigure

    from spine3d.render.chart import draw_timeline

    scene = load_scene(ROOT / "scenes" / "anim_hvla_vs_self_twist.toml")
    p = scene.panels[0]
    scene = replace(scene, panels=(replace(p, at_ms=60.0),) + scene.panels[1:])
    for flash, past in ((True, True), (False, False)):
        tl = describe(scene, size=SIZE, flash=flash).panels[0].timeline
        assert tl.past_only == past
        ax = MplFigure().add_subplot()
        draw_timeline(ax, tl, theme_named("light"))
        drawn = max(line.get_xdata().max() for line in ax.get_lines() if len(line.get_xdata()) > 2)
        assert (drawn <= tl.now + 1e-6) == past
        assert all(m[0] <= tl.now for m in tl.marks) or not past


def test_each_chart_can_be_written_as_svg(tmp_path):
    from spine3d.render.chart import chart_svg, draw_bars

    fig = describe(load_scene(ROOT / "scenes" / "self_twist.toml"))
    theme = fig.theme
    path = chart_svg(
        lambda ax: draw_bars(ax, fig.panels[0].chart, theme, "en"), tmp_path / "c.svg", theme
    )
    svg = path.read_text()
    assert "<svg" in svg and "T10" in svg and fig.panels[0].chart.title in svg


def test_german_figure_draws_no_english_builtin_string():
    import re

    from spine3d.scene.strings import STRINGS

    def words(values):
        return {w for v in values for w in re.findall(r"[A-Za-z][a-z]+", v)}

    english = words(STRINGS["en"].values()) - words(STRINGS["de"].values())
    for name in ("restricted_l4l5", "hvla_vs_self_twist", "self_cracking"):
        scene = load_scene(ROOT / "scenes" / f"{name}.toml")
        own = [scene.title, scene.caption, *(p.title for p in scene.panels)]
        for lang, expect_english in (("de", False), ("en", True)):
            fig = describe(replace(scene, language=lang), size=SIZE)
            _, _, mfig, placed = compose(fig)
            drawn = [t.get_text() for t in texts(mfig)] + [lb.text for lb in placed]
            # The author's own title, caption and panel titles, however wrapped.
            drawn = [t for t in drawn if not any(" ".join(t.split()) in o for o in own)]
            found = words(drawn) & english
            assert bool(found) == expect_english, (name, lang, found)


def test_a_clip_frame_draws_its_own_readout():
    from spine3d.render import animate as anim

    scene = load_scene(ROOT / "scenes" / "anim_sweep_restricted.toml")
    frames = list(anim.frames(scene, 5, size=SIZE))
    assert frames[0].panels[0].twist_text == ""  # the sweep starts untwisted
    r = FigureRenderer(frames[0])
    try:
        mfig, _ = r.compose(frames[2])
    finally:
        r.close()
    drawn = " ".join(t.get_text() for t in texts(mfig))
    assert frames[2].panels[0].twist_text and frames[2].panels[0].twist_text in drawn


def test_long_german_word_breaks_at_its_soft_hyphen_only_when_it_must():
    from spine3d.render.compose import SOFT_HYPHEN, _wrap, text_width_pt
    from spine3d.scene.strings import text

    band = text("de", "shaded", label=text("de", "guarding"))
    assert SOFT_HYPHEN in band
    word = band.split()[-1].replace(SOFT_HYPHEN, "")
    narrow = 0.8 * text_width_pt(word, 14.0)  # the word alone does not fit
    lines = _wrap(band, 14.0, narrow).split("\n")
    assert lines[-2:] == ["Schutz-", "spannung"]
    assert all(text_width_pt(line, 14.0) <= narrow for line in lines)
    wide = _wrap(band, 14.0, 2 * text_width_pt(band, 14.0))
    assert wide == band.replace(SOFT_HYPHEN, "")  # room enough: no break, no hyphen
