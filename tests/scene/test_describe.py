from pathlib import Path

import numpy as np

from spine3d.scene import load_scene
from spine3d.scene.describe import describe, mesh_hulls
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


# --- manoeuvres: positions, the moment, the timeline ------------------------------


def _thrust_scene(**maneuver):
    """The HVLA figure's first panel alone, with its manoeuvre changed by ``maneuver``."""
    from dataclasses import replace

    from spine3d.mechanics.maneuver import Maneuver

    scene = load_scene(ROOT / "scenes" / "hvla_vs_self_twist.toml")
    panel = scene.panels[0]
    mv = Maneuver(**{"kind": "hvla", "target": "L4-L5", "thrust_n": 400.0, **maneuver})
    return replace(scene, panels=(replace(panel, maneuver=mv),))


def _at(scene, t_ms):
    from dataclasses import replace

    return replace(scene, panels=(replace(scene.panels[0], at_ms=t_ms),))


def _bone(panel, level):
    return next(m for m in panel.meshes if m.level == level and m.role == "bone")


def test_position_frames_turn_the_patient_into_the_room():
    from spine3d.scene.positions import position_frame, room_camera

    up = np.array([0.0, 1.0, 0.0])
    for lying_on, down in (("left", -1.0), ("right", 1.0)):
        r = position_frame("side_posture", lying_on)[:3, :3]
        assert np.isclose(np.linalg.det(r), 1.0) and np.allclose(r @ r.T, np.eye(3))
        assert abs(r @ [0, 1, 0] @ up) < 1e-12  # the long axis lies horizontal
        assert np.isclose(r @ [0, 0, down] @ up, -1.0)  # the lain-on side points down
    r = position_frame("prone")[:3, :3]
    assert np.isclose(r @ [1, 0, 0] @ up, -1.0) and abs(r @ [0, 1, 0] @ up) < 1e-12
    assert np.allclose(position_frame("standing"), np.eye(4))
    # "posterior" looks at the back whichever way the patient lies; up stays the room's.
    frame = position_frame("side_posture", "left")
    d, u = room_camera(frame, np.array([-1.0, 0, 0]), up)
    assert np.allclose(d, frame[:3, :3] @ [-1, 0, 0]) and np.allclose(u, up)
    d, u = room_camera(position_frame("prone"), np.array([-1.0, 0, 0]), up)
    assert np.allclose(d, up) and abs(u @ up) < 1e-12  # from above: the head at the top


def test_side_posture_is_drawn_lying_on_its_side_above_the_table():
    fig = describe(_thrust_scene())
    (panel,) = fig.panels
    origin = {m.level: m.transform[:3, 3] for m in panel.meshes if m.role == "bone"}
    axis = origin["T11"] - origin["S1"]
    assert abs(axis[1]) < 0.25 * np.linalg.norm(axis)  # the column lies across the room
    t12 = _bone(panel, "L1").transform
    # Lying on the left: the vertebra's left points down, its right up.
    assert t12[:3, 2] @ [0, 1, 0] > 0.7
    (table,) = panel.slabs
    lowest = min(
        (mesh_hulls()[m.level] @ m.transform.T)[:, 1].min()
        for m in panel.meshes
        if m.role == "bone" and m.bones is None
    )
    assert table.corners()[:, 1].max() < lowest  # the table is under every bone
    # The camera looks at the back (posterior of the patient) and keeps the room's up.
    view = panel.view
    assert np.allclose(view.up, [0, 1, 0])
    back = panel.frame[:3, :3] @ [-1.0, 0, 0]
    seen_from = (view.position - view.focal_point) / np.linalg.norm(
        view.position - view.focal_point
    )
    assert seen_from @ back > 0.99
    # Standing beside it: no frame, no table.
    upright = describe(load_scene(ROOT / "scenes" / "self_twist.toml")).panels[0]
    assert np.allclose(upright.frame, np.eye(4)) and not upright.slabs


def test_lying_on_the_right_mirrors_the_picture():
    left = describe(_thrust_scene()).panels[0]
    right = describe(_thrust_scene(lying_on="right")).panels[0]
    up = np.array([0.0, 1.0, 0.0])
    assert _bone(left, "L3").transform[:3, 2] @ up > 0.7  # right side up
    assert _bone(right, "L3").transform[:3, 2] @ up < -0.7  # left side up


