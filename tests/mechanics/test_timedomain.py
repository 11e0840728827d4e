"""The time-domain model: each claim the README makes, with its cause varied.

The runs are the README's own (:func:`spine3d.mechanics.claims.scenario`, cached for the
session: a thrust takes a few seconds), so a claim that stops being true fails here.
"""

from functools import cache

import numpy as np
import pytest

import spine3d
from spine3d.errors import SpineInputError
from spine3d.mechanics.claims import scenario, schedule
from spine3d.mechanics.joints import FacetFluid, StretchReflex, bubble_radius_mm, cavitation_times
from spine3d.mechanics.maneuver import Maneuver
from spine3d.mechanics.params import timedomain
from spine3d.mechanics.timedomain import simulate

R = (("L4-L5", "restricted"),)
THRUST = Maneuver("hvla", target="L4-L5")
QUICK = Maneuver("self_twist", twist_deg=35, duration_ms=120)


@cache
def model():
    return spine3d.load_model()


def pops(r, phase=None):
    return {
        (e.segment, e.side)
        for e in r.events
        if e.type == "cavitation" and (phase is None or e.phase == phase)
    }


# ---------------------------------------------------------------- the laws alone


def test_one_cavitation_law_for_every_joint():
    """The same separation history cavitates at the same instant at any joint."""
    rng = np.random.default_rng(3)
    history = np.cumsum(rng.uniform(0.0, 0.01, 400))  # (T,) mm, opening faster and slower
    sep = np.broadcast_to(history[:, None, None], (400, 2, 17))
    times = cavitation_times(sep)
    assert np.isfinite(times).all()
    assert np.ptp(times) == 0.0
    # Delay one joint's history: only that joint's pop moves.
    late = np.array(sep)
    late[:, 1, 9] = np.concatenate([np.zeros(50), history[:-50]])
    moved = cavitation_times(late)
    assert moved[1, 9] == times[1, 9] + 50.0
    assert np.delete(moved.reshape(-1), 26).tolist() == np.delete(times.reshape(-1), 26).tolist()


def test_fast_separation_cavitates_where_slow_one_of_the_same_size_does_not():
    p = timedomain()
    size = 1.5 * p["cavitation_gap_mm"]
    fast = np.minimum(np.arange(400) / 20.0, 1.0) * size  # in 20 ms
    slow = np.minimum(np.arange(4000) / 2000.0, 1.0) * size  # in 2 s
    assert np.isfinite(cavitation_times(fast[:, None]))[0]
    assert np.isnan(cavitation_times(slow[:, None]))[0]
    # ... but a slow separation that is large enough does cavitate (later, more rarely).
    big = np.minimum(np.arange(4000) / 2000.0, 1.0) * size / (1.0 - p["fluid_share"])
    assert np.isfinite(cavitation_times(big[:, None]))[0]
    # The fluid's suction pulls the surfaces together until the pop, then is gone.
    fluid = FacetFluid.fresh((1,))
    sep = np.zeros(1)
    pulls = []
    for k in range(40):
        sep = np.array([fast[k]])
        fluid.step(sep, float(k), 1.0)
        pulls.append(float(fluid.suction_n(sep, np.array([80.0]))[0]))
    assert max(pulls) > 0 and pulls[-1] == 0.0


def test_a_cavitated_joint_is_refractory_while_its_gas_redissolves():
    p = timedomain()
    sep = np.minimum(np.arange(200) / 20.0, 1.0)[:, None] * 2 * p["cavitation_gap_mm"]
    assert np.isnan(cavitation_times(sep, since_cavitation_min=np.array([5.0])))[0]
    assert np.isfinite(cavitation_times(sep, since_cavitation_min=np.array([25.0])))[0]
    r = bubble_radius_mm(np.array([0.0, 10.0, p["refractory_min"], 30.0]))
    assert r[0] > r[1] > 0 and r[2] == 0 and r[3] == 0


