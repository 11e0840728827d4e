"""Series solve of a global twist: one torque through every segment, rotations summed.

Every segment law is odd and strictly increasing, so each segment's rotation is a
monotone function of the common torque, and so is their sum. A solve:

1. tabulates, once per model and mobility, every segment's exact rotation at a grid of
   torques up to the failure torque (bracketed Newton with bisection fallback);
2. brackets the answer between two rows of that table (exact bounds, by monotonicity);
3. polishes with Newton steps on the coupled system ``tau_i(theta_i) = tau``,
   ``sum(theta_i) = twist``, kept inside the bracket, falling back to bisection on the
   torque if a step leaves it.

The result satisfies ``sum(theta) == twist`` to round-off and each segment's torque to
:data:`TORQUE_TOL_NMM`.

:func:`solve` (and :func:`sweep`, :func:`reachable_twist_deg`) is the six-degree-of-freedom
static solve (:mod:`.static`) with loads in every plane; the ``_1dof`` functions and the
batch solves here are the one-degree-of-freedom series law that the time-domain model
still steps on.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..anatomy import SpineModel
from ..anatomy.frames import invert, translate
from ..errors import SpineInputError, UnreachableTwistError
from .law import SegmentLaw, compile_law
from .params import Mobility, mobility_factors, tissue
from .state import SpineState, Sweep
from .static import Load, reachable_twist_3d_deg, solve_load

__all__ = [
    "TORQUE_TOL_NMM",
    "make_state",
    "reachable_twist_1dof_deg",
    "reachable_twist_deg",
    "solve",
    "solve3d",
    "solve_1dof",
    "solve_batch",
    "solve_rows",
    "sweep",
    "sweep_1dof",
]

TORQUE_TOL_NMM = 1e-4
"""Largest mismatch between a segment's torque and the common torque, N mm (1e-7 N m).

