"""The time-domain model: manoeuvres on the three-dimensional spine, step by step.

Every vertebra T1-L5 and the pelvis (S1) is a rigid body with six degrees of freedom
carrying its share of the trunk's mass (:mod:`.inertia`), joined by the tissues of the
static model (disc, ligaments, facet contact; the rib cage when the model has one) with
tissue damping, and stepped by linearly implicit Euler at ``dt_ms`` (1 ms) steps
(:mod:`.dynamics`). Around the same bodies:

- **posture and holds**: the manoeuvre's posture is solved statically
  (:mod:`.posture`) and the patient is brought into it over ``position_ms`` by the
  practitioner's stabilising hand on the shoulder (T1) and the table and thigh on the
  pelvis (S1), each holding with a finite stiffness; standing, the pelvis is held still;
- **thrust**: a force along a fixed direction at a point on a named vertebra (a
  spinous, mammillary or transverse process), ramped to the preload, then the thrust;
- **self-twist**: the patient's own trunk muscles turn T1 on the pelvis, to an angle
  (a voluntary drive with its own gain) or with a moment;
- **reflex**: on every segment and side a lumped deep back muscle group (multifidus
  and rotatores) from the lower vertebra's transverse process to the upper one's
  spinous base; when its stretch or stretch rate passes a threshold its activation
  rises after a latency and falls once the stretch has stopped;
- **cavitation**: each facet joint holds synovial fluid. As the surfaces separate
  beyond rest the fluid flows in only slowly and never makes up the whole separation:
  the rest is held in tension, which pulls the surfaces together (suction over the
  facet's area). When the unrelieved separation reaches a threshold a cavity forms
  (the "pop"), the suction is gone and the gas holds the joint wider until it has
  redissolved; until then the joint cannot cavitate again. The same law applies at
  every facet of every segment;
- **laxity** (a hypothesis the model illustrates): each cavitation and each stretch of a
  facet capsule past a tolerance adds mobility to that segment, recovering between
  sessions (:func:`run_schedule`); laxity is reported as each segment's rotation under
  a low moment, measured on the model.

Nothing acts on the target joint that does not act on every joint: what the thrust
pops, and where the twist goes, follows from the forces and the tissues.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..anatomy import SIDES, SpineModel
from ..errors import SpineInputError
from .dynamics import BodyState, Chain, Extra, compile_chain
from .inertia import body_inertia
from .joints import FacetFluid, StretchReflex, bubble_radius_mm
from .maneuver import KINDS, Maneuver, contact_point_mm
from .params import Mobility, mobility_factors, mobility_label, timedomain
from .posture import Posture, solve_posture
from .ribcage import part_motion, rib_load, rotation_log
from .segment import SegmentSet, compile_segments, cross, rodrigues, skew
from .state import SpineState
from .static import COMPONENTS, Load, cardan_deg, solve_load

__all__ = [
    "KINDS",
    "Event",
    "Maneuver",
    "Run",
    "Schedule",
    "bubble_radius_mm",
    "laxity_deg",
    "run_schedule",
    "simulate",
]

_AXES = np.array([[0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
"""Unit moment axes of flexion, lateral bending and axial rotation in a rest frame."""
_EYE3 = np.eye(3)
_TANGENT_EVERY = 3
"""Steps between new tangents of the tissues (and new LU factors), unless a facet contact
comes or goes: a linearly implicit step stays consistent with a tangent a step or two
old, and the wrench is new at every step."""
_RIB_EVERY = 20
"""Steps between updates of the rib cage's stiffness in the step (its wrench is exact at
every step; the stiffness changes only as the thorax turns)."""


@dataclass(frozen=True)
class Event:
    """Something that happened: a ``cavitation`` or a ``reflex``.

    Attributes
    ----------
    t_ms : float
        When (a reflex: its onset).
    type : {"cavitation", "reflex"}
    segment, side : str
        The joint and facet, or the muscle group's segment and side.
    session : int
    model : int or None
        The member of a cohort (None for a single model).
    duration_ms : float or None
        A reflex's length.
    group : str or None
        A reflex's muscle group.
    phase : str or None
        The manoeuvre's phase it happened in (``positioning``, ``preload``, ``thrust``...).
    """

    t_ms: float
    type: str
    segment: str | None = None
    side: str | None = None
    session: int = 0
    model: int | None = None
    duration_ms: float | None = None
    group: str | None = None
    phase: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (keys that do not apply are left out)."""
        d: dict[str, Any] = {"t_ms": round(self.t_ms, 3), "type": self.type}
        d.update(segment=self.segment, side=self.side, session=self.session, model=self.model)
        if self.duration_ms is not None:
            d["duration_ms"] = round(self.duration_ms, 3)
        if self.group is not None:
            d["group"] = self.group
        if self.phase is not None:
            d["phase"] = self.phase
        return d


