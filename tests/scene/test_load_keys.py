"""Scene loads in three planes, colour by a rotation component, axis and force arrows."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import spine3d
from spine3d.errors import SpineInputError
from spine3d.scene import load_scene
from spine3d.scene.describe import (
    AXIS_ARROW_MM,
    FORCE_MM_PER_N,
    describe,
    nice_ceiling,
    shown_peak,
    solve_panel,
)
from spine3d.scene.loader import parse_scene
from spine3d.scene.spec import LoadSpec

ROOT = Path(__file__).resolve().parents[2]


def panel_of(load: dict, view: dict | None = None, spine: dict | None = None):
    data = {"spine": {"levels": "L1-S1", **(spine or {})}, "load": load, "view": view or {}}
    return parse_scene(data, "t.toml").panels[0]


def test_every_load_key_reaches_the_solver(model):
    cases = [
        ({"flexion_deg": 20}, {"flexion_deg": 20.0}),
        ({"moment_flexion_nm": -5}, {"moment_nm": {"flexion": -5.0}}),
        ({"lateral_deg": 15, "twist_deg": 10}, {"lateral_deg": 15.0, "twist_deg": 10.0}),
        ({"moment_lateral_nm": 3, "torque_nm": 2}, {"moment_nm": {"lateral": 3.0}, "torque_nm": 2}),
        ({"follower_n": 400}, {"twist_deg": 30.0, "follower_n": 400.0}),
    ]
    for load, kwargs in cases:
        got = solve_panel(panel_of(load))
        want = spine3d.solve(model, **kwargs)
        assert np.allclose(got.rotation3_deg, want.rotation3_deg, atol=1e-6), load
    # An angle controls the top vertebra; a moment loads it.
    assert solve_panel(panel_of({"flexion_deg": 20})).top_rotation_deg[0] == pytest.approx(20)
    assert solve_panel(panel_of({"moment_flexion_nm": -5})).reaction_nm[0] == pytest.approx(-5)
    # Only a bending load drops the default twist; a follower load alone keeps it.
    assert panel_of({"flexion_deg": 20}).load.twist_deg is None
    assert panel_of({"follower_n": 400}).load.twist_deg == 30


def test_a_signed_component_colours_both_ways():
    scene = load_scene(ROOT / "scenes" / "coupled_bending.toml")
    p, mirrored = describe(scene).panels
    lateral = p.state.rotation3_deg[:, 1]
    names = p.state.model.segment_names
    bar = p.colorbar
    assert bar.centre == 0.0 and bar.clim[0] == -bar.clim[1]
    assert "lateral" in bar.title and "lateral" in p.chart.title
    bone = {m.level: np.array(m.color) for m in p.meshes if m.role == "bone"}
    for level in ("L2", "L5"):
        seg = next(j.name for j in p.state.model.joints if j.upper == level)
        assert np.allclose(bone[level], bar.colors(np.array(lateral[names.index(seg)])))
    assert p.chart.ymin == -p.chart.ymax
    # The scene's two panels turn both ways: the coupled bending swaps sides.
    assert mirrored.colorbar == bar
    assert np.allclose(mirrored.chart.values, -np.array(p.chart.values), atol=0.05)
    assert np.allclose(p.chart.values, lateral[names.index("T12-L1") :])

    # Bending right and left take the two ends of the diverging map, bars both ways.
    def bent(lateral_deg):
        spec = replace(scene.panels[0], load=LoadSpec(None, None, lateral_deg=lateral_deg))
        (q,) = describe(replace(scene, panels=(spec,))).panels
        return {m.level: np.array(m.color) for m in q.meshes if m.role == "bone"}, q.chart

    right, chart_r = bent(20.0)
    left, chart_l = bent(-20.0)
    assert right["L3"][2] > right["L3"][0] and left["L3"][0] > left["L3"][2]
    assert min(chart_r.values) > 0 > max(chart_l.values)
    # Colour by flexion instead: other values, other colours, another title.
    flex = replace(scene.panels[0], view=replace(scene.panels[0].view, color_by="flexion"))
    (q,) = describe(replace(scene, panels=(flex,))).panels
    assert "flexion" in q.colorbar.title and "flexion" in q.chart.title
    assert not np.allclose(
        [m.color for m in q.meshes if m.role == "bone"],
        [m.color for m in p.meshes if m.role == "bone"],
    )


def test_axis_arrows_sit_on_the_solved_axes_and_follow_the_pressed_facet():
    def drawn(twist, axes=True):
        p = panel_of({"twist_deg": twist}, {"axes": axes, "twist_axis": False, "facets": False})
        scene = replace(load_scene(ROOT / "scenes" / "self_twist.toml"), panels=(p,))
        return describe(scene).panels[0]

    def centres(p):
        out = []
        for ln in p.lines:
            d = (ln.points[1] - ln.points[0]) / np.linalg.norm(ln.points[1] - ln.points[0])
            out.append(ln.points[0] + 0.5 * AXIS_ARROW_MM * d)
        return np.array(out)

    left, right = drawn(30), drawn(-30)
    st = left.state
    shown = [i for i, j in enumerate(st.model.joints) if j.upper in left.levels]
    assert len(left.lines) == len(left.cones) == len(shown) == 5
    for ln, c, i in zip(left.lines, centres(left), shown, strict=True):
        d = ln.points[1] - ln.points[0]
        assert np.allclose(d / np.linalg.norm(d), st.axis_direction[i], atol=1e-9)
        assert np.allclose(c, st.axis_point_mm[i], atol=1e-9)
    # Turning left presses the right facets (+Z), turning right the left ones: the
    # axes move to the pressed side.
    assert np.all(centres(left)[:, 2] > 0) and np.all(centres(right)[:, 2] < 0)
    assert drawn(30, axes=False).lines == ()


def test_force_arrows_scale_with_force_and_vanish_with_the_facets():
    scene = load_scene(ROOT / "scenes" / "facetectomy_l4l5.toml")
    panels = tuple(replace(p, view=replace(p.view, twist_axis=False)) for p in scene.panels)
    intact, cut = describe(replace(scene, panels=panels)).panels
    names = intact.state.model.segment_names
    k = names.index("L4-L5")
    assert intact.state.facet_force_n[:, k].max() > 1 and cut.state.facet_force_n[:, k].max() == 0
    assert not any(m.joint == "L4-L5" for m in cut.markers)
    assert any(m.joint == "L4-L5" for m in intact.markers)
    # One arrow per loaded facet below the shown levels, its shaft in proportion.
    forces = intact.state.facet_force_n[:, names.index("L1-L2") :]
    loaded = np.sort(forces[forces > 1.0])
    shafts = np.sort([np.linalg.norm(ln.points[1] - ln.points[0]) for ln in intact.lines])
    assert np.allclose(shafts, FORCE_MM_PER_N * loaded)
    assert len(cut.lines) == len(intact.lines) - int(np.sum(intact.state.facet_force_n[:, k] > 1))
    assert f"10\u00a0mm = {10 / FORCE_MM_PER_N:.0f}\u00a0N" in intact.twist_text
    assert abs(cut.state.rotation_deg[k]) > 1.5 * abs(intact.state.rotation_deg[k])


def test_extension_closes_and_loads_the_facets_flexion_opens_them():
    flexion, extension = describe(load_scene(ROOT / "scenes" / "flexion_extension.toml")).panels
    assert all(m.gap_mm > 0.2 for m in flexion.markers)
    assert flexion.lines == () and len(extension.lines) >= 8
    assert min(m.gap_mm for m in extension.markers) < 0.1
    assert flexion.chart.ymin < 0 and "flexion" in flexion.chart.title
    assert min(extension.chart.values) < 0 < min(flexion.chart.values)
    assert extension.chart.ymax == flexion.chart.ymax
    assert "-7.5" in extension.twist_text and "+7.5" in flexion.twist_text
    assert "twist" not in flexion.twist_text + extension.twist_text  # the axial axis is free


def test_a_clip_holds_the_charted_bending_on_its_axis():
    scene = load_scene(ROOT / "scenes" / "flexion_extension.toml")
    ext = scene.panels[1]
    state = solve_panel(ext)
    keep = [i for i, j in enumerate(state.model.joints) if j.upper in ext.spine.levels]
    peak = float(np.abs(state.rotation3_deg[keep, 0]).max())
    assert shown_peak(ext, state) == pytest.approx(peak)
    clim = nice_ceiling(peak)
    for p in describe(scene, clim=clim).panels:
        assert (p.chart.ymin, p.chart.ymax) == (-clim, clim)


def test_a_load_scales_and_takes_overrides_axis_by_axis():
    load = LoadSpec(30.0, None, flexion_deg=10.0, moment_lateral_nm=2.0, follower_n=300.0)
    half = load.scaled(0.5)
    assert (half.twist_deg, half.flexion_deg, half.moment_lateral_nm) == (15.0, 5.0, 1.0)
    assert half.follower_n == 300.0
    over = load.overridden({"torque_nm": 4.0, "moment_nm": {"flexion": -2.0}})
    assert (over.twist_deg, over.torque_nm) == (None, 4.0)
    assert (over.flexion_deg, over.moment_flexion_nm) == (None, -2.0)
    assert over.moment_lateral_nm == 2.0 and over.follower_n == 300.0
    assert load.overridden({}) == load
    with pytest.raises(SpineInputError, match=r"give torque_nm or moment_nm\['axial'\]"):
        load.overridden({"torque_nm": 1.0, "moment_nm": {"axial": 2.0}})
    with pytest.raises(SpineInputError, match="give flexion_deg or moment_flexion_nm"):
        load.overridden({"flexion_deg": 1.0, "moment_nm": {"flexion": 1.0}})
