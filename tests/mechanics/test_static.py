"""The six-degree-of-freedom static solve: invariants, loads, and counterfactuals."""

import numpy as np
import pytest

import spine3d
from spine3d.anatomy import SEGMENTS
from spine3d.mechanics.segment import rodrigues
from spine3d.mechanics.static import (
    EQUILIBRIUM_TOL_N,
    EQUILIBRIUM_TOL_NMM,
    Load,
    cardan_deg,
    solve_load,
    vertebra_residuals,
)

FLEX, LAT, AX = 0, 1, 2


def idx(seg):
    return SEGMENTS.index(seg)


def balanced(state):
    r = vertebra_residuals(state)
    # Per vertebra, recomputed from the poses: moments about the global origin reach
    # |r| * lever ~ a few hundred mm, so the moment tolerance scales with it.
    assert np.abs(r[:, 3:]).max() <= 10 * EQUILIBRIUM_TOL_N
    assert np.abs(r[:, :3]).max() <= 10 * EQUILIBRIUM_TOL_NMM + 1e3 * EQUILIBRIUM_TOL_N


@pytest.mark.parametrize(
    "kwargs",
    [
        {"twist_deg": 35.0},
        {"twist_deg": -20.0, "flexion_deg": 10.0},
        {"lateral_deg": 15.0, "follower_n": 400.0},
        {"moment_nm": {"flexion": 7.5, "lateral": -3.0, "axial": 2.0}},
        {"moment_nm": {"flexion": -10.0}, "levels": "L1-S1"},
        {"torque_nm": 5.0, "levels": "T7-T8", "follower_n": 200.0},
    ],
)
def test_no_nan_and_equilibrium_at_every_vertebra(model, kwargs):
    s = spine3d.solve3d(model, **kwargs)
    for name in ("rotation3_deg", "translation_mm", "poses", "facet_gap_mm", "axis_point_mm"):
        assert np.all(np.isfinite(getattr(s, name))), name
    balanced(s)
    for comp, key in ((FLEX, "flexion_deg"), (LAT, "lateral_deg"), (AX, "twist_deg")):
        if key in kwargs:
            assert s.top_rotation_deg[comp] == pytest.approx(kwargs[key], abs=1e-6)


def test_zero_load_is_the_rest_pose(model):
    s = spine3d.solve3d(model, moment_nm={"axial": 0.0})
    rest = np.array([v.rest_pose for v in model.vertebrae])
    assert np.allclose(s.poses, rest, rtol=0, atol=1e-9)  # to round-off of the chain
    assert np.allclose(s.rotation3_deg, 0.0) and np.allclose(s.translation_mm, 0.0)


def test_cardan_order_and_signs():
    # Forward flexion turns +Y toward +X: a rotation about -Z.
    assert cardan_deg(rodrigues(np.array([0.0, 0.0, -0.1])))[FLEX] > 0
    assert cardan_deg(rodrigues(np.array([0.1, 0.0, 0.0])))[LAT] > 0  # +Y toward +Z
    assert cardan_deg(rodrigues(np.array([0.0, 0.1, 0.0])))[AX] > 0  # +X toward -Z
    rng = np.random.default_rng(1)
    for _ in range(20):
        a = rng.uniform(-0.5, 0.5, 3)
        rz = rodrigues(np.array([0, 0, -a[0]]))
        rx = rodrigues(np.array([a[1], 0, 0]))
        ry = rodrigues(np.array([0, a[2], 0]))
        assert np.allclose(np.radians(cardan_deg(rz @ rx @ ry)), a)


@pytest.mark.parametrize("comp", ["lateral", "axial"])
def test_mirror_symmetry(comp):
    # The spine alone: the rib cage's bones mirror only to 2.7 mm (test_rib_mechanics.py).
    model = spine3d.load_model(ribs="none")
    pos = spine3d.solve3d(model, moment_nm={comp: 6.0})
    neg = spine3d.solve3d(model, moment_nm={comp: -6.0})
    # The bones are mirror images but for the sacrum (measured L5-S1 facet centres
    # 0.3 mm apart from mirror images) and T1's facets, which meet a little unevenly in
    # 4-5 degrees of lateral bending: a mirror within a few hundredths of a degree.
    assert np.allclose(pos.rotation3_deg[:, FLEX], neg.rotation3_deg[:, FLEX], atol=0.03)
    assert np.allclose(pos.rotation3_deg[:, 1:], -neg.rotation3_deg[:, 1:], atol=0.01)
    assert np.allclose(pos.facet_gap_mm[::-1], neg.facet_gap_mm, atol=0.01)


