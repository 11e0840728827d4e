"""The six-degree-of-freedom motion segment: disc, ligaments and facet contact.

A segment's state ``q = (phi, t)`` places the upper vertebra's disc frame in the lower
one's: ``phi`` (3,) is a rotation vector (rad) and ``t`` (3,) the translation of the
frame's origin (mm), both in the lower disc frame (+X anterior, +Y superior, +Z right).
At rest ``q = 0`` and the two disc frames coincide. The tissues push back on the upper
vertebra with a wrench ``(M, F)`` taken about the lower disc-frame origin:

- **disc**: a nonlinear element at the disc centre, diagonal in the disc frame, each
  stiffness from the disc's geometry and one of a few shared moduli (compression and
  bending ``E A / h`` and ``E I / h``; shear and torsion ``G A / h`` and ``G J / h``
  with ``J`` of the annulus ring), stiffening with the fibre strain it causes;
- **ligaments**: tension-only springs between landmarks measured on the two bones
  (anterior and posterior longitudinal, flavum, interspinous, supraspinous,
  intertransverse) and the facet capsules around each articular surface, with a toe
  region (Blankevoort's law);
- **facets**: smooth penalty contact between the articular surfaces: points on the
  upper vertebra's inferior surface against the plane of the lower one's superior
  surface, so the contact gives force *and* moment and the axis of rotation moves to
  the impacted facet by itself;
- **bone on bone**: the same contact between the upper vertebra's posterior elements
  (articular processes, laminae, spinous process) and the lower bone where they would
  meet, measured on the bones (:class:`~spine3d.anatomy.model.BoneContact`).

No term knows the region or the level: everything per segment comes from the model's
geometry; the shared constants come from :func:`constants`. Arrays are vectorised over
any leading batch axes and the segment axis ``n``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, cached_property, partial
from importlib import resources
from types import MappingProxyType

import numpy as np

from ..anatomy import SpineModel
from ..anatomy.frames import invert
from ..anatomy.model import CONTACT_SITES
from .params import _rows

__all__ = [
    "SegmentSet",
    "compile_segments",
    "constants",
    "cross",
    "fitted_constants",
    "left_jacobian",
    "lever_mm",
    "rodrigues",
    "skew",
]

# Ligament bundles: (name, lower landmark, upper landmark, stiffness key). A derived
# landmark "flavum" lies between the posterior body border and the spinous base.
_LIGAMENTS = (
    ("ALL", "anterior_body", "anterior_body", "all"),
    ("PLL", "posterior_body", "posterior_body", "pll"),
    ("LF", "flavum", "flavum", "lf"),
    ("ISL", "spinous_base", "spinous_base", "isl"),
    ("SSL", "spinous_tip", "spinous_tip", "ssl"),
    ("ITL_left", "transverse_tip_left", "transverse_tip_left", "itl"),
    ("ITL_right", "transverse_tip_right", "transverse_tip_right", "itl"),
)
_CAPSULE_FIBRES = 4  # around the rim of each articular surface
_CONTACT_RING = 6  # contact points on a ring, plus the centre


@cache
def constants() -> Mapping[str, float]:
    """Return the tissue inputs and fitted constants of the 3D segment ``{key: value}``.

    Inputs come from ``data/tissue3d.csv`` (tissue tests, with sources); the fitted
    constants from ``data/calibration.json`` (see ``benchmarks/calibrate.py``).
    """
    values = {r["key"]: float(r["value"]) for r in _rows("tissue3d.csv")}
    values.update(fitted_constants())
    return MappingProxyType(values)


def fitted_constants() -> dict[str, float]:
    """Return ``{constant: value}`` from the calibration manifest."""
    text = resources.files(__package__).joinpath("data", "calibration.json").read_text("utf-8")
    return {c["constant"]: float(c["value"]) for c in json.loads(text)["constants"]}


_EYE3 = np.eye(3)
_EYE3.flags.writeable = False


def rodrigues(phi: np.ndarray) -> np.ndarray:
    """Return rotation matrices (..., 3, 3) of rotation vectors ``phi`` (..., 3), rad."""
    th2 = np.einsum("...i,...i->...", phi, phi)[..., None, None]
    th = np.sqrt(th2)
    small = th2 < 1e-12
    a = np.where(small, 1.0 - th2 / 6.0, np.sin(th) / np.where(small, 1.0, th))
    b = np.where(small, 0.5 - th2 / 24.0, (1.0 - np.cos(th)) / np.where(small, 1.0, th2))
    k = skew(phi)
    return _EYE3 + a * k + b * (k @ k)


@dataclass(frozen=True, eq=False)
class SegmentSet:
    """Compiled tissues of ``n`` segments (top to bottom), all in each lower disc frame.

    Attributes
    ----------
    disc_k : (n, 6) float
        Disc stiffness: rotations about X, Y, Z (N mm / rad), translations along X, Y,
        Z (N / mm).
    disc_strain : (n, 6) float
        Fibre strain per unit of each degree of freedom (per rad, per mm).
    strain_stiffening : float
        Fibre strain at which the disc's stiffness has grown fourfold.
    lig_lower, lig_upper : (n, L, 3) float
        Insertions on the lower and upper vertebra, mm (upper: at rest).
    lig_k : (n, L) float
        Ligament stiffness times rest length, N per unit strain (0: absent).
    lig_rest_mm : (n, L) float
    toe_strain : (n, L) float
        End of the toe region of each ligament.
    facet_point : (n, 2, P, 3) float
        Contact points on the upper (inferior) articular surfaces at rest, mm.
    facet_plane : (n, 2, 3) float
        A point on the lower (superior) articular surface, mm.
    facet_normal : (n, 2, 3) float
        Its unit normal, toward the upper surface.
    facet_k : (n, 2) float
        Contact stiffness per point, N / mm**1.5 (0: facet removed).
    mobility : (n,) float
    names : tuple of str
    contact_point : (n, C, 3) float, optional
        Points on the upper vertebra's posterior elements at rest, mm (bone on bone).
    contact_plane : (n, C, 3) float, optional
        The point of the lower bone each would meet, mm.
    contact_normal : (n, C, 3) float, optional
        Unit normal of the lower bone there, toward the upper point.
    contact_k : (n, C) float, optional
        Contact stiffness, N / mm**1.5 (0: no contact at that site).
    """

    disc_k: np.ndarray
    disc_strain: np.ndarray
    strain_stiffening: float
    lig_lower: np.ndarray
    lig_upper: np.ndarray
    lig_k: np.ndarray
    lig_rest_mm: np.ndarray
    toe_strain: np.ndarray
    facet_point: np.ndarray
    facet_plane: np.ndarray
    facet_normal: np.ndarray
    facet_k: np.ndarray
    mobility: np.ndarray
    names: tuple[str, ...]
    contact_point: np.ndarray | None = None
    contact_plane: np.ndarray | None = None
    contact_normal: np.ndarray | None = None
    contact_k: np.ndarray | None = None

    def wrench(self, q: np.ndarray) -> np.ndarray:
        """Return the tissues' wrench on the upper vertebra, (..., n, 6).

        Parameters
        ----------
        q : (..., n, 6) float
            Rotation vector (rad) and translation (mm) of each segment.

        Returns
        -------
        (..., n, 6) float
            Moment about the lower disc-frame origin (N mm) and force (N), lower disc
            frame.
        """
        return self._evaluate(q, False)[0]

    def tangent(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the wrench (n, 6) and its exact derivative (n, 6, 6) in ``q`` (n, 6).

        ``jac[i, a, b]`` is the change of wrench component ``a`` of segment ``i`` per
        unit of its ``q[b]`` (N mm / rad, N mm / mm, N / rad, N / mm), derived term by
        term from the same tissue laws as :meth:`wrench`.
        """
        w, _, jac = self._evaluate(q, False, True)
        return w, jac()

    def details(self, q: np.ndarray) -> dict[str, np.ndarray]:
        """Per-side facet gap (mm) and force (N) and capsule stretch (mm), each (..., 2, n)."""
        return self._evaluate(q)[1]()

    @cached_property
    def _points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every point of the upper body at rest: ligaments, facets, then bone contacts.

        Returns the points (n, L + F + C, 3), and per contact point (F facet and C bone
        points) the normal (n, F + C, 3) and offset (n, F + C) of its plane (``gap =
        p . normal - offset``) and its contact stiffness (n, F + C).
        """
        n, sides, per = self.facet_point.shape[:3]
        points = [self.lig_upper, self.facet_point.reshape(n, sides * per, 3)]
        normal = [np.repeat(self.facet_normal, per, axis=1)]
        offset = [np.repeat(np.sum(self.facet_plane * self.facet_normal, -1), per, axis=1)]
        k = [np.repeat(self.facet_k, per, axis=1)]
        if self.contact_point is not None:
            points.append(self.contact_point)
            normal.append(self.contact_normal)
            offset.append(np.sum(self.contact_plane * self.contact_normal, -1))
            k.append(self.contact_k)
        out = tuple(np.concatenate(a, axis=1) for a in (points, normal, offset, k))
        for a in out:
            a.flags.writeable = False
        return out

    def _evaluate(
        self,
        q: np.ndarray,
        details: bool = True,
        tangent: bool = False,
        rot: np.ndarray | None = None,
        jl: np.ndarray | None = None,
    ) -> tuple[np.ndarray, Callable[[], dict] | None, Callable[[], np.ndarray] | None]:
        """Return the wrench, the deferred details and the deferred tangent at ``q`` (n, 6).

        The details and the tangent, each ``None`` unless asked for, are functions of no
        arguments returning :meth:`details`'s mapping and the Jacobian (n, 6, 6); ``rot``
        and ``jl`` are ``rodrigues(q[..., :3])`` and ``left_jacobian(q[..., :3])`` if known.
        """
        phi, t = q[..., :3], q[..., 3:]
        rot_t = np.swapaxes(rodrigues(phi) if rot is None else rot, -1, -2)
        # Disc: diagonal, stiffening with the fibre strain of each degree of freedom.
        e = q * self.disc_strain / self.strain_stiffening
        w = -self.disc_k * q * (1.0 + e * e)
        disc_force = w[..., 3:]
        # Every point of the upper body, turned (pa) and placed (px); the force on it (pf).
        upper, normal, offset, k_contact = self._points
        nl = self.lig_upper.shape[1]
        pa = upper @ rot_t
        px = pa + t[..., None, :]
        pf = np.empty(px.shape)
        # Ligaments: tension only, toe region up to the toe strain.
        d = px[..., :nl, :] - self.lig_lower
        length = np.sqrt(np.einsum("...i,...i->...", d, d))
        strain = length / self.lig_rest_mm - 1.0
        et = self.toe_strain
        pos = np.maximum(strain, 0.0)
        toe = pos < et
        tension = self.lig_k * np.where(toe, pos * pos / et, pos - 0.5 * et)
        pf[..., :nl, :] = d * (-tension / np.maximum(length, 1e-9))[..., None]
        # Facets and bone on bone: every contact point against its plane on the lower bone.
        gap = np.einsum("...i,...i->...", px[..., nl:, :], normal) - offset
        pen = np.maximum(-gap, 0.0)
        root = np.sqrt(pen)
        push = k_contact * pen * root
        pf[..., nl:, :] = push[..., None] * normal
        wrench = np.empty(q.shape)
        wrench[..., 3:] = disc_force + pf.sum(-2)
        wrench[..., :3] = w[..., :3] + cross(0.5 * t, disc_force) + _cross_sum(px, pf)
        jac = None
        if tangent:
            # The tangent from the same intermediate arrays, computed only when called.
            jac = partial(
                self._jacobian, q, e, disc_force, px, pa, pf, d, length, tension, pos, toe, root, jl
            )
        return wrench, partial(self._details, gap, push, length) if details else None, jac

    def _details(self, gap, push, length) -> dict[str, np.ndarray]:
        nf = self.facet_point.shape[1] * self.facet_point.shape[2]
        gap, push = gap[..., :nf], push[..., :nf]
        nl = len(_LIGAMENTS)
        cap = np.maximum(length[..., nl:] - self.lig_rest_mm[..., nl:], 0.0)
        cap = cap.reshape(cap.shape[:-1] + (2, _CAPSULE_FIBRES)).max(-1)
        sides = gap.shape[:-1] + (2, -1)
        return {
            "gap_mm": np.swapaxes(gap.reshape(sides)[..., 0], -1, -2),
            "force_n": np.swapaxes(push.reshape(sides).sum(-1), -1, -2),
            "capsule_mm": np.swapaxes(cap, -1, -2),
        }

    def _jacobian(
        self, q, e, disc_force, px, pa, pf, d, length, tension, pos, toe, root, jl=None
    ) -> np.ndarray:
        """Exact tangent (n, 6, 6) of the wrench of :meth:`_evaluate` at ``q`` (n, 6)."""
        n = q.shape[0]
        nl = d.shape[1]
        jac = np.zeros((n, 6, 6))
        # Disc: d/dq of -k q (1 + e^2) is -k (1 + 3 e^2); the moment of its force about
        # the origin, cross(t / 2, F), adds skew(t / 2) dF/dt - skew(F) / 2.
        diag = -self.disc_k * (1.0 + 3.0 * e * e)
        jac.reshape(n, 36)[:, ::7] = diag
        jac[:, :3, 3:] += skew(0.5 * q[:, 3:]) * diag[:, None, 3:] - 0.5 * skew(disc_force)
        # Every point of the upper body: ligament insertions and contact points,
        # each with the force f on it and its stiffness K = df/dx = alpha u u^T + beta I
        # (u along the ligament or the facet normal; beta only on ligaments), so that
        # every sum over the points below is a sum of outer products.
        lng = np.maximum(length, 1e-9)
        slope = self.lig_k * np.where(toe, 2.0 * pos / self.toe_strain, 1.0) / self.lig_rest_mm
        slope = np.where(pos > 0.0, slope, 0.0)
        tl = tension / lng
        u = np.empty(px.shape)
        u[:, :nl] = d / lng[..., None]
        u[:, nl:] = self._points[1]
        alpha = np.empty(px.shape[:-1])
        alpha[:, :nl] = tl - slope
        alpha[:, nl:] = -1.5 * self._points[3] * root
        beta = -tl
        lx, la = px[:, :nl], pa[:, :nl]
        ua = cross(u, pa)
        xu = cross(px, u)
        au = (alpha[..., None] * u).swapaxes(1, 2)
        axu = (alpha[..., None] * xu).swapaxes(1, 2)
        ba = (beta[..., None] * la).swapaxes(1, 2)
        eye = _EYE3
        # dx/dphi = -skew(A) J, dx/dt = I, with A = R u the turned insertion;
        # skew(a) skew(b) = b a^T - (a . b) I.
        if jl is None:
            jl = left_jacobian(q[:, :3])
        k_sa = au @ ua + skew(ba.sum(-1))
        jac[:, 3:, :3] -= k_sa @ jl
        jac[:, 3:, 3:] += au @ u + beta.sum(-1)[:, None, None] * eye
        xka = axu @ ua + ba @ lx - np.einsum("np,npi,npi->n", beta, lx, la)[:, None, None] * eye
        fa = pa.swapaxes(1, 2) @ pf - np.einsum("npi,npi->n", pf, pa)[:, None, None] * eye
        jac[:, :3, :3] += (fa - xka) @ jl
        jac[:, :3, 3:] += axu @ u + skew((beta[..., None] * lx).sum(1)) - skew(pf.sum(1))
        return jac


# Sum of cross products from the sum of outer products M = sum a b^T: (M12 - M21, ...).
_CROSS_SUM = np.zeros((9, 3))
for _i, (_a, _b) in enumerate(((1, 2), (2, 0), (0, 1))):
    _CROSS_SUM[3 * _a + _b, _i], _CROSS_SUM[3 * _b + _a, _i] = 1.0, -1.0
_CROSS_SUM.flags.writeable = False


def _cross_sum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sum over the second-last axis of the cross products of ``a`` and ``b`` (..., p, 3)."""
    outer = np.swapaxes(a, -1, -2) @ b
    return outer.reshape(outer.shape[:-2] + (9,)) @ _CROSS_SUM


