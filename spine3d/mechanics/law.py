"""The motion-segment law: resisting torque of one segment as a function of its rotation.

``torque = disc(theta) + sum over sides of (capsule - contact) * lever``

- The disc and ligaments resist torsion with stiffness ``k = G J / h`` (``J`` the torsion
  constant of the annulus, a thin-walled elliptical ring the size of the endplate, ``h``
  the disc height), softer by a ratio inside the
  neutral zone and stiffening quadratically beyond it.
- Each facet of centre ``r`` (from the axis) and normal ``n`` opens at the *lever*
  ``(y x r) . n`` mm per radian. Its gap is ``clearance + lever * theta``; a negative gap
  is cartilage penetration, resisted by ``F = k_c d**1.5``. On the gapping side the
  capsule tightens past its slack.

No term knows the region: thoracic facets slide because their lever is small, lumbar
ones stop rotation because theirs is large. All arrays are vectorised over segments
(last axis) and any leading batch axes. Angles in radians, lengths in mm, torques in
N mm internally.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..anatomy import SpineModel
from .params import tissue

__all__ = ["SegmentLaw", "compile_law"]

_Y = np.array([0.0, 1.0, 0.0])


@dataclass(frozen=True)
class SegmentLaw:
    """Per-segment parameters of the law, arrays of shape (n,) (sides: (2, n), left first).

    Attributes
    ----------
    k_nmm : (n,) float
        Elastic-zone torsional stiffness of disc and ligaments, N mm / rad.
    nz_rad : (n,) float
        Half-width of the neutral zone, rad.
    nz_ratio, stiff_rad : float
        Neutral-zone stiffness ratio; rotation beyond the neutral zone that doubles ``k``.
    lever_mm : (2, n) float
        Facet opening per radian of rotation, mm / rad (negative: closes for +theta).
    clearance_mm : (2, n) float
        Cartilage clearance, mm.
    kc : (n,) float
        Contact stiffness, N / mm**1.5.
    cap_slack_mm, cap_k : (n,) float
        Capsule slack beyond the clearance (mm) and stiffness (N / mm).
    factor : (n,) float
        Mobility factor of each segment.
    """

    k_nmm: np.ndarray
    nz_rad: np.ndarray
    nz_ratio: float
    stiff_rad: float
    lever_mm: np.ndarray
    clearance_mm: np.ndarray
    kc: np.ndarray
    cap_slack_mm: np.ndarray
    cap_k: np.ndarray
    factor: np.ndarray

    def evaluate(
        self, theta: np.ndarray, extra_k: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return resisting torque (N mm) and its derivative (N mm / rad), each like ``theta``.

        ``extra_k`` (broadcastable to ``theta``, N mm / rad) is a linear spring in
        parallel with the segment, e.g. guarding muscles.
        """
        k, nz, r = self.k_nmm, self.nz_rad, self.nz_ratio
        a = np.abs(theta)
        beyond = np.maximum(a - nz, 0.0)
        inside = a <= nz
        mag = np.where(inside, r * a, r * nz + beyond * (1.0 + beyond / (2 * self.stiff_rad)))
        tau = k * np.copysign(mag, theta)
        dtau = k * np.where(inside, r, 1.0 + beyond / self.stiff_rad)
        # Both facets at once: (..., 2, n). Contact pushes back along -lever with
        # F = kc pen**1.5; the capsule pulls with cap_k * stretch along +lever.
        lever = self.lever_mm
        opening = lever * theta[..., None, :]
        pen = np.maximum(-self.clearance_mm - opening, 0.0)
        root = np.sqrt(pen)
        stretch = np.maximum(opening - self.cap_slack_mm, 0.0)
        tau = tau + ((self.cap_k * stretch - self.kc * pen * root) * lever).sum(-2)
        dtau = dtau + ((1.5 * self.kc * root + self.cap_k * (stretch > 0)) * lever * lever).sum(-2)
        if extra_k is not None:
            tau = tau + extra_k * theta
            dtau = dtau + extra_k
        return tau, dtau

    def details(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """Per-side gap (mm), contact force (N) and capsule stretch (mm), each (2, ..., n)."""
        gap = np.stack([self.clearance_mm[s] + self.lever_mm[s] * theta for s in range(2)])
        force = self.kc * np.maximum(-gap, 0.0) ** 1.5
        stretch = np.stack(
            [np.maximum(gap[s] - self.clearance_mm[s] - self.cap_slack_mm, 0.0) for s in range(2)]
        )
        return {"gap_mm": gap, "force_n": force, "capsule_mm": stretch}


def lever_mm(model: SpineModel) -> np.ndarray:
    """Return the facet lever ``(y x r) . n`` of every joint, (2, n) mm/rad, left first."""
    out = np.empty((2, len(model.joints)))
    for i, j in enumerate(model.joints):
        for s, f in enumerate(j.facets):
            r = f.centre_mm - j.axis_point_mm
            out[s, i] = float(np.dot(np.cross(_Y, r), f.normal))
    return out


def compile_law(model: SpineModel, factors: tuple[float, ...]) -> SegmentLaw:
    """Build the vectorised law for ``model`` with a mobility factor per segment.

    Parameters
    ----------
    model : SpineModel
    factors : tuple of float, length n
        Mobility factor of each segment: stiffness is divided by it, the neutral zone
        and the facet clearance are multiplied by it.
    """
    t = tissue()
    f = np.asarray(factors, dtype=float)
    a = np.array([j.disc_width_mm / 2 for j in model.joints])
    b = np.array([j.disc_depth_mm / 2 for j in model.joints])
    h = np.array([j.disc_height_mm for j in model.joints])
    # Torsion is carried by the annulus, a closed ring: Bredt's thin-walled section,
    # J = 4 A^2 t / p, with A and p the area and perimeter of the elliptical endplate.
    area = math.pi * a * b
    perimeter = math.pi * (3 * (a + b) - np.sqrt((3 * a + b) * (a + 3 * b)))  # Ramanujan
    polar_mm4 = 4 * area * area * t["annulus_wall_mm"] / perimeter
    k = t["disc_shear_modulus_mpa"] * polar_mm4 / h
    clearance = np.array([[j.facets[s].clearance_mm for j in model.joints] for s in range(2)])
    law = SegmentLaw(
        k_nmm=k / f,
        nz_rad=np.full_like(f, math.radians(t["neutral_zone_deg"])) * f,
        nz_ratio=t["neutral_zone_stiffness_ratio"],
        stiff_rad=math.radians(t["stiffening_deg"]),
        lever_mm=lever_mm(model),
        clearance_mm=clearance * f,
        kc=t["contact_stiffness_n_per_mm15"] / f,
        cap_slack_mm=t["capsule_slack_mm"] * f,
        cap_k=t["capsule_stiffness_n_per_mm"] / f,
        factor=f,
    )
    for value in vars(law).values():
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
    return law
