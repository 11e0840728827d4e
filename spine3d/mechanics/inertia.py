"""Mass and inertia of each level's body for the time-domain model.

A vertebra moves with a slice of the trunk: the slice masses of a full-body model
(Bruno et al. 2015) per level, each taken as a uniform elliptic slab (the trunk's
breadth and depth, its level's height) centred a little anterior of the vertebral
body; T1 also carries the head and neck, the shoulder level the arms, and S1 the
pelvis. The bone itself adds its own mass and inertia, measured on the bone
(:attr:`~spine3d.anatomy.Vertebra.bone_inertia`). Every number and its source is in
``data/inertia.csv``; masses scale with ``body_mass_kg``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

import numpy as np

from ..anatomy import SpineModel
from ..errors import SpineInputError
from .dynamics import Inertia
from .params import _rows

__all__ = ["body_inertia", "inertia_inputs"]


@cache
def inertia_inputs() -> Mapping[str, float]:
    """Return the inputs of :func:`body_inertia` ``{key: value}`` (units in the keys)."""
    return MappingProxyType({r["key"]: float(r["value"]) for r in _rows("inertia.csv")})


def _slab(mass_kg: float, a: float, b: float, h: float) -> np.ndarray:
    """Inertia (3, 3) of a uniform elliptic slab about its centre, kg mm^2.

    Semi-axes ``a`` (lateral, Z) and ``b`` (anterior, X), height ``h`` (Y), mm.
    """
    return mass_kg * np.diag([b * b / 4 + h * h / 12, (a * a + b * b) / 4, a * a / 4 + h * h / 12])


def _point(mass_kg: float, p: np.ndarray) -> np.ndarray:
    """Inertia (3, 3) of a point mass at ``p`` about the origin, kg mm^2."""
    return mass_kg * (float(p @ p) * np.eye(3) - np.outer(p, p))


def body_inertia(
    model: SpineModel, levels: str | None = None, body_mass_kg: float | None = None
) -> Inertia:
    """Return the mass properties of the bodies of a specimen, top to bottom.

    Parameters
    ----------
    model : SpineModel
    levels : str, optional
        The specimen (``"T1-S1"`` by default, the whole model).
    body_mass_kg : float, optional
        Body mass; by default ``body_mass_kg`` of ``data/inertia.csv``.

    Returns
    -------
    Inertia
        Masses (tonnes), centres of mass and inertias about each body's origin in its
        local frame (mm, t mm^2): the units of :mod:`.dynamics`.
    """
    p = inertia_inputs()
    mass = p["body_mass_kg"] if body_mass_kg is None else float(body_mass_kg)
    if not 20.0 <= mass <= 250.0:
        raise SpineInputError(f"body_mass_kg = {mass:g}: expected 20 to 250 kg")
    scale = mass / p["body_mass_kg"]
    top, bottom = model.level_span(levels)
    names = model.level_names
    n = bottom - top + 1
    m_kg = np.zeros(n)
    first_mom = np.zeros((n, 3))
    inertia = np.zeros((n, 3, 3))
    a, b = p["trunk_half_width_mm"], p["trunk_half_depth_mm"]
    centre = np.array([p["trunk_centre_anterior_mm"], 0.0, 0.0])
    for k, i in enumerate(range(top, bottom + 1)):
        name = names[i]
        v = model.vertebrae[i]
        parts: list[tuple[float, np.ndarray, np.ndarray]] = []
        if name == "S1":
            mk = p["pelvis_kg"] * scale
            c = np.zeros(3)
            parts.append(
                (mk, c, _slab(mk, p["pelvis_half_width_mm"], p["pelvis_half_depth_mm"], 150.0))
            )
        else:
            mk = p[f"slice_{name}_kg"] * scale
            height = _level_height_mm(model, i)
            parts.append((mk, centre, _slab(mk, a, b, height)))
        if name == "T1":
            mk = p["head_neck_kg"] * scale
            c = np.array([0.0, p["head_rise_mm"], 0.0])
            r = p["head_radius_mm"]
            parts.append((mk, c, mk * r * r * np.eye(3)))
        if i == int(p["arms_level"]) - 1:
            arm = 0.5 * p["arms_fraction"] * mass
            for side in (-1.0, 1.0):
                c = np.array([0.0, -p["arm_drop_mm"], side * p["shoulder_half_width_mm"]])
                parts.append((arm, c, np.zeros((3, 3))))
        bone = v.bone_inertia
        if bone is not None:
            vol, c_bone, i_unit = bone
            mk = p["bone_density_kg_m3"] * 1e-9 * vol
            parts.append((mk, np.asarray(c_bone, float), mk * np.asarray(i_unit, float)))
        for mk, c, i_c in parts:
            m_kg[k] += mk
            first_mom[k] += mk * c
            inertia[k] += i_c + _point(mk, c)
    com = first_mom / m_kg[:, None]
    return Inertia(mass_t=m_kg * 1e-3, com_mm=com, inertia_tmm2=inertia * 1e-3)


def _level_height_mm(model: SpineModel, i: int) -> float:
    """Height of the trunk slice a level carries: its distance to the next level, mm."""
    poses = [v.rest_pose[:3, 3] for v in model.vertebrae]
    if i + 1 < len(poses):
        return float(np.linalg.norm(poses[i] - poses[i + 1]))
    return float(np.linalg.norm(poses[i] - poses[i - 1]))
