"""Read the anatomy data files and fill every level by documented interpolation.

The data files under ``anatomy/data`` hold the published numbers with a ``source``
column: per-level morphometry at the anchor levels of Panjabi's series
(``morphometry.csv``), per-joint facet, disc and curve data (``joints.csv``) and
whole-column constants (``pose.csv``). Levels between two anchors are interpolated
linearly by level index; their ``source`` names both anchors.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from types import MappingProxyType

from .levels import LEVELS, SEGMENTS

__all__ = [
    "JOINT_FIELDS",
    "MORPHOMETRY_FIELDS",
    "joint_table",
    "morphometry_table",
    "pose_constants",
    "tables_version",
]

_DATA_FILES = ("morphometry.csv", "joints.csv", "pose.csv")

MORPHOMETRY_FIELDS: tuple[str, ...] = (
    "body_width_mm",
    "body_depth_mm",
    "body_height_post_mm",
    "body_height_ant_mm",
    "pedicle_width_mm",
    "pedicle_height_mm",
    "pedicle_length_mm",
    "lamina_thickness_mm",
    "canal_width_mm",
    "canal_depth_mm",
    "spinous_length_mm",
    "spinous_slope_deg",
    "transverse_span_mm",
    "transverse_back_deg",
    "costal_facets",
)
"""Numeric columns of ``morphometry.csv``, every one present for every level."""

JOINT_FIELDS: tuple[str, ...] = (
    "coronal_deg",
    "transverse_deg",
    "facet_width_mm",
    "facet_height_mm",
    "posterior_mm",
    "half_interfacet_mm",
    "height_mm",
    "clearance_mm",
    "axis_anterior_mm",
    "disc_height_mm",
    "sagittal_deg",
    "coronal_min_deg",
    "coronal_max_deg",
    "transverse_min_deg",
    "transverse_max_deg",
)
"""Numeric columns of ``joints.csv``, every one present for every segment."""


def _read_text(name: str) -> str:
    return resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")


def _rows(name: str) -> list[dict[str, str]]:
    lines = [ln for ln in _read_text(name).splitlines() if ln and not ln.startswith("#")]
    return list(csv.DictReader(lines))


def _numeric(row: dict[str, str], fields: tuple[str, ...], where: str) -> dict[str, float]:
    out = {}
    for f in fields:
        text = row.get(f, "")
        try:
            out[f] = float(text)
        except ValueError:
            raise ValueError(f"{where}: column {f!r} has no number ({text!r})") from None
    return out


@cache
def tables_version() -> str:
    """Return a short content hash of the anatomy data files (recorded in mesh manifests)."""
    h = hashlib.sha256()
    for name in _DATA_FILES:
        h.update(_read_text(name).encode())
    return h.hexdigest()[:12]


@cache
def morphometry_table() -> Mapping[str, Mapping[str, float | str]]:
    """Return morphometry for every level in :data:`LEVELS`.

    Returns
    -------
    mapping
        ``{level: {field: value, ..., "source": str}}``, lengths in mm and angles in
        degrees; non-anchor levels are interpolated linearly by level index.
    """
    anchors = {}
    for row in _rows("morphometry.csv"):
        level = row["level"]
        if level not in LEVELS:
            raise ValueError(f"morphometry.csv: unknown level {level!r}")
        anchors[LEVELS.index(level)] = (
            _numeric(row, MORPHOMETRY_FIELDS, f"morphometry.csv row {level}"),
            row["source"],
        )
    idx = sorted(anchors)
    if idx[0] != 0 or idx[-1] != len(LEVELS) - 1:
        raise ValueError("morphometry.csv must give the first and last level")
    table = {}
    for i, level in enumerate(LEVELS):
        if i in anchors:
            values, source = anchors[i]
            values = dict(values)
        else:
            lo = max(j for j in idx if j < i)
            hi = min(j for j in idx if j > i)
            t = (i - lo) / (hi - lo)
            a, b = anchors[lo][0], anchors[hi][0]
            values = {f: (1 - t) * a[f] + t * b[f] for f in MORPHOMETRY_FIELDS}
            # A rib facet is a yes/no feature: take it from the nearer anchor, the upper
            # one on a tie (T10, halfway between T8 and T12, still carries rib facets).
            values["costal_facets"] = a["costal_facets"] if t <= 0.5 else b["costal_facets"]
            source = f"interpolated by level between {LEVELS[lo]} and {LEVELS[hi]}"
        values["source"] = source
        table[level] = MappingProxyType(values)
    return MappingProxyType(table)


@cache
def joint_table() -> Mapping[str, Mapping[str, float | str]]:
    """Return facet, disc and curve data for every segment in :data:`SEGMENTS`.

    Returns
    -------
    mapping
        ``{segment: {field: value, ..., "source": str}}``.
    """
    table = {}
    for row in _rows("joints.csv"):
        seg = row["segment"]
        if seg not in SEGMENTS:
            raise ValueError(f"joints.csv: unknown segment {seg!r}")
        values: dict[str, float | str] = dict(_numeric(row, JOINT_FIELDS, f"joints.csv row {seg}"))
        values["source"] = row["source"]
        table[seg] = MappingProxyType(values)
    missing = [s for s in SEGMENTS if s not in table]
    if missing:
        raise ValueError(f"joints.csv: missing segments {missing}")
    return MappingProxyType({s: table[s] for s in SEGMENTS})


@cache
def pose_constants() -> Mapping[str, float]:
    """Return whole-column rest-pose constants from ``pose.csv`` (``{key: value}``)."""
    return MappingProxyType({r["key"]: float(r["value"]) for r in _rows("pose.csv")})
