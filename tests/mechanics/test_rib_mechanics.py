"""The rib cage in the mechanics: resection, equilibrium, symmetry and its drawn motion."""

import numpy as np
import pytest

import spine3d
from spine3d.anatomy import RIB_STATES
from spine3d.mechanics.ribcage import compile_rib_cage_mechanics, rib_load
from spine3d.mechanics.static import (
    EQUILIBRIUM_TOL_N,
    EQUILIBRIUM_TOL_NMM,
    Load,
    solve_load,
    vertebra_residuals,
)
from spine3d.mechanics.validation import thorax_rotation_deg

PLANES = [("flexion", 5.0), ("flexion", -5.0), ("lateral", 5.0), ("axial", 5.0)]


@pytest.fixture(scope="module")
def models():
    return {state: spine3d.load_model(ribs=state) for state in RIB_STATES}


def test_each_resection_step_only_loosens_the_thorax(models):
    for comp, nm in PLANES:
        k = ("flexion", "lateral", "axial").index(comp)
        rom = [
            thorax_rotation_deg(solve_load(models[s], Load({}, {comp: nm}), warm=False))[k]
            * np.sign(nm)
            for s in RIB_STATES
        ]
        # intact, no intercostals, sternotomy, no anterior rib cage, none
        assert all(b >= a - 1e-6 for a, b in zip(rom[:-1], rom[1:], strict=True)), (comp, nm, rom)
        assert rom[0] < 0.9 * rom[-1], (comp, nm, rom)


def test_the_rib_cage_adds_stiffness_in_every_plane_and_direction(models):
    for comp in ("flexion", "lateral", "axial"):
        k = ("flexion", "lateral", "axial").index(comp)
        for sign in (1.0, -1.0):
            with_ribs, bare = (
                abs(
                    thorax_rotation_deg(
                        solve_load(models[s], Load({}, {comp: 3.0 * sign}), warm=False)
                    )[k]
                )
                for s in ("intact", "none")
            )
            assert with_ribs < bare, (comp, sign)


def test_no_rib_cage_is_the_isolated_spine(models):
    load = Load({}, {"axial": 5.0})
    a = solve_load(models["none"], load, warm=False)
    assert compile_rib_cage_mechanics(models["none"], 0, 17) is None
    assert a.part_poses == {}
    b = solve_load(models["intact"], load, warm=False)
    assert set(b.part_poses) >= {"rib_1_left", "cartilage_7_right", "sternum"}


def test_removed_parts_carry_no_force_and_connected_ones_do(models):
    s = solve_load(models["intact"], Load({}, {"axial": 5.0}), warm=False)
    ribs = compile_rib_cage_mechanics(models["intact"], 0, 17)
    load = rib_load(ribs, s.poses, np.array([v.rest_pose for v in models["intact"].vertebrae]))
    forces = {k: np.linalg.norm(w[3:]) for k, w in ribs.element_wrenches(load.screws).items()}
    for kind in ("cartilage", "sternum", "intercostal", "costovertebral"):
        carried = [f for name, f in forces.items() if name.startswith(kind)]
        assert carried and max(carried) > 0.05, kind
    kinds = {
        state: {e.kind for e in compile_rib_cage_mechanics(models[state], 0, 17).elements}
        for state in ("no_intercostals", "sternotomy", "no_anterior")
    }
    assert "intercostal" not in kinds["no_intercostals"]
    across = [
        e.name
        for e in compile_rib_cage_mechanics(models["sternotomy"], 0, 17).elements
        if "across" in e.name
    ]
    assert not across
    assert not {"cartilage", "sternum"} & kinds["no_anterior"]


@pytest.mark.parametrize("state", ["intact", "sternotomy"])
def test_every_rib_and_node_is_in_equilibrium(models, state):
    model = models[state]
    s = solve_load(model, Load({}, {"axial": 4.0, "flexion": 2.0}), warm=False)
    ribs = compile_rib_cage_mechanics(model, 0, 17)
    rest = np.array([v.rest_pose for v in model.vertebrae])
    load = rib_load(ribs, s.poses, rest)
    total = np.zeros((len(ribs.bodies), 6))
    biggest = 0.0
    wrenches = ribs.element_wrenches(load.screws)
    for e in ribs.elements:
        w = wrenches[e.name]
        a, b = e.bodies
        total[b] += w
        total[a] -= w
        biggest = max(biggest, float(np.abs(w).max()))
    m = len(ribs.vertebrae)
    assert biggest > 1.0
    assert np.abs(total[m:]).max() <= 1e-8 * biggest  # every rib, cartilage and sternum node
    # What the elements put on the vertebrae is the condensed wrench, and it sums to zero.
    condensed = -(ribs.stiffness @ load.screws.reshape(-1)).reshape(-1, 6)
    assert np.abs(total[:m] - condensed).max() <= 1e-8 * biggest
    assert np.abs(load.wrench.sum(axis=0)).max() <= 1e-8 * np.abs(load.wrench).max()


