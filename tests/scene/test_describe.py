from pathlib import Path

import numpy as np

from spine3d.scene import load_scene
from spine3d.scene.describe import describe
from spine3d.scene.theme import DEFAULT_THEME, colormap, hex_to_rgb

ROOT = Path(__file__).resolve().parents[2]


def colour_of(panel, level):
    return np.array(next(m.color for m in panel.meshes if m.level == level and m.role == "bone"))


def test_restricted_vertebra_is_cold_as_the_solver_says():
    fig = describe(load_scene(ROOT / "scenes" / "restricted_l4l5.toml"))
    normal, restricted = fig.panels
    seg = restricted.state.model.segment_names
    rot = np.abs(restricted.state.rotation_deg)
    assert rot[seg.index("L4-L5")] < 0.25 * rot[seg.index("L3-L4")]
    clim = restricted.colorbar.clim[1]
    for level, segment in (("L3", "L3-L4"), ("L4", "L4-L5"), ("L5", "L5-S1")):
        expected = colormap(DEFAULT_THEME.rotation_cmap, rot[seg.index(segment)] / clim)
        assert np.allclose(colour_of(restricted, level), expected)
    # Cold: blue dominates red at L4 only; its neighbours run hot.
    c = colour_of(restricted, "L4")
    assert c[2] > c[0]
    for nb in ("L3", "L5"):
        assert colour_of(restricted, nb)[0] > colour_of(restricted, nb)[2]
    assert colour_of(normal, "L4")[0] > colour_of(normal, "L4")[2]
    assert "restricted" in " ".join(lb.text for lb in restricted.labels)


def test_panels_share_scale_and_colour_limits():
    # Same levels from the same camera: framed together, one view.
    fig = describe(load_scene(ROOT / "scenes" / "restricted_l4l5.toml"))
    a, b = (p.view for p in fig.panels)
    assert np.allclose(a.position, b.position) and np.allclose(a.focal_point, b.focal_point)
    fig = describe(load_scene(ROOT / "scenes" / "counterfactual.toml"))
    assert fig.panels[0].colorbar.clim == fig.panels[1].colorbar.clim
    # Different levels: each panel frames its own (a vertebra fills its panel).
    fig = describe(load_scene(ROOT / "scenes" / "facet_orientation.toml"))
    d = [np.linalg.norm(p.view.position - p.view.focal_point) for p in fig.panels]
    assert not np.isclose(d[0], d[1])


def test_facet_traces_show_the_measured_angles(model):
    fig = describe(load_scene(ROOT / "scenes" / "facet_orientation.toml"))
    texts = [[lb.text for lb in p.labels] for p in fig.panels]
    for level, got in zip(("T6", "L3"), texts[:2], strict=True):
        joint = next(j for j in model.joints if j.lower == level)
        want = [min(f.coronal_deg, 180 - f.coronal_deg) for f in joint.facets]
        assert got == [f"{a:.0f}°" for a in want]
    # thoracic facets lie near the coronal plane, lumbar ones far from it
    t6, l3 = (float(t[0].rstrip("°")) for t in texts[:2])
    assert t6 < 30 < l3


def test_twist_changes_the_picture():
    scene = load_scene(ROOT / "scenes" / "self_twist.toml")
    fig = describe(scene)
    from dataclasses import replace

    still = replace(
        scene, panels=(replace(scene.panels[0], load=replace(scene.panels[0].load, twist_deg=0.0)),)
    )
    fig0 = describe(still)
    t1 = [m for m in fig.panels[0].meshes if m.level == "T1" and m.role == "bone"][0]
    t1_0 = [m for m in fig0.panels[0].meshes if m.level == "T1" and m.role == "bone"][0]
    assert not np.allclose(t1.transform, t1_0.transform)
    # Positive twist turns T1's front to the left (-Z).
    assert (t1.transform[:3, 0] - t1_0.transform[:3, 0])[2] < 0


def test_tropism_gaps_swap_with_the_direction():
    fig = describe(load_scene(ROOT / "scenes" / "tropism.toml"))
    left, right = fig.panels
    gap = {(m.joint, m.side): m.gap_mm for m in left.markers}
    gap_r = {(m.joint, m.side): m.gap_mm for m in right.markers}
    assert gap[("L4-L5", "left")] > 0.3 > gap[("L4-L5", "right")]
    assert gap_r[("L4-L5", "right")] > 0.3 > gap_r[("L4-L5", "left")]