def test_reflex_follows_a_quick_stretch_after_its_latency_and_fades():
    p = timedomain()
    reflex = StretchReflex.fresh(2, 1.0)
    strain = np.zeros(2)
    bursts, act = [], []
    for k in range(600):
        # group 0 is stretched quickly to 3 % over 30 ms, group 1 slowly to the same.
        before = strain.copy()
        strain = np.array([min(k / 30.0, 1.0), min(k / 600.0, 1.0)]) * 0.03
        rate = (strain - before) / 1e-3
        bursts += reflex.step(strain, rate, k, float(k), 1.0)
        act.append(reflex.activation.copy())
    act = np.array(act)
    onset = int(np.argmax(act[:, 0] > 0.05))
    assert p["reflex_latency_ms"] <= onset <= p["reflex_latency_ms"] + 3 * p["reflex_rise_ms"]
    assert act[:, 1].max() == 0.0  # the slow stretch stays below both thresholds
    assert act[-1, 0] < 0.05 and len(bursts) == 1  # the burst has ended
    assert 100 <= bursts[0][2] - bursts[0][1] <= 400


# ------------------------------------------------------------- the dynamics


def test_a_held_posture_settles_to_the_static_solution():
    """The dynamics, left to settle in the posture, agree with the static model."""
    r = scenario("held")
    end = r.rotation3_deg[-1]
    static = r.posture.state.rotation3_deg
    assert np.abs(end - static).max() < 0.1
    assert np.abs(static).max() > 1.0  # the posture is not the rest pose


def test_runs_are_finite_and_the_pelvis_stays_near_the_table():
    for name in ("thrust", "quick"):
        r = scenario(name)
        assert np.isfinite(r.poses).all() and np.isfinite(r.gap_mm).all()
    # The table holds the pelvis: it gives no more than its stiffness lets the thrust push.
    p = timedomain()
    lying = scenario("thrust").poses[:, -1, :3, 3]
    moved = np.linalg.norm(lying - lying[0], axis=1).max()
    assert 0.1 < moved < THRUST.thrust_n / p["table_translation_n_per_mm"]


# ------------------------------------------------------------- the self-twist


def test_quick_self_twist_pops_the_mobile_neighbours_on_the_gapping_side():
    popped = pops(scenario("quick"))
    assert popped, "a quick twist of 35 degrees pops something"
    assert {side for _, side in popped} == {"left"}  # the upper body turns left
    assert ("L4-L5", "left") not in popped
    # Restrict another joint instead, and the pops move.
    other = pops(scenario("quick_l2l3"))
    assert ("L2-L3", "left") not in other
    assert ("L4-L5", "left") in other


def test_slow_twist_of_the_same_size_pops_nothing():
    slow = scenario("slow")
    assert not pops(slow)
    assert abs(slow.rotation_deg[-1].sum()) > 20  # it did turn


def test_guarding_meets_a_slow_forceful_twist_not_a_gentle_one():
    forceful = scenario("forceful")
    gentle = scenario("gentle")
    assert any(e.type == "reflex" for e in forceful.events)
    assert not any(e.type == "reflex" for e in gentle.events)


# ------------------------------------------------------------- the thrust


def test_thrust_pops_its_target_on_the_upper_side_before_guarding():
    r = scenario("thrust")
    assert r.upside == "right"
    assert ("L4-L5", "right") in pops(r, "thrust")
    pop = min(e.t_ms for e in r.events if e.type == "cavitation" and e.segment == "L4-L5")
    first_reflex = min(e.t_ms for e in r.events if e.type == "reflex")
    assert pop < first_reflex
    # Lying on the other side, the other side gaps and pops.
    mirror = scenario("mirror")
    assert mirror.upside == "left"
    assert ("L4-L5", "left") in pops(mirror, "thrust")


def test_without_the_thrust_the_target_does_not_pop():
    r = scenario("no_thrust")
    assert not any(seg == "L4-L5" for seg, _ in pops(r))


