"""A manoeuvre: what is done to the spine over time (the ``[maneuver]`` of a scene).

Kept apart from :mod:`spine3d.mechanics.timedomain` so that loading a scene does not
import the time-domain machinery (and SciPy's signal processing) that only a
simulation needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..anatomy import SEGMENTS, SIDES
from ..errors import SpineInputError
from .params import timedomain

__all__ = ["KINDS", "Maneuver"]

KINDS = ("self_twist", "hvla", "mobilisation")


@dataclass(frozen=True)
class Maneuver:
    """A load over time.

    Attributes
    ----------
    kind : {"self_twist", "hvla", "mobilisation"}
    twist_deg, torque_nm : float, optional
        Peak global twist or torque of a self-twist (exactly one).
    duration_ms : float
        Rise time of a self-twist or mobilisation; length of a thrust.
    target : str, optional
        The segment a thrust or mobilisation acts on (e.g. ``"L4-L5"``).
    preload_n, thrust_n : float
        Preload and peak force of a thrust or mobilisation, N.
    gap_side : {"left", "right"}
        The facet of the target the manoeuvre gaps.
    """

    kind: str
    twist_deg: float | None = None
    torque_nm: float | None = None
    duration_ms: float = 150.0
    target: str | None = None
    preload_n: float = 100.0
    thrust_n: float = 400.0
    gap_side: str = "left"

    def __post_init__(self) -> None:
        def bad(key: str, value: Any, allowed: str) -> SpineInputError:
            return SpineInputError(f"[maneuver] {key} = {value!r}: expected {allowed}")

        if self.kind not in KINDS:
            raise bad("kind", self.kind, "one of " + ", ".join(KINDS))
        if not (isinstance(self.duration_ms, int | float) and 10 <= self.duration_ms <= 10000):
            raise bad("duration_ms", self.duration_ms, "10 to 10000 ms")
        if self.kind == "self_twist":
            if (self.twist_deg is None) == (self.torque_nm is None):
                raise SpineInputError("[maneuver] a self_twist needs twist_deg or torque_nm")
            if self.twist_deg is not None and not -180 <= self.twist_deg <= 180:
                raise bad("twist_deg", self.twist_deg, "-180 to 180 degrees")
            if self.torque_nm is not None and not -100 <= self.torque_nm <= 100:
                raise bad("torque_nm", self.torque_nm, "-100 to 100 N m")
        else:
            if self.target not in SEGMENTS:
                raise bad("target", self.target, f"a segment {SEGMENTS[0]} ... {SEGMENTS[-1]}")
            if not 0 <= self.thrust_n <= 2000:
                raise bad("thrust_n", self.thrust_n, "0 to 2000 N")
            if not 0 <= self.preload_n <= self.thrust_n:
                raise bad("preload_n", self.preload_n, f"0 to thrust_n ({self.thrust_n:g} N)")
            if self.gap_side not in SIDES:
                raise bad("gap_side", self.gap_side, "left or right")

    def times_ms(self, dt_ms: float = 1.0) -> np.ndarray:
        """Return the simulated instants (T,), ms."""
        p = timedomain()
        pre = p["preload_ms"] if self.kind == "hvla" else 0.0
        end = pre + self.duration_ms + p["hold_ms"]
        return np.arange(0.0, end + 0.5 * dt_ms, dt_ms)

    def profile(self, t_ms: np.ndarray) -> np.ndarray:
        """Return the load over time (T,): degrees, N m or N (thrust force)."""
        p = timedomain()
        if self.kind == "hvla":
            # Preload held, then a half-sine thrust, then back to the preload.
            s = np.clip((t_ms - p["preload_ms"]) / self.duration_ms, 0.0, 1.0)
            return self.preload_n + (self.thrust_n - self.preload_n) * np.sin(math.pi * s)
        # A smooth (raised-cosine) rise to the peak, then held.
        s = np.clip(t_ms / self.duration_ms, 0.0, 1.0)
        rise = 0.5 - 0.5 * np.cos(math.pi * s)
        if self.kind == "mobilisation":
            return self.preload_n + (self.thrust_n - self.preload_n) * rise
        peak = self.twist_deg if self.twist_deg is not None else self.torque_nm
        return peak * rise
