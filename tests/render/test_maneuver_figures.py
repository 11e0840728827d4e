"""Manoeuvre figures: a lying patient drawn across, the timeline, the cohort's chart."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure as MplFigure

from spine3d.render.compose import bone_mask
from spine3d.render.figure import FigureRenderer
from spine3d.scene import load_scene
from spine3d.scene.describe import (
    cohort_chart,
    describe,
    describe_panel,
    maneuver_moment,
    simulate_scene,
)
from spine3d.scene.positions import position_frame
from spine3d.scene.theme import DEFAULT_THEME, TEST_THEME

ROOT = Path(__file__).resolve().parents[2]
SIZE = (960, 540)


@pytest.fixture(scope="module")
def hvla():
    """The HVLA figure (side posture beside a standing self-twist) and its runs."""
    scene = load_scene(ROOT / "scenes" / "hvla_vs_self_twist.toml")
    return scene, [simulate_scene(scene, i) for i in range(2)]


def render(fig):
    r = FigureRenderer(fig)
    try:
        areas = r.areas()
        mfig, placed = r.compose()
    finally:
        r.close()
    return r.layout, areas, mfig, placed


def test_a_lying_patient_lies_across_its_panel_labels_above(hvla):
    scene, _ = hvla
    fig = describe(scene, size=SIZE)
    lay, areas, _, placed = render(fig)
    lying, standing = lay.panels
    assert lying.across and not standing.across
    _, _, w, h = lay.area_px(0)
    assert w > 1.3 * h  # the column lies across the room
    mask = bone_mask(areas[0])
    cols = np.flatnonzero(mask.any(0))
    rows = np.flatnonzero(mask.any(1))
    assert np.ptp(cols) > 1.5 * np.ptp(rows)  # and so does what was drawn
    # Its level labels stand in a row above the 3D area, each with its leader.
    ax, ay, _, _ = lay.area_px(0)
    levels = [p for p in placed if p.panel == 0 and p.source in scene.panels[0].spine.levels]
    assert levels and all(p.box[1] + p.box[3] <= ay + 1 for p in levels)
    assert all(p.leader is not None for p in levels)
    xs = [p.box[0] for p in levels]
    assert xs == sorted(xs) or xs == sorted(xs, reverse=True)  # in the column's order
    # The standing panel keeps its labels beside the bone.
    sx, _, sw, _ = lay.area_px(1)
    assert all(p.box[0] >= sx + sw for p in placed if p.panel == 1 and "T1" in p.source)


def test_the_picture_changes_with_the_patient_s_position(hvla):
    scene, (run, _) = hvla
    panel = scene.panels[0]
    moment = maneuver_moment(run, panel, theme=TEST_THEME)
    pictures = []
    for frame, camera in (
        (position_frame("side_posture", "left"), "posterior"),
        (position_frame("prone"), "left"),
        (position_frame("prone"), "posterior"),  # from above: the head at the top
        (np.eye(4), "posterior"),
    ):
        m = replace(moment, frame=frame, table=not np.allclose(frame, np.eye(4)))
        seen = replace(panel, view=replace(panel.view, camera=camera))
        d = describe_panel(seen, m.state, 2.0, None, TEST_THEME, moment=m)
        fig = describe(replace(scene, panels=(panel,)), TEST_THEME, size=(480, 300))
        fig = replace(fig, panels=(d,))
        r = FigureRenderer(fig)
        try:
            pictures.append(r.areas()[0])
        finally:
            r.close()

    # Not blank; lying (on the side, or prone) the drawn body is wide, upright tall.
    def spread(img):
        m = bone_mask(img)
        assert m.mean() > 0.01
        cols, rows = np.flatnonzero(m.any(0)), np.flatnonzero(m.any(1))
        return np.ptp(cols) / np.ptp(rows)

    side, prone, above, upright = (spread(p) for p in pictures)
    assert side > 1.3 and prone > 1.3 and above < 1.0 and upright < 1.0
    a, b = pictures[0], pictures[1]
    if a.shape == b.shape:
        assert np.abs(a.astype(int) - b.astype(int)).mean() > 5


def test_timeline_column_draws_force_over_rotation_sharing_time(hvla):
    from spine3d.render.chart import draw_timeline_column
    from spine3d.render.compose import figure_layout

    scene, (run, _) = hvla
    fig = describe(scene, size=(1920, 1080))
    lay = figure_layout(fig)
    tl = fig.panels[0].timeline
    mfig = MplFigure(figsize=(lay.width_pt / 72, lay.height_pt / 72), dpi=72)

    def frac(b):
        return (
            b[0] / lay.width_pt,
            1 - (b[1] + b[3]) / lay.height_pt,
            b[2] / lay.width_pt,
            b[3] / lay.height_pt,
        )

    said = []

    def put(text, x, y, size, **kw):
        said.append(text)
        mfig.text(x / lay.width_pt, 1 - y / lay.height_pt, text, fontsize=size)

    assert draw_timeline_column(mfig, frac, put, lay.panels[0].chart, tl, DEFAULT_THEME)
    lower, upper = mfig.axes
    assert upper.get_shared_x_axes().joined(upper, lower)
    (force,) = [ln for ln in upper.get_lines() if len(ln.get_xdata()) > 2]
    assert np.array_equal(force.get_ydata(), run.force_n)
    names = {t.get_text() for t in upper.texts}
    assert "thrust" in names  # the thrust is named first when names crowd
    assert any("force" in t for t in said) and any("rotation" in t for t in said)
    legend = [t.get_text() for t in mfig.legends[0].get_texts()]
    assert any("reflex" in t and "guarding" in t for t in legend)
    pops = sum(e.type == "cavitation" for e in run.events)
    marks = [ln for ln in lower.get_lines() if ln.get_color() == DEFAULT_THEME.bubble_line]
    assert len(marks) == pops


def test_cohort_chart_bars_are_the_cohort_s_pops(hvla, made_up_cohort):
    from spine3d.render.chart import draw_cohort

    _, (run, _) = hvla
    cohort = made_up_cohort(run, 6, 7, 0.25)
    chart = cohort_chart(cohort, DEFAULT_THEME)
    ax = MplFigure().add_subplot()
    draw_cohort(ax, chart, DEFAULT_THEME)
    bars = ax.patches
    rows = [run.model.segment_names.index(s) for s in chart.names]
    counts = cohort.pops_by_joint()[:, rows]
    k = len(rows)
    left = np.array([b.get_width() for b in bars[:k]])
    right = np.array([b.get_width() for b in bars[k:]])
    assert np.array_equal(-left, counts[0]) and np.array_equal(right, counts[1])
    # the upper side's bars take the upper side's colour
    from matplotlib.colors import to_rgb

    assert np.allclose(bars[k].get_facecolor()[:3], to_rgb(DEFAULT_THEME.upside))
    assert np.allclose(bars[0].get_facecolor()[:3], to_rgb(DEFAULT_THEME.neutral_bar))
    # a diamond on each facet the single model popped
    diamonds = sum(len(ln.get_xdata()) for ln in ax.get_lines() if ln.get_marker() == "D")
    assert diamonds == int(run.cavitated[:, rows].sum())
    # drawn into a figure beside the single model, in German too
    scene = load_scene(ROOT / "scenes" / "hvla_vs_self_twist.toml")
    one = replace(scene, panels=scene.panels[:1])
    for lang, word in (("en", "upper side"), ("de", "obere Seite")):
        fig = describe(replace(one, language=lang), size=SIZE, cohorts={0: cohort})
        _, areas, mfig, _ = render(fig)
        drawn = " ".join(t.get_text() for t in mfig.findobj(lambda a: hasattr(a, "get_text")))
        assert word in drawn and bone_mask(areas[0]).mean() > 0.01