def test_thrust_arrow_pushes_along_the_force_its_length_follows_it():
    from spine3d.scene.describe import simulate_scene
    from spine3d.scene.positions import THRUST_MM_PER_N

    scene = _thrust_scene()
    run = simulate_scene(scene, 0)
    force = hex_to_rgb(DEFAULT_THEME.force)
    mv = run.maneuver
    a, b = mv.phases_ms()["thrust"]
    lengths = {}
    for t in (mv.phases_ms()["settle"][0] + 50.0, 0.5 * (a + b)):
        panel = describe(_at(scene, t)).panels[0]
        (shaft,) = [ln for ln in panel.lines if ln.color == force]
        (head,) = [c for c in panel.cones if c.color == force]
        f = float(run.force_n[run.index(t)])
        lengths[t] = f
        tail, end = shaft.points
        along = end - tail
        # The shaft runs along the force (as the model applies it, turned into the room).
        posed = run.posture.state.pose(mv.contact_level)[:3, :3] @ np.array(mv.direction)
        room = panel.frame[:3, :3] @ posed
        assert np.allclose(along / np.linalg.norm(along), room, atol=1e-9)
        assert np.allclose(head.direction, room, atol=1e-9)
        # tail to the head's base is the force times the scale
        base = head.centre - 0.5 * head.height_mm * head.direction
        assert np.isclose(np.linalg.norm(base - tail), f * THRUST_MM_PER_N)
        # the value beside it
        assert any(lb.text == f"{f:.0f}\u00a0N" for lb in panel.labels)
        # side posture, a spinous push toward the table: the arrow points down
        assert room @ [0, 1, 0] < -0.9
    assert len({round(v) for v in lengths.values()}) == 2
    # Before the hand presses, no arrow.
    panel = describe(_at(scene, 10.0)).panels[0]
    assert not [ln for ln in panel.lines if ln.color == force]


def test_prone_thrust_points_down_onto_a_face_down_patient():
    scene = _thrust_scene(target="T12-L1", position="prone")
    panel = describe(scene).panels[0]
    up = np.array([0.0, 1.0, 0.0])
    assert _bone(panel, "L1").transform[:3, 0] @ up < -0.9  # anterior down
    force = hex_to_rgb(DEFAULT_THEME.force)
    (head,) = [c for c in panel.cones if c.color == force]
    assert head.direction @ up < -0.9  # posterior to anterior: toward the table
    assert "prone" in panel.twist_text


def test_maneuver_figures_draw_what_the_event_log_says():
    from spine3d.scene.describe import drawn_moment_ms, simulate_scene

    scene = load_scene(ROOT / "scenes" / "hvla_vs_self_twist.toml")
    fig = describe(scene)
    bubble, flash = hex_to_rgb(DEFAULT_THEME.bubble), hex_to_rgb(DEFAULT_THEME.flash)
    for i, panel in enumerate(fig.panels):
        run = simulate_scene(scene, i)
        t = drawn_moment_ms(run)
        shown = set(scene.panels[i].spine.levels)
        want = {
            (seg, side) for seg, side, _ in run.bubbles_at(t) if run.model.joint(seg).upper in shown
        }
        got = {(m.joint, m.side) for m in panel.markers if m.color == bubble}
        assert got == want
        # each bubble replaces its joint's ball: one marker per facet
        keys = [(m.joint, m.side) for m in panel.markers if m.joint != "hold"]
        assert len(keys) == len(set(keys))
        assert not any(m.color == flash for m in panel.markers)  # a still shows bubbles
        pops = [e for e in run.events if e.type == "cavitation"]
        assert [x for x, _ in panel.timeline.marks] == [e.t_ms for e in pops]
        assert f"t = {t:.0f} ms" in panel.twist_text
    thrust = fig.panels[0]
    run = simulate_scene(scene, 0)
    assert run.phase_at(drawn_moment_ms(run)) in thrust.twist_text
    if run.specificity is not None:
        assert f"specificity {100 * run.specificity:.0f}%" in thrust.twist_text


def test_drawn_moment_is_the_thrust_s_first_pop_else_its_peak():
    from spine3d.mechanics.params import timedomain
    from spine3d.scene.describe import drawn_moment_ms, simulate_scene

    run = simulate_scene(_thrust_scene(), 0)
    a, b = run.maneuver.phases_ms()["thrust"]
    later = sorted(t for t in run.cavitation_t_ms[np.isfinite(run.cavitation_t_ms)] if t >= a)
    want = later[0] + timedomain()["bubble_growth_ms"] if later else 0.5 * (a + b)
    assert drawn_moment_ms(run) == min(want, run.t_ms[-1])


