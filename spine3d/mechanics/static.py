"""Static solve of the spine in three dimensions: six degrees of freedom per segment.

Every vertebra is rigid with six degrees of freedom relative to the one below; the
lowest vertebra of the specimen (the sacrum for the whole spine) is fixed. In a serial
chain loaded at the top, each segment carries the whole load above it, so equilibrium
of everything above a segment reads ``W_i(q_i) + L_i = 0``: the tissues' wrench
(:mod:`.segment`) balances the applied moment expressed in that segment's lower disc
frame (which turns with the segments below) plus the follower load, a compressive
force along the segment's mid-axis through its lower disc centre (so it adds no
moment about it). A solve is Newton's method on all segments at once, with a
exact tangent per segment; under angle control the unknown moments
about the controlled axes join the Newton step through the chain's compliance.

Loads are given in the top vertebra's rest frame: ``flexion`` about -Z (forward
positive), ``lateral`` about +X (to the right positive), ``axial`` about +Y (upper
body turning left positive); moments keep their global direction as the top turns.
Angles are the Cardan angles (ISB order: Z, floating X, Y) of the top vertebra
relative to its rest pose, with the same signs.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, partial
from types import MappingProxyType

import numpy as np

from ..anatomy import SpineModel
from ..anatomy.frames import invert
from ..errors import SpineInputError, UnreachableTwistError
from .params import Mobility, mobility_factors, tissue
from .ribcage import (
    CompiledRibCage,
    RibLoad,
    compile_rib_cage_mechanics,
    part_motion,
    rib_load,
    rotation_log,
)
from .segment import SegmentSet, compile_segments, cross, left_jacobian, rodrigues, skew
from .state import SpineState

__all__ = [
    "COMPONENTS",
    "EQUILIBRIUM_TOL_N",
    "EQUILIBRIUM_TOL_NMM",
    "Load",
    "cardan_deg",
    "reachable_twist_3d_deg",
    "solve_load",
    "vertebra_residuals",
]

COMPONENTS = ("flexion", "lateral", "axial")
"""Rotation and moment components, in the order of every (..., 3) array."""

EQUILIBRIUM_TOL_NMM = 1.0
"""Largest unbalanced moment on any segment's upper part at the solution, N mm (1e-3 N m,
a ten-thousandth of a 10 N m load; about 1e-3 degrees of rotation)."""
EQUILIBRIUM_TOL_N = 1e-2
"""Largest unbalanced force on any segment's upper part at the solution, N."""
_ANGLE_TOL_RAD = 1e-9
_POLISH_NMM = 1e-7
_POLISH_STEPS = 6
_MAX_ITER = 200
_STEP_ROT_RAD = 0.06
_STEP_MM = 1.0
# Unit moment axes of the components in the top vertebra's rest frame.
_AXES = np.array([[0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


@dataclass(frozen=True)
class Load:
    """A static load on the top vertebra of a specimen.

    Attributes
    ----------
    angles_deg : mapping
        Controlled Cardan angles of the top vertebra ``{component: degrees}``.
    moment_nm : mapping
        Applied moments ``{component: N m}`` about the other axes.
    follower_n : float
        Follower load, N (compressive).
    levels : str or None
        Specimen range, e.g. ``"L1-S1"``; ``None`` for T1-S1.
    """

    angles_deg: Mapping[str, float]
    moment_nm: Mapping[str, float]
    follower_n: float = 0.0
    levels: str | None = None


def cardan_deg(rot: np.ndarray) -> np.ndarray:
    """Return ``(flexion, lateral, axial)`` Cardan angles (..., 3), degrees.

    ``rot = Rz(a) Rx(b) Ry(c)`` (ISB order), flexion ``-a``, lateral ``b``, axial ``c``.

    Parameters
    ----------
    rot : (..., 3, 3) float
    """
    return np.degrees(_cardan(rot))


def _cardan(rot: np.ndarray) -> np.ndarray:
    b = np.arcsin(np.minimum(np.maximum(rot[..., 2, 1], -1.0), 1.0))
    c = np.arctan2(-rot[..., 2, 0], rot[..., 2, 2])
    a = np.arctan2(-rot[..., 0, 1], rot[..., 1, 1])
    return np.stack([-a, b, c], axis=-1)


def _cardan_rate(angles: np.ndarray) -> np.ndarray:
    """Return the derivative (3, 3) of ``_cardan`` angles (3,) by a small turn of the body.

    For ``R = Rz(a) Rx(b) Ry(c)`` a turn ``w`` (rotation vector, applied on the left)
    changes the angles by ``E^-1 w``, with ``E`` the columns ``z, Rz(a) x,
    Rz(a) Rx(b) y``; the flexion angle is ``-a``.
    """
    a, b = -float(angles[0]), float(angles[1])
    ca, sa, cb, sb = math.cos(a), math.sin(a), math.cos(b), math.sin(b)
    # E^-1 in closed form (det E = cos b), the flexion row negated.
    tb = sb / cb
    return np.array([[-sa * tb, ca * tb, -1.0], [ca, sa, 0.0], [-sa / cb, ca / cb, 0.0]])


@dataclass(frozen=True, eq=False)
class _Compiled:
    seg: SegmentSet
    pre: np.ndarray  # (n, 4, 4) disc frame in lower
    post: np.ndarray  # (n, 4, 4) inverse of the disc frame in upper
    rest: np.ndarray  # (m, 4, 4)
    cached: bool = True  # kept for reuse (not a calibration's trial)

    @cached_property
    def rest_tangent(self) -> np.ndarray:
        """The tissues' tangent (n, 6, 6) at the rest pose: every cold solve's first."""
        jac = self.seg.tangent(np.zeros((self.pre.shape[0], 6)))[1]
        jac.flags.writeable = False
        return jac


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_WARM: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _compiled(
    model: SpineModel, factors: tuple[float, ...], values: Mapping[str, float] | None = None
) -> _Compiled:
    per = _CACHE.setdefault(model, {})
    key = (factors, _constants_key(values))
    if key not in per:
        c = _Compiled(
            seg=compile_segments(model, factors, values),
            pre=np.array([j.disc_frame_in_lower for j in model.joints]),
            post=np.array([invert(j.disc_frame_in_upper) for j in model.joints]),
            rest=np.array([v.rest_pose for v in model.vertebrae]),
            cached=not values,
        )
        if values:
            # Trial constants (a calibration, a cohort's member): keep the last few only.
            trials = [k for k in per if k[1] is not None]
            for old in trials[: max(0, len(trials) - _TRIALS_KEPT + 1)]:
                del per[old]
        per[key] = c
    return per[key]


_TRIALS_KEPT = 4
"""Compiled segments kept per model for trial constants (besides the calibrated ones)."""


def _constants_key(values: Mapping[str, float] | None) -> tuple | None:
    """Return a hashable key of trial constants (None for the calibrated ones)."""
    return tuple(sorted((k, float(v)) for k, v in values.items())) if values else None


def _transforms(q: np.ndarray, rot: np.ndarray | None = None) -> np.ndarray:
    """(n, 4, 4) transforms of the upper disc frame in the lower one (``rot``: known turns)."""
    out = np.zeros(q.shape[:-1] + (4, 4))
    out[..., :3, :3] = rodrigues(q[..., :3]) if rot is None else rot
    out[..., :3, 3] = q[..., 3:]
    out[..., 3, 3] = 1.0
    return out


def _poses(c: _Compiled, q: np.ndarray, bottom: int, rot: np.ndarray | None = None) -> np.ndarray:
    """Global poses (m, 4, 4) of every vertebra; levels at and below ``bottom`` rest.

    ``rot`` (n, 3, 3) is ``rodrigues(q[:, :3])`` if known.
    """
    turns = None if rot is None else rot[:bottom]
    local = c.pre[:bottom] @ _transforms(q[:bottom], turns) @ c.post[:bottom]
    # Products of the local transforms from each level down to ``bottom``, by doubling.
    step = 1
    while step < bottom:
        local[:-step] = local[step:] @ local[:-step]
        step *= 2
    poses = c.rest.copy()
    poses[:bottom] = c.rest[bottom] @ local
    return poses


def _external(qa: np.ndarray, m_local: np.ndarray, follower_n: float) -> np.ndarray:
    """Return the applied wrench on each active segment's upper part, (..., k, 6).

    In each lower disc frame: the moment (N mm) and the follower load's force (N).
    """
    ext = np.zeros(qa.shape)
    ext[..., :3] = m_local
    if follower_n:
        axis = rodrigues(0.5 * qa[..., :3])[..., :, 1]
        ext[..., 3:] = -follower_n * axis
    return ext


def _tangent(seg, sl, qa, m_local, follower_n, with_jac=True, known=None, rot=None, jl=None):
    """Return the residual (k, 6) of the active segments, their tangent and the details.

    The tangent is a function of no arguments returning the exact Jacobian (k, 6, 6)
    (``None`` unless ``with_jac``), so that a converged step never pays for it; ``known``
    is the tissues' tangent (n, 6, 6) at these ``qa`` if it is known already. The third
    item returns the facet details of the whole chain (see :meth:`SegmentSet.details`).
    ``rot`` and ``jl`` (n, 3, 3) are every segment's rotation matrix and left Jacobian if
    known (identity outside ``sl``).
    """
    q = np.zeros((seg.disc_k.shape[0], 6))
    q[sl] = qa
    w, det, full = seg._evaluate(q, True, with_jac and known is None, rot, jl)
    r = w[sl] + _external(qa, m_local, follower_n)
    if not with_jac:
        return r, None, det

    def jac() -> np.ndarray:
        out = (full() if known is None else known)[sl].copy()
        if follower_n:
            # The follower force -F R(phi / 2) e_y turns with half the segment's rotation.
            half = 0.5 * qa[:, :3]
            axis = rodrigues(half)[:, :, 1]
            out[:, 3:, :3] += 0.5 * follower_n * skew(axis) @ left_jacobian(half)
        return out

    return r, jac, det


@dataclass(frozen=True, eq=False)
class _Solved:
    """The end of a Newton solve on the active segments.

    Attributes
    ----------
    q : (n, 6) float
    m : (3,) float
        The applied moments, N mm.
    ok : bool
        Whether it converged.
    inv : object
        The last tangent of the active segments factored by :func:`_factor` (inverses
        (k, 6, 6) per segment, or the LU factors of the whole (6k, 6k) with a rib cage,
        which couples them); ``None`` if none was needed.
    details : callable
        The facet details at ``q`` (see :meth:`SegmentSet.details`).
    poses : (m, 4, 4) float
        Every vertebra's pose at ``q``.
    rot, jl : (n, 3, 3) float
        Every segment's rotation matrix and left Jacobian at ``q``.
    rib : RibLoad or None
        The rib cage's action at ``q``.

    The last five are those of the last evaluation: at ``q`` if it converged.
    """

    q: np.ndarray
    m: np.ndarray
    ok: bool
    inv: object
    details: object
    poses: np.ndarray
    rot: np.ndarray
    jl: np.ndarray
    rib: RibLoad | None


def _solve_chain(
    c: _Compiled,
    top: int,
    bottom: int,
    controlled: np.ndarray,
    targets_rad: np.ndarray,
    moment_nmm: np.ndarray,
    follower_n: float,
    q0: np.ndarray | None,
    m0: np.ndarray | None = None,
    ribs: CompiledRibCage | None = None,
) -> _Solved:
    """Newton on the active segments."""
    n = c.pre.shape[0]
    sl = slice(top, bottom)
    q = np.zeros((n, 6)) if q0 is None else q0.copy()
    q[:top], q[bottom:] = 0.0, 0.0
    rot_rest = c.rest[top, :3, :3]
    axes_g = rot_rest @ _AXES.T  # (3, 3) columns: global moment axes
    m = moment_nmm.astype(float).copy()
    if m0 is not None:  # a warm start also knows the controlled moments
        m[controlled] = m0[controlled]
    ctrl = np.flatnonzero(controlled)
    nc = ctrl.size
    axes_c = axes_g[:, ctrl]
    k_act = bottom - top
    inv = None
    rib = None
    split = _split(ribs, top, bottom)
    polished = 0
    last = math.inf
    for it in range(_MAX_ITER):
        rot = rodrigues(q[:, :3])
        jl = left_jacobian(q[:, :3])
        poses = _poses(c, q, bottom, rot)
        g = poses[top + 1 : bottom + 1, :3, :3] @ c.pre[sl, :3, :3]  # lower disc frames
        m_glob = axes_g @ m
        m_local = np.einsum("kji,j->ki", g, m_glob)
        cold = q0 is None and it == 0
        r, new_jac, det = _tangent(
            c.seg, sl, q[sl], m_local, follower_n, True, c.rest_tangent if cold else None, rot, jl
        )
        if ribs is not None:
            r, new_jac, rib = _with_ribs(
                c, ribs, q, poses, g, m_glob, top, bottom, r, new_jac, jl[sl]
            )
            if cold and c.cached:
                new_jac = _rest_tangent(c, ribs, top, bottom, m_glob, follower_n)
        ang_err = np.zeros(0)
        if nc:
            rot_top = poses[top, :3, :3]
            now = _cardan(rot_rest.T @ rot_top)
            ang_err = targets_rad[ctrl] - now[ctrl]
        size_r = np.abs(r)
        moment_nmm, force_n = float(size_r[:, :3].max()), float(size_r[:, 3:].max())
        inside = (
            moment_nmm <= EQUILIBRIUM_TOL_NMM
            and force_n <= EQUILIBRIUM_TOL_N
            and (ang_err.size == 0 or np.abs(ang_err).max() <= _ANGLE_TOL_RAD)
        )
        size = max(moment_nmm, force_n)
        if inside:
            # From inside the tolerance, steps take the residual to round-off, so that
            # a warm and a cold start agree to round-off, not to the tolerance.
            if polished >= _POLISH_STEPS or size <= _POLISH_NMM:
                return _Solved(q, m, True, inv, det, poses, rot, jl, rib)
            polished += 1
        # A fresh tangent for every Newton step outside the tolerance; inside it, chord
        # steps with the last while they gain a factor of ten each, a fresh one when
        # they stall.
        if inv is None or not inside or size > 0.1 * last:
            inv = _factor(new_jac(), split)
        last = size
        if ribs is not None:
            gj = g @ jl[sl] if nc else None
            dq, x = _dense_step(gj, g, inv, r, axes_c, now if nc else None, ang_err, rot_rest, ctrl)
            if nc:
                m[ctrl] += x
            q[sl] += dq * _step_scale(dq)
            if not np.isfinite(q).all():
                break
            continue
        # Newton step with the chain's coupling: turning the segments below turns the
        # applied moment in a segment's frame. From the bottom up, each step is
        # ``a + B dM`` in the unknown change of the controlled moments dM.
        gj = g @ jl[sl]  # spatial rotation increment per unit dphi, global
        # dq_k = c_k + D_k W_k + E_k x, with W_k the spatial rotation of the segments
        # below k and x the change of the controlled moments; columns [D | c | E].
        c1 = 1 + nc
        rhs = np.empty((k_act, 6, 3 + c1))
        read = np.swapaxes(g, 1, 2) @ np.concatenate([skew(m_glob), axes_c], axis=1)
        rhs[:, :, 3] = r
        rhs[:, :3, :3] = read[..., :3]
        rhs[:, :3, 4:] = read[..., 3:]
        rhs[:, 3:, :3] = rhs[:, 3:, 4:] = 0.0
        both = -(inv @ rhs)
        d_q, ce = both[..., :3], both[..., 3:]
        turned = gj @ both[:, :3]
        # From the bottom up, omega <- (I + p_w[k]) omega + f_w[k]: the affine maps'
        # products from each segment down, by doubling.
        chain = np.zeros((k_act, 3 + c1, 3 + c1))
        chain[:, :3] = turned
        chain[:, 0, 0] += 1.0
        chain[:, 1, 1] += 1.0
        chain[:, 2, 2] += 1.0
        chain[:, 3:, 3:] = np.eye(c1)
        step = 1
        while step < k_act:
            chain[:-step] = chain[:-step] @ chain[step:]
            step *= 2
        w_all = np.zeros((k_act, 3, c1))  # spatial rotation of the segments below
        w_all[:-1] = chain[1:, :3, 3:]
        omega = chain[0, :3, 3:]
        ab = ce + d_q @ w_all
        if nc:
            jc = (_cardan_rate(now) @ rot_rest.T)[ctrl]
            x = _solve_small(jc @ omega[:, 1:], ang_err - jc @ omega[:, 0])
            m[ctrl] += x
            dq = ab[..., 0] + ab[..., 1:] @ x
        else:
            dq = ab[..., 0]
        q[sl] += dq * _step_scale(dq)
        if not np.isfinite(q).all():
            break
    return _Solved(q, m, False, inv, det, poses, rot, jl, rib)


def _solve_small(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.linalg.solve`` for the controlled moments (one of them: a division)."""
    return b / a[0, 0] if b.shape == (1,) else np.linalg.solve(a, b)


def _step_scale(dq: np.ndarray) -> float:
    """Return the factor (at most 1) that limits a Newton step (k, 6) per segment."""
    rot_step = math.sqrt(np.einsum("ki,ki->k", dq[:, :3], dq[:, :3]).max())
    lin_step = math.sqrt(np.einsum("ki,ki->k", dq[:, 3:], dq[:, 3:]).max())
    return min(1.0, _STEP_ROT_RAD / max(rot_step, 1e-300), _STEP_MM / max(lin_step, 1e-300))


def _factor(jac: np.ndarray, split: int = 0):
    """Return the inverse of a tangent, ready for :func:`_apply`.

    ``jac`` is either per segment (k, 6, 6), or a whole chain's (6k, 6k) that a rib cage
    couples: then its first ``split`` segments (those above the lowest rib-bearing
    vertebra) are coupled among themselves and to those below, but no segment below
    depends on one above (the rib cage's wrench on all of them together is zero), so the
    tangent is block upper triangular and its two diagonal blocks are inverted alone.
    """
    if jac.ndim == 3:
        return np.linalg.inv(jac)
    n = 6 * split
    if n == 0 or n == jac.shape[0]:
        return (np.linalg.inv(jac), None, None)
    return (np.linalg.inv(jac[:n, :n]), jac[:n, n:], np.linalg.inv(jac[n:, n:]))


def _split(ribs, top: int, bottom: int) -> int:
    """Return how many active segments lie above the lowest rib-bearing vertebra."""
    if ribs is None:
        return 0
    return min(max(int(ribs.vertebrae[-1]) - top, 0), bottom - top)


def _apply(inv, rhs: np.ndarray) -> np.ndarray:
    """Solve a whole chain's tangent system (see :func:`_factor`) for ``rhs`` (6k, ...)."""
    upper, coupling, lower = inv
    if coupling is None:
        return upper @ rhs
    n = upper.shape[0]
    below = lower @ rhs[n:]
    return np.concatenate([upper @ (rhs[:n] - coupling @ below), below])


_REST: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _rest_tangent(c: _Compiled, ribs, top, bottom, m_glob, follower_n):
    """Return the coupled tangent at the rest pose as a function of no arguments.

    At rest the rib cage's wrench is zero, so the tangent is linear in the applied
    moment (global, (3,)) and the follower load: it is kept as those parts.
    """
    per = _REST.setdefault(c, {})
    key = (id(ribs), top, bottom)
    if key not in per:
        n = c.pre.shape[0]
        sl = slice(top, bottom)
        q = np.zeros((n, 6))
        poses = _poses(c, q, bottom)
        g = poses[top + 1 : bottom + 1, :3, :3] @ c.pre[sl, :3, :3]

        def at(moment, follower):
            m_local = np.einsum("kji,j->ki", g, moment)
            r, jac, _ = _tangent(c.seg, sl, q[sl], m_local, follower, True, c.rest_tangent)
            return _with_ribs(c, ribs, q, poses, g, moment, top, bottom, r, jac)[1]()

        base = at(np.zeros(3), 0.0)
        parts = np.array([at(e, 0.0) - base for e in np.eye(3)] + [at(np.zeros(3), 1.0) - base])
        for a in (base, parts):
            a.flags.writeable = False
        per[key] = (ribs, base, parts)
    _, base, parts = per[key]
    return lambda: base + np.tensordot(np.append(m_glob, follower_n), parts, 1)


def _with_ribs(c, ribs, q, poses, g, m_glob, top, bottom, r, tissue_jac, jl=None):
    """Add the rib cage's wrenches to the residual (k, 6); return it, a dense tangent and the load.

    The rib cage's wrench on every vertebra above a segment joins the applied load on
    that segment's upper part, moved to its lower disc centre and frame. The tangent
    (6k, 6k) couples every segment: the tissues' blocks; the turn of the applied moment
    in the frames of the segments above a turning one; the rib cage's condensed
    stiffness mapped through the chain; and the turn of the rib cage's wrenches, which
    follow the thorax, against the frames they are read in (the derivative of the
    rotation-vector measure itself is left out: it is second order in the thorax's own
    deformation). ``jl`` (k, 3, 3) is the segments' left Jacobians if known.
    """
    load = rib_load(ribs, poses, c.rest)
    n_lv = poses.shape[0]
    full = np.zeros((n_lv, 6))
    full[ribs.vertebrae] = load.wrench
    acc = np.cumsum(full, axis=0)[top:bottom]  # on everything above each segment
    lower = poses[top + 1 : bottom + 1] @ c.pre[top:bottom]
    o = lower[:, :3, 3]
    moment = acc[:, :3] - cross(o, acc[:, 3:])  # about each lower disc centre
    gt = np.swapaxes(g, 1, 2)
    r = r.copy()
    r[:, :3] += (gt @ moment[..., None])[..., 0]
    r[:, 3:] += (gt @ acc[:, 3:, None])[..., 0]

    def jac() -> np.ndarray:
        k = bottom - top
        qa = q[top:bottom]
        # (k, 3, 3) spatial turn per unit rotation
        gj = g @ (left_jacobian(qa[:, :3]) if jl is None else jl)
        centre = o + (g @ qa[:, 3:, None])[..., 0]  # upper disc centres, global
        # Origin screw of each segment's motion (k, 6, 6): turn about its upper disc
        # centre and shift along its lower frame. Every coupling term below is a row
        # factor of segment k times Z_j of the moving segment j.
        z = np.zeros((k, 6, 6))
        z[:, :3, :3] = gj
        z[:, 3:, :3] = skew(centre) @ gj
        z[:, 3:, 3:] = g
        # Reading an origin wrench in each lower disc frame about its centre (k, 6, 6).
        sk_o = skew(o)
        b = np.zeros((k, 6, 6))
        b[:, :3, :3] = gt
        b[:, :3, 3:] = -gt @ sk_o
        b[:, 3:, 3:] = gt
        maps = _rib_maps(ribs, top, bottom)
        f = acc[:, 3:]
        sk_f = skew(f)
        gt_f = gt @ sk_f
        # Segment j below k turns k's frame (and its centre) under a fixed wrench: the
        # applied moment and, where j does not carry the thorax's reference vertebra,
        # the rib cage's wrench too (M about o_k, F): g^T([M]x - [F]x[o_k - c_j]x) w
        # and g^T [F]x w, g^T [F]x v, with c_j the centre j turns about.
        row_still = np.zeros((k, 6, 6))
        row_still[:, :3, :3] = gt @ (skew(moment + m_glob) - sk_f @ sk_o)
        row_still[:, :3, 3:] = gt_f
        row_still[:, 3:, :3] = gt_f
        row_free = np.zeros((k, 6, 6))
        row_free[:, :3, :3] = gt @ skew(m_glob)
        # Segment j at or above k carrying the reference turns the rib cage's wrench
        # read in k's fixed frame: d(M, F) = (w x M + v0 x F, w x F).
        turn = np.zeros((k, 6, 6))
        turn[:, :3, :3] = -skew(acc[:, :3])
        turn[:, :3, 3:] = -sk_f
        turn[:, 3:, :3] = -sk_f
        # Columns of segments that do not carry the reference come first (j < s).
        zh = z.transpose(1, 0, 2).reshape(6, 6 * k)
        sc = 6 * maps.n_still
        out = np.empty((6 * k, 6 * k))
        out[:, :sc] = (row_still.reshape(-1, 6) @ zh[:, :sc]) * maps.below[:, :sc]
        out[:, sc:] = np.where(
            maps.below[:, sc:],
            row_free.reshape(-1, 6) @ zh[:, sc:],
            (b @ turn).reshape(-1, 6) @ zh[:, sc:],
        )
        # The rib cage's stiffness on the motion relative to the reference vertebra:
        # d r_k = -B_k sum_{v<=k} (sum_{v'<=j} K[v, v'] - [ref <= j] sum_{v'} K[v, v']) Z_j,
        # with K = Ad^T K0 L (the co-rotational measure's maps, ribcage.RibLoad); the sum
        # over v' is empty for the segments below the lowest rib vertebra (j >= r).
        ad, lmap = load.motion_maps()
        rows = ((b @ ad.T) @ maps.sum_rows).reshape(6 * k, -1)
        rc = 6 * maps.n_cols
        out[:, :rc] -= rows @ ((lmap.reshape(-1, 6) @ zh[:, :rc]) * maps.sum_cols)
        blocks = out.reshape(k, 6, k, 6)
        blocks[np.arange(k), :, np.arange(k), :] += tissue_jac()
        return out

    return r, jac, load


@dataclass(frozen=True, eq=False)
class _RibMaps:
    """Constant sums of the coupled tangent of a specimen with a rib cage (k segments).

    ``n_still`` segments from the top do not carry the thorax's reference vertebra;
    ``below`` (6k, 6k) bool marks the blocks of row segment k and moving segment j > k;
    ``sum_rows`` (k, 6, 6m) sums the rows of the rib cage's stiffness over the vertebrae
    above each segment; ``sum_cols`` (6m, 6 n_cols) its columns over the vertebrae that
    segment j moves relative to the reference vertebra (none for j >= n_cols).
    """

    n_still: int
    below: np.ndarray
    sum_rows: np.ndarray
    n_cols: int
    sum_cols: np.ndarray


_RIB_MAPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _rib_maps(ribs: CompiledRibCage, top: int, bottom: int) -> _RibMaps:
    per = _RIB_MAPS.setdefault(ribs, {})
    if (top, bottom) not in per:
        k = bottom - top
        vs = ribs.vertebrae
        m = len(vs)
        seg = np.arange(top, bottom)
        still = seg < vs[m // 2]  # segment j does not carry the reference
        above = (vs[None, :] <= seg[:, None]).astype(float)  # vertebra v above segment k
        cols = above.T - (~still)[None, :]
        n_cols = int(np.flatnonzero(np.abs(cols).sum(0))[-1]) + 1 if cols.any() else 0
        block = np.ones((6, 6))
        per[(top, bottom)] = _RibMaps(
            n_still=int(still.sum()),
            below=np.kron(np.triu(np.ones((k, k)), 1), block).astype(bool),
            sum_rows=(above @ ribs.stiffness.reshape(m, -1)).reshape(k, 6, 6 * m),
            n_cols=n_cols,
            sum_cols=np.kron(cols[:, :n_cols], block),
        )
    return per[(top, bottom)]


def _block_diag(blocks: np.ndarray) -> np.ndarray:
    """(6k, 6k) block-diagonal matrix of ``blocks`` (k, 6, 6)."""
    k = blocks.shape[0]
    out = np.zeros((k, 6, k, 6))
    out[np.arange(k), :, np.arange(k), :] = blocks
    return out.reshape(6 * k, 6 * k)


def _dense_step(gj, g, lu, r, axes_c, now, ang_err, rot_rest, ctrl):
    """Newton step on the whole chain at once, with the controlled moments' change.

    ``lu`` is the tangent's inverse (see :func:`_factor`); ``gj`` (k, 3, 3)
    the spatial turn of each segment per unit of its rotation (needed with ``now``).
    """
    k = g.shape[0]
    x = np.zeros(0)
    if now is None:
        return -_apply(lu, r.reshape(-1)).reshape(k, 6), x
    rhs = np.zeros((k, 6, 1 + ctrl.size))
    rhs[:, :, 0] = r
    rhs[:, :3, 1:] = np.swapaxes(g, 1, 2) @ axes_c
    sol = _apply(lu, rhs.reshape(6 * k, -1))
    # The controlled angles' rates by the whole chain's turn, sum_j G_j dphi_j.
    rate = (_cardan_rate(now) @ rot_rest.T)[ctrl]
    turned = rate @ np.einsum("kab,kbc->ac", gj, sol.reshape(k, 6, -1)[:, :3])
    x = -_solve_small(turned[:, 1:], ang_err + turned[:, 0])
    dq = -sol[:, 0] - sol[:, 1:] @ x
    return dq.reshape(k, 6), x


def _check_number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise SpineInputError(f"{name} = {value!r}: expected a finite number")
    if not math.isfinite(float(value)):
        raise SpineInputError(f"{name} = {value!r}: expected a finite number")
    return float(value)


def _normalise(load: Load) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    controlled = np.zeros(3, dtype=bool)
    targets = np.zeros(3)
    moments = np.zeros(3)
    for key, value in load.angles_deg.items():
        k = COMPONENTS.index(key)
        controlled[k] = True
        targets[k] = math.radians(_check_number(f"{key}_deg", value))
    if not isinstance(load.moment_nm, Mapping):
        raise SpineInputError(
            f"moment_nm = {load.moment_nm!r}: expected a mapping such as {{'axial': 5.0}}"
        )
    for key, value in load.moment_nm.items():
        if key not in COMPONENTS:
            raise SpineInputError(
                f"moment_nm: unknown component {key!r}: expected one of {', '.join(COMPONENTS)}"
            )
        k = COMPONENTS.index(key)
        v = _check_number(f"moment_nm[{key!r}]", value)
        if controlled[k] and v:
            raise SpineInputError(
                f"moment_nm[{key!r}]: that axis is angle-controlled; give an angle or a moment"
            )
        moments[k] = v * 1e3
    follower = _check_number("follower_n", load.follower_n)
    if follower < 0:
        raise SpineInputError(f"follower_n = {follower:g}: expected a compressive load >= 0")
    return controlled, targets, moments, follower


def solve_load(
    model: SpineModel,
    load: Load,
    mobility: Mobility | None = None,
    *,
    warm: bool = True,
    constants: Mapping[str, float] | None = None,
) -> SpineState:
    """Solve the spine (or a specimen of it) under a static load in three dimensions.

    Parameters
    ----------
    model : SpineModel
    load : Load
    mobility : mapping, optional
        ``{segment: state}``; others normal.
    warm : bool, default: True
        Start from the last solution of the same model, mobility and specimen (a slider
        moves in small steps). Where the equilibrium is unique the answer agrees with a
        cold start to round-off; where slack capsule fibres allow two nearby equilibria
        (T1-T2 at large twists, about 0.1 degrees apart) a warm start stays on the branch
        it comes from, as a spine loaded step by step would.
    constants : mapping, optional
        Trial values of segment constants (a calibration, a cohort's member); the last
        few sets are kept, so that a solve warm-starts from the last one with the same.

    Notes
    -----
    With a rib cage the segments are coupled and each Newton step solves one system
    of up to 102 unknowns: the rib cage's first condensation limits BLAS to one thread
    for the process (see :func:`~.ribcage.one_blas_thread`).

    Returns
    -------
    SpineState

    Raises
    ------
    SpineInputError
        On a bad argument; :class:`~spine3d.errors.UnreachableTwistError` when the load
        needs more than the failure torque of a segment.
    """
    factors = mobility_factors(mobility, model.segment_names)
    top, bottom = model.level_span(load.levels)
    controlled, targets, moments, follower = _normalise(load)
    c = _compiled(model, factors, constants)
    ribs = compile_rib_cage_mechanics(model, top, bottom)
    key = (factors, top, bottom, _constants_key(constants))
    cache = _WARM.setdefault(model, {})
    q0 = m0 = None
    load_vec = np.concatenate([targets, moments, [follower], controlled])
    history = cache.get(key, []) if warm else []
    if history:
        q0, m0 = _predict(history, load_vec)
    if not (targets.any() or moments.any() or follower):
        q0 = m0 = None  # no load: the rest pose, exactly
    out = _solve_chain(c, top, bottom, controlled, targets, moments, follower, q0, m0, ribs)
    if not out.ok and q0 is not None:
        out = _solve_chain(c, top, bottom, controlled, targets, moments, follower, None, None, ribs)
    limit = tissue()["failure_torque_nm"] * 1e3
    if not out.ok or np.abs(out.m).max() > limit * (1 + 1e-9):
        raise _unreachable(model, factors, load)
    if key[3] is not None and key not in cache:
        trials = [k for k in cache if k[3] is not None]
        for old in trials[: max(0, len(trials) - _TRIALS_KEPT + 1)]:
            del cache[old]
    cache[key] = [*history[-2:], (load_vec, out.q, out.m)]
    return _make_state(model, c, out, top, bottom, follower, ribs)


def _predict(history, load_vec):
    """Warm start: extrapolate the last solutions along the load (a moving slider).

    With three earlier loads on one line the extrapolation is quadratic in the load's
    position along it, with two linear, else the last solution.
    """
    last_load, q1, m1 = history[-1]
    same = [h for h in history if (h[0][7:] == load_vec[7:]).all()]
    if len(same) < 2 or same[-1] is not history[-1]:
        return q1, m1
    step = last_load - same[-2][0]
    norm2 = float(step @ step)
    if norm2 == 0:
        return q1, m1
    # Positions along the line of the last step, and the new load's.
    offsets = np.array([h[0] for h in same[-3:]]) - last_load
    pos = offsets @ step / norm2
    s = pos.tolist()
    x = min(max(float((load_vec - last_load) @ step) / norm2, -2.0), 2.0)
    along = pos[:, None] * step
    on_line = bool(np.all(np.abs(offsets - along) <= 1e-9 + 1e-5 * np.abs(along)))  # allclose
    if len(s) == 3 and on_line and len({round(v, 12) for v in s}) == 3:
        w = [math.prod((x - s[k]) / (s[i] - s[k]) for k in range(3) if k != i) for i in range(3)]
        q = sum(wi * h[1] for wi, h in zip(w, same[-3:], strict=True))
        m = sum(wi * h[2] for wi, h in zip(w, same[-3:], strict=True))
        return q, m
    q_prev, m_prev = same[-2][1], same[-2][2]
    return q1 + x * (q1 - q_prev), m1 + x * (m1 - m_prev)


def _unreachable(model, factors, load: Load) -> UnreachableTwistError:
    limit = tissue()["failure_torque_nm"]
    # Named as solve() takes them: twist_deg, flexion_deg, lateral_deg, torque_nm.
    angle_name = {"axial": "twist_deg", "flexion": "flexion_deg", "lateral": "lateral_deg"}
    moment_name = {"axial": "torque_nm"}
    what = ", ".join(f"{angle_name[k]} = {v:g}" for k, v in load.angles_deg.items()) or ", ".join(
        f"{moment_name.get(k, f'moment_nm[{k!r}]')} = {v:g}" for k, v in load.moment_nm.items()
    )
    try:
        reach = reachable_twist_3d_deg(model, factors, load.levels)
    except SpineInputError:
        reach = 0.0
    return UnreachableTwistError(
        f"{what} is beyond what this spine can reach: at most ±{reach:.1f} deg of twist "
        f"(±{limit:g} N m, the failure torque of a segment) with this mobility",
        reach,
        limit,
    )


_REACH: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def reachable_twist_3d_deg(
    model: SpineModel, factors: tuple[float, ...], levels: str | None = None
) -> float:
    """Return the twist (either way) of the top at the failure torque, degrees."""
    per = _REACH.setdefault(model, {})
    key = (factors, levels)
    if key not in per:
        c = _compiled(model, factors)
        top, bottom = model.level_span(levels)
        limit = tissue()["failure_torque_nm"] * 1e3
        twists = []
        for sign in (1.0, -1.0):
            out = _solve_chain(
                c,
                top,
                bottom,
                np.zeros(3, bool),
                np.zeros(3),
                np.array([0, 0, sign * limit]),
                0.0,
                None,
                None,
                compile_rib_cage_mechanics(model, top, bottom),
            )
            if not out.ok:
                raise SpineInputError("the failure torque could not be solved for this spine")
            rel = c.rest[top, :3, :3].T @ out.poses[top, :3, :3]
            twists.append(abs(math.degrees(_cardan(rel)[2])))
        per[key] = min(twists)
    return per[key]


def _axes(c: _Compiled, q, m, poses, top, bottom, follower_n, inv=None, jl=None):
    """Instantaneous axis of each segment under a small increase of the applied moment.

    ``inv`` is the solve's last tangent of the active segments, factored (see
    :func:`_factor`; recomputed if ``None``); ``jl`` (n, 3, 3) the segments' left
    Jacobians if known.
    """
    n = q.shape[0]
    sl = slice(top, bottom)
    point = np.zeros((n, 3))
    direction = np.zeros((n, 3))
    lower_disc = poses[1:] @ c.pre  # (n, 4, 4)
    point[:] = lower_disc[:, :3, 3] + np.einsum("kij,kj->ki", lower_disc[:, :3, :3], 0.5 * q[:, 3:])
    if bottom <= top:
        return point, direction
    g = lower_disc[sl, :3, :3]
    rot_rest = c.rest[top, :3, :3]
    dm = rot_rest @ _AXES.T @ (m if np.abs(m).max() > 0 else np.array([0.0, 0.0, 1.0]))
    if inv is None:
        m_local = np.einsum("kji,j->ki", g, rot_rest @ _AXES.T @ m)
        inv = _factor(_tangent(c.seg, sl, q[sl], m_local, follower_n)[1]())
    dw = np.zeros((bottom - top, 6))
    dw[:, :3] = np.einsum("kji,j->ki", g, dm)
    if isinstance(inv, tuple):  # the whole chain at once (a rib cage couples the segments)
        dq = -_apply(inv, dw.reshape(-1)).reshape(-1, 6)
    else:
        dq = -(inv @ dw[..., None])[..., 0]
    # Angular velocity of the upper disc frame (lower frame) and the velocity of the
    # point of the upper body at the disc centre; the screw axis's nearest point.
    jl = left_jacobian(q[sl, :3]) if jl is None else jl[sl]
    w = np.einsum("kij,kj->ki", jl, dq[:, :3])
    t = q[sl, 3:]
    centre = 0.5 * t
    v = cross(w, centre - t) + dq[:, 3:]
    norm2 = np.sum(w * w, axis=1)
    moving = norm2 > 1e-30
    safe = np.where(moving, norm2, 1.0)
    p = centre + cross(w, v) / safe[:, None]
    glob_p = lower_disc[sl, :3, 3] + np.einsum("kij,kj->ki", g, p)
    glob_d = np.einsum("kij,kj->ki", g, w / np.sqrt(safe)[:, None])
    point[sl] = np.where(moving[:, None], glob_p, point[sl])
    direction[sl] = np.where(moving[:, None], glob_d, 0.0)
    return point, direction


def _make_state(
    model, c: _Compiled, out: _Solved, top, bottom, follower_n, ribs=None
) -> SpineState:
    q, m, poses = out.q, out.m, out.poses
    det = out.details()
    part_poses: Mapping[str, np.ndarray] = MappingProxyType({})
    part_turns: Mapping[str, np.ndarray] = MappingProxyType({})
    if ribs is not None:
        parts = _Once(partial(_part_motion, ribs, out.rib, poses, c.rest))
        part_poses, part_turns = _Lazy(parts, 0), _Lazy(parts, 1)
    rot3 = cardan_deg(out.rot)
    rel = c.rest[top, :3, :3].T @ poses[top, :3, :3]
    top_deg = cardan_deg(rel)
    arrays = {
        "rotation_deg": rot3[:, 2].copy(),
        "facet_gap_mm": det["gap_mm"],
        "facet_force_n": det["force_n"],
        "capsule_stretch_mm": det["capsule_mm"],
        "mobility": c.seg.mobility.copy(),
        "poses": poses,
        "rotation3_deg": rot3,
        "translation_mm": q[:, 3:].copy(),
        "reaction_nm": m / 1e3,
        "top_rotation_deg": top_deg,
    }
    for a in arrays.values():
        a.flags.writeable = False
    return SpineState(
        model=model,
        twist_deg=float(top_deg[2]),
        torque_nm=float(m[2]) / 1e3,
        follower_n=float(follower_n),
        levels=f"{model.level_names[top]}-{model.level_names[bottom]}",
        part_poses=part_poses,
        part_rotation3_deg=part_turns,
        axes_from=partial(_axes_at, c, ribs, q, m, top, bottom, follower_n),
        **arrays,
    )


def _part_motion(ribs, rib, poses, rest) -> tuple[dict, dict]:
    """Return the rib cage parts' poses and their Cardan angles on their vertebrae."""
    names, placed, turns = part_motion(ribs, rib, poses, rest)
    placed.flags.writeable = False
    angles = cardan_deg(turns)
    angles.flags.writeable = False
    return dict(zip(names, placed, strict=True)), dict(zip(names, angles, strict=True))


class _Once:
    """A function of no arguments called at most once; its result kept."""

    def __init__(self, make) -> None:
        self._make, self._value = make, None

    def __call__(self):
        if self._make is not None:
            self._value, self._make = self._make(), None
        return self._value


class _Lazy(Mapping):
    """A read-only mapping worked out on first use: item ``index`` of ``source()``."""

    def __init__(self, source: _Once, index: int) -> None:
        self._source, self._index = source, index

    def __getitem__(self, key):
        return self._source()[self._index][key]

    def __iter__(self):
        return iter(self._source()[self._index])

    def __len__(self) -> int:
        return len(self._source()[self._index])

    def __repr__(self) -> str:
        return repr(dict(self))


def _axes_at(c: _Compiled, ribs, q, m, top, bottom, follower_n):
    """Return the instantaneous axes (see :func:`_axes`) from a tangent taken at ``q``."""
    sl = slice(top, bottom)
    rot = rodrigues(q[:, :3])
    jl = left_jacobian(q[:, :3])
    poses = _poses(c, q, bottom, rot)
    if bottom <= top:
        return _axes(c, q, m, poses, top, bottom, follower_n, None, jl)
    g = poses[top + 1 : bottom + 1, :3, :3] @ c.pre[sl, :3, :3]
    m_glob = c.rest[top, :3, :3] @ _AXES.T @ m
    m_local = np.einsum("kji,j->ki", g, m_glob)
    r, new_jac, _ = _tangent(c.seg, sl, q[sl], m_local, follower_n, True, None, rot, jl)
    if ribs is not None:
        r, new_jac, _ = _with_ribs(c, ribs, q, poses, g, m_glob, top, bottom, r, new_jac, jl[sl])
    inv = _factor(new_jac(), _split(ribs, top, bottom))
    return _axes(c, q, m, poses, top, bottom, follower_n, inv, jl)


def vertebra_residuals(state: SpineState) -> np.ndarray:
    """Unbalanced wrench on every vertebra of a 3D state, recomputed from scratch, (m, 6).

    For each vertebra: the tissues of the segment below and above it, the applied
    moment on the top vertebra and the follower load's pull at each disc, summed about
    the global origin, global frame; moments in N mm, forces in N. The fixed bottom
    vertebra and levels outside the specimen read zero.
    """
    model = state.model
    c = _compiled(model, tuple(float(f) for f in state.mobility))
    top, bottom = (model.level_names.index(x) for x in state.levels.split("-"))
    n = len(model.joints)
    q = np.zeros((n, 6))
    q[:, 3:] = state.translation_mm
    # Recover each rotation vector from the poses (independent of the solver's q).
    local = (
        np.linalg.inv(c.pre)
        @ np.linalg.inv(state.poses[1:])
        @ state.poses[:-1]
        @ np.linalg.inv(c.post)
    )
    q[:, :3] = rotation_log(local[:, :3, :3])
    q[:, 3:] = local[:, :3, 3]
    w = c.seg.wrench(q)  # on each upper vertebra, lower disc frame, about its origin
    frames = state.poses[1:] @ c.pre
    glob = np.zeros((n, 6))
    for i in range(n):
        g, o = frames[i, :3, :3], frames[i, :3, 3]
        f = g @ w[i, 3:]
        glob[i, 3:] = f
        glob[i, :3] = g @ w[i, :3] + np.cross(o, f)
        if state.follower_n and top <= i < bottom:
            axis = g @ rodrigues(0.5 * q[i, :3])[:, 1]
            ff = -state.follower_n * axis
            glob[i, 3:] += ff
            glob[i, :3] += np.cross(o, ff)
    out = np.zeros((n + 1, 6))
    for v in range(top, bottom):
        out[v] = glob[v]  # from the segment below (tissues and follower pull)
        if v > top:
            out[v] -= glob[v - 1]  # reaction of the segment above
        else:
            out[v, :3] += c.rest[top, :3, :3] @ _AXES.T @ (state.reaction_nm * 1e3)
    ribs = compile_rib_cage_mechanics(model, top, bottom)
    if ribs is not None:  # the rib cage's wrench on each of its vertebrae
        out[ribs.vertebrae] += rib_load(ribs, state.poses, c.rest).wrench
        out[bottom:] = 0.0
    return out
