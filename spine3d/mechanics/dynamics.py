"""Rigid-body dynamics of the spine: each vertebra a body with six degrees of freedom.

Every level of a specimen is a rigid body carrying its share of the trunk (a slice of
the body's mass and inertia, :mod:`.inertia`); the bodies are joined by the same
tissues as the static solve (:mod:`.segment`: disc, ligaments, facet contact) and, on
the thoracic levels, by the condensed rib cage (:mod:`.ribcage`). Forces from outside
(hands, a table, a thrust, muscles) are added by the caller as :class:`Extra` terms.

The state of each body is its pose ``(R, x)`` (rotation and the position of its
origin, the vertebral body centre, mm) and its velocity ``(w, v)`` (angular velocity,
rad/s, and the velocity of its origin, mm/s), all in the global frame. Units inside:
millimetres, seconds, newtons and tonnes (1 kg = 1e-3 t), so that forces are in N and
moments in N mm.

Time steps are linearly implicit (backward) Euler::

    (M - h C - h^2 K) dy = h (f - b + h K y)

with ``f`` every force at the start of the step, ``K`` and ``C`` its derivatives by the
bodies' small motions and velocities, ``b`` the velocity-product (gyroscopic) terms and
``y`` the velocities; a step stays stable however stiff a facet contact is. Tissue
damping is proportional to each tissue's tangent stiffness (``damping_s``, a time).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..anatomy import SpineModel
from .ribcage import (
    CompiledRibCage,
    compile_rib_cage_mechanics,
    one_blas_thread,
    rib_load,
    rotation_log,
)
from .segment import SegmentSet, cross, left_jacobian, rodrigues, skew

__all__ = [
    "BodyState",
    "Chain",
    "Extra",
    "Forces",
    "Inertia",
    "compile_chain",
    "relative_q",
]


@dataclass(frozen=True, eq=False)
class Inertia:
    """Mass properties of the bodies, each in its own local frame.

    Attributes
    ----------
    mass_t : (B,) float
        Mass, tonnes.
    com_mm : (B, 3) float
        Centre of mass in the body's local frame, mm.
    inertia_tmm2 : (B, 3, 3) float
        Inertia about the body's origin, local axes, t mm^2.
    """

    mass_t: np.ndarray
    com_mm: np.ndarray
    inertia_tmm2: np.ndarray


@dataclass(frozen=True, eq=False)
class BodyState:
    """Poses and velocities of the bodies at one instant (global frame).

    Attributes
    ----------
    rot : (B, 3, 3) float
    pos_mm : (B, 3) float
        Origins, mm.
    omega : (B, 3) float
        Angular velocities, rad/s.
    vel_mm_s : (B, 3) float
        Velocities of the origins, mm/s.
    """

    rot: np.ndarray
    pos_mm: np.ndarray
    omega: np.ndarray
    vel_mm_s: np.ndarray

    def poses(self) -> np.ndarray:
        """Return the bodies' local-to-global transforms (B, 4, 4)."""
        out = np.zeros((self.rot.shape[0], 4, 4))
        out[:, :3, :3] = self.rot
        out[:, :3, 3] = self.pos_mm
        out[:, 3, 3] = 1.0
        return out


@dataclass
class Extra:
    """Forces from outside the tissues at the start of a step, and their derivatives.

    Attributes
    ----------
    wrench : (B, 6) float
        Moment about each body's origin (N mm) and force (N), global.
    stiffness : (B, 6, 6) float or None
        d(wrench) / d(small motion) (rotation, origin displacement) of each body's own
        wrench: every outside force acts on one body.
    damping : (B, 6, 6) float or None
        d(wrench) / d(velocity), likewise.
    """

    wrench: np.ndarray
    stiffness: np.ndarray | None = None
    damping: np.ndarray | None = None


_GESV: list = []