def test_tropism_the_more_coronal_facet_blocks_less():
    # The caption's claim, from the model: L4-L5 turns further toward the side whose
    # facet is the more coronal, and swapping the two angles swaps the sides.
    import spine3d

    seg = spine3d.load_model().segment_names.index("L4-L5")

    def turns(left_deg, right_deg):
        facets = {"L4-L5": {"left_coronal_deg": left_deg, "right_coronal_deg": right_deg}}
        model = spine3d.load_model(facets=facets)
        return [abs(spine3d.solve(model, twist_deg=t).rotation_deg[seg]) for t in (20.0, -20.0)]

    to_left, to_right = turns(30, 60)
    assert to_right > 1.05 * to_left
    to_left, to_right = turns(60, 30)
    assert to_left > 1.05 * to_right


def test_maneuver_figures_draw_what_the_event_log_says():
    fig = describe(load_scene(ROOT / "scenes" / "hvla_vs_self_twist.toml"))
    thrust, twist = fig.panels

    def bubbles(panel):
        blue = hex_to_rgb(DEFAULT_THEME.bubble)
        return {(m.joint, m.side) for m in panel.markers if m.color == blue}

    assert bubbles(thrust) == {("L4-L5", "left")}
    flash = hex_to_rgb(DEFAULT_THEME.flash)  # a still shows bubbles; only clips flash
    assert not any(m.color == flash for p in fig.panels for m in p.markers)
    assert bubbles(twist) and all(seg != "L4-L5" for seg, _ in bubbles(twist))
    assert "specificity" in thrust.twist_text and thrust.timeline.marks
    fig = describe(load_scene(ROOT / "scenes" / "slow_vs_fast.toml"))
    fast, slow = fig.panels
    assert "guarding 100%" in slow.twist_text and abs(slow.state.twist_deg) < abs(
        fast.state.twist_deg
    )
    fig = describe(load_scene(ROOT / "scenes" / "self_cracking.toml"))
    series = {label: y for label, y, _ in fig.panels[0].timeline.series}
    assert series["L3-L4"][-1] > 1.3 * series["L3-L4"][0]
    assert series["L4-L5 (restricted)"][-1] == series["L4-L5 (restricted)"][0]


def test_a_facet_override_turns_the_drawn_bone():
    fig = describe(load_scene(ROOT / "scenes" / "facet_orientation.toml"))
    t7 = fig.panels[2]
    (item,) = [m for m in t7.meshes if m.role == "bone"]
    assert item.level == "T7" and item.vertices is not None
    assert t7.labels[0].text == "50°"
    plain = [m for p in fig.panels[:2] for m in p.meshes if m.role == "bone"]
    assert all(m.vertices is None for m in plain)


def test_context_bones_follow_the_thorax_and_the_keys():
    scene = load_scene(ROOT / "scenes" / "self_twist.toml")
    roles = [(m.role, m.level) for m in describe(scene).panels[0].meshes]
    assert ("context", "rib_5_left") in roles and ("context", "pelvis_right") in roles
    from dataclasses import replace

    panel = scene.panels[0]
    off = replace(panel, spine=replace(panel.spine, ribs="none", pelvis=False))
    fig = describe(replace(scene, panels=(off,)))
    assert not [m for m in fig.panels[0].meshes if m.role == "context"]
    lumbar = replace(panel, spine=replace(panel.spine, levels=("L1", "L2", "L3")))
    fig = describe(replace(scene, panels=(lumbar,)))
    assert not [m for m in fig.panels[0].meshes if m.role == "context"]


def test_ribs_take_the_solve_s_pose_else_move_with_their_vertebra():
    from dataclasses import replace

    from spine3d.scene.describe import describe_panel

    scene = load_scene(ROOT / "scenes" / "self_twist.toml")
    fig = describe(scene)
    state = fig.panels[0].state
    items = {m.level: m for m in fig.panels[0].meshes if m.role != "ghost"}
    assert np.allclose(items["rib_5_left"].transform, state.part_poses["rib_5_left"])
    assert np.allclose(items["sternum"].transform, state.part_poses["sternum"])
    # A state without part poses (the one-degree-of-freedom law's): rigid with the vertebra.
    rigid = replace(state, part_poses={}, part_rotation3_deg={})
    d = describe_panel(scene.panels[0], rigid, 5.0, None)
    items = {m.level: m for m in d.meshes if m.role != "ghost"}
    assert np.allclose(items["rib_5_left"].transform, items["T5"].transform)
    assert np.allclose(items["cartilage_9_right"].transform, items["T9"].transform)
    assert not np.allclose(items["rib_5_left"].transform, items["rib_9_left"].transform)
