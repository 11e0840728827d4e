"""The time-domain model: manoeuvres, muscle guarding, cavitation, laxity over sessions.

Quasi-static at millisecond steps: at every step the spine is in equilibrium under the
load of that moment (the series law, :mod:`spine3d.mechanics.law`), with three pieces
of state that evolve in time:

- **guarding**: a reflex triggered by a forceful (torque) or uncontrolled (rotation
  rate) stretch. It starts a latency after the trigger, builds with a time constant
  and adds a parallel torsional stiffness to every segment. The trigger is found on
  the unguarded response, which is exact until the reflex starts.
- **cavitation**: each facet's separation beyond rest is relieved by fluid with a time
  constant; the unrelieved part is the tension of the joint. When it reaches a
  threshold a cavity forms (an event), the gap jumps, and the joint is refractory
  until the gas has redissolved. Slow separation never builds the tension; fast does.
- **laxity**: each cavitation and each stretch beyond the neutral zone adds mobility
  to that segment (a larger neutral zone, lower stiffness), recovering between
  sessions.

An HVLA thrust loads only its target segment: the segments above turn with it, the
vertebra below is held by the practitioner's stabilising contact in parallel with the
chain below. How much of the gapping lands on the target (the specificity) is computed.

This model still steps on the one-degree-of-freedom series law of axial rotation, not
on the six-degree-of-freedom segment that :func:`spine3d.solve` uses; rebuilding it on
that segment is its own piece of work. Its "neutral zone" is the width of that law's
soft toe region around neutral (``neutral_zone_deg`` in ``data/tissue.csv``, scaled by
mobility and grown by laxity): a state of the segment that the model carries, not a
laxity measured between loading and unloading curves. The static 3D model is elastic,
has no hysteresis and so reports no neutral zone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..anatomy import SEGMENTS, SIDES, SpineModel
from ..errors import SpineInputError
from .law import SegmentLaw, compile_law
from .maneuver import KINDS, Maneuver
from .params import Mobility, mobility_factors, mobility_label, timedomain
from .solver import _bounds, _invert_segments, make_state, solve_rows
from .state import SpineState

__all__ = [
    "KINDS",
    "Event",
    "Maneuver",
    "Run",
    "Schedule",
    "bubble_radius_mm",
    "run_schedule",
    "simulate",
]

_DEG = math.pi / 180.0


def bubble_radius_mm(minutes_since: np.ndarray | float) -> np.ndarray:
    """Return the radius of a cavity ``minutes_since`` it formed, mm.

    Its volume falls linearly to zero over the refractory period as the gas
    redissolves; 0 once gone, and before it formed (negative minutes).
    """
    p = timedomain()
    m = np.asarray(minutes_since, dtype=float)
    left = np.clip(1.0 - m / p["refractory_min"], 0.0, 1.0)
    return np.where(m >= 0, p["bubble_radius_mm"] * np.cbrt(left), 0.0)


@dataclass(frozen=True)
class Event:
    """Something that happened: ``guarding_onset`` or ``cavitation`` (with joint and side)."""

    t_ms: float
    type: str
    segment: str | None = None
    side: str | None = None
    session: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (keys that do not apply are left out)."""
        d: dict[str, Any] = {"t_ms": round(self.t_ms, 3), "type": self.type}
        if self.segment is not None:
            d.update(segment=self.segment, side=self.side, session=self.session)
        return d