@dataclass(frozen=True, eq=False)
class Forces:
    """The tissues' action on the bodies at one state (see :meth:`Chain.evaluate`).

    Attributes
    ----------
    wrench : (B, 6) float
        Moment about each body's origin (N mm) and force (N), global, tissue damping
        included.
    k_y : (B, 6) float
        The tissues' stiffness times the bodies' velocities.
    diag : (B, 6, 6) float
        Diagonal blocks of the tissues' d(wrench)/d(motion).
    upper_lower, lower_upper : (n, 6, 6) float
        Its blocks coupling body ``i`` (row) to ``i + 1`` (column), and the reverse.
    q : (n, 6) float
        Each segment's rotation vector and translation.
    rel : (n, 3, 3) float
        Each segment's rotation matrix.
    rot_a : (n, 3, 3) float
        Each lower disc frame's rotation, global.
    o_a : (n, 3) float
        Its origin, global, mm.
    details : callable
        Returns the facet gaps, forces and capsule stretch ((2, n) each).
    """

    wrench: np.ndarray
    k_y: np.ndarray
    diag: np.ndarray
    upper_lower: np.ndarray
    lower_upper: np.ndarray
    q: np.ndarray
    rel: np.ndarray
    rot_a: np.ndarray
    o_a: np.ndarray
    details: Callable[[], dict]


def _lapack():
    if not _GESV:
        from scipy.linalg.lapack import dgetrf, dgetrs

        _GESV.extend([dgetrf, dgetrs])
    return _GESV


def _factor(a: np.ndarray):
    """LU factors of ``a`` (LAPACK's getrf, without numpy's checks)."""
    lu, piv, info = _lapack()[0](a, overwrite_a=True)
    if info != 0:
        raise np.linalg.LinAlgError("singular step matrix")
    return lu, piv


def _lu_solve(factors, b: np.ndarray) -> np.ndarray:
    """Solve with the factors of :func:`_factor`."""
    x, info = _lapack()[1](factors[0], factors[1], b)
    return x


def _inverse_left_jacobian(phi: np.ndarray) -> np.ndarray:
    """Inverse left Jacobians (..., 3, 3) of rotation vectors ``phi`` (..., 3)."""
    th2 = np.einsum("...i,...i->...", phi, phi)[..., None, None]
    th = np.sqrt(th2)
    small = th2 < 1e-8
    safe = np.where(small, 1.0, th)
    c = np.where(
        small,
        1.0 / 12.0 + th2 / 720.0,
        (1.0 - safe * np.sin(safe) / (2.0 * (1.0 - np.cos(safe)))) / np.where(small, 1.0, th2),
    )
    k = skew(phi)
    return np.eye(3) - 0.5 * k + c * (k @ k)


