"""What the time-domain model shows, run from the model and written for the README.

Every statement of the README's "Manipulation over time" list is made here from runs of
:func:`~.timedomain.simulate` (and a cohort from :func:`~.cohort.run_cohort`), with the
numbers the runs give and the inputs that set each outcome; the tests read the same runs
(:func:`scenario`), so a statement that stops being true fails a test, and the README is
rewritten by ``benchmarks/update_readme.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

from ..anatomy import SpineModel, load_model
from .maneuver import Maneuver
from .params import timedomain
from .timedomain import Run, run_schedule, simulate

__all__ = ["SCENARIOS", "claims_block", "cohort_block", "pops", "scenario"]

_R = {"L4-L5": "restricted"}
QUICK = Maneuver("self_twist", twist_deg=35, duration_ms=120)
SLOW = Maneuver("self_twist", twist_deg=35, duration_ms=2000)
THRUST = Maneuver("hvla", target="L4-L5")
SCHEDULE = (6, 720.0)
"""The short course of self-cracking the tests and the README run: sessions, minutes apart."""


def _since(seg: str, side: str, minutes: float) -> np.ndarray:
    names = _model().segment_names
    out = np.full((2, len(names)), np.inf)
    out[("left", "right").index(side), names.index(seg)] = minutes
    return out


SCENARIOS: dict[str, tuple[Maneuver, dict, Callable[[], dict]]] = {
    "quick": (QUICK, _R, dict),
    "quick_l2l3": (QUICK, {"L2-L3": "restricted"}, dict),
    "slow": (SLOW, _R, dict),
    "forceful": (Maneuver("self_twist", torque_nm=6, duration_ms=2000), _R, dict),
    "gentle": (Maneuver("self_twist", torque_nm=2, duration_ms=2000), _R, dict),
    "thrust": (THRUST, _R, dict),
    "thrust_normal": (THRUST, {}, dict),
    "mirror": (Maneuver("hvla", target="L4-L5", lying_on="right"), _R, dict),
    "no_thrust": (Maneuver("hvla", target="L4-L5", thrust_n=0), _R, dict),
    "held": (Maneuver("hvla", target="L4-L5", thrust_n=0, preload_n=0), _R, dict),
    "ramp_400": (Maneuver("hvla", target="L4-L5", preload_n=400, thrust_n=400), _R, dict),
    "step_400": (
        Maneuver("hvla", target="L4-L5", preload_n=400, thrust_n=400, preload_ms=0),
        _R,
        dict,
    ),
    "again_5": (
        THRUST,
        _R,
        lambda: {"since_cavitation_min": _since("L4-L5", "right", 5.0)},
    ),
    "again_25": (
        THRUST,
        _R,
        lambda: {"since_cavitation_min": _since("L4-L5", "right", 25.0)},
    ),
    "mobilisation": (Maneuver("mobilisation", target="L4-L5"), _R, dict),
}
"""The runs the README's statements and the tests stand on: name -> (manoeuvre,
mobility, extra arguments of :func:`simulate`)."""


@cache
def _model() -> SpineModel:
    return load_model()


@cache
def scenario(name: str) -> Run:
    """Return the run of :data:`SCENARIOS`'s ``name`` on the shipped model (kept)."""
    mv, mobility, extra = SCENARIOS[name]
    return simulate(_model(), mv, mobility, **extra())


@cache
def schedule():
    """Return the course of self-cracking (:data:`SCHEDULE`) with L4-L5 restricted."""
    sessions, interval = SCHEDULE
    return run_schedule(_model(), QUICK, sessions, interval, _R)


def pops(run: Run, phase: str | None = None) -> list[tuple[str, str]]:
    """Return the ``(segment, side)`` of every cavitation of ``run`` (in ``phase``), in order."""
    return [
        (e.segment, e.side)
        for e in run.events
        if e.type == "cavitation" and (phase is None or e.phase == phase)
    ]


def _joints(items) -> str:
    return ", ".join(f"{seg} {side}" for seg, side in items) or "none"


def _first(run: Run, kind: str) -> float | None:
    return min((e.t_ms for e in run.events if e.type == kind), default=None)