def test_a_ramped_preload_pops_nothing_the_same_force_at_once_does():
    ramped = scenario("ramp_400")
    step = scenario("step_400")
    start = THRUST.phases_ms()["thrust"][0]

    def before_thrust(r):
        t0 = r.maneuver.position_ms
        t1 = r.maneuver.phases_ms()["thrust"][0]
        return {
            (e.segment, e.side) for e in r.events if e.type == "cavitation" and t0 < e.t_ms < t1
        }

    assert not before_thrust(ramped)
    assert ("L4-L5", "right") in before_thrust(step)
    assert start > 0


def test_a_joint_does_not_pop_again_while_its_gas_is_there():
    again = scenario("again_5")
    later = scenario("again_25")
    assert ("L4-L5", "right") not in pops(again)
    assert ("L4-L5", "right") in pops(later)


def test_slow_mobilisation_triggers_no_reflex():
    r = scenario("mobilisation")
    assert not any(e.type == "reflex" for e in r.events)
    assert any(e.type == "reflex" for e in scenario("thrust").events)


def test_json_reports_gapping_upside_and_reflex_events():
    d = scenario("thrust").to_dict()
    assert d["upside"] == "right" and d["position"] == "side_posture"
    seg = {s["name"]: s for s in d["segments"]}
    assert seg["L4-L5"]["peak_gapping_mm"]["right"] > seg["L4-L5"]["peak_gapping_mm"]["left"]
    reflex = [e for e in d["events"] if e["type"] == "reflex"]
    assert reflex and all({"t_ms", "duration_ms", "group", "segment"} <= e.keys() for e in reflex)
    assert all("model" in e for e in d["events"])


# ------------------------------------------------------------- sessions


def test_self_cracking_loosens_the_mobile_neighbours_not_the_restricted_segment():
    sched = schedule()
    names = model().segment_names
    popped = [names.index(s) for s, _ in pops(sched.first)]
    grown = sched.laxity_deg[-1] - sched.laxity_deg[0]
    assert grown[popped].max() > 0.02
    assert abs(grown[names.index("L4-L5")]) < 0.25 * grown[popped].max()


# ------------------------------------------------------------- input errors


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "hvla", "target": "L4-L5", "thrust_n": 1e6}, "thrust_n = 1000000.0"),
        ({"kind": "hvla", "target": "L9-L10"}, "target"),
        ({"kind": "hvla", "target": "L4-L5", "preload_n": 500, "thrust_n": 400}, "preload_n"),
        ({"kind": "hvla", "target": "L4-L5", "contact_level": "L2"}, "contact_level"),
        ({"kind": "hvla", "target": "L4-L5", "direction": (0, 0, 0)}, "direction"),
        ({"kind": "hvla", "target": "L4-L5", "position": "standing"}, "position"),
        ({"kind": "self_twist", "twist_deg": 35, "position": "prone"}, "position"),
        ({"kind": "self_twist"}, "twist_deg or torque_nm"),
        ({"kind": "hvla", "target": "L4-L5", "lying_on": "up"}, "lying_on"),
    ],
)
def test_bad_manoeuvres_are_refused_in_one_line(kwargs, message):
    with pytest.raises(SpineInputError, match=message) as exc:
        Maneuver(**kwargs)
    assert "\n" not in str(exc.value)


def test_the_time_domain_needs_the_whole_column():
    pack = spine3d.load_model(ribs="none")
    with pytest.raises(SpineInputError, match="dt_ms"):
        simulate(pack, QUICK, dt_ms=5.0)


def test_readme_statements_are_the_models():
    """The README's time-domain statements and inputs are written from these runs."""
    from pathlib import Path

    from spine3d.mechanics.claims import claims_block, inputs_block

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for name, make in (("timedomain", claims_block), ("tdinputs", inputs_block)):
        block = text.split(f"<!-- {name}:begin -->\n", 1)[1].split(f"<!-- {name}:end -->")[0]
        assert block == make(), f"README {name} block is stale: run benchmarks/update_readme.py"