# skew(v) = v @ _SKEW, reshaped: one product instead of six assignments.
_SKEW = np.zeros((3, 9))
for _row, _col, _sign in ((2, 1, -1), (1, 2, 1), (2, 3, 1), (0, 5, -1), (1, 6, -1), (0, 7, 1)):
    _SKEW[_row, _col] = _sign
_SKEW.flags.writeable = False


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross product over the last axis, broadcast (faster than ``np.cross`` on small arrays).

    Two matrix products (``skew(a) @ b``) instead of nine elementwise operations.
    """
    return ((a @ _SKEW).reshape(a.shape + (3,)) @ b[..., None])[..., 0]


def skew(v: np.ndarray) -> np.ndarray:
    """Cross-product matrices (..., 3, 3) of vectors ``v`` (..., 3)."""
    return (v @ _SKEW).reshape(v.shape + (3,))


def left_jacobian(phi: np.ndarray) -> np.ndarray:
    """Left Jacobians (..., 3, 3) of the rotation exponential at ``phi`` (..., 3).

    ``rodrigues(phi + dphi) = rodrigues(J dphi) rodrigues(phi)`` to first order.
    """
    th2 = np.einsum("...i,...i->...", phi, phi)[..., None, None]
    th = np.sqrt(th2)
    small = th2 < 1e-10
    a = np.where(small, 0.5 - th2 / 24, (1 - np.cos(th)) / np.where(small, 1.0, th2))
    b = np.where(small, 1 / 6 - th2 / 120, (th - np.sin(th)) / np.where(small, 1.0, th2 * th))
    k = skew(phi)
    return _EYE3 + a * k + b * (k @ k)


def lever_mm(model: SpineModel) -> np.ndarray:
    """Return the facet lever ``(y x r) . n`` of every joint, (2, n) mm/rad, left first.

    How fast each facet closes (or opens) per radian of axial rotation about the
    joint's axis: ``r`` from the axis to the facet's centre, ``n`` its normal.
    """
    out = np.empty((2, len(model.joints)))
    y = np.array([0.0, 1.0, 0.0])
    for i, j in enumerate(model.joints):
        for s, f in enumerate(j.facets):
            r = np.asarray(f.centre_mm) - np.asarray(j.axis_point_mm)
            out[s, i] = float(np.dot(np.cross(y, r), f.normal))
    return out


def _in_disc(frame: np.ndarray, point: np.ndarray) -> np.ndarray:
    return (invert(frame) @ np.append(point, 1.0))[:3]


def _facet_axes(normal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """In-plane unit axes of a facet: along its width (horizontal) and its height."""
    w = np.cross([0.0, 1.0, 0.0], normal)
    w = w / np.linalg.norm(w) if np.linalg.norm(w) > 1e-9 else np.array([1.0, 0.0, 0.0])
    return w, np.cross(normal, w)


def compile_segments(
    model: SpineModel, factors: tuple[float, ...], values: Mapping[str, float] | None = None
) -> SegmentSet:
    """Compile the tissues of every segment of ``model`` with a mobility factor each.

    Parameters
    ----------
    model : SpineModel
    factors : tuple of float, length n
        Mobility factor: every stiffness is divided by it, the facet clearance
        multiplied by it.
    values : mapping, optional
        Constants to use instead of :func:`constants` (a calibration's trial values).

    Returns
    -------
    SegmentSet
    """
    c = {**constants(), **(values or {})}
    f = np.asarray(factors, dtype=float)
    n = len(model.joints)
    disc_k = np.zeros((n, 6))
    disc_strain = np.zeros((n, 6))
    nl = len(_LIGAMENTS) + 2 * _CAPSULE_FIBRES
    lo = np.zeros((n, nl, 3))
    up = np.zeros((n, nl, 3))
    up[..., 1] = lo[..., 1] = 0.0
    lig_k = np.zeros((n, nl))
    toe = np.full((n, nl), c["capsule_toe_strain"])
    pts = np.zeros((n, 2, 1 + _CONTACT_RING, 3))
    plane = np.zeros((n, 2, 3))
    normal = np.zeros((n, 2, 3))
    facet_k = np.zeros((n, 2))
    ring = np.linspace(0.0, 2 * math.pi, _CONTACT_RING, endpoint=False)
    rim = np.linspace(0.0, 2 * math.pi, _CAPSULE_FIBRES, endpoint=False) + math.pi / 4
    for i, j in enumerate(model.joints):
        a, b, h = j.disc_width_mm / 2, j.disc_depth_mm / 2, j.disc_height_mm
        area = math.pi * a * b
        # Torsion by the annulus ring (Bredt): J = 4 A^2 t / perimeter (Ramanujan).
        perim = math.pi * (3 * (a + b) - math.sqrt((3 * a + b) * (a + 3 * b)))
        wall = c["annulus_wall_mm"]
        e_c, e_b, g = (
            c["disc_compression_modulus_mpa"],
            c["disc_bending_modulus_mpa"],
            c["disc_shear_modulus_mpa"],
        )
        disc_k[i] = [
            e_b * math.pi * b * a**3 / 4 / h,  # lateral bending, about X
            g * 4 * area * area * wall / perim / h,  # axial rotation, about Y
            e_b * math.pi * a * b**3 / 4 / h,  # flexion-extension, about Z
            g * area / h,  # shear, anterior
            e_c * area / h,  # compression
            g * area / h,  # shear, lateral
        ]
        # Outermost fibre strain per unit rotation or translation.
        disc_strain[i] = [a / h, math.sqrt(a * b) / h, b / h, 1 / h, 1 / h, 1 / h]
        lower, upper = model.vertebra(j.lower), model.vertebra(j.upper)

        def mark(v, name):
            lm = v.landmarks
            if name == "flavum":
                if "posterior_body" in lm and "spinous_base" in lm:
                    return 0.25 * lm["posterior_body"] + 0.75 * lm["spinous_base"]
                return None
            return lm.get(name)

        for k, (_, lname, uname, key) in enumerate(_LIGAMENTS):
            pl, pu = mark(lower, lname), mark(upper, uname)
            toe[i, k] = c[f"{key}_toe_strain"]
            if pl is None or pu is None:
                lo[i, k], up[i, k] = [0.0, -1.0, 0.0], [0.0, 1.0, 0.0]
                continue
            lo[i, k] = _in_disc(j.disc_frame_in_lower, pl)
            up[i, k] = _in_disc(j.disc_frame_in_upper, pu)
            lig_k[i, k] = c[f"{key}_stiffness_n_per_mm"]
            toe[i, k] = c[f"{key}_toe_strain"]
        for s, fa in enumerate(j.facets):
            nrm = np.asarray(fa.normal, dtype=float)
            ew, eh = _facet_axes(nrm)
            clear = fa.clearance_mm * f[i]
            centre = np.asarray(fa.centre_mm, dtype=float)
            plane[i, s] = centre - 0.5 * clear * nrm
            normal[i, s] = nrm
            rw, rh = 0.35 * fa.width_mm, 0.35 * fa.height_mm
            pts[i, s, 0] = centre + 0.5 * clear * nrm
            for r, ang in enumerate(ring):
                pts[i, s, 1 + r] = pts[i, s, 0] + rw * math.cos(ang) * ew + rh * math.sin(ang) * eh
            if not fa.removed:
                facet_k[i, s] = c["contact_stiffness_n_per_mm15"] / (1 + _CONTACT_RING)
            half = 0.5 * c["capsule_length_mm"]
            for r, ang in enumerate(rim):
                k = len(_LIGAMENTS) + s * _CAPSULE_FIBRES + r
                edge = centre + 0.5 * (
                    fa.width_mm * math.cos(ang) * ew + fa.height_mm * math.sin(ang) * eh
                )
                lo[i, k] = edge - (half + 0.5 * clear) * nrm
                up[i, k] = edge + (half + 0.5 * clear) * nrm
                if not fa.removed:
                    lig_k[i, k] = c["capsule_stiffness_n_per_mm"] / _CAPSULE_FIBRES
    # Bone on bone: the posterior elements meet the lower bone through the same contact
    # law as the articular cartilage (one site like one facet).
    sites = {site: k for k, site in enumerate(CONTACT_SITES)}
    c_pt = np.zeros((n, len(sites), 3))
    c_pl = np.zeros((n, len(sites), 3))
    c_nm = np.zeros((n, len(sites), 3))
    c_nm[..., 1] = 1.0
    c_pt[..., 1] = 1.0  # an absent site lies 1 mm clear of its plane, with no stiffness
    c_k = np.zeros((n, len(sites)))
    for i, j in enumerate(model.joints):
        for bc in j.contacts:
            k = sites[bc.site]
            c_pt[i, k], c_pl[i, k], c_nm[i, k] = bc.point_mm, bc.plane_mm, bc.normal
            c_k[i, k] = c["contact_stiffness_n_per_mm15"]
    rest = np.linalg.norm(up - lo, axis=-1)
    # Capsule fibres are slack at rest (Remus 2021): they tighten past that strain.
    rest[:, len(_LIGAMENTS) :] *= 1.0 + c["capsule_slack_strain"]
    lig_k = lig_k * c["ligament_stiffness_scale"]
    seg = SegmentSet(
        disc_k=disc_k / f[:, None],
        disc_strain=disc_strain,
        strain_stiffening=c["disc_stiffening_strain"],
        lig_lower=lo,
        lig_upper=up,
        lig_k=lig_k * rest / f[:, None],
        lig_rest_mm=rest,
        toe_strain=toe,
        facet_point=pts,
        facet_plane=plane,
        facet_normal=normal,
        facet_k=facet_k / f[:, None],
        mobility=f,
        names=tuple(j.name for j in model.joints),
        contact_point=c_pt,
        contact_plane=c_pl,
        contact_normal=c_nm,
        contact_k=c_k / f[:, None],
    )
    for value in vars(seg).values():
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
    return seg