@dataclass(frozen=True, eq=False)
class Run:
    """One simulated manoeuvre. Arrays run over time (T), segments (n), sides (2).

    Attributes
    ----------
    model : SpineModel
    maneuver : Maneuver
    session : int
    posture : Posture
        The posture the manoeuvre starts from (solved statically).
    mobility : (n,) float
        Mobility factor of each segment in this run (laxity included).
    t_ms : (T,) float
    poses : (T, m, 4, 4) float
        Every vertebra's pose (T1 ... S1), mm; None when not kept (a cohort).
    rotation3_deg : (T, n, 3) float
        Each segment's Cardan angles ``[flexion, lateral, axial]``, degrees.
    translation_mm : (T, n, 3) float
    gap_mm : (T, 2, n) float
        Facet gaps (left, right), mm, between the articular surfaces.
    facet_force_n : (T, 2, n) float
    capsule_mm : (T, 2, n) float
        Capsule stretch past its slack, mm.
    rest_gap_mm : (2, n) float
        Each facet's gap at rest.
    force_n : (T,) float
        The practitioner's contact force (thrust), N.
    drive_nm : (T,) float
        The trunk muscles' twisting moment (self-twist), N m.
    reflex : (T, 2, n) float
        Reflex activation of each muscle group (left, right of each segment), 0 to 1.
    events : tuple of Event
    cavitated : (2, n) bool
    cavitation_t_ms : (2, n) float
        When each facet cavitated (NaN: it did not).
    since_cavitation_min : (2, n) float or None
        Minutes since each facet last cavitated before this run (inf: never).
    """

    model: SpineModel
    maneuver: Maneuver
    session: int
    posture: Posture
    mobility: np.ndarray
    t_ms: np.ndarray
    poses: np.ndarray | None
    rotation3_deg: np.ndarray
    translation_mm: np.ndarray
    gap_mm: np.ndarray
    facet_force_n: np.ndarray
    capsule_mm: np.ndarray
    rest_gap_mm: np.ndarray
    force_n: np.ndarray
    drive_nm: np.ndarray
    reflex: np.ndarray
    events: tuple[Event, ...]
    cavitated: np.ndarray
    cavitation_t_ms: np.ndarray
    since_cavitation_min: np.ndarray | None = field(default=None, repr=False)
    parts_from: Callable[[np.ndarray], tuple[dict, dict]] | None = field(default=None, repr=False)

    @property
    def rotation_deg(self) -> np.ndarray:
        """Axial rotation of each segment over time (T, n), degrees."""
        return self.rotation3_deg[:, :, 2]

    @property
    def guarding(self) -> np.ndarray:
        """The strongest reflex activation of any muscle group over time (T,), 0 to 1."""
        return self.reflex.max(axis=(1, 2))

    @property
    def torque_nm(self) -> np.ndarray:
        """The self-twist's muscle moment (T,), N m (zero for a thrust)."""
        return self.drive_nm

    @property
    def peak_rotation_deg(self) -> np.ndarray:
        """Largest axial rotation magnitude of each segment (n,), degrees."""
        return np.abs(self.rotation_deg).max(axis=0)

    @property
    def peak_gap_mm(self) -> np.ndarray:
        """Largest gap of each facet (2, n), mm."""
        return self.gap_mm.max(axis=0)

    @property
    def peak_gapping_mm(self) -> np.ndarray:
        """Largest opening of each facet beyond its gap at rest (2, n), mm (0 if none)."""
        return np.maximum(self.gap_mm.max(axis=0) - self.rest_gap_mm, 0.0)

    @property
    def upside(self) -> str | None:
        """Side posture: the side facing up."""
        return self.posture.upside

    @property
    def thrust_start_ms(self) -> float | None:
        """When the thrust starts (None for a self-twist or without a thrust)."""
        mv = self.maneuver
        if not mv.is_thrust or not mv.thrust_n:
            return None
        return mv.phases_ms()["thrust"][0]

    @property
    def specificity(self) -> float | None:
        """Share of the cavitations that are at the target segment (None: no target or pop)."""
        mv = self.maneuver
        if not mv.is_thrust:
            return None
        pops = int(self.cavitated.sum())
        if pops == 0:
            return None
        i = self.model.segment_names.index(mv.target)
        return float(self.cavitated[:, i].sum()) / pops

    @property
    def target_gap_share(self) -> float | None:
        """Share of the peak gapping (beyond rest, every facet) at the target's facets."""
        mv = self.maneuver
        if not mv.is_thrust:
            return None
        g = self.peak_gapping_mm
        total = float(g.sum())
        i = self.model.segment_names.index(mv.target)
        return float(g[:, i].sum()) / total if total > 0 else 0.0

    def phase_at(self, t_ms: float) -> str:
        """Return the manoeuvre's phase at ``t_ms``."""
        phases = self.maneuver.phases_ms()
        for name, (a, b) in phases.items():
            if a <= t_ms <= b and b > a:
                return name
        return list(phases)[-1]

    def index(self, t_ms: float) -> int:
        """Return the step nearest to ``t_ms``."""
        return int(np.clip(np.searchsorted(self.t_ms, t_ms), 0, len(self.t_ms) - 1))

    def state_at(self, t_ms: float) -> SpineState:
        """Return the spine at time ``t_ms`` as a :class:`SpineState` (for drawing)."""
        if self.poses is None:
            raise SpineInputError("this run kept no poses (a cohort's member)")
        k = self.index(t_ms)
        poses = self.poses[k]
        rest = np.array([v.rest_pose for v in self.model.vertebrae])
        top = cardan_deg(rest[0, :3, :3].T @ poses[0, :3, :3])
        base = cardan_deg(rest[-1, :3, :3].T @ poses[-1, :3, :3])
        parts: Mapping = {}
        turns: Mapping = {}
        if self.parts_from is not None:
            parts, turns = self.parts_from(poses)
        arrays = {
            "rotation_deg": self.rotation3_deg[k, :, 2].copy(),
            "facet_gap_mm": self.gap_mm[k].copy(),
            "facet_force_n": self.facet_force_n[k].copy(),
            "capsule_stretch_mm": self.capsule_mm[k].copy(),
            "mobility": self.mobility.copy(),
            "poses": poses.copy(),
            "rotation3_deg": self.rotation3_deg[k].copy(),
            "translation_mm": self.translation_mm[k].copy(),
            "reaction_nm": np.array([0.0, 0.0, float(self.drive_nm[k])]),
            "top_rotation_deg": top - base,
        }
        for a in arrays.values():
            a.flags.writeable = False
        return SpineState(
            model=self.model,
            twist_deg=float(top[2] - base[2]),
            torque_nm=float(self.drive_nm[k]),
            part_poses=parts,
            part_rotation3_deg=turns,
            **arrays,
        )

    def bubbles_at(self, t_ms: float) -> list[tuple[str, str, float]]:
        """Return ``(segment, side, radius_mm)`` of the cavities present at ``t_ms``.

        Fresh ones from this run, and ones left from earlier pops, shrinking as the gas
        redissolves (:func:`bubble_radius_mm`).
        """
        names = self.model.segment_names
        minutes = np.full((2, len(names)), -1.0)
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
            for i, seg in enumerate(names)
            if radius[s, i] > 0
        ]

    def series(self) -> tuple[list[str], np.ndarray]:
        """Return the run as a table over time: column names and a (T, k) float array.

        Columns: ``t_ms``, ``force_n`` (the contact force), ``torque_nm`` (the
        self-twist's moment), ``guarding`` (0 to 1), then per segment top to bottom
        ``<segment>_flexion_deg``, ``<segment>_lateral_deg``, ``<segment>_rotation_deg``
        (axial), ``<segment>_gap_left_mm`` and ``<segment>_gap_right_mm``.
        """
        names = ["t_ms", "force_n", "torque_nm", "guarding"]
        cols = [self.t_ms, self.force_n, self.drive_nm, self.guarding]
        for i, seg in enumerate(self.model.segment_names):
            names += [f"{seg}_flexion_deg", f"{seg}_lateral_deg", f"{seg}_rotation_deg"]
            names += [f"{seg}_gap_{s}_mm" for s in SIDES]
            cols += [self.rotation3_deg[:, i, k] for k in range(3)]
            cols += [self.gap_mm[:, 0, i], self.gap_mm[:, 1, i]]
        return names, np.column_stack(cols)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON summary: events, per-segment peaks, the posture and specificity."""
        gapping = self.peak_gapping_mm
        peaks = np.abs(self.rotation3_deg).max(axis=0)
        segs = []
        for i, seg in enumerate(self.model.segment_names):
            segs.append(
                {
                    "name": seg,
                    "mobility": mobility_label(float(self.mobility[i])),
                    "peak_rotation_deg": {
                        c: round(float(peaks[i, k]), 4) for k, c in enumerate(COMPONENTS)
                    },
                    "peak_gapping_mm": {
                        s: round(float(gapping[k, i]), 4) for k, s in enumerate(SIDES)
                    },
                    "cavitated": [s for k, s in enumerate(SIDES) if self.cavitated[k, i]],
                }
            )
        mv = self.maneuver
        out: dict[str, Any] = {
            "maneuver": mv.kind,
            "position": mv.position,
            "events": [e.to_dict() for e in self.events],
            "segments": segs,
        }
        if mv.is_thrust:
            out["target"] = mv.target
            out["contact"] = {
                "process": mv.contact,
                "level": mv.contact_level,
                "side": mv.contact_side,
                "direction": list(mv.direction),
            }
            out["peak_force_n"] = round(float(self.force_n.max()), 3)
            spec = self.specificity
            out["specificity"] = None if spec is None else round(spec, 4)
            out["target_gap_share"] = round(float(self.target_gap_share), 4)
        if mv.position == "side_posture":
            out["upside"] = self.upside
            out["posture"] = {
                "moment_nm": {
                    c: round(float(v), 3)
                    for c, v in zip(COMPONENTS, self.posture.moment_nm, strict=True)
                },
                "locked": list(self.posture.locked),
            }
        return out


# --------------------------------------------------------------------------- set-up


@dataclass(frozen=True, eq=False)
class _Muscles:
    """Lumped deep back muscle groups, one per segment and side (u, k units)."""

    segment: np.ndarray  # (u,) segment index
    side: np.ndarray  # (u,) 0 left, 1 right
    upper: np.ndarray  # (u, 3) insertion on the upper vertebra, its local frame
    lower: np.ndarray  # (u, 3) on the lower vertebra
    rest_mm: np.ndarray  # (u,)
    upper_map: np.ndarray  # (B, u) 1 where a group's upper insertion is on the body
    lower_map: np.ndarray  # (B, u)


def _muscles(model: SpineModel, rest: np.ndarray) -> _Muscles:
    seg, side, up, lo = [], [], [], []
    for i, j in enumerate(model.joints):
        upper, lower = model.vertebra(j.upper), model.vertebra(j.lower)
        base = upper.landmarks.get("spinous_base")
        for s, name in enumerate(SIDES):
            tip = lower.landmarks.get(f"transverse_tip_{name}")
            if base is None or tip is None:
                continue
            seg.append(i)
            side.append(s)
            up.append(np.asarray(base, float))
            lo.append(np.asarray(tip, float))
    seg_a = np.array(seg, int)
    up_a = np.array(up).reshape(-1, 3)
    lo_a = np.array(lo).reshape(-1, 3)
    pu = np.einsum("uij,uj->ui", rest[seg_a, :3, :3], up_a) + rest[seg_a, :3, 3]
    pl = np.einsum("uij,uj->ui", rest[seg_a + 1, :3, :3], lo_a) + rest[seg_a + 1, :3, 3]
    b = len(model.vertebrae)
    upper_map = np.zeros((b, len(seg_a)))
    upper_map[seg_a, np.arange(len(seg_a))] = 1.0
    lower_map = np.zeros((b, len(seg_a)))
    lower_map[seg_a + 1, np.arange(len(seg_a))] = 1.0
    return _Muscles(
        seg_a,
        np.array(side, int),
        up_a,
        lo_a,
        np.linalg.norm(pu - pl, axis=1),
        upper_map,
        lower_map,
    )


def _contact_point(model: SpineModel, mv: Maneuver) -> np.ndarray:
    """Return the contact's point on its vertebra (local frame, mm), or refuse in one line."""
    point = contact_point_mm(model, mv)
    if point is None:
        side = "" if mv.contact == "spinous" else f", {mv.contact_side}"
        raise SpineInputError(
            f"[maneuver] contact = {mv.contact!r}: the bones mark no {mv.contact} process "
            f"on {mv.contact_level}{side}"
        )
    return point


