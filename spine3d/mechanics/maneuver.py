"""A manoeuvre: what is done to the spine over time (the ``[maneuver]`` of a scene).

Kept apart from :mod:`spine3d.mechanics.timedomain` so that loading a scene does not
import the time-domain machinery that only a simulation needs.

A manoeuvre runs in phases, each a smooth ramp (a raised cosine) so that nothing starts
as a step unless asked to:

1. **positioning** (``position_ms``): the patient is brought into the posture
   (side posture or prone: see :mod:`.posture`); a standing self-twist has none;
2. **preload** (``preload_ms``): the contact force rises to ``preload_n`` (a
   ``preload_ms`` of 0 is a step);
3. **thrust** (``duration_ms``): a half-sine from the preload to ``thrust_n`` and back
   (``hvla``), or a slow rise and fall (``mobilisation``); ``thrust_n = 0`` is
   positioning and preload only;
4. **hold** and **release**: the preload held, then let go.

A self-twist is the patient's own: standing, the trunk turned on the pelvis by the
trunk muscles to ``twist_deg`` (or with ``torque_nm``) over ``duration_ms``, then held.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..anatomy import SEGMENTS, SIDES
from ..errors import SpineInputError
from .params import timedomain

__all__ = [
    "CONTACTS",
    "CONTACT_LANDMARKS",
    "KINDS",
    "POSITIONS",
    "THRUST_KEYS",
    "TWIST_KEYS",
    "Maneuver",
    "contact_point_mm",
    "raised_cosine",
]

KINDS = ("self_twist", "hvla", "mobilisation")
POSITIONS = ("standing", "side_posture", "prone")
CONTACTS = ("spinous", "mammillary", "transverse")
CONTACT_LANDMARKS = {
    "spinous": "spinous_tip",
    "transverse": "transverse_tip_{side}",
    "mammillary": "mammillary_{side}",
}
"""The bone landmark each contact pushes on (the bones' manifest names)."""
TWIST_KEYS = ("twist_deg", "torque_nm")
"""Keys of a self-twist only."""
THRUST_KEYS = (
    "target",
    "lying_on",
    "contact",
    "contact_level",
    "contact_side",
    "direction",
    "preload_n",
    "thrust_n",
    "preload_ms",
    "position_ms",
)
"""Keys of a thrust or mobilisation only (``position`` is both's: standing is a twist's)."""


def raised_cosine(s: np.ndarray) -> np.ndarray:
    """Return a smooth ramp from 0 to 1 over ``s`` in [0, 1] (clipped outside)."""
    s = np.clip(s, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(math.pi * s)


def _levels_of(segment: str) -> tuple[str, str]:
    upper, lower = segment.split("-")
    return upper, lower


@dataclass(frozen=True)
class Maneuver:
    """A load over time.

    Attributes
    ----------
    kind : {"self_twist", "hvla", "mobilisation"}
    twist_deg, torque_nm : float, optional
        Peak twist or torque of a self-twist (exactly one).
    duration_ms : float
        Rise time of a self-twist; length of a thrust or of a mobilisation.
    target : str, optional
        The segment a thrust or mobilisation aims at (e.g. ``"L4-L5"``).
    position : {"standing", "side_posture", "prone"}, optional
        The patient's posture; by default standing for a self-twist, side posture for
        a target at T12-L1 or below, prone above.
    lying_on : {"left", "right"}, optional
        Side posture: the side the patient lies on (the other side is up); by default
        the left. Only for side posture.
    contact : {"spinous", "mammillary", "transverse"}, optional
        Where the practitioner's hand pushes; by default the spinous process in side
        posture, the transverse process prone.
    contact_level : str, optional
        The vertebra pushed; by default the target's upper vertebra.
    contact_side : {"left", "right"}, optional
        Side of a mammillary or transverse contact; by default the upper side in side
        posture, the left prone; none for a spinous contact.
    direction : tuple of float, optional
        Direction of the push in the contact vertebra's frame as the patient lies in
        the posture (+X anterior, +Y superior, +Z right), normalised; by default toward
        the table in side posture (a spinous push), anterior prone.
    preload_n, thrust_n : float, optional
        Preload and peak force, N (by default 70 N in side posture, 100 N prone, and
        400 N); ``thrust_n = 0``: positioning and preload only.
    preload_ms : float, optional
        Time over which the preload rises, ms (0: a step; by default 600).
    position_ms : float, optional
        Time over which the patient is brought into the posture, ms (by default 1000).
    """

    kind: str
    twist_deg: float | None = None
    torque_nm: float | None = None
    duration_ms: float | None = None
    target: str | None = None
    position: str | None = None
    lying_on: str | None = None
    contact: str | None = None
    contact_level: str | None = None
    contact_side: str | None = None
    direction: tuple[float, ...] | None = None
    preload_n: float | None = None
    thrust_n: float | None = None
    preload_ms: float | None = None
    position_ms: float | None = None

    def __post_init__(self) -> None:
        def bad(key: str, value: Any, allowed: str) -> SpineInputError:
            return SpineInputError(f"[maneuver] {key} = {value!r}: expected {allowed}")

        def number(key: str, value: Any, lo: float, hi: float, unit: str) -> None:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not ok or not math.isfinite(float(value)) or not lo <= value <= hi:
                raise bad(key, value, f"{lo:g} to {hi:g} {unit}")

        put = object.__setattr__
        if self.kind not in KINDS:
            raise bad("kind", self.kind, "one of " + ", ".join(KINDS))
        if self.position is not None and self.position not in POSITIONS:
            raise bad("position", self.position, "one of " + ", ".join(POSITIONS))
        if self.lying_on is not None and self.lying_on not in SIDES:
            raise bad("lying_on", self.lying_on, "left or right")
        if self.kind == "self_twist":
            for key in THRUST_KEYS:
                if getattr(self, key) is not None:
                    raise SpineInputError(
                        f"[maneuver] {key} applies to a thrust or mobilisation, not a self_twist"
                    )
        else:
            for key in TWIST_KEYS:
                if getattr(self, key) is not None:
                    raise SpineInputError(
                        f"[maneuver] {key} applies to a self_twist, not a {self.kind}"
                    )
        if self.kind == "self_twist":
            if (self.twist_deg is None) == (self.torque_nm is None):
                raise SpineInputError("[maneuver] a self_twist needs twist_deg or torque_nm")
            if self.twist_deg is not None:
                number("twist_deg", self.twist_deg, -60, 60, "degrees")
            if self.torque_nm is not None:
                number("torque_nm", self.torque_nm, -30, 30, "N m")
            if self.position not in (None, "standing"):
                raise bad("position", self.position, '"standing" for a self_twist')
            put(self, "position", "standing")
            put(self, "duration_ms", 150.0 if self.duration_ms is None else self.duration_ms)
            number("duration_ms", self.duration_ms, 10, 10000, "ms")
            return
        if self.target not in SEGMENTS:
            raise bad("target", self.target, f"a segment {SEGMENTS[0]} ... {SEGMENTS[-1]}")
        if self.position == "standing":
            raise bad("position", self.position, '"side_posture" or "prone" for a thrust')
        upper, lower = _levels_of(self.target)
        if self.position is None:
            lumbar = SEGMENTS.index(self.target) >= SEGMENTS.index("T12-L1")
            put(self, "position", "side_posture" if lumbar else "prone")
        side_posture = self.position == "side_posture"
        if not side_posture and self.lying_on is not None:
            raise bad(
                "lying_on",
                self.lying_on,
                f"nothing: it applies to side posture, not {self.position}",
            )
        put(self, "lying_on", "left" if side_posture and self.lying_on is None else self.lying_on)
        if self.contact is None:
            put(self, "contact", "spinous" if side_posture else "transverse")
        if self.contact not in CONTACTS:
            raise bad("contact", self.contact, "one of " + ", ".join(CONTACTS))
        if self.contact_level is None:
            put(self, "contact_level", upper)
        if self.contact_level not in (upper, lower):
            raise bad("contact_level", self.contact_level, f"{upper} or {lower} (the target's)")
        if self.contact == "spinous":
            if self.contact_side is not None:
                raise bad(
                    "contact_side", self.contact_side, "nothing for a spinous contact (the midline)"
                )
        elif self.contact_side is None:
            put(self, "contact_side", self.upside if side_posture else "left")
        elif self.contact_side not in SIDES:
            raise bad("contact_side", self.contact_side, "left or right")
        d = self.direction
        if d is None:
            # Side posture: toward the table (the side lain on); prone: anterior.
            toward = -1.0 if self.lying_on == "left" else 1.0
            d = (0.0, 0.0, toward) if side_posture else (1.0, 0.0, 0.0)
        if not (
            isinstance(d, tuple | list)
            and len(d) == 3
            and all(isinstance(x, int | float) and not isinstance(x, bool) for x in d)
            and all(math.isfinite(float(x)) for x in d)
            and math.hypot(*d) > 1e-6
        ):
            raise bad("direction", d, "three numbers [anterior, superior, right], not all 0")
        put(self, "direction", tuple(float(x) / math.hypot(*d) for x in d))
        put(self, "thrust_n", 400.0 if self.thrust_n is None else self.thrust_n)
        put(self, "preload_ms", 600.0 if self.preload_ms is None else self.preload_ms)
        put(self, "position_ms", 1000.0 if self.position_ms is None else self.position_ms)
        default_d = 2000.0 if self.kind == "mobilisation" else 120.0
        put(self, "duration_ms", default_d if self.duration_ms is None else self.duration_ms)
        number("duration_ms", self.duration_ms, 10, 10000, "ms")
        number("thrust_n", self.thrust_n, 0, 2000, "N")
        if self.preload_n is None:
            p = timedomain()
            default = p["side_posture_preload_n"] if side_posture else p["prone_preload_n"]
            put(self, "preload_n", min(default, self.thrust_n) if self.thrust_n else default)
        number("preload_n", self.preload_n, 0, 2000, "N")
        if self.thrust_n and self.preload_n > self.thrust_n:
            raise bad("preload_n", self.preload_n, f"0 to thrust_n ({self.thrust_n:g} N)")
        number("preload_ms", self.preload_ms, 0, 5000, "ms")
        number("position_ms", self.position_ms, 100, 5000, "ms")

    @property
    def upside(self) -> str | None:
        """The side facing up in side posture (the side not lain on); None otherwise."""
        if self.lying_on is None:
            return None
        return "right" if self.lying_on == "left" else "left"

    @property
    def is_thrust(self) -> bool:
        """True for a practitioner's manoeuvre (a force at a contact), False for a self-twist."""
        return self.kind != "self_twist"

    def phases_ms(self) -> dict[str, tuple[float, float]]:
        """Return each phase's ``(start, end)``, ms (see the module's docstring)."""
        p = timedomain()
        if not self.is_thrust:
            return {"twist": (0.0, self.duration_ms), "hold": (self.duration_ms, self.end_ms)}
        t0 = self.position_ms
        t1 = t0 + self.preload_ms
        t2 = t1 + p["settle_ms"]
        t3 = t2 + (self.duration_ms if self.thrust_n else 0.0)
        t4 = t3 + p["hold_ms"]
        return {
            "positioning": (0.0, t0),
            "preload": (t0, t1),
            "settle": (t1, t2),
            "thrust": (t2, t3),
            "hold": (t3, t4),
            "release": (t4, t4 + p["release_ms"]),
        }

    @property
    def end_ms(self) -> float:
        """The time the simulation ends, ms."""
        p = timedomain()
        if not self.is_thrust:
            return self.duration_ms + p["hold_ms"]
        return self.phases_ms()["release"][1]

    def times_ms(self, dt_ms: float = 1.0) -> np.ndarray:
        """Return the simulated instants (T,), ms."""
        return np.arange(0.0, self.end_ms + 0.5 * dt_ms, dt_ms)

    def positioning(self, t_ms: np.ndarray) -> np.ndarray:
        """Return how far into the posture the patient is at ``t_ms`` (T,), 0 to 1."""
        if not self.is_thrust:
            return np.zeros_like(np.asarray(t_ms, dtype=float))
        return raised_cosine(np.asarray(t_ms, dtype=float) / self.position_ms)

    def force_n(self, t_ms: np.ndarray) -> np.ndarray:
        """Return the contact force over time (T,), N (zero for a self-twist)."""
        t = np.asarray(t_ms, dtype=float)
        if not self.is_thrust:
            return np.zeros_like(t)
        ph = self.phases_ms()
        t0, t1 = ph["preload"]
        if t1 > t0:
            f = self.preload_n * raised_cosine((t - t0) / (t1 - t0))
        else:
            f = np.where(t >= t0, self.preload_n, 0.0)
        a, b = ph["thrust"]
        if b > a:
            s = np.clip((t - a) / (b - a), 0.0, 1.0)
            if self.kind == "hvla":
                shape = np.sin(math.pi * s)
            else:
                shape = 0.5 - 0.5 * np.cos(2 * math.pi * s)
            f = f + (self.thrust_n - self.preload_n) * np.where((t >= a) & (t <= b), shape, 0.0)
        r0, r1 = ph["release"]
        return f * (1.0 - raised_cosine((t - r0) / (r1 - r0)))

    def twist(self, t_ms: np.ndarray) -> np.ndarray:
        """Return the self-twist's drive over time (T,): degrees or N m (zero for a thrust)."""
        t = np.asarray(t_ms, dtype=float)
        if self.is_thrust:
            return np.zeros_like(t)
        peak = self.twist_deg if self.twist_deg is not None else self.torque_nm
        return peak * raised_cosine(t / self.duration_ms)


def contact_point_mm(model, maneuver: Maneuver) -> np.ndarray | None:
    """Return a thrust's contact point on its vertebra, that vertebra's frame, mm (3,).

    The landmark of :data:`CONTACT_LANDMARKS` on ``maneuver.contact_level``; None for a
    self-twist, or for bones that do not mark it.
    """
    if not maneuver.is_thrust:
        return None
    key = CONTACT_LANDMARKS[maneuver.contact].format(side=maneuver.contact_side)
    landmarks = model.vertebra(maneuver.contact_level).landmarks
    return np.asarray(landmarks[key], dtype=float) if key in landmarks else None