def test_a_rigid_turn_of_the_whole_thorax_costs_nothing(models):
    model = models["intact"]
    ribs = compile_rib_cage_mechanics(model, 0, 17)
    rest = np.array([v.rest_pose for v in model.vertebrae])
    turn = np.eye(4)
    c, s_ = np.cos(0.6), np.sin(0.6)
    turn[:3, :3] = [[c, 0, s_], [0, 1, 0], [-s_, 0, c]]
    turn[:3, 3] = [40.0, -25.0, 10.0]
    load = rib_load(ribs, turn @ rest, rest)
    assert np.abs(load.wrench).max() < 1e-3  # N mm and N: round-off of a 1e7 stiffness


def test_vertebrae_balance_with_the_rib_cage(models):
    for state in ("intact", "no_anterior"):
        s = solve_load(
            models[state],
            Load({}, {"axial": 3.0, "lateral": -2.0, "flexion": 4.0}, follower_n=300.0),
            warm=False,
        )
        r = vertebra_residuals(s)
        assert np.abs(r[:, 3:]).max() <= 10 * EQUILIBRIUM_TOL_N
        assert np.abs(r[:, :3]).max() <= 10 * EQUILIBRIUM_TOL_NMM + 1e3 * EQUILIBRIUM_TOL_N


def test_left_and_right_mirror(models):
    model = models["intact"]
    for comp in ("axial", "lateral"):
        k = ("flexion", "lateral", "axial").index(comp)
        a = solve_load(model, Load({}, {comp: 4.0}), warm=False).rotation3_deg[:, k]
        b = solve_load(model, Load({}, {comp: -4.0}), warm=False).rotation3_deg[:, k]
        assert np.allclose(a, -b, atol=0.03 * np.abs(a).max()), comp


def test_random_loads_in_all_planes_solve_to_finite_balanced_states(models):
    rng = np.random.default_rng(7)
    model = models["intact"]
    for _ in range(12):
        m = rng.uniform(-6.0, 6.0, 3)
        load = Load(
            {},
            dict(zip(("flexion", "lateral", "axial"), m, strict=True)),
            follower_n=float(rng.uniform(0, 400)),
        )
        s = solve_load(model, load, warm=False)
        assert np.all(np.isfinite(s.poses))
        assert all(np.all(np.isfinite(p)) for p in s.part_poses.values())
        assert np.abs(vertebra_residuals(s)[:, 3:]).max() <= 10 * EQUILIBRIUM_TOL_N


def test_warm_and_cold_starts_agree(models):
    model = models["intact"]
    for twist in (4.0, 8.0, 12.0, 16.0):
        warm = solve_load(model, Load({"axial": twist}, {}))
    cold = solve_load(model, Load({"axial": 16.0}, {}), warm=False)
    assert np.allclose(warm.rotation3_deg, cold.rotation3_deg, atol=1e-6)


def test_a_specimen_keeps_the_ribs_of_its_vertebrae(models):
    model = models["intact"]
    top, bottom = model.level_span("T3-T4")
    ribs = compile_rib_cage_mechanics(model, top, bottom)
    names = {e.name for e in ribs.elements}
    assert {n.split()[1] for n in names if n.startswith("costovertebral")} == {
        f"rib_{k}_{s}" for k in (3, 4) for s in ("left", "right")
    }
    assert "costovertebral rib_4_left T3" in names  # rib 4's head meets T3 and T4
    assert not any(n.endswith(" T2") for n in names)  # T2 is not in the specimen
    assert set(ribs.parts) >= {"sternum", "cartilage_3_left", "cartilage_4_right"}
    assert "rib_5_left" not in ribs.parts
    with_ribs = solve_load(model, Load({}, {"axial": 2.0}, levels="T3-T4"), warm=False)
    bare = solve_load(models["none"], Load({}, {"axial": 2.0}, levels="T3-T4"), warm=False)
    assert with_ribs.top_rotation_deg[2] < bare.top_rotation_deg[2]


def test_parts_are_drawn_where_the_solution_puts_them(models):
    model = models["intact"]
    rest = solve_load(model, Load({}, {}), warm=False)
    for name, pose in rest.part_poses.items():
        level = model.rib_cage.part_levels[name]
        assert np.allclose(pose, rest.pose(level), atol=1e-6), name
    s = solve_load(model, Load({}, {"axial": 5.0}), warm=False)
    moved = {
        n: np.abs(p[:3, 3] - s.pose(model.rib_cage.part_levels[n])[:3, 3]).max()
        for n, p in s.part_poses.items()
    }
    # Ribs move on their joints, not rigidly with one vertebra; the sternum moves with
    # the ribs, not with T4.
    assert max(v for n, v in moved.items() if n.startswith("rib_")) > 0.05
    assert moved["sternum"] > 0.05
    turns = np.array([s.part_rotation3_deg[f"rib_{k}_left"] for k in range(1, 13)])
    assert np.abs(turns).max() > 0.1
    assert np.all(np.isfinite(turns))
