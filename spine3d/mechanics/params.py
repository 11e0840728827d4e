"""Tissue parameters and mobility states, read once from ``mechanics/data``."""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from types import MappingProxyType

from ..anatomy import SEGMENTS, segment_index
from ..errors import SpineInputError

__all__ = [
    "MOBILITY_RANGE",
    "Mobility",
    "mobility_factors",
    "mobility_states",
    "timedomain",
    "tissue",
]

Mobility = Mapping[str, "str | float"]
"""``{segment: state}``, a state being a name from :func:`mobility_states` or a factor."""

MOBILITY_RANGE = (0.02, 20.0)
"""Closed range of a numeric mobility factor."""


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(ln for ln in text.splitlines() if ln and not ln.startswith("#")))


@cache
def tissue() -> Mapping[str, float]:
    """Return the tissue parameters ``{key: value}`` (units in the keys)."""
    return MappingProxyType({r["key"]: float(r["value"]) for r in _rows("tissue.csv")})


@cache
def timedomain() -> Mapping[str, float]:
    """Return the time-domain parameters ``{key: value}`` (units in the keys)."""
    return MappingProxyType({r["key"]: float(r["value"]) for r in _rows("timedomain.csv")})


@cache
def mobility_states() -> Mapping[str, float]:
    """Return ``{state: factor}`` for the named mobility states."""
    return MappingProxyType({r["state"]: float(r["factor"]) for r in _rows("mobility.csv")})


def _factor(segment: str, state: str | float) -> float:
    states = mobility_states()
    if isinstance(state, str):
        if state in states:
            return states[state]
        try:
            value = float(state)
        except ValueError:
            raise SpineInputError(
                f"mobility {segment}={state!r}: expected one of {', '.join(states)} "
                "or a positive number"
            ) from None
    elif isinstance(state, bool) or not isinstance(state, int | float):
        raise SpineInputError(
            f"mobility {segment}={state!r}: expected one of {', '.join(states)} "
            "or a positive number"
        )
    else:
        value = float(state)
    lo, hi = MOBILITY_RANGE
    if not math.isfinite(value) or not lo <= value <= hi:
        raise SpineInputError(
            f"mobility {segment}={state!r}: a factor must lie between {lo:g} and {hi:g}"
        )
    return value


def mobility_factors(
    mobility: Mobility | None, segments: Sequence[str] = SEGMENTS
) -> tuple[float, ...]:
    """Return the mobility factor of every segment, top to bottom.

    Parameters
    ----------
    mobility : mapping, optional
        ``{segment: state}``; others normal.
    segments : sequence of str, default: every segment T1-T2 ... L5-S1
        The model's segments (a pack of fewer levels has fewer).

    Raises
    ------
    SpineInputError
        On an unknown segment or state, a segment not in ``segments``, or a factor out
        of :data:`MOBILITY_RANGE`.
    """
    factors = dict.fromkeys(segments, 1.0)
    for seg, state in (mobility or {}).items():
        segment_index(seg)
        if seg not in factors:
            raise SpineInputError(
                f"mobility {seg}: not in the bones (they hold {segments[0]} ... {segments[-1]})"
            )
        factors[seg] = _factor(seg, state)
    return tuple(factors.values())


def mobility_label(factor: float) -> str:
    """Return the state name for ``factor`` if it is a named one, else the number."""
    for name, f in mobility_states().items():
        if math.isclose(f, factor):
            return name
    return f"{factor:g}"