def claims_block() -> str:
    """Return the README's list of what comes out of the time-domain model (Markdown)."""
    p = timedomain()
    quick, other = scenario("quick"), scenario("quick_l2l3")
    slow, forceful, gentle = scenario("slow"), scenario("forceful"), scenario("gentle")
    thrust, mirror, none = scenario("thrust"), scenario("mirror"), scenario("no_thrust")
    ramp, step = scenario("ramp_400"), scenario("step_400")
    again, later = scenario("again_5"), scenario("again_25")
    mob = scenario("mobilisation")
    t0 = thrust.thrust_start_ms
    target_pop = min(
        (e.t_ms for e in thrust.events if e.type == "cavitation" and e.segment == "L4-L5"),
        default=None,
    )
    reflex = _first(thrust, "reflex")
    names = thrust.model.segment_names
    lumbar = [names.index(s) for s in names if s.startswith("L")]
    up = ("left", "right").index(thrust.upside)
    held = thrust.posture
    gap_pos = held.state.facet_gap_mm[up, lumbar] - thrust.rest_gap_mm[up, lumbar]
    twist = {
        k: float(abs(r.rotation_deg.sum(axis=1)).max()) for k, r in (("q", quick), ("s", slow))
    }
    sched = schedule()
    grown = sched.laxity_deg[-1] - sched.laxity_deg[0]
    top = int(np.argmax(grown))
    l45 = names.index("L4-L5")
    step_pop = min(
        (e.t_ms for e in step.events if e.type == "cavitation" and e.segment == "L4-L5"),
        default=None,
    )
    lines = [
        f"- **A quick self-twist** (35° in 120 ms, standing, L4-L5 restricted) pops "
        f"{_joints(pops(quick))}: the mobile segments on the gapping side, never the "
        f"restricted L4-L5. Restrict L2-L3 instead and the pops move: "
        f"{_joints(pops(other))}.",
        f"- **The same twist over 2 s pops nothing**: the joint fluid flows in as the facets "
        f"open (time constant {p['fluid_relax_ms']:g} ms). It turns T1 "
        f"{twist['s']:.0f}° against the quick twist's {twist['q']:.0f}°.",
        f"- **Guarding meets a slow, forceful twist**: 6 N m over 2 s stretches the deep "
        f"back muscles past {100 * p['reflex_stretch']:.1f} % and their reflex starts at "
        f"{_first(forceful, 'reflex'):.0f} ms; a gentle 2 N m twist "
        f"{'triggers none' if _first(gentle, 'reflex') is None else 'triggers one too'}.",
        f"- **Side posture** (lying on the left): the practitioner locks the segments above "
        f"the target with {abs(held.moment_nm[2]):.1f} N m of turn, "
        f"{held.moment_nm[0]:.1f} N m of flexion and {abs(held.moment_nm[1]):.1f} N m of side "
        f"bending; the lumbar facets of the upper side open "
        f"{gap_pos.min():.2f}–{gap_pos.max():.2f} mm beyond rest (Cramer et al. measured "
        f"0.2–0.9 mm; a prediction, not fitted).",
        f"- **An HVLA thrust** (a spinous push on L4 toward the table, {THRUST.preload_n:g} N "
        f"preload over {THRUST.preload_ms:g} ms, {THRUST.thrust_n:g} N in "
        f"{THRUST.duration_ms:g} ms) pops the restricted L4-L5 on the upper side "
        f"{target_pop - t0:.0f} ms into the thrust, before the first reflex "
        f"({reflex - t0:.0f} ms); in all it pops {_joints(pops(thrust))} "
        f"(specificity {100 * thrust.specificity:.0f} %). Lying on the other side, the "
        f"other side pops ({_joints(pops(mirror, 'thrust'))} during the thrust). Without "
        f"the thrust, L4-L5 "
        f"{'does not pop' if all(s != 'L4-L5' for s, _ in pops(none)) else 'pops'} "
        f"(positioning and preload pop {_joints(pops(none))}).",
        f"- **A ramped preload pops nothing**: 400 N put on over {THRUST.preload_ms:g} ms "
        f"pops {_joints(pops(ramp, 'preload'))} while it rises; the same 400 N at once pops "
        f"L4-L5 {step_pop - step.maneuver.position_ms:.0f} ms later.",
        f"- **A joint does not pop again for about {p['refractory_min']:g} minutes**: 5 "
        f"minutes after L4-L5 popped, the same thrust pops "
        f"{_joints(pops(again))}; 25 minutes after, {_joints(pops(later))}.",
        f"- **A slow mobilisation** (2 s) triggers "
        f"{'no' if _first(mob, 'reflex') is None else 'a'} reflex and pops "
        f"{_joints(pops(mob))}.",
        f"- **Self-cracking twice a day** (a hypothesis the model illustrates): over "
        f"{len(sched.day)} sessions the laxity (rotation at ±{p['laxity_moment_nm']:g} N m) of "
        f"{names[top]} grows by {grown[top]:.2f}°; the restricted L4-L5's by "
        f"{round(float(grown[l45]), 2) + 0.0:.2f}°.",
    ]
    return "\n".join(lines) + "\n"


def cohort_block(size: int = 50, seed: int = 0) -> str:
    """Return the README's cohort statement (Markdown): a minute's run on two cores."""
    from .cohort import run_cohort

    c = run_cohort(_model(), THRUST, _R, size, seed, reference=scenario("thrust"))

    def pct(x):
        return "–" if x is None else f"{100 * x:.0f} %"

    return (
        f"- **A cohort of {size}** (seed {seed}; geometry and tissues drawn within their "
        f"published spread, `spine3d/mechanics/data/cohort.csv`), the same thrust on a "
        f"restricted L4-L5: {c.pops_per_thrust:.1f} pops per thrust, {pct(c.upside_share)} on "
        f"the upper side, {pct(c.target_zone_share)} within {c.target_zone[0]}–"
        f"{c.target_zone[-1]}, {pct(c.specificity)} at L4-L5 itself; in "
        f"{pct(c.positioning_only_share)} of the members positioning and preload alone "
        f"popped a joint.\n"
    )


def inputs_block() -> str:
    """Return the README's table of the time-domain model's inputs (Markdown).

    Every input that sets an outcome above, with its value and where it comes from
    (``data/timedomain.csv``); the tissues' are in ``data/tissue3d.csv`` and the fitted
    constants in ``data/calibration.json``, the bodies' masses in ``data/inertia.csv``.
    """
    from .params import _rows

    lines = ["| input | value | source or reason |", "|---|---|---|"]
    for r in _rows("timedomain.csv"):
        value = f"{float(r['value']):g}"
        lines.append(f"| `{r['key']}` | {value} | {r['source']} |")
    return "\n".join(lines) + "\n"
