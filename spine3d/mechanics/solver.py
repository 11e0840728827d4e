"""The public solve: a static load on the spine in three dimensions.

:func:`solve` (and :func:`sweep`, :func:`reachable_twist_deg`) is the six-degree-of-freedom
static solve (:mod:`.static`) with loads in every plane, behind the arguments a user gives.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ..anatomy import SpineModel
from ..errors import SpineInputError
from .params import Mobility, mobility_factors
from .state import SpineState, Sweep
from .static import Load, reachable_twist_3d_deg, solve_load

__all__ = ["reachable_twist_deg", "solve", "solve3d", "sweep"]


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

    The three-dimensional model (:mod:`spine3d.mechanics.static`).

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