def test_thrust_timeline_force_over_target_rotation_with_phases_and_reflex():
    from spine3d.scene.describe import simulate_scene

    scene = _thrust_scene()
    run = simulate_scene(scene, 0)
    tl = describe(scene).panels[0].timeline
    (force,) = tl.upper
    assert np.array_equal(force[1], run.force_n) and "force" in tl.upper_label
    i = run.model.segment_names.index("L4-L5")
    (rotation,) = tl.series
    assert np.array_equal(rotation[1], run.rotation_deg[:, i]) and tl.signed
    assert np.array_equal(tl.band, run.guarding) and tl.band_label == "reflex (guarding)"
    named = {name for _, _, name in tl.phases}
    assert {"positioning", "preload", "thrust"} <= named
    assert tl.phase_keys == tuple(k for k, (a, b) in run.maneuver.phases_ms().items() if b > a)
    pops = sum(e.type == "cavitation" for e in run.events)
    said = sum(int(n.split(" pop")[0].split()[-1]) for n in tl.notes)
    assert said == pops  # the lines under the legend name every pop, by phase
    # A clip's frame: only what has happened, with room for all of it.
    from spine3d.scene.describe import maneuver_moment

    early = maneuver_moment(run, scene.panels[0], 500.0, flash=True).timeline
    assert all(x <= 500.0 for x, _ in early.marks) and early.past_only
    assert early.notes_room == tl.notes


def test_self_twist_timeline_and_schedule_laxity():
    from dataclasses import replace

    from spine3d.mechanics.timedomain import Schedule
    from spine3d.scene.describe import _schedule_timeline, simulate_scene

    scene = load_scene(ROOT / "scenes" / "hvla_vs_self_twist.toml")
    run = simulate_scene(scene, 1)
    tl = describe(replace(scene, panels=scene.panels[1:])).panels[0].timeline
    assert np.array_equal(tl.upper[0][1], np.abs(run.torque_nm))
    assert np.allclose(tl.series[0][1], np.abs(run.rotation_deg.sum(axis=1)))
    assert [name for _, _, name in tl.phases] == ["twist", "hold"]
    # A schedule draws the laxity (the hypothesis), segment by segment.
    n = len(run.model.segment_names)
    lax = np.linspace(0.5, 1.5, 3)[:, None] * (1.0 + np.arange(n))[None, :] / n
    schedule = Schedule(np.arange(3.0), lax, np.zeros((3, n), int), (), run, run)
    panel = scene.panels[1]
    tl = _schedule_timeline(schedule, panel, DEFAULT_THEME, "en")
    names = run.model.segment_names
    series = {label: y for label, y, _ in tl.series}
    assert np.array_equal(series["L4-L5 (restricted)"], lax[:, names.index("L4-L5")])
    assert np.array_equal(series["L3-L4"], lax[:, names.index("L3-L4")])
    assert "hypothesis" in tl.title and "±1\u00a0N" in tl.title
    de = _schedule_timeline(schedule, panel, DEFAULT_THEME, "de")
    assert "Hypothese" in de.title


def test_clip_clock_starts_thrust_and_twist_together_and_slows_down_around_them():
    from spine3d.scene.describe import clip_clock, simulate_scene, slow_window_ms

    scene = load_scene(ROOT / "scenes" / "hvla_vs_self_twist.toml")
    thrust, twist = (simulate_scene(scene, i) for i in range(2))
    clock = clip_clock([thrust, twist, None], 120)
    assert clock.shape == (120, 3) and not clock[:, 2].any()
    assert (
        np.all(np.diff(clock[:, 0]) >= 0) and clock[0, 0] == 0 and clock[-1, 0] == thrust.t_ms[-1]
    )
    start = thrust.maneuver.phases_ms()["thrust"][0]
    k = int(np.argmax(clock[:, 0] >= start))
    assert clock[k - 1, 1] == 0.0 and clock[k + 1, 1] > 0.0  # the twist starts with the thrust
    a, b = slow_window_ms(thrust)
    slow = (clock[:, 0] >= a) & (clock[:, 0] <= b)
    assert 0.5 < slow.mean() < 0.7  # the thrust and what follows it take most frames
    step_slow = np.diff(clock[slow, 0]).max()
    step_fast = np.diff(clock[clock[:, 0] < a, 0]).min()
    assert step_fast > 3 * step_slow


def test_cohort_chart_is_the_cohort_s_pops_beside_the_single_model_s(made_up_cohort):
    from spine3d.scene.describe import cohort_chart, simulate_scene

    scene = _thrust_scene()
    ref = simulate_scene(scene, 0)
    cohort = made_up_cohort(ref, 4, 3, 0.2)
    chart = cohort_chart(cohort)
    counts = cohort.pops_by_joint()
    rows = [ref.model.segment_names.index(name) for name in chart.names]
    assert np.array_equal(chart.counts, counts[:, rows].T)
    assert np.array_equal(chart.single, ref.cavitated[:, rows].T)
    # every joint that popped anywhere has its row, top of the column first
    popped = set(np.flatnonzero(counts.any(0) | ref.cavitated.any(0)))
    assert popped <= set(rows) and rows == sorted(rows) and "L4-L5" in chart.names
    assert chart.upside == 1  # lying on the left: the right side is up
    assert any("specificity" in line for line in chart.summary)
    assert chart.title == "pops per joint over 4 people"
    fig = describe(scene, cohorts={0: cohort})
    assert fig.panels[0].cohort is not None and fig.panels[0].timeline is None


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