A Newton step under 1e-10 rad ends the iteration: on a smooth stretch of the law the
residual after it is its square; across a kink of the law it is at most this."""

_TWIST_TOL_RAD = 1e-12
_STEP_TOL_RAD = 1e-10
_NEWTON_STEPS = 12
_GRID_POINTS = 401
_GRID_SPREAD = 5.0  # sinh spacing: finer near zero torque, where the laws bend most.
_TABLE_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass(frozen=True, eq=False)
class _Table:
    law: SegmentLaw
    tau: np.ndarray  # (M,) N mm
    theta: np.ndarray  # (M, n) rad
    total: np.ndarray  # (M,) rad


def _invert_segments(
    law: SegmentLaw,
    tau: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    extra_k: np.ndarray | None = None,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """Solve ``law(theta) = tau`` per segment inside ``[lo, hi]`` (bracketed Newton).

    The law is odd and convex for positive rotation (every term's slope only grows), so
    Newton started on the outer side of the root (``hi`` for positive torque, ``lo`` for
    negative) approaches it monotonically and never leaves the bracket.
    """
    lo, hi = lo.copy(), hi.copy()
    if start is None:
        theta = np.where(tau >= 0, hi, lo)
    else:
        theta = np.clip(start, lo, hi)
    for _ in range(200):
        f, df = law.evaluate(theta, extra_k)
        r = f - tau
        lo = np.where(r < 0, theta, lo)
        hi = np.where(r > 0, theta, hi)
        done = np.abs(r) <= 1e-9
        if np.all(done | (hi - lo <= 1e-15)):
            break
        step = theta - r / df
        # A step that lands on a bracket end is a converged one, not a bad one.
        bad = (step < lo) | (step > hi) | ~np.isfinite(step)
        theta = np.where(done, theta, np.where(bad, 0.5 * (lo + hi), step))
    return theta


def _table(model: SpineModel, factors: tuple[float, ...], cache: bool = True) -> _Table:
    per_model = _TABLE_CACHE.setdefault(model, {})
    if factors in per_model:
        return per_model[factors]
    law = compile_law(model, factors)
    tau_max = tissue()["failure_torque_nm"] * 1e3
    u = np.linspace(-1.0, 1.0, _GRID_POINTS)
    tau = tau_max * np.sinh(_GRID_SPREAD * u) / math.sinh(_GRID_SPREAD)
    tau[_GRID_POINTS // 2] = 0.0
    tau_b = np.broadcast_to(tau[:, None], (tau.shape[0], law.k_nmm.shape[0]))
    lo, hi = _bounds(law, tau_b, None)
    theta = _invert_segments(law, tau_b, lo, hi)
    table = _Table(law=law, tau=tau, theta=theta, total=theta.sum(axis=1))
    if cache:
        per_model[factors] = table
    return table


def _solve_twist(t: _Table, twist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (theta (N, n), tau (N,)) for total twists (N,) rad inside the table."""
    k = np.minimum(np.maximum(np.searchsorted(t.total, twist) - 1, 0), len(t.tau) - 2)
    lo_th, hi_th = t.theta[k], t.theta[k + 1]
    lo_tau, hi_tau = t.tau[k], t.tau[k + 1]
    span = t.total[k + 1] - t.total[k]
    w = np.minimum(np.maximum((twist - t.total[k]) / np.where(span > 0, span, 1.0), 0.0), 1.0)
    theta = lo_th + w[:, None] * (hi_th - lo_th)
    tau = lo_tau + w * (hi_tau - lo_tau)
    done = np.zeros(twist.shape, dtype=bool)
    for _ in range(_NEWTON_STEPS):
        f, df = t.law.evaluate(theta)
        inv = 1.0 / df
        resid = f - tau[:, None]
        total = theta.sum(1)
        done = (np.abs(resid).max(1) <= TORQUE_TOL_NMM) & (np.abs(total - twist) <= _TWIST_TOL_RAD)
        if done.all():
            break
        dtau = (twist - total + (resid * inv).sum(1)) / inv.sum(1)
        step = (tau[:, None] + dtau[:, None] - f) * inv
        # A step across a kink of the law may leave the exact bracket: keep it inside.
        theta = np.minimum(np.maximum(theta + step, lo_th), hi_th)
        tau = np.minimum(np.maximum(tau + dtau, lo_tau), hi_tau)
        # Quadratic convergence: after a step this small the residual is its square.
        if np.abs(step).max() < _STEP_TOL_RAD and np.abs(dtau).max() < TORQUE_TOL_NMM:
            done[:] = True
            break
    if not done.all():
        rows = ~done
        theta[rows], tau[rows] = _bisect_twist(
            t, twist[rows], lo_tau[rows], hi_tau[rows], lo_th[rows], hi_th[rows]
        )
    return theta, tau


def _bisect_twist(t, twist, lo_tau, hi_tau, lo_th, hi_th):
    """Fallback: bisection on the common torque with exact per-segment inverses."""
    lo_tau, hi_tau = lo_tau.copy(), hi_tau.copy()
    for _ in range(200):
        tau = 0.5 * (lo_tau + hi_tau)
        theta = _invert_segments(t.law, np.broadcast_to(tau[:, None], lo_th.shape), lo_th, hi_th)
        over = theta.sum(1) > twist
        hi_tau = np.where(over, tau, hi_tau)
        lo_tau = np.where(over, lo_tau, tau)
        if np.all(np.abs(theta.sum(1) - twist) <= _TWIST_TOL_RAD):
            break
    return theta, tau


def _solve_torque(t: _Table, tau: np.ndarray) -> np.ndarray:
    k = np.clip(np.searchsorted(t.tau, tau) - 1, 0, len(t.tau) - 2)
    return _invert_segments(
        t.law, np.broadcast_to(tau[:, None], t.theta[k].shape), t.theta[k], t.theta[k + 1]
    )


def _bounds(law: SegmentLaw, tau: np.ndarray, extra_k) -> tuple[np.ndarray, np.ndarray]:
    """Exact brackets of each segment's rotation under ``tau`` (T, 1 or n), from the disc alone.

    The disc gives ``|tau| >= k (|theta| - nz (1 - ratio))`` and facets and capsule only
    add resistance, so ``|theta| <= |tau| / k + nz (1 - ratio)``.
    """
    k = law.k_nmm + (0.0 if extra_k is None else extra_k)
    bound = np.abs(tau) / k + law.nz_rad * (1 - law.nz_ratio) + 1e-12
    return np.where(tau > 0, 0.0, -bound), np.where(tau < 0, 0.0, bound)


def solve_batch(
    law: SegmentLaw,
    *,
    twist_rad: np.ndarray | None = None,
    torque_nmm: np.ndarray | None = None,
    extra_k: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve many loads at once with an optional parallel stiffness per row.

    Used by the time-domain model, where guarding muscles change the law from one
    millisecond to the next. Safeguarded Newton on the common torque (twist control)
    around exact per-segment inversions; no table.

    Parameters
    ----------
    law : SegmentLaw
    twist_rad : (T,) float, optional
        Total twist per row, rad. Give this or ``torque_nmm``.
    torque_nmm : (T,) float, optional
        Torque per row, N mm.
    extra_k : (T, n) float, optional
        Parallel linear stiffness per row and segment, N mm / rad.

    Returns
    -------
    theta : (T, n) float
        Segment rotations, rad.
    tau : (T,) float
        Common torque, N mm.
    """
    n = law.k_nmm.shape[0]
    if torque_nmm is not None:
        tau = np.asarray(torque_nmm, dtype=float)
        tau_b = np.broadcast_to(tau[:, None], (tau.shape[0], n))
        lo, hi = _bounds(law, tau_b, extra_k)
        return _invert_segments(law, tau_b, lo, hi, extra_k), tau
    twist = np.asarray(twist_rad, dtype=float)
    sign = np.where(twist < 0, -1.0, 1.0)
    target = np.abs(twist)
    # Bracket the torque: 0 below; above, double until the rotations add up past the twist.
    k_series = 1.0 / np.sum(1.0 / (law.k_nmm * law.nz_ratio))
    tau_lo = np.zeros_like(target)
    tau_hi = np.maximum(k_series * target, 1.0)
    theta = None
    for _ in range(60):
        tb = np.broadcast_to(tau_hi[:, None], (target.shape[0], n))
        lo, hi = _bounds(law, tb, extra_k)
        theta = _invert_segments(law, tb, lo, hi, extra_k)
        short = theta.sum(1) < target
        if not short.any():
            break
        tau_lo = np.where(short, tau_hi, tau_lo)
        tau_hi = np.where(short, 2.0 * tau_hi, tau_hi)
    tau = 0.5 * (tau_lo + tau_hi)
    for _ in range(100):
        tb = np.broadcast_to(tau[:, None], theta.shape)
        lo, hi = _bounds(law, tb, extra_k)
        theta = _invert_segments(law, tb, lo, hi, extra_k, start=theta)
        total = theta.sum(1)
        resid = total - target
        if np.all(np.abs(resid) <= _TWIST_TOL_RAD):
            break
        tau_hi = np.where(resid > 0, tau, tau_hi)
        tau_lo = np.where(resid < 0, tau, tau_lo)
        _, df = law.evaluate(theta, extra_k)
        step = tau - resid / np.sum(1.0 / df, axis=1)
        bad = (step < tau_lo) | (step > tau_hi) | ~np.isfinite(step)
        done = np.abs(resid) <= _TWIST_TOL_RAD
        tau = np.where(done, tau, np.where(bad, 0.5 * (tau_lo + tau_hi), step))
    return sign[:, None] * theta, sign * tau


_KINEMATICS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _kinematics(model: SpineModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per joint, (n, 4, 4) transforms before and after the axial rotation; the sacrum pose."""
    if model not in _KINEMATICS:
        pre, post = [], []
        for j in model.joints:
            a = j.axis_point_mm
            pre.append(j.disc_frame_in_lower @ translate(*a))
            post.append(translate(*(-a)) @ invert(j.disc_frame_in_upper))
        _KINEMATICS[model] = (
            np.array(pre),
            np.array(post),
            np.array(model.vertebrae[-1].rest_pose),
        )
    return _KINEMATICS[model]


def make_state(
    model: SpineModel, law: SegmentLaw, theta_rad: np.ndarray, torque_nmm: float
) -> SpineState:
    """Build a frozen :class:`SpineState` from segment rotations (n,) rad and the torque."""
    d = law.details(theta_rad)
    pre, post, base = _kinematics(model)
    arrays = {
        "rotation_deg": np.degrees(theta_rad),
        "facet_gap_mm": d["gap_mm"],
        "facet_force_n": d["force_n"],
        "capsule_stretch_mm": d["capsule_mm"],
        "mobility": law.factor,
        "poses": _pose_stack(pre, post, base, theta_rad),
    }
    for a in arrays.values():
        a.flags.writeable = False
    return SpineState(
        model=model,
        twist_deg=math.degrees(theta_rad.sum()),
        torque_nm=float(torque_nmm) / 1e3,
        levels=f"{model.level_names[0]}-{model.level_names[-1]}",
        **arrays,
    )


def solve_rows(
    model: SpineModel,
    factors: tuple[float, ...],
    *,
    twist_rad: np.ndarray | None = None,
    torque_nmm: np.ndarray | None = None,
    extra_k: np.ndarray | None = None,
    cache: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve many loads fast: exactly through the table, then polish rows with ``extra_k``.

    Rows with a parallel stiffness start from their unguarded solution and take joint
    Newton steps; any row that does not converge is solved by :func:`solve_batch`.

    Returns
    -------
    theta : (T, n) float, rad
    tau : (T,) float, N mm

    Raises
    ------
    UnreachableTwistError
        If a load is beyond the failure torque.
    """
    t = _table(model, factors, cache)
    if twist_rad is not None:
        twist = np.asarray(twist_rad, dtype=float)
        if twist.min() < t.total[0] or twist.max() > t.total[-1]:
            raise _unreachable(t, f"twist_deg = {math.degrees(np.abs(twist).max()):g}")
        theta, tau = _solve_twist(t, twist)
    else:
        tau = np.asarray(torque_nmm, dtype=float)
        if tau.min() < t.tau[0] or tau.max() > t.tau[-1]:
            raise _unreachable(t, f"torque_nm = {np.abs(tau).max() / 1e3:g}")
        theta = _solve_torque(t, tau)
    if extra_k is None:
        return theta, tau
    rows = np.flatnonzero(np.any(extra_k > 0, axis=1))
    if rows.size == 0:
        return theta, tau
    law, ek = t.law, extra_k[rows]
    th, ta = theta[rows].copy(), tau[rows].copy()
    if twist_rad is None:
        tb = np.broadcast_to(ta[:, None], th.shape)
        lo, hi = _bounds(law, tb, ek)
        theta[rows] = _invert_segments(law, tb, lo, hi, ek, start=th)
        return theta, tau
    tw = twist[rows]
    done = np.zeros(rows.size, dtype=bool)
    for _ in range(40):
        f, df = law.evaluate(th, ek)
        inv = 1.0 / df
        resid = f - ta[:, None]
        done = (np.abs(resid).max(1) <= TORQUE_TOL_NMM) & (np.abs(th.sum(1) - tw) <= _TWIST_TOL_RAD)
        if done.all():
            break
        dtau = (tw - th.sum(1) + (resid * inv).sum(1)) / inv.sum(1)
        th = th + (ta[:, None] + dtau[:, None] - f) * inv
        ta = ta + dtau
    bad = ~done | ~np.all(np.isfinite(th), axis=1)
    if bad.any():
        th[bad], ta[bad] = solve_batch(law, twist_rad=tw[bad], extra_k=ek[bad])
    theta[rows], tau[rows] = th, ta
    return theta, tau


def _pose_stack(pre, post, base_pose, theta: np.ndarray) -> np.ndarray:
    """Local-to-global transforms (..., n + 1, 4, 4) of every vertebra for rotations (..., n)."""
    n = theta.shape[-1]
    c, s = np.cos(theta), np.sin(theta)
    rot = np.zeros((*theta.shape, 4, 4))
    rot[..., 0, 0], rot[..., 0, 2], rot[..., 2, 0], rot[..., 2, 2] = c, s, -s, c
    rot[..., 1, 1] = rot[..., 3, 3] = 1.0
    local = pre @ rot @ post
    poses = np.empty((*theta.shape[:-1], n + 1, 4, 4))
    poses[..., n, :, :] = base_pose
    for i in range(n - 1, -1, -1):
        poses[..., i, :, :] = poses[..., i + 1, :, :] @ local[..., i, :, :]
    return poses


def _check_load(twist_deg, torque_nm) -> None:
    if (twist_deg is None) == (torque_nm is None):
        raise SpineInputError("give exactly one of twist_deg or torque_nm")
    name, value = ("twist_deg", twist_deg) if twist_deg is not None else ("torque_nm", torque_nm)
    if type(value) in (float, int) and math.isfinite(value):
        return
    try:
        ok = math.isfinite(float(np.max(np.abs(np.asarray(value, dtype=float)))))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise SpineInputError(f"{name} = {value!r}: expected a finite number")


def reachable_twist_1dof_deg(model: SpineModel, mobility: Mobility | None = None) -> float:
    """Return the largest twist reachable under the 1-DOF law before a segment fails, deg."""
    t = _table(model, mobility_factors(mobility, model.segment_names))
    return math.degrees(min(t.total[-1], -t.total[0]))


def _unreachable(t: _Table, what: str) -> UnreachableTwistError:
    max_twist = math.degrees(min(t.total[-1], -t.total[0]))
    max_torque = t.tau[-1] / 1e3
    return UnreachableTwistError(
        f"{what} is beyond what this spine can reach: at most ±{max_twist:.1f} deg of twist "
        f"(±{max_torque:g} N m, the failure torque of a segment) with this mobility",
        max_twist,
        max_torque,
    )


def solve_1dof(
    model: SpineModel,
    twist_deg: float | None = None,
    *,
    torque_nm: float | None = None,
    mobility: Mobility | None = None,
) -> SpineState:
    """Solve the spine under a global axial twist with the 1-DOF series law.

    Parameters
    ----------
    model : SpineModel
    twist_deg : float, optional
        Rotation of T1 relative to the sacrum, degrees (positive: upper body turns left).
    torque_nm : float, optional
        Axial torque through the column, N m. Give exactly one of the two.
    mobility : mapping, optional
        ``{segment: "restricted" | "normal" | "hypermobile" | factor}``; others normal.

    Returns
    -------
    SpineState

    Raises
    ------
    SpineInputError
        On a bad argument; :class:`~spine3d.errors.UnreachableTwistError` (a subclass)
        when the load is beyond the failure torque, with the reachable maximum.
    """
    _check_load(twist_deg, torque_nm)
    t = _table(model, mobility_factors(mobility, model.segment_names))
    if twist_deg is not None:
        twist = math.radians(float(twist_deg))
        if not t.total[0] <= twist <= t.total[-1]:
            raise _unreachable(t, f"twist_deg = {twist_deg:g}")
        theta, tau = _solve_twist(t, np.array([twist]))
        theta, tau = theta[0], float(tau[0])
    else:
        tau = float(torque_nm) * 1e3
        if not t.tau[0] <= tau <= t.tau[-1]:
            raise _unreachable(t, f"torque_nm = {torque_nm:g}")
        theta = _solve_torque(t, np.array([tau]))[0]
    return make_state(model, t.law, theta, tau)


def sweep_1dof(
    model: SpineModel,
    twist_deg: np.ndarray,
    *,
    mobility: Mobility | None = None,
) -> Sweep:
    """Solve many twists at once with the 1-DOF series law (vectorised).

    Parameters
    ----------
    twist_deg : (N,) float
        Twists of T1 relative to the sacrum, degrees.

    Returns
    -------
    Sweep
        Segment rotations (N, n) in degrees, the torque (N,) in N m, facet gaps and the
        pose of every vertebra, each row equal to :func:`solve_1dof` of that twist.
    """
    _check_load(twist_deg, None)
    t = _table(model, mobility_factors(mobility, model.segment_names))
    twist = np.radians(np.atleast_1d(np.asarray(twist_deg, dtype=float)))
    if twist.min() < t.total[0] or twist.max() > t.total[-1]:
        worst = float(np.degrees(twist[np.argmax(np.abs(twist))]))
        raise _unreachable(t, f"twist_deg = {worst:g}")
    theta, tau = _solve_twist(t, twist)
    return _frozen_sweep(
        twist_deg=np.degrees(twist),
        torque_nm=tau / 1e3,
        rotation_deg=np.degrees(theta),
        facet_gap_mm=np.moveaxis(t.law.details(theta)["gap_mm"], 0, 1),
        poses=_pose_stack(*_kinematics(model), theta),
    )


def _frozen_sweep(**arrays: np.ndarray) -> Sweep:
    """Return a :class:`Sweep` of read-only arrays."""
    for a in arrays.values():
        a.flags.writeable = False
    return Sweep(**arrays)


def solve(
    model: SpineModel,
    twist_deg: float | None = None,
    *,
    torque_nm: float | None = None,
    flexion_deg: float | None = None,
    lateral_deg: float | None = None,
    moment_nm: Mapping[str, float] | None = None,
    follower_n: float = 0.0,
    levels: str | None = None,
    mobility: Mobility | None = None,
) -> SpineState:
    """Solve the spine, six degrees of freedom per segment, under a static load in 3D.

    The three-dimensional model (:mod:`spine3d.mechanics.static`). :func:`solve_1dof` is
    the one-degree-of-freedom series law the time-domain model still steps on.

    Angles control the top vertebra about their axes (its other degrees of freedom
    free); moments load it; any combination on different axes. See
    :mod:`spine3d.mechanics.static` for frames and signs.

    Parameters
    ----------
    model : SpineModel
    twist_deg, flexion_deg, lateral_deg : float, optional
        Cardan angles of the top vertebra relative to its rest pose, degrees (upper body
        turning left, forward, to the right positive).
    torque_nm : float, optional
        Axial moment on the top vertebra, N m (the same as ``moment_nm={"axial": ...}``).
    moment_nm : mapping, optional
        ``{"axial" | "flexion" | "lateral": N m}``, any subset.
    follower_n : float, default: 0.0
        Compressive follower load through every disc centre, N.
    levels : str, optional
        A specimen, e.g. ``"L1-S1"`` or ``"T7-T8"``: only those levels, the top one
        loaded, the lowest fixed. Default: T1 to the sacrum.
    mobility : mapping, optional
        ``{segment: "restricted" | "normal" | "hypermobile" | factor}``; others normal.

    Returns
    -------
    SpineState

    Raises
    ------
    SpineInputError
        On a bad argument; :class:`~spine3d.errors.UnreachableTwistError` (a subclass)
        when the load is beyond the failure torque, with the reachable maximum.
    """
    angles = {
        k: v
        for k, v in (("axial", twist_deg), ("flexion", flexion_deg), ("lateral", lateral_deg))
        if v is not None
    }
    moments = dict(moment_nm or {})
    if moment_nm is not None and not isinstance(moment_nm, Mapping):
        raise SpineInputError(
            f"moment_nm = {moment_nm!r}: expected a mapping such as {{'axial': 5.0}}"
        )
    if torque_nm is not None:
        if "axial" in moments:
            raise SpineInputError("give torque_nm or moment_nm['axial'], not both")
        moments["axial"] = torque_nm
    if twist_deg is not None and torque_nm is not None:
        raise SpineInputError("give exactly one of twist_deg or torque_nm")
    if not angles and not moments and not follower_n:
        raise SpineInputError(
            "give a load: twist_deg, flexion_deg, lateral_deg, torque_nm, moment_nm or follower_n"
        )
    if twist_deg is not None:
        _check_load(twist_deg, None)
    if torque_nm is not None:
        _check_load(None, torque_nm)
    load = Load(angles_deg=angles, moment_nm=moments, follower_n=follower_n, levels=levels)
    return solve_load(model, load, mobility)


solve3d = solve
"""The same as :func:`solve` (the three-dimensional solve)."""


def reachable_twist_deg(model: SpineModel, mobility: Mobility | None = None) -> float:
    """Return the largest twist (either way) reachable before a segment fails, degrees.

    The twist of T1 on the sacrum, in three dimensions, under the failure torque.
    """
    return reachable_twist_3d_deg(model, mobility_factors(mobility, model.segment_names))


def sweep(
    model: SpineModel,
    twist_deg: np.ndarray,
    *,
    mobility: Mobility | None = None,
) -> Sweep:
    """Solve many twists in turn, each warm-started from the last (e.g. for a plot).

    Parameters
    ----------
    twist_deg : (N,) float
        Twists of T1 relative to the sacrum, degrees.

    Returns
    -------
    Sweep
        Segment axial rotations (N, n) in degrees, the axial moment (N,) in N m, facet
        gaps and the pose of every vertebra, each row what :func:`solve` gives for that
        twist reached along this path (see ``warm`` in
        :func:`~.static.solve_load` for the rare twists with two nearby equilibria).
    """
    _check_load(twist_deg, None)
    twists = np.atleast_1d(np.asarray(twist_deg, dtype=float))
    states = [solve(model, twist_deg=float(t), mobility=mobility) for t in twists]
    return _frozen_sweep(
        **{
            name: np.array([getattr(s, name) for s in states])
            for name in ("twist_deg", "torque_nm", "rotation_deg", "facet_gap_mm", "poses")
        }
    )