@dataclass(frozen=True, eq=False)
class Run:
    """One simulated manoeuvre. Arrays are over time (T), segments (n), sides (2: left, right).

    Attributes
    ----------
    t_ms : (T,) float
    rotation_deg : (T, n) float
    gap_mm : (T, 2, n) float
        Facet gaps, the jump of a cavitated joint included.
    torque_nm : (T,) float
        Torque through the column (self-twist) or the target segment (thrust).
    guarding : (T,) float
        Guarding activation, 0 to 1.
    events : tuple of Event
    cavitated : (2, n) bool
    cavitation_t_ms : (2, n) float
        When each facet cavitated (NaN: it did not).
    specificity : float or None
        Share of the peak gapping that lands on the target facet (thrusts).
    neutral_zone_deg : (n,) float
        Neutral zone of each segment during this run.
    """

    model: SpineModel
    law: SegmentLaw
    maneuver: Maneuver
    session: int
    t_ms: np.ndarray
    rotation_deg: np.ndarray
    gap_mm: np.ndarray
    torque_nm: np.ndarray
    guarding: np.ndarray
    events: tuple[Event, ...]
    cavitated: np.ndarray
    cavitation_t_ms: np.ndarray
    specificity: float | None
    neutral_zone_deg: np.ndarray
    extra_k: np.ndarray = field(repr=False)
    since_cavitation_min: np.ndarray | None = field(default=None, repr=False)

    @property
    def peak_rotation_deg(self) -> np.ndarray:
        """Largest rotation magnitude of each segment (n,), degrees."""
        return np.abs(self.rotation_deg).max(axis=0)

    @property
    def peak_gap_mm(self) -> np.ndarray:
        """Largest gap of each facet (2, n), mm."""
        return self.gap_mm.max(axis=0)

    def index(self, t_ms: float) -> int:
        """Return the step nearest to ``t_ms``."""
        return int(np.clip(np.searchsorted(self.t_ms, t_ms), 0, len(self.t_ms) - 1))

    def state_at(self, t_ms: float) -> SpineState:
        """Return the spine at time ``t_ms`` as a :class:`SpineState` (for drawing)."""
        i = self.index(t_ms)
        return make_state(
            self.model, self.law, np.radians(self.rotation_deg[i]), self.torque_nm[i] * 1e3
        )

    def bubbles_at(self, t_ms: float) -> list[tuple[str, str, float]]:
        """Return ``(segment, side, radius_mm)`` of the cavities present at ``t_ms``.

        Fresh ones from this run, and ones left from earlier pops, shrinking as the gas
        redissolves (:func:`bubble_radius_mm`).
        """
        minutes = np.full((2, len(SEGMENTS)), -1.0)
        if self.since_cavitation_min is not None:
            minutes = np.where(
                np.isfinite(self.since_cavitation_min),
                self.since_cavitation_min + t_ms / 60000.0,
                -1.0,
            )
        fresh = np.isfinite(self.cavitation_t_ms) & (t_ms >= self.cavitation_t_ms)
        age_ms = t_ms - np.nan_to_num(self.cavitation_t_ms)
        minutes = np.where(fresh, age_ms / 60000.0, minutes)
        # A fresh cavity grows over its first milliseconds, then shrinks over minutes.
        growth = np.where(fresh, np.clip(age_ms / timedomain()["bubble_growth_ms"], 0.05, 1.0), 1.0)
        radius = bubble_radius_mm(minutes) * np.cbrt(growth)
        return [
            (seg, SIDES[s], float(radius[s, i]))
            for s in range(2)
            for i, seg in enumerate(SEGMENTS)
            if radius[s, i] > 0
        ]

    def series(self) -> tuple[list[str], np.ndarray]:
        """Return the run as a table over time: column names and a (T, k) float array.

        Columns: ``t_ms``, ``torque_nm``, ``guarding`` (0 to 1), then per segment
        top to bottom ``<segment>_rotation_deg``, ``<segment>_gap_left_mm`` and
        ``<segment>_gap_right_mm``.
        """
        names = ["t_ms", "torque_nm", "guarding"]
        cols = [self.t_ms, self.torque_nm, self.guarding]
        for i, seg in enumerate(SEGMENTS):
            names += [f"{seg}_rotation_deg"] + [f"{seg}_gap_{s}_mm" for s in SIDES]
            cols += [self.rotation_deg[:, i], self.gap_mm[:, 0, i], self.gap_mm[:, 1, i]]
        return names, np.column_stack(cols)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON summary: events, per-segment peaks and the specificity."""
        peaks = self.peak_gap_mm
        segs = []
        for i, seg in enumerate(SEGMENTS):
            segs.append(
                {
                    "name": seg,
                    "mobility": mobility_label(float(self.law.factor[i])),
                    "peak_rotation_deg": round(float(self.peak_rotation_deg[i]), 4),
                    "peak_gap_mm": {s: round(float(peaks[k, i]), 4) for k, s in enumerate(SIDES)},
                    "cavitated": [s for k, s in enumerate(SIDES) if self.cavitated[k, i]],
                    "neutral_zone_deg": round(float(self.neutral_zone_deg[i]), 4),
                }
            )
        return {
            "maneuver": self.maneuver.kind,
            "events": [e.to_dict() for e in self.events],
            "segments": segs,
            "specificity": None if self.specificity is None else round(self.specificity, 4),
        }


def _guarding(t_ms: np.ndarray, torque_nm: np.ndarray, rotation_deg: np.ndarray) -> tuple:
    """Return activation (T,) and the onset time (or None) from the unguarded response."""
    p = timedomain()
    dt = np.gradient(t_ms) / 1e3
    rate = np.abs(np.gradient(rotation_deg, axis=0)) / dt[:, None]
    trigger = (np.abs(torque_nm) >= p["trigger_torque_nm"]) | (
        rate.max(axis=1) >= p["trigger_rate_deg_per_s"]
    )
    if not trigger.any():
        return np.zeros_like(t_ms), None
    onset = float(t_ms[np.argmax(trigger)]) + p["reflex_latency_ms"]
    after = np.clip(t_ms - onset, 0.0, None)
    activation = np.where(t_ms >= onset, 1.0 - np.exp(-after / p["reflex_build_ms"]), 0.0)
    return activation, onset


def _solve_global(model, factors, load, kind_twist: bool, extra_k):
    """Self-twist: the same torque through every segment."""
    if kind_twist:
        return solve_rows(model, factors, twist_rad=load * _DEG, extra_k=extra_k, cache=False)
    return solve_rows(model, factors, torque_nmm=load * 1e3, extra_k=extra_k, cache=False)


def _solve_thrust(law: SegmentLaw, target: int, tau: np.ndarray, extra_k) -> np.ndarray:
    """Thrust: torque ``tau`` (T,) N mm on segment ``target``; the vertebra below is held.

    Segments above carry nothing. The torque splits at the lower vertebra between the
    stabilising contact (k_s) and the chain below: ``tau_c + k_s * sum(theta_below(tau_c))
    = tau``, solved by safeguarded Newton on ``tau_c`` in ``[0, tau]``.
    """
    n = law.k_nmm.shape[0]
    T = tau.shape[0]
    theta = np.zeros((T, n))
    ek = np.zeros((T, n)) if extra_k is None else extra_k
    tb = np.broadcast_to(tau[:, None], (T, 1))
    lo, hi = _bounds(_sub(law, [target]), tb, ek[:, [target]])
    theta[:, [target]] = _invert_segments(_sub(law, [target]), tb, lo, hi, ek[:, [target]])
    below = list(range(target + 1, n))
    if not below:
        return theta
    k_s = timedomain()["stabiliser_stiffness_nm_per_deg"] * 1e3 / _DEG
    sub, eb = _sub(law, below), ek[:, below]
    sign = np.where(tau < 0, -1.0, 1.0)
    a = np.abs(tau)
    t_lo, t_hi = np.zeros(T), a.copy()
    tc = 0.5 * a
    th = None
    for _ in range(60):
        tcb = np.broadcast_to((sign * tc)[:, None], (T, len(below)))
        lo, hi = _bounds(sub, tcb, eb)
        th = _invert_segments(sub, tcb, lo, hi, eb, start=th)
        h = tc + k_s * np.abs(th.sum(1)) - a
        if np.all(np.abs(h) <= 1e-6):
            break
        t_hi = np.where(h > 0, tc, t_hi)
        t_lo = np.where(h < 0, tc, t_lo)
        _, df = sub.evaluate(th, eb)
        step = tc - h / (1.0 + k_s * np.sum(1.0 / df, axis=1))
        ok = (step >= t_lo) & (step <= t_hi) & np.isfinite(step)
        tc = np.where(np.abs(h) <= 1e-6, tc, np.where(ok, step, 0.5 * (t_lo + t_hi)))
    theta[:, below] = th
    return theta


def _sub(law: SegmentLaw, idx: list[int]) -> SegmentLaw:
    """Return the law of the segments ``idx`` only."""
    return SegmentLaw(
        k_nmm=law.k_nmm[idx],
        nz_rad=law.nz_rad[idx],
        nz_ratio=law.nz_ratio,
        stiff_rad=law.stiff_rad,
        lever_mm=law.lever_mm[:, idx],
        clearance_mm=law.clearance_mm[:, idx],
        kc=law.kc[idx],
        cap_slack_mm=law.cap_slack_mm[idx],
        cap_k=law.cap_k[idx],
        factor=law.factor[idx],
    )


def simulate(
    model: SpineModel,
    maneuver: Maneuver,
    mobility: Mobility | None = None,
    *,
    laxity: np.ndarray | None = None,
    since_cavitation_min: np.ndarray | None = None,
    session: int = 0,
    dt_ms: float = 1.0,
) -> Run:
    """Simulate one manoeuvre at ``dt_ms`` steps.

    Parameters
    ----------
    model : SpineModel
    maneuver : Maneuver
    mobility : mapping, optional
        ``{segment: state}`` as for :func:`spine3d.solve`.
    laxity : (n,) float, optional
        Mobility added by earlier sessions (the factor is multiplied by 1 + laxity).
    since_cavitation_min : (2, n) float, optional
        Minutes since each facet last cavitated (inf: never); refractory facets do not
        cavitate.
    session : int, default: 0
        Session number recorded in the events.
    dt_ms : float, default: 1.0

    Returns
    -------
    Run
    """
    if not 0.05 <= dt_ms <= 50:
        raise SpineInputError(f"dt_ms = {dt_ms!r}: expected 0.05 to 50 ms")
    if model.segment_names != SEGMENTS:
        # The time-domain law is tabled per segment of the whole column.
        raise SpineInputError(
            f"the time-domain model needs the bones T1 to S1; these hold "
            f"{model.level_names[0]} to {model.level_names[-1]} (spine3d.solve runs them)"
        )
    p = timedomain()
    n = len(model.joints)
    base = np.asarray(mobility_factors(mobility))
    lax = np.zeros(n) if laxity is None else np.asarray(laxity, dtype=float)
    factors = tuple(float(x) for x in base * (1.0 + lax))
    law = compile_law(model, factors)
    t = maneuver.times_ms(dt_ms)
    load = maneuver.profile(t)
    thrust = maneuver.kind != "self_twist"
    if thrust:
        target = SEGMENTS.index(maneuver.target)
        # Positive torque turns the upper vertebra left and gaps its left facet.
        sign = 1.0 if maneuver.gap_side == "left" else -1.0
        tau = sign * load * p["contact_arm_mm"]

        def run(extra):
            return _solve_thrust(law, target, tau, extra), tau

    else:
        twist_control = maneuver.twist_deg is not None

        def run(extra):
            return _solve_global(model, factors, load, twist_control, extra)

    theta, tau = run(None)
    guarding, onset = _guarding(t, tau / 1e3, np.degrees(theta))
    extra = None
    if onset is not None:
        k_g = p["guard_stiffness_nm_per_deg"] * 1e3 / _DEG
        extra = guarding[:, None] * np.full((1, n), k_g)
        theta, tau = run(extra)
    gap = np.stack(
        [law.clearance_mm[s] + law.lever_mm[s] * theta for s in range(2)], axis=1
    )  # (T, 2, n)
    if thrust:
        s = SIDES.index(maneuver.gap_side)
        gap[:, s, target] += load * p["distraction_mm_per_n"]
    from scipy.signal import lfilter  # only a simulation needs it: renders start faster

    # Cavitation: tension = separation beyond rest that the fluid has not yet relieved.
    separation = np.maximum(gap - law.clearance_mm[None], 0.0)
    alpha = dt_ms / p["fluid_relax_ms"]
    relieved = lfilter([alpha], [1.0, alpha - 1.0], separation, axis=0)
    tension = separation - relieved
    since = (
        np.full((2, n), np.inf)
        if since_cavitation_min is None
        else np.asarray(since_cavitation_min, dtype=float)
    )
    ready = since >= p["refractory_min"]
    crossed = tension >= p["cavitation_gap_mm"]
    cavitated = crossed.any(axis=0) & ready
    first = np.where(cavitated, np.argmax(crossed, axis=0), -1)
    cav_t = np.where(cavitated, t[np.maximum(first, 0)], np.nan)
    for s in range(2):
        for i in range(n):
            if cavitated[s, i]:
                gap[first[s, i] :, s, i] += p["cavitation_jump_mm"]
    events = []
    if onset is not None and onset <= t[-1]:
        events.append(Event(onset, "guarding_onset", session=session))
    for s, i in zip(*np.nonzero(cavitated), strict=True):
        events.append(Event(float(cav_t[s, i]), "cavitation", SEGMENTS[i], SIDES[s], session))
    events.sort(key=lambda e: (e.t_ms, e.segment or "", e.side or ""))
    specificity = None
    if thrust:
        peak_sep = separation.max(axis=0)
        total = peak_sep.sum()
        s = SIDES.index(maneuver.gap_side)
        specificity = float(peak_sep[s, target] / total) if total > 0 else 0.0
    nz = np.degrees(law.nz_rad)
    return Run(
        model=model,
        law=law,
        maneuver=maneuver,
        session=session,
        t_ms=t,
        rotation_deg=np.degrees(theta),
        gap_mm=gap,
        torque_nm=tau / 1e3,
        guarding=guarding,
        events=tuple(events),
        cavitated=cavitated,
        cavitation_t_ms=cav_t,
        specificity=specificity,
        neutral_zone_deg=nz,
        extra_k=np.zeros((len(t), n)) if extra is None else extra,
        since_cavitation_min=None if since_cavitation_min is None else since.copy(),
    )


@dataclass(frozen=True, eq=False)
class Schedule:
    """Repeated sessions of one manoeuvre.

    Attributes
    ----------
    day : (S,) float
        Day of each session.
    neutral_zone_deg : (S, n) float
        Neutral zone of each segment at each session.
    cavitations : (S, n) int
        Facets cavitated per segment in each session.
    events : tuple of Event
    first, last : Run
    """

    day: np.ndarray
    neutral_zone_deg: np.ndarray
    cavitations: np.ndarray
    events: tuple[Event, ...]
    first: Run
    last: Run

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON summary: per session and segment, neutral zone and cavitations."""
        return {
            "sessions": len(self.day),
            "day": [round(float(d), 4) for d in self.day],
            "neutral_zone_deg": {
                seg: [round(float(x), 4) for x in self.neutral_zone_deg[:, i]]
                for i, seg in enumerate(SEGMENTS)
            },
            "cavitations": {
                seg: int(self.cavitations[:, i].sum()) for i, seg in enumerate(SEGMENTS)
            },
            "events": [e.to_dict() for e in self.events if e.type == "cavitation"],
        }


