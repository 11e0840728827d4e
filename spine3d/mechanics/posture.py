"""Postures a manoeuvre starts from, solved with the static three-dimensional model.

- **standing**: the rest pose; the pelvis held by the legs.
- **side posture**: the patient lies on one side; the practitioner turns the thorax
  back on the upper side while the pelvis rolls forward, flexes the trunk and bends it
  away from the upper side, and so takes the segments above the target to the end of
  their range ("locks" them) before the thrust. Solved as a load on T1 (the sacrum
  held) growing along one direction of moments until the ``lock_levels`` segments just
  above the target are at their end range: each one's stiffness in that load has risen
  to ``lock_stiffness_ratio`` times the stiffness at rest of a normal segment there
  (``data/timedomain.csv``), so a restricted segment counts as locked from the start.
  Which segments lock, and at what load, follows from their tissues; nothing is tabled
  per level.
- **prone**: lying face down on the table, the rest pose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..anatomy import SpineModel
from ..errors import SpineInputError
from .maneuver import Maneuver
from .params import Mobility, timedomain
from .state import SpineState
from .static import COMPONENTS, Load, solve_load

__all__ = ["Posture", "posture_load_direction", "solve_posture"]


@dataclass(frozen=True)
class Posture:
    """The posture a manoeuvre starts from.

    Attributes
    ----------
    name : str
        ``standing``, ``side_posture`` or ``prone``.
    moment_nm : (3,) float
        The load on T1 that holds the posture, ``[flexion, lateral, axial]``, N m (the
        static solve's convention: about T1's rest axes).
    state : SpineState
        The spine in the posture.
    locked : tuple of str
        The segments at their end range.
    upside : str or None
        Side posture: the side that faces up.
    """

    name: str
    moment_nm: np.ndarray
    state: SpineState
    locked: tuple[str, ...]
    upside: str | None = None


def posture_load_direction(upside: str) -> np.ndarray:
    """Return the side posture's load direction ``[flexion, lateral, axial]`` (axial 1).

    The thorax turns back on the upper side (the upper body turns toward it: for the
    right side up, to the right, a negative axial moment), the trunk flexes and bends
    away from the upper side, each of which opens the upper side's lumbar facets.
    """
    p = timedomain()
    sign = -1.0 if upside == "right" else 1.0
    d = np.array([p["side_posture_flexion_share"], sign * p["side_posture_lateral_share"], sign])
    return d / abs(d[2])


def _compliance(states: list[SpineState], d_moment: float) -> np.ndarray:
    """Rotation per N m of each segment between two states (n,), degrees."""
    a, b = states
    return np.linalg.norm(b.rotation3_deg - a.rotation3_deg, axis=1) / d_moment


def solve_posture(
    model: SpineModel,
    maneuver: Maneuver,
    mobility: Mobility | None = None,
    constants: Mapping[str, float] | None = None,
) -> Posture:
    """Solve the posture ``maneuver`` starts from.

    Parameters
    ----------
    model : SpineModel
    maneuver : Maneuver
    mobility : mapping, optional
        ``{segment: state or factor}``.
    constants : mapping, optional
        Segment constants to use instead of the calibrated ones (a cohort's member).

    Returns
    -------
    Posture
    """
    rest = solve_load(model, Load({}, {}), mobility, constants=constants)
    if maneuver.position != "side_posture":
        return Posture(maneuver.position, np.zeros(3), rest, ())
    p = timedomain()
    d = posture_load_direction(maneuver.upside)
    names = model.segment_names
    t = names.index(maneuver.target)
    idx = list(range(max(0, t - int(p["lock_levels"])), t))

    def solve(scale: float) -> SpineState:
        m = {k: float(v) * scale for k, v in zip(COMPONENTS, d, strict=True)}
        return solve_load(model, Load({}, m), mobility, constants=constants)

    step = 0.1
    # Stiffness at rest of the same spine with every segment normal: a restricted
    # segment is as stiff as a locked one from the start.
    m_step = {k: float(v) * step for k, v in zip(COMPONENTS, d, strict=True)}
    normal = [solve_load(model, Load({}, m), None, constants=constants) for m in ({}, m_step)]
    start = _compliance(normal, step)

    def locked_at(scale: float) -> tuple[np.ndarray, SpineState]:
        here = solve(scale)
        slope = _compliance([here, solve(scale * 1.05)], 0.05 * scale)
        ratio = start / np.maximum(slope, 1e-12)
        return ratio >= p["lock_stiffness_ratio"], here

    hi = p["posture_moment_max_nm"]
    ok, state = locked_at(hi)
    if ok[idx].all():
        lo = 0.5
        for _ in range(7):
            mid = 0.5 * (lo + hi)
            ok_mid, _ = locked_at(mid)
            if ok_mid[idx].all():
                hi = mid
            else:
                lo = mid
        ok, state = locked_at(hi)
    if not np.isfinite(state.rotation3_deg).all():
        raise SpineInputError("the side posture could not be solved for this spine")
    locked = tuple(s for s, k in zip(names, ok, strict=True) if k)
    return Posture("side_posture", d * hi, state, locked, maneuver.upside)