def test_left_twist_closes_right_lumbar_facets(model):
    s = spine3d.solve3d(model, twist_deg=30.0)
    lumbar = [idx(x) for x in ("L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1")]
    assert np.all(s.facet_gap_mm[1, lumbar] < 0) and np.all(s.facet_force_n[1, lumbar] > 0)
    assert np.all(s.facet_gap_mm[0, lumbar] > 0) and np.all(s.facet_force_n[0, lumbar] == 0)
    assert s.pose("T1")[2, 0] < -0.3  # T1's anterior axis turned toward the left (-Z)


@pytest.mark.parametrize("comp", ["flexion", "lateral", "axial"])
def test_primary_rotation_is_monotone(model, comp):
    k = ("flexion", "lateral", "axial").index(comp)
    moments = np.linspace(-10, 10, 11)
    top = [
        spine3d.solve3d(model, moment_nm={comp: float(m)}, levels="L1-S1").top_rotation_deg[k]
        for m in moments
    ]
    assert np.all(np.diff(top) > 0)


def test_specimen_moves_only_its_levels(model):
    s = spine3d.solve3d(model, torque_nm=5.0, levels="T7-T8")
    moving = np.abs(s.rotation3_deg).max(1) > 1e-9
    assert moving.tolist() == [x == "T7-T8" for x in SEGMENTS]
    assert np.allclose(s.pose("T8"), model.vertebra("T8").rest_pose)
    assert s.levels == "T7-T8" and s.torque_nm == pytest.approx(5.0)


def test_torque_and_angle_control_agree(model):
    a = spine3d.solve3d(model, twist_deg=25.0)
    b = spine3d.solve3d(model, torque_nm=a.torque_nm)
    assert np.allclose(a.rotation3_deg, b.rotation3_deg, atol=1e-3)


def test_warm_start_agrees_with_cold(model):
    spine3d.solve3d(model, twist_deg=-40.0)
    warm = spine3d.solve3d(model, twist_deg=12.0)
    cold = solve_load(model, Load({"axial": 12.0}, {}), warm=False)
    assert np.allclose(warm.rotation3_deg, cold.rotation3_deg, atol=1e-3)


def test_lumbar_facets_stiffen_t6_t7(model):
    base = spine3d.solve3d(model, torque_nm=5.0)
    stiff = spine3d.load_model(facets={"T6-T7": {"coronal_deg": 50.0, "transverse_deg": 90.0}})
    s = spine3d.solve3d(stiff, torque_nm=5.0)
    assert s.rotation_deg[idx("T6-T7")] < 0.8 * base.rotation_deg[idx("T6-T7")]


def test_thoracic_facets_free_l3_l4(model):
    base = spine3d.solve3d(model, torque_nm=5.0)
    free = spine3d.load_model(facets={"L3-L4": {"coronal_deg": 160.0, "transverse_deg": 60.0}})
    f = spine3d.solve3d(free, torque_nm=5.0)
    assert f.rotation_deg[idx("L3-L4")] > 1.25 * base.rotation_deg[idx("L3-L4")]


def test_facetectomy_raises_axial_range(model):
    i = idx("L4-L5")
    base = spine3d.solve3d(model, torque_nm=5.0, levels="L4-L5")
    one = spine3d.solve3d(
        spine3d.load_model(facets={"L4-L5": {"right_removed": True}}), torque_nm=5.0, levels="L4-L5"
    )
    both = spine3d.solve3d(
        spine3d.load_model(facets={"L4-L5": {"removed": True}}), torque_nm=5.0, levels="L4-L5"
    )
    # Turning left closes the right facet: removing it frees the segment; the left
    # (gapping) one alone changes little.
    assert one.rotation_deg[i] > 1.5 * base.rotation_deg[i]
    assert both.rotation_deg[i] >= one.rotation_deg[i] - 1e-6
    assert one.facet_force_n[1, i] == 0.0


def test_axis_moves_to_the_impacted_facet(model):
    i = idx("L4-L5")
    s = spine3d.solve3d(model, torque_nm=5.0, levels="L4-L5")
    cut = spine3d.solve3d(
        spine3d.load_model(facets={"L4-L5": {"right_removed": True}}), torque_nm=5.0, levels="L4-L5"
    )
    centre = (model.vertebra("L5").rest_pose @ model.joint("L4-L5").disc_frame_in_lower)[:3, 3]
    lateral = model.vertebra("L5").rest_pose[:3, 2]  # +Z, right
    # The right facet carries the contact: the axis sits toward the right and back;
    # without that facet it returns toward the disc.
    right = (s.axis_point_mm[i] - centre) @ lateral
    right_cut = (cut.axis_point_mm[i] - centre) @ lateral
    assert right > 3.0 and right > right_cut + 3.0
    assert abs(s.axis_direction[i] @ model.vertebra("L4").rest_pose[:3, 1]) > 0.8