def relative_q(
    chain: Chain, rot: np.ndarray, pos: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return each segment's ``q`` (n, 6) and the frames it is measured in.

    Returns
    -------
    q : (n, 6) float
        Rotation vector (rad) and translation (mm) of the upper disc frame in the lower.
    rel : (n, 3, 3) float
        The rotation matrix of ``q``.
    rot_a : (n, 3, 3) float
        The lower disc frames' rotations, global.
    o_a, o_g : (n, 3) float
        The lower and the upper disc frames' origins, global, mm.
    """
    rot_a = rot[1:] @ chain.pre_rot
    o_a = pos[1:] + np.einsum("nij,nj->ni", rot[1:], chain.pre_pos)
    rot_g = rot[:-1] @ chain.post_rot
    o_g = pos[:-1] + np.einsum("nij,nj->ni", rot[:-1], chain.post_pos)
    rel = np.swapaxes(rot_a, 1, 2) @ rot_g
    q = np.empty((rel.shape[0], 6))
    q[:, :3] = rotation_log(rel)
    q[:, 3:] = np.einsum("nji,nj->ni", rot_a, o_g - o_a)
    return q, rel, rot_a, o_a, o_g


@dataclass(frozen=True, eq=False)
class Chain:
    """A specimen's bodies and tissues, ready to step (see :func:`compile_chain`).

    Bodies are the levels ``top`` ... ``bottom`` of the model, top to bottom; segment
    ``i`` joins body ``i`` (upper) and body ``i + 1`` (lower).

    Attributes
    ----------
    model : SpineModel
    top, bottom : int
        The specimen's levels in ``model.vertebrae``.
    seg : SegmentSet
        The tissues of the specimen's segments only.
    ribs : CompiledRibCage or None
    inertia : Inertia
    rest : (B, 4, 4) float
        The bodies' rest poses.
    pre_rot, pre_pos : (n, 3, 3), (n, 3)
        Each lower disc frame in its vertebra's local frame.
    post_rot, post_pos : (n, 3, 3), (n, 3)
        Each upper disc frame in its vertebra's local frame.
    damping_s : float
        Tissue damping: the damping matrix is this times the tangent stiffness, s.
    rib_index : (m,) int
        The bodies the rib cage acts on.
    """

    model: SpineModel
    top: int
    bottom: int
    seg: SegmentSet
    ribs: CompiledRibCage | None
    inertia: Inertia
    rest: np.ndarray
    pre_rot: np.ndarray
    pre_pos: np.ndarray
    post_rot: np.ndarray
    post_pos: np.ndarray
    damping_s: float
    rib_index: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    rest_all: np.ndarray | None = None

    @property
    def n_bodies(self) -> int:
        """Number of bodies (levels of the specimen)."""
        return self.rest.shape[0]

    def at_rest(self) -> BodyState:
        """Return every body at its rest pose, still."""
        b = self.n_bodies
        return BodyState(
            rot=self.rest[:, :3, :3].copy(),
            pos_mm=self.rest[:, :3, 3].copy(),
            omega=np.zeros((b, 3)),
            vel_mm_s=np.zeros((b, 3)),
        )

    def mass_matrix(self, rot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the bodies' mass blocks (B, 6, 6) at ``rot`` and the COM offsets (B, 3)."""
        ine = self.inertia
        c = np.einsum("bij,bj->bi", rot, ine.com_mm)
        m = ine.mass_t
        blocks = np.zeros((rot.shape[0], 6, 6))
        blocks[:, :3, :3] = rot @ ine.inertia_tmm2 @ np.swapaxes(rot, 1, 2)
        sc = m[:, None, None] * skew(c)
        blocks[:, :3, 3:] = sc
        blocks[:, 3:, :3] = -sc
        blocks[:, 3:, 3:] = m[:, None, None] * np.eye(3)
        return blocks, c

    def evaluate(
        self, s: BodyState, seg: SegmentSet | None = None, last: Forces | None = None
    ) -> Forces:
        """Return the tissues' action on the bodies at ``s``.

        Parameters
        ----------
        s : BodyState
        seg : SegmentSet, optional
            Tissues to use instead of :attr:`seg` (a cavitated joint's).
        last : Forces, optional
            An evaluation a step before whose stiffness to keep (a linearly implicit
            step stays consistent with a tangent a step old); the wrench is always new.

        Returns
        -------
        Forces
        """
        seg = self.seg if seg is None else seg
        q, rel, rot_a, o_a, o_g = relative_q(self, s.rot, s.pos_mm)
        if last is not None:
            w, det, _ = seg._evaluate(q, True, False, rel)
            return self._with_last(s, w, last, q, rel, det, rot_a, o_a)
        jl = left_jacobian(q[:, :3])
        w, det, jac = seg._evaluate(q, True, True, rel, jl)
        k = jac()
        jinv = _inverse_left_jacobian(q[:, :3])
        rat = np.swapaxes(rot_a, 1, 2)
        n = q.shape[0]
        x_u, x_l = s.pos_mm[:-1], s.pos_mm[1:]
        # dq per small motion of the upper and the lower body (B_u, B_l).
        bu = np.zeros((n, 6, 6))
        bu[:, :3, :3] = jinv @ rat
        bu[:, 3:, :3] = -rat @ skew(o_g - x_u)
        bu[:, 3:, 3:] = rat
        bl = np.zeros((n, 6, 6))
        bl[:, :3, :3] = -bu[:, :3, :3]
        bl[:, 3:, :3] = rat @ skew(o_g - x_l)
        bl[:, 3:, 3:] = -rat
        y = np.concatenate([s.omega, s.vel_mm_s], axis=1)
        qdot = (bu @ y[:-1, :, None] + bl @ y[1:, :, None])[..., 0]
        kq = (k @ qdot[..., None])[..., 0]
        # A wrench in a lower disc frame (about its origin) to the upper body (E_u) and
        # the lower one (E_l).
        eu = np.zeros((n, 6, 6))
        eu[:, :3, :3] = rot_a
        eu[:, :3, 3:] = skew(o_a - x_u) @ rot_a
        eu[:, 3:, 3:] = rot_a
        el = eu.copy()
        el[:, :3, 3:] = skew(o_a - x_l) @ rot_a
        el = -el
        total = w + self.damping_s * kq
        wrench = np.zeros((n + 1, 6))
        wrench[:-1] += (eu @ total[..., None])[..., 0]
        wrench[1:] += (el @ total[..., None])[..., 0]
        # K y: the same maps on K qdot (used by the step's right-hand side).
        ky = np.zeros((n + 1, 6))
        ky[:-1] += (eu @ kq[..., None])[..., 0]
        ky[1:] += (el @ kq[..., None])[..., 0]
        ku, kl = k @ bu, k @ bl
        diag = np.zeros((n + 1, 6, 6))
        diag[:-1] += eu @ ku
        diag[1:] += el @ kl
        return Forces(
            wrench=wrench,
            k_y=ky,
            diag=diag,
            upper_lower=eu @ kl,
            lower_upper=el @ ku,
            q=q,
            rel=rel,
            rot_a=rot_a,
            o_a=o_a,
            details=det,
        )

    def _with_last(self, s, w, last: Forces, q, rel, det, rot_a, o_a) -> Forces:
        """Return the forces at ``s`` from the wrench ``w`` and the stiffness of ``last``."""
        y = np.concatenate([s.omega, s.vel_mm_s], axis=1)
        ky = (last.diag @ y[..., None])[..., 0]
        ky[:-1] += (last.upper_lower @ y[1:, :, None])[..., 0]
        ky[1:] += (last.lower_upper @ y[:-1, :, None])[..., 0]
        x_u, x_l = s.pos_mm[:-1], s.pos_mm[1:]
        m = (rot_a @ w[:, :3, None])[..., 0]
        f = (rot_a @ w[:, 3:, None])[..., 0]
        wrench = self.damping_s * ky
        wrench[:-1, :3] += m + cross(o_a - x_u, f)
        wrench[:-1, 3:] += f
        wrench[1:, :3] -= m + cross(o_a - x_l, f)
        wrench[1:, 3:] -= f
        return Forces(
            wrench=wrench,
            k_y=ky,
            diag=last.diag,
            upper_lower=last.upper_lower,
            lower_upper=last.lower_upper,
            q=q,
            rel=rel,
            rot_a=rot_a,
            o_a=o_a,
            details=det,
        )

    def rib_stiffness(self, s: BodyState) -> np.ndarray | None:
        """d(rib cage wrench)/d(motion) (6m, 6m) at ``s``, bodies' coordinates; None without."""
        if self.ribs is None:
            return None
        load = rib_load(self.ribs, self._all_poses(s), self.rest_all)
        return self._rib_stiffness(load, s.pos_mm)

    def _all_poses(self, s: BodyState) -> np.ndarray:
        full = self.rest_all.copy()
        full[self.top : self.bottom + 1] = s.poses()
        return full

    def step(
        self,
        s: BodyState,
        h: float,
        extra: Extra | None = None,
        fixed: Sequence[int] = (),
        seg: SegmentSet | None = None,
        forces: Forces | None = None,
        rib_k: np.ndarray | None = None,
        lu: dict | None = None,
        reuse: bool = False,
    ) -> BodyState:
        """Advance ``s`` by one step of ``h`` seconds; return the new state.

        Parameters
        ----------
        s : BodyState
        h : float
            Step, s.
        extra : Extra, optional
            Forces from outside the tissues (hands, table, thrust, muscles).
        fixed : sequence of int
            Bodies held still (their velocity stays zero).
        seg : SegmentSet, optional
            Tissues to use instead of :attr:`seg`.
        forces : Forces, optional
            :meth:`evaluate` at ``s`` if known.
        rib_k : (6m, 6m) float, optional
            The rib cage's stiffness to step with (:meth:`rib_stiffness`, which it
            changes slowly, so a recent one serves); by default worked out at ``s``.
            The rib cage's wrench itself is always taken at ``s``.
        lu : dict, optional
            Where the step keeps its matrix's LU factors, to be used again.
        reuse : bool, default: False
            Step with the factors in ``lu`` from an earlier step instead of new ones
            (a step with a matrix a step old stays consistent, as with ``forces``
            whose stiffness is a step old).
        """
        b = self.n_bodies
        beta = self.damping_s
        f = self.evaluate(s, seg) if forces is None else forces
        if any(k < b - len(fixed) for k in fixed):
            raise ValueError("only the last bodies can be held still")
        fresh = not (reuse and lu is not None and "factors" in lu)
        rot_t = np.swapaxes(s.rot, 1, 2)
        c = (s.rot @ self.inertia.com_mm[..., None])[..., 0]
        y = np.concatenate([s.omega, s.vel_mm_s], axis=1)  # (B, 6)
        coef = h * beta + h * h
        rhs = f.wrench + h * f.k_y
        # Velocity products: (w x I w, m w x (w x c)), I about the origin, turned.
        iw = (s.rot @ (self.inertia.inertia_tmm2 @ (rot_t @ s.omega[..., None])))[..., 0]
        rhs[:, :3] -= cross(s.omega, iw)
        rhs[:, 3:] -= self.inertia.mass_t[:, None] * cross(s.omega, cross(s.omega, c))
        if extra is not None:
            rhs += extra.wrench
            if extra.stiffness is not None:
                rhs += h * (extra.stiffness @ y[..., None])[..., 0]
        rhs = rhs.reshape(-1)
        if self.ribs is not None:
            load = rib_load(self.ribs, self._all_poses(s), self.rest_all)
            krib = self._rib_stiffness(load, s.pos_mm) if rib_k is None else rib_k
            ri = self.rib_index
            rd = slice(6 * int(ri[0]), 6 * int(ri[-1]) + 6)
            kr_y = krib @ y[ri].reshape(-1)
            rhs[rd] += self._rib_wrench(load.wrench, s.pos_mm[ri]).reshape(-1)
            rhs[rd] += (beta + h) * kr_y
        rhs *= h
        m = 6 * b - 6 * len(fixed)  # the held bodies are the last ones
        if fresh:
            block = self.mass_matrix(s.rot)[0] - coef * f.diag
            if extra is not None:
                if extra.stiffness is not None:
                    block -= h * h * extra.stiffness
                if extra.damping is not None:
                    block -= h * extra.damping
            big = np.zeros((b, 6, b, 6))
            idx = np.arange(b)
            big[idx, :, idx, :] = block
            big[idx[:-1], :, idx[1:], :] = -coef * f.upper_lower
            big[idx[1:], :, idx[:-1], :] = -coef * f.lower_upper
            big = big.reshape(6 * b, 6 * b)
            if self.ribs is not None:
                big[rd, rd] -= coef * krib
            factors = _factor(big[:m, :m])
            if lu is not None:
                lu["factors"] = factors
        else:
            factors = lu["factors"]
        dy = np.zeros(6 * b)
        dy[:m] = _lu_solve(factors, rhs[:m])
        y_new = y + dy.reshape(b, 6)
        turn = rodrigues(h * y_new[:, :3])
        return BodyState(
            rot=turn @ s.rot,
            pos_mm=s.pos_mm + h * y_new[:, 3:],
            omega=y_new[:, :3],
            vel_mm_s=y_new[:, 3:],
        )

    def _rib_stiffness(self, load, pos: np.ndarray) -> np.ndarray:
        """d(rib cage wrench)/d(motion) (6m, 6m) in the bodies' coordinates (about origins)."""
        k0 = -load.stiffness
        m = self.rib_index.shape[0]
        p = pos[self.rib_index]
        # Wrench about the global origin to about each body's origin: M_k = M_0 - x_k x F.
        t = np.zeros((m, 6, 6))
        t[:, :3, :3] = t[:, 3:, 3:] = np.eye(3)
        t[:, :3, 3:] = -skew(p)
        # A body's (rotation, origin displacement) to its origin screw: v0 = u + x_k x w.
        hm = np.zeros((m, 6, 6))
        hm[:, :3, :3] = hm[:, 3:, 3:] = np.eye(3)
        hm[:, 3:, :3] = skew(p)
        k4 = k0.reshape(m, 6, m, 6).transpose(0, 2, 1, 3)  # (v, w, 6, 6)
        out = t[:, None] @ k4 @ hm[None]
        return out.transpose(0, 2, 1, 3).reshape(6 * m, 6 * m)

    @staticmethod
    def _rib_wrench(w0: np.ndarray, p: np.ndarray) -> np.ndarray:
        out = w0.copy()
        out[:, :3] -= cross(p, w0[:, 3:])
        return out


def compile_chain(
    model: SpineModel,
    seg: SegmentSet,
    inertia: Inertia,
    damping_s: float,
    levels: str | None = None,
) -> Chain:
    """Return the chain of ``model``'s specimen ``levels`` with tissues ``seg``.

    Parameters
    ----------
    model : SpineModel
    seg : SegmentSet
        Tissues of every segment of the model (those of the specimen are taken).
    inertia : Inertia
        Mass properties of the specimen's bodies, top to bottom.
    damping_s : float
        Tissue damping as a multiple of the tangent stiffness, s.
    levels : str, optional
        The specimen (``"T11-S1"``); the whole model by default.
    """
    one_blas_thread()  # small dense systems every step: threads only wait for each other
    top, bottom = model.level_span(levels)
    sl = slice(top, bottom)
    sub = _sub_segments(seg, sl)
    pre = np.array([j.disc_frame_in_lower for j in model.joints[sl]])
    post = np.array([j.disc_frame_in_upper for j in model.joints[sl]])
    rest = np.array([v.rest_pose for v in model.vertebrae[top : bottom + 1]])
    ribs = compile_rib_cage_mechanics(model, top, bottom)
    rib_index = np.zeros(0, int) if ribs is None else np.asarray(ribs.vertebrae) - top
    rest_all = np.array([v.rest_pose for v in model.vertebrae])
    return Chain(
        model=model,
        top=top,
        bottom=bottom,
        seg=sub,
        ribs=ribs,
        inertia=inertia,
        rest=rest,
        pre_rot=pre[:, :3, :3].copy(),
        pre_pos=pre[:, :3, 3].copy(),
        post_rot=post[:, :3, :3].copy(),
        post_pos=post[:, :3, 3].copy(),
        damping_s=float(damping_s),
        rib_index=rib_index,
        rest_all=rest_all,
    )


def _sub_segments(seg: SegmentSet, sl: slice) -> SegmentSet:
    """Return the tissues of the segments ``sl`` only."""
    from dataclasses import fields, replace

    changes = {}
    for f in fields(seg):
        value = getattr(seg, f.name)
        if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == len(seg.names):
            changes[f.name] = value[sl]
    changes["names"] = seg.names[sl]
    return replace(seg, **changes)
