"""Vertebral levels, regions and motion segments from T1 to the sacrum (S1).

Segments are named upper-lower (``"T6-T7"``, ``"L5-S1"``). The region of a segment is
the region of its upper vertebra: the joint between them is formed by that vertebra's
inferior articular processes.
"""

from __future__ import annotations

from ..errors import SpineInputError

__all__ = [
    "LEVELS",
    "REGIONS",
    "SEGMENTS",
    "level_index",
    "levels_between",
    "region_of",
    "segment_index",
    "segment_name",
]

LEVELS: tuple[str, ...] = (
    *(f"T{i}" for i in range(1, 13)),
    *(f"L{i}" for i in range(1, 6)),
    "S1",
)
"""All levels of the model, top to bottom."""

REGIONS: tuple[str, ...] = ("thoracic", "thoracolumbar", "lumbar", "sacral")

_REGION_OF = {
    **{f"T{i}": "thoracic" for i in range(1, 11)},
    "T11": "thoracolumbar",
    "T12": "thoracolumbar",
    **{f"L{i}": "lumbar" for i in range(1, 6)},
    "S1": "sacral",
}

SEGMENTS: tuple[str, ...] = tuple(f"{a}-{b}" for a, b in zip(LEVELS[:-1], LEVELS[1:], strict=True))
"""Motion segments ``T1-T2`` ... ``L5-S1``, top to bottom."""


def _allowed(names: tuple[str, ...]) -> str:
    return f"{names[0]} ... {names[-1]}"


def level_index(level: str) -> int:
    """Return the position of ``level`` in :data:`LEVELS` (T1 is 0).

    Raises
    ------
    SpineInputError
        If ``level`` is not a level of the model.
    """
    try:
        return LEVELS.index(level)
    except ValueError:
        raise SpineInputError(
            f"unknown level {level!r}: expected one of {', '.join(LEVELS)}"
        ) from None


def segment_index(segment: str) -> int:
    """Return the position of ``segment`` in :data:`SEGMENTS` (T1-T2 is 0).

    Raises
    ------
    SpineInputError
        If ``segment`` is not a motion segment of the model.
    """
    try:
        return SEGMENTS.index(segment)
    except ValueError:
        raise SpineInputError(
            f"unknown segment {segment!r}: expected adjacent levels upper-lower, "
            f"{_allowed(SEGMENTS)} (e.g. 'L4-L5')"
        ) from None


def segment_name(upper: str) -> str:
    """Return the name of the segment whose upper vertebra is ``upper``."""
    i = level_index(upper)
    if i == len(LEVELS) - 1:
        raise SpineInputError(f"{upper!r} is the lowest level and has no segment below it")
    return SEGMENTS[i]


def region_of(name: str) -> str:
    """Return the region of a level, or of a segment (the region of its upper vertebra)."""
    upper = name.split("-", 1)[0] if "-" in name else name
    if "-" in name:
        segment_index(name)
    else:
        level_index(name)
    return _REGION_OF[upper]


def levels_between(spec: str) -> tuple[str, ...]:
    """Expand a level range such as ``"T1-S1"`` or ``"L3-L5"`` (inclusive), or one level.

    Raises
    ------
    SpineInputError
        If either end is unknown or the range runs bottom to top.
    """
    parts = spec.split("-")
    if len(parts) == 1:
        return (LEVELS[level_index(parts[0])],)
    if len(parts) != 2:
        raise SpineInputError(f"bad level range {spec!r}: expected e.g. 'T1-S1' or 'L1-L5'")
    a, b = level_index(parts[0]), level_index(parts[1])
    if a > b:
        raise SpineInputError(f"bad level range {spec!r}: the upper level must come first")
    return LEVELS[a : b + 1]