def run_schedule(
    model: SpineModel,
    maneuver: Maneuver,
    sessions: int,
    interval_min: float,
    mobility: Mobility | None = None,
    dt_ms: float = 1.0,
    progress: Callable[[int, int], None] | None = None,
) -> Schedule:
    """Repeat ``maneuver`` ``sessions`` times, ``interval_min`` apart, with laxity building.

    After each session a segment gains laxity for each of its cavitations and for its
    peak rotation beyond the neutral zone and a tolerance; laxity recovers
    exponentially between sessions, and bubbles redissolve. ``progress`` is called
    with (sessions done, sessions in all) after each session.
    """
    if not (isinstance(sessions, int) and 1 <= sessions <= 2000):
        raise SpineInputError(f"[schedule] sessions = {sessions!r}: expected 1 to 2000")
    if not 1 <= interval_min <= 60 * 24 * 60:
        raise SpineInputError(f"[schedule] interval_min = {interval_min!r}: expected 1 to 86400")
    p = timedomain()
    n = len(model.joints)
    laxity = np.zeros(n)
    since = np.full((2, n), np.inf)
    day, nzs, cavs, events = [], [], [], []
    first = last = None
    decay = math.exp(-interval_min / (p["laxity_recovery_days"] * 24 * 60))
    for k in range(sessions):
        run = simulate(
            model,
            maneuver,
            mobility,
            laxity=laxity,
            since_cavitation_min=since,
            session=k,
            dt_ms=dt_ms,
        )
        first = first or run
        last = run
        day.append(k * interval_min / (24 * 60))
        nzs.append(run.neutral_zone_deg)
        cavs.append(run.cavitated.sum(axis=0))
        events.extend(run.events)
        beyond = np.maximum(
            run.peak_rotation_deg - run.neutral_zone_deg - p["stretch_tolerance_deg"], 0.0
        )
        laxity = laxity + p["laxity_per_cavitation"] * run.cavitated.sum(axis=0)
        laxity = laxity + p["laxity_per_deg_stretch"] * beyond
        laxity = laxity * decay
        since = np.where(run.cavitated, 0.0, since) + interval_min
        if progress is not None:
            progress(k + 1, sessions)
    return Schedule(
        day=np.array(day),
        neutral_zone_deg=np.array(nzs),
        cavitations=np.array(cavs),
        events=tuple(events),
        first=first,
        last=last,
    )