def _moment_global(model: SpineModel, moment_nm: np.ndarray) -> np.ndarray:
    """Return the static solve's moment on T1 (``[flexion, lateral, axial]``, N m), global N mm."""
    return model.vertebrae[0].rest_pose[:3, :3] @ _AXES.T @ (np.asarray(moment_nm) * 1e3)


def _axial_gradient(rest_rot: np.ndarray, rot: np.ndarray) -> tuple[float, np.ndarray]:
    """Return a body's axial Cardan angle on its rest (rad) and its gradient (3,), global.

    The gradient is the angle's change per small turn of the body (rotation vector,
    global, applied on the left).
    """
    rel = rest_rot.T @ rot
    ang = cardan_deg(rel)
    a, b = -math.radians(float(ang[0])), math.radians(float(ang[1]))
    ca, sa, cb = math.cos(a), math.sin(a), math.cos(b)
    row = np.array([-sa / cb, ca / cb, 0.0])
    return math.radians(float(ang[2])), rest_rot @ row


# ------------------------------------------------------------------------- the run


def simulate(
    model: SpineModel,
    maneuver: Maneuver,
    mobility: Mobility | None = None,
    *,
    laxity: np.ndarray | None = None,
    since_cavitation_min: np.ndarray | None = None,
    session: int = 0,
    dt_ms: float = 1.0,
    constants: Mapping[str, float] | None = None,
    inputs: Mapping[str, float] | None = None,
    keep_poses: bool = True,
    member: int | None = None,
) -> Run:
    """Simulate one manoeuvre at ``dt_ms`` steps.

    Parameters
    ----------
    model : SpineModel
        The whole column (T1 ... S1).
    maneuver : Maneuver
    mobility : mapping, optional
        ``{segment: state}`` as for :func:`spine3d.solve`.
    laxity : (n,) float, optional
        Mobility added by earlier sessions (each factor is multiplied by 1 + laxity).
    since_cavitation_min : (2, n) float, optional
        Minutes since each facet last cavitated (inf: never); a joint whose gas has not
        redissolved does not cavitate, and its gas holds it wider.
    session : int, default: 0
        Session number recorded in the events.
    dt_ms : float, default: 1.0
        Step, ms (at most 1).
    constants : mapping, optional
        Segment constants instead of the calibrated ones (a cohort's member).
    inputs : mapping, optional
        Time-domain inputs instead of ``data/timedomain.csv``'s (a cohort's member).
    keep_poses : bool, default: True
        Keep every vertebra's pose over time (for drawing).
    member : int, optional
        Index of a cohort's member, recorded in the events.

    Returns
    -------
    Run
    """
    if not 0.05 <= dt_ms <= 1.0:
        raise SpineInputError(f"dt_ms = {dt_ms!r}: expected 0.05 to 1 ms")
    if model.level_names[0] != "T1" or model.level_names[-1] != "S1":
        raise SpineInputError(
            f"the time-domain model needs the bones T1 to S1; these hold "
            f"{model.level_names[0]} to {model.level_names[-1]} (spine3d.solve runs them)"
        )
    p = {**timedomain(), **(inputs or {})}
    n = len(model.joints)
    names = model.segment_names
    base = np.asarray(mobility_factors(mobility, names))
    lax = np.zeros(n) if laxity is None else np.asarray(laxity, dtype=float)
    factors = tuple(float(x) for x in base * (1.0 + lax))
    posture = solve_posture(model, maneuver, dict(zip(names, factors, strict=True)), constants)
    seg = compile_segments(model, factors, constants)
    chain = compile_chain(
        model, seg, body_inertia(model, None, p["body_mass_kg"]), p["tissue_damping_s"]
    )
    h = dt_ms * 1e-3
    t = maneuver.times_ms(dt_ms)
    n_t, b = len(t), chain.n_bodies
    loads = _Loads(model, maneuver, posture, chain, p, t)
    muscles = _muscles(model, chain.rest)
    u = len(muscles.segment)
    fluid = FacetFluid.fresh((2, n), since_cavitation_min, p)
    reflex = StretchReflex.fresh(u, dt_ms, p)
    rest_gap = seg.details(np.zeros((n, 6)))["gap_mm"]
    area = np.array([[f.area_mm2 for f in j.facets] for j in model.joints]).T  # (2, n)
    normals = seg.facet_normal.swapaxes(0, 1)  # (2, n, 3), lower disc frames
    centres = np.array([[f.centre_mm for f in j.facets] for j in model.joints]).swapaxes(0, 1)
    spacer = fluid.spacer_mm(0.0)
    seg_now = _with_spacer(seg, spacer)
    # Records.
    rec_poses = None
    if keep_poses:
        rec_poses = np.zeros((n_t, b, 4, 4))
        rec_poses[:, :, 3, 3] = 1.0
    rels = np.zeros((n_t, n, 3, 3))
    trans = np.zeros((n_t, n, 3))
    gap = np.zeros((n_t, 2, n))
    ff = np.zeros((n_t, 2, n))
    cap = np.zeros((n_t, 2, n))
    act = np.zeros((n_t, 2, n))
    drive = np.zeros(n_t)
    events: list[Event] = []

    def reflex_event(i: int, start: float, end: float) -> Event:
        return Event(
            start,
            "reflex",
            names[int(muscles.segment[i])],
            SIDES[int(muscles.side[i])],
            session,
            member,
            duration_ms=end - start,
            group="multifidus",
            phase=_phase(maneuver, start),
        )

    s = chain.at_rest()
    forces = None
    rib_k = None
    touching_prev = None
    changed_contact = False
    lu: dict = {}
    length_prev = muscles.rest_mm.copy()
    for k in range(n_t):
        tk = float(t[k])
        wrench, stiff, damp = loads.at(k, s)
        drive[k] = loads.drive_nm
        # The reflex of every muscle group, and its pull between the insertions.
        pu = (s.rot[muscles.segment] @ muscles.upper[..., None])[..., 0]
        pu += s.pos_mm[muscles.segment]
        pl = (s.rot[muscles.segment + 1] @ muscles.lower[..., None])[..., 0]
        pl += s.pos_mm[muscles.segment + 1]
        line = pl - pu
        length = np.sqrt(np.einsum("ui,ui->u", line, line))
        rate = (length - length_prev) / muscles.rest_mm / h if k else np.zeros(u)
        length_prev = length
        for i, start, end in reflex.step(length / muscles.rest_mm - 1.0, rate, k, tk, dt_ms):
            events.append(reflex_event(i, start, end))
        pull = (p["reflex_force_n"] * reflex.activation / np.maximum(length, 1e-9))[:, None]
        pull = pull * line
        on_upper = np.concatenate([cross(pu - s.pos_mm[muscles.segment], pull), pull], 1)
        on_lower = np.concatenate([cross(pl - s.pos_mm[muscles.segment + 1], pull), pull], 1)
        wrench += muscles.upper_map @ on_upper - muscles.lower_map @ on_lower
        act[k, muscles.side, muscles.segment] = reflex.activation
        # The tissues (a tangent a step old serves unless a contact came or went), and
        # the fluid of every facet joint.
        fresh = forces is None or k % _TANGENT_EVERY == 0 or changed_contact
        forces = chain.evaluate(s, seg_now, None if fresh else forces)
        det = forces.details()
        touching = det["force_n"] > 0
        changed_contact = touching_prev is not None and not np.array_equal(touching, touching_prev)
        touching_prev = touching
        g_now = det["gap_mm"] + spacer
        sep = np.maximum(g_now - rest_gap, 0.0)
        popping = fluid.step(sep, tk, dt_ms)
        for side_i, seg_i in zip(*np.nonzero(popping), strict=True):
            events.append(
                Event(
                    tk,
                    "cavitation",
                    names[seg_i],
                    SIDES[side_i],
                    session,
                    member,
                    phase=_phase(maneuver, tk),
                )
            )
        suction = fluid.suction_n(sep, area)
        if suction.any():
            _apply_facet_forces(wrench, forces, s.pos_mm, centres, normals, suction)
        rels[k] = forces.rel
        trans[k] = forces.q[:, 3:]
        gap[k] = g_now
        ff[k] = det["force_n"]
        cap[k] = det["capsule_mm"]
        if rec_poses is not None:
            rec_poses[k, :, :3, :3] = s.rot
            rec_poses[k, :, :3, 3] = s.pos_mm
        if k + 1 == n_t:
            break
        if rib_k is None or k % _RIB_EVERY == 0:
            rib_k = chain.rib_stiffness(s)
        s = chain.step(
            s,
            h,
            Extra(wrench, stiff, damp),
            fixed=loads.fixed,
            seg=seg_now,
            forces=forces,
            rib_k=rib_k,
            lu=lu,
            reuse=not fresh,
        )
        if not (np.isfinite(s.rot).all() and np.isfinite(s.pos_mm).all()):
            raise SpineInputError(
                f"the manoeuvre could not be followed at t = {t[k + 1]:g} ms: "
                "the load is beyond what this spine can take"
            )
        if popping.any() or fluid.growing(tk):
            spacer = fluid.spacer_mm(tk)
            seg_now = _with_spacer(seg, spacer)
    for i, start, end in reflex.under_way(float(t[-1])):
        events.append(reflex_event(i, start, end))
    events.sort(key=lambda e: (e.t_ms, e.type, e.segment or "", e.side or ""))
    return Run(
        model=model,
        maneuver=maneuver,
        session=session,
        posture=posture,
        mobility=np.asarray(factors),
        t_ms=t,
        poses=rec_poses,
        rotation3_deg=cardan_deg(rels),
        translation_mm=trans,
        gap_mm=gap,
        facet_force_n=ff,
        capsule_mm=cap,
        rest_gap_mm=rest_gap,
        force_n=loads.force,
        drive_nm=drive,
        reflex=act,
        events=tuple(events),
        cavitated=np.isfinite(fluid.cavity_t_ms),
        cavitation_t_ms=fluid.cavity_t_ms.copy(),
        since_cavitation_min=None
        if since_cavitation_min is None
        else np.asarray(since_cavitation_min, float).copy(),
        parts_from=None if chain.ribs is None else _parts_function(chain),
    )