def test_lordosis_changes_coupled_motion(model):
    i = idx("L4-L5")
    flat = spine3d.load_model(facets={"L4-L5": {"lordosis_deg": 0.0}})
    a = spine3d.solve3d(model, torque_nm=8.0, levels="L3-L5")
    b = spine3d.solve3d(flat, torque_nm=8.0, levels="L3-L5")
    assert abs(a.rotation3_deg[i, LAT] - b.rotation3_deg[i, LAT]) > 0.3


def test_follower_load_compresses_without_bending(model):
    s = spine3d.solve3d(model, follower_n=400.0, levels="L1-S1")
    lumbar = slice(idx("L1-L2"), None)
    assert np.all(s.translation_mm[lumbar, 1] < 0)  # every disc shortens
    assert np.abs(s.rotation3_deg).max() < 0.5


def test_to_dict_gives_three_rotations_axis_and_reaction(model):
    d = spine3d.solve3d(model, twist_deg=20.0, flexion_deg=5.0).to_dict()
    seg = d["segments"][idx("L4-L5")]
    assert set(seg["rotation_deg"]) == {"flexion", "lateral", "axial"}
    assert set(seg["translation_mm"]) == {"anterior", "superior", "right"}
    assert len(seg["axis"]["point_mm"]) == 3
    assert np.linalg.norm(seg["axis"]["direction"]) == pytest.approx(1.0, abs=1e-5)
    assert d["twist_deg"] == pytest.approx(20.0) and d["flexion_deg"] == pytest.approx(5.0)
    assert set(d["reaction"]["moment_nm"]) == {"flexion", "lateral", "axial"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"moment_nm": {"twist": 1.0}}, "unknown component"),
        ({"moment_nm": {"axial": float("inf")}}, "finite"),
        ({"twist_deg": 10.0, "moment_nm": {"axial": 1.0}}, "angle-controlled"),
        ({"torque_nm": 1.0, "levels": "L5-L1"}, "upper level must come first"),
        ({"torque_nm": 1.0, "levels": "L4"}, "two levels"),
        ({"follower_n": -5.0}, ">= 0"),
        ({}, "give a load"),
    ],
)
def test_bad_loads(model, kwargs, message):
    with pytest.raises(spine3d.SpineInputError, match=message):
        spine3d.solve3d(model, **kwargs)


def test_override_keys_are_checked():
    with pytest.raises(spine3d.SpineInputError, match="true or false"):
        spine3d.load_model(facets={"L4-L5": {"left_removed": 1}})
    with pytest.raises(spine3d.SpineInputError, match="unknown key"):
        spine3d.load_model(facets={"L4-L5": {"left_lordosis_deg": 0.0}})
    with pytest.raises(spine3d.SpineInputError, match="out of range"):
        spine3d.load_model(facets={"L4-L5": {"lordosis_deg": 80.0}})


@pytest.mark.parametrize("follower_n", [0.0, 400.0])
def test_exact_tangent_matches_finite_differences(model, follower_n):
    # The Newton tangent is derived by hand, term by term; central differences of the
    # residual itself check it, with facets in contact and ligaments past their toe.
    from spine3d.mechanics.static import _compiled, _external, _tangent

    def _residual(seg, sl, qa, m_local, follower_n):
        q = np.zeros((seg.disc_k.shape[0], 6))
        q[sl] = qa
        return seg.wrench(q)[sl] + _external(qa, m_local, follower_n)

    c = _compiled(model, (1.0,) * len(SEGMENTS))
    rng = np.random.default_rng(3)
    sl = slice(4, 17)
    qa = np.concatenate([rng.normal(0, 0.04, (13, 3)), rng.normal(0, 0.6, (13, 3))], axis=1)
    m_local = rng.normal(0, 3e3, (13, 3))
    r, jac, _ = _tangent(c.seg, sl, qa, m_local, follower_n)
    jac = jac()
    assert np.allclose(r, _residual(c.seg, sl, qa, m_local, follower_n))
    assert (c.seg.details(np.pad(qa, ((4, 0), (0, 0))))["force_n"] > 0).any()
    fd = np.zeros_like(jac)
    for b in range(6):
        h = 1e-7 if b < 3 else 1e-6
        up, down = qa.copy(), qa.copy()
        up[:, b] += h
        down[:, b] -= h
        fd[:, :, b] = (
            _residual(c.seg, sl, up, m_local, follower_n)
            - _residual(c.seg, sl, down, m_local, follower_n)
        ) / (2 * h)
    assert np.abs(jac - fd).max() <= 1e-6 * np.abs(fd).max()