class _Loads:
    """What acts on the bodies from outside the spine at each step.

    The holds (the practitioner's hand on T1, the table and thigh on the pelvis, each a
    spring and damper about the pose the posture puts it in as the patient is brought
    into it, carrying the posture's moment), the thrust (a force along a fixed
    direction at a point on the contact vertebra) and the self-twist's muscles (a
    moment turning T1 about its axial Cardan angle on the pelvis, which the legs hold
    still).
    """

    def __init__(self, model, mv: Maneuver, posture: Posture, chain: Chain, p, t) -> None:
        self.mv, self.p, self.chain = mv, p, chain
        b = chain.n_bodies
        self.b = b
        self.rest = chain.rest
        self.goal = posture.state.poses
        self.force = mv.force_n(t)
        self.into = mv.positioning(t)
        self.twist = mv.twist(t)
        self.standing = mv.position == "standing"
        self.fixed = (b - 1,) if self.standing else ()
        moment = _moment_global(model, posture.moment_nm)
        self.held = np.array([], dtype=int)
        if not self.standing:
            # The held bodies (T1, S1), their stiffness and damping, the moment each
            # carries in the posture, and the poses they are brought to at each step.
            self.held = np.array([0, b - 1])
            self.k_rot = np.array([p["hand_rotation_nm_per_rad"], p["table_rotation_nm_per_rad"]])
            self.k_rot = self.k_rot * 1e3
            self.k_lin = np.array([p["hand_translation_n_per_mm"], p["table_translation_n_per_mm"]])
            self.moment = np.array([moment, -moment])
            a, g = self.rest[self.held], self.goal[self.held]
            turn = rotation_log(g[:, :3, :3] @ np.swapaxes(a[:, :3, :3], 1, 2))  # (2, 3)
            into = self.into[:, None, None]
            self.goal_rot = rodrigues(into * turn[None]) @ a[None, :, :3, :3]  # (T, 2, 3, 3)
            self.goal_pos = a[None, :, :3, 3] + into * (g[None, :, :3, 3] - a[None, :, :3, 3])
            self.hold_stiff = np.zeros((2, 6, 6))
            self.hold_stiff[:, :3, :3] = -self.k_rot[:, None, None] * _EYE3
            self.hold_stiff[:, 3:, 3:] = -self.k_lin[:, None, None] * _EYE3
            self.hold_damp = self.hold_stiff * p["hold_damping_s"]
        if mv.is_thrust:
            self.ci = model.level_names.index(mv.contact_level)
            self.c_local = _contact_point(model, mv)
            self.direction = self.goal[self.ci, :3, :3] @ np.asarray(mv.direction)
        self.drive_nm = 0.0

    def at(self, k: int, s: BodyState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the wrench (B, 6) at step ``k`` and its stiffness and damping (B, 6, 6)."""
        p, b = self.p, self.b
        wrench = np.zeros((b, 6))
        stiff = np.zeros((b, 6, 6))
        damp = np.zeros((b, 6, 6))
        if self.held.size:
            hb = self.held
            # The turn from the goal: sin(angle) about its axis (the antisymmetric part of
            # the relative rotation), the gradient of the hold's 1 - cos(angle) potential.
            rel = (s.rot[hb] @ np.swapaxes(self.goal_rot[k], 1, 2)).reshape(-1, 9)
            err = 0.5 * (rel[:, [7, 2, 3]] - rel[:, [5, 6, 1]])
            c = p["hold_damping_s"]
            wrench[hb, :3] = float(self.into[k]) * self.moment - self.k_rot[:, None] * (
                err + c * s.omega[hb]
            )
            wrench[hb, 3:] = -self.k_lin[:, None] * (
                s.pos_mm[hb] - self.goal_pos[k] + c * s.vel_mm_s[hb]
            )
            stiff[hb] = self.hold_stiff
            damp[hb] = self.hold_damp
        if self.mv.is_thrust and self.force[k]:
            ci = self.ci
            r = s.rot[ci] @ self.c_local
            f = self.force[k] * self.direction
            wrench[ci, :3] += cross(r, f)
            wrench[ci, 3:] += f
            stiff[ci, :3, :3] += skew(f) @ skew(r)
        self.drive_nm = 0.0
        if self.standing:
            theta, g = _axial_gradient(self.rest[0, :3, :3], s.rot[0])
            if self.mv.twist_deg is not None:
                k_v = p["twist_gain_nm_per_deg"] * 1e3 * 180.0 / math.pi
                c_v = p["twist_damping_nm_s_per_deg"] * 1e3 * 180.0 / math.pi
                rate = float(g @ s.omega[0])
                tau = k_v * (math.radians(float(self.twist[k])) - theta) - c_v * rate
                gg = np.outer(g, g)
                stiff[0, :3, :3] -= k_v * gg
                damp[0, :3, :3] -= c_v * gg
            else:
                tau = float(self.twist[k]) * 1e3
            wrench[0, :3] += tau * g
            self.drive_nm = tau / 1e3
        return wrench, stiff, damp


def _phase(mv: Maneuver, t_ms: float) -> str:
    for name, (a, b) in mv.phases_ms().items():
        if a <= t_ms <= b and b > a:
            return name
    return list(mv.phases_ms())[-1]


def _with_spacer(seg: SegmentSet, spacer: np.ndarray) -> SegmentSet:
    """Return the tissues with each joint held ``spacer`` (2, n) mm wider by its gas."""
    if not spacer.any():
        return seg
    plane = seg.facet_plane + spacer.T[:, :, None] * seg.facet_normal
    return replace(seg, facet_plane=plane)


def _apply_facet_forces(wrench, forces, pos: np.ndarray, centres, normals, pull) -> None:
    """Add a pull ``pull`` (2, n) N drawing each upper facet toward the lower one."""
    rot_a, o_a = forces.rot_a, forces.o_a  # lower disc frames
    point = o_a[None] + (rot_a[None] @ centres[..., None])[..., 0]  # (2, n, 3)
    f = -pull[..., None] * (rot_a[None] @ normals[..., None])[..., 0]
    f_sum = f.sum(0)
    wrench[:-1, :3] += cross(point - pos[None, :-1], f).sum(0)
    wrench[:-1, 3:] += f_sum
    wrench[1:, :3] -= cross(point - pos[None, 1:], f).sum(0)
    wrench[1:, 3:] -= f_sum


def _parts_function(chain: Chain):
    def parts(poses: np.ndarray) -> tuple[dict, dict]:
        load = rib_load(chain.ribs, poses, chain.rest_all)
        names, placed, turns = part_motion(chain.ribs, load, poses, chain.rest_all)
        angles = cardan_deg(turns)
        return dict(zip(names, placed, strict=True)), dict(zip(names, angles, strict=True))

    return parts


# ----------------------------------------------------------------- laxity, sessions


def laxity_deg(model: SpineModel, mobility: Mobility | None = None) -> np.ndarray:
    """Each segment's axial rotation range under ``laxity_moment_nm`` each way (n,), degrees.

    Measured on the column (the moment passes every segment) with the static model: the
    low-load laxity that repeated stretching enlarges in the laxity hypothesis.
    """
    m = timedomain()["laxity_moment_nm"]
    out = []
    for sign in (1.0, -1.0):
        st = solve_load(model, Load({}, {"axial": sign * m}), mobility, warm=False)
        out.append(st.rotation3_deg[:, 2])
    return np.abs(out[0] - out[1])


@dataclass(frozen=True, eq=False)
class Schedule:
    """Repeated sessions of one manoeuvre.

    Attributes
    ----------
    day : (S,) float
        Day of each session.
    laxity_deg : (S, n) float
        Each segment's low-load rotation range (:func:`laxity_deg`) at each session.
    cavitations : (S, n) int
        Facets cavitated per segment in each session.
    events : tuple of Event
    first, last : Run
    """

    day: np.ndarray
    laxity_deg: np.ndarray
    cavitations: np.ndarray
    events: tuple[Event, ...]
    first: Run
    last: Run

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON summary: per session and segment, laxity and cavitations."""
        names = self.first.model.segment_names
        return {
            "sessions": len(self.day),
            "day": [round(float(d), 4) for d in self.day],
            "laxity_deg": {
                seg: [round(float(x), 4) for x in self.laxity_deg[:, i]]
                for i, seg in enumerate(names)
            },
            "cavitations": {seg: int(self.cavitations[:, i].sum()) for i, seg in enumerate(names)},
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

    After each session a segment gains laxity (the hypothesis) for each of its
    cavitations and for each mm its capsules were stretched past their slack and a
    tolerance; laxity recovers exponentially between sessions, and the gas of each
    cavity redissolves. ``progress`` is called with (sessions done, sessions in all).
    """
    if not (isinstance(sessions, int) and 1 <= sessions <= 2000):
        raise SpineInputError(f"[schedule] sessions = {sessions!r}: expected 1 to 2000")
    if not 1 <= interval_min <= 60 * 24 * 60:
        raise SpineInputError(f"[schedule] interval_min = {interval_min!r}: expected 1 to 86400")
    p = timedomain()
    n = len(model.joints)
    base = np.asarray(mobility_factors(mobility, model.segment_names))
    laxity = np.zeros(n)
    since = np.full((2, n), np.inf)
    day, lax, cavs, events = [], [], [], []
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
            keep_poses=k in (0, sessions - 1),
        )
        first = first or run
        last = run
        day.append(k * interval_min / (24 * 60))
        lax.append(
            laxity_deg(model, dict(zip(model.segment_names, base * (1 + laxity), strict=True)))
        )
        cavs.append(run.cavitated.sum(axis=0))
        events.extend(run.events)
        stretch = np.maximum(run.capsule_mm.max(axis=0) - p["stretch_tolerance_mm"], 0.0).sum(0)
        laxity = laxity + p["laxity_per_cavitation"] * run.cavitated.sum(axis=0)
        laxity = laxity + p["laxity_per_mm_stretch"] * stretch
        laxity = laxity * decay
        since = np.where(run.cavitated, 0.0, since) + interval_min
        if progress is not None:
            progress(k + 1, sessions)
    return Schedule(
        day=np.array(day),
        laxity_deg=np.array(lax),
        cavitations=np.array(cavs),
        events=tuple(events),
        first=first,
        last=last,
    )
