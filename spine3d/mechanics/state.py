"""Frozen results of a solve: :class:`SpineState` (one load) and :class:`Sweep` (many)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._display import RichDisplay
from ..anatomy import SIDES, SpineModel
from .params import mobility_label

__all__ = ["SpineState", "Sweep"]

_COMPONENTS = ("flexion", "lateral", "axial")


@dataclass(frozen=True, eq=False)
class SpineState(RichDisplay):
    """The spine under one global load. Arrays are read-only; segments run top to bottom.

    In a notebook it shows as a figure of the whole column (see :func:`spine3d.show`).

    Attributes
    ----------
    model : SpineModel
        The model that was solved.
    twist_deg : float
        Rotation of T1 relative to the sacrum, the sum of the segment rotations, degrees
        (positive: the upper body turns left).
    torque_nm : float
        The axial torque carried by every segment, N m.
    rotation_deg : (n,) float
        Axial rotation of each segment, upper relative to lower, degrees.
    facet_gap_mm : (2, n) float
        Facet gap per side (left, right), mm; positive opens, negative is cartilage
        compression.
    facet_force_n : (2, n) float
        Facet contact force per side, N.
    capsule_stretch_mm : (2, n) float
        Capsule stretch past its slack per side, mm.
    mobility : (n,) float
        Mobility factor of each segment (1 is normal).
    poses : (m, 4, 4) float
        Local-to-global transform of every vertebra, T1 ... S1, mm.
    rotation3_deg : (n, 3) float
        Cardan angles of each segment (upper in the lower disc frame, ISB order),
        ``[flexion, lateral, axial]``, degrees (forward, to the right, upper body left).
    translation_mm : (n, 3) float
        Translation of the upper disc frame in the lower one, ``[anterior, superior,
        right]``, mm.
    axis_point_mm, axis_direction : (n, 3) float
        Instantaneous axis of rotation of each segment, global frame: its point nearest
        the disc centre (mm) and unit direction (zero where the segment does not move).
        Worked out on first use, from a tangent taken at the solution.
    reaction_nm : (3,) float
        Moment applied to the top vertebra, ``[flexion, lateral, axial]``, N m.
    top_rotation_deg : (3,) float
        Cardan angles of the top vertebra relative to its rest pose, degrees.
    follower_n : float
        Follower load, N.
    levels : str
        The specimen, top and fixed bottom level (``"T1-S1"`` for the whole spine).
    part_poses : mapping of str to (4, 4) float
        Local-to-global transform of every rib cage part the mechanics holds (``rib_5_left``,
        ``cartilage_5_left``, ``sternum``), moved by the solution; a part's mesh is stored
        in the local frame of the level it moves with. Empty without a rib cage (and for
        a state given only axial rotations). A deforming part (a rib bends, a
        cartilage bends more) is drawn by the rigid motion that best fits its nodes.
        Worked out on first use.
    part_rotation3_deg : mapping of str to (3,) float
        Cardan angles of each of those parts relative to the vertebra it moves with
        (ISB order, in that vertebra's frame), ``[flexion, lateral, axial]``, degrees.
    """

    model: SpineModel
    twist_deg: float
    torque_nm: float
    rotation_deg: np.ndarray
    facet_gap_mm: np.ndarray
    facet_force_n: np.ndarray
    capsule_stretch_mm: np.ndarray
    mobility: np.ndarray
    poses: np.ndarray
    rotation3_deg: np.ndarray | None = None
    translation_mm: np.ndarray | None = None
    reaction_nm: np.ndarray | None = None
    top_rotation_deg: np.ndarray | None = None
    follower_n: float = 0.0
    levels: str = "T1-S1"
    part_poses: Mapping[str, np.ndarray] = field(default_factory=dict)
    part_rotation3_deg: Mapping[str, np.ndarray] = field(default_factory=dict)
    axes_from: Callable[[], tuple[np.ndarray, np.ndarray]] | None = field(
        default=None, repr=False, compare=False
    )
    """Returns ``(axis_point_mm, axis_direction)`` when first asked (None: no axes)."""

    def __post_init__(self) -> None:
        # A state given only axial rotations (built by hand) turns about Y only.
        n = self.rotation_deg.shape[0]
        fill = {
            "rotation3_deg": lambda: np.column_stack([np.zeros(n), np.zeros(n), self.rotation_deg]),
            "translation_mm": lambda: np.zeros((n, 3)),
            "reaction_nm": lambda: np.array([0.0, 0.0, self.torque_nm]),
            "top_rotation_deg": lambda: np.array([0.0, 0.0, self.twist_deg]),
        }
        for name, make in fill.items():
            if getattr(self, name) is None:
                value = make()
                value.flags.writeable = False
                object.__setattr__(self, name, value)

    def _axes(self) -> tuple[np.ndarray, np.ndarray]:
        cached = self.__dict__.get("_axes_cache")
        if cached is None:
            n = self.rotation_deg.shape[0]
            if self.axes_from is None:
                cached = (np.zeros((n, 3)), np.zeros((n, 3)))
            else:
                cached = self.axes_from()
            for a in cached:
                a.flags.writeable = False
            object.__setattr__(self, "_axes_cache", cached)
        return cached

    @property
    def axis_point_mm(self) -> np.ndarray:
        """Each segment's instantaneous axis: its point nearest the disc centre (n, 3), mm."""
        return self._axes()[0]

    @property
    def axis_direction(self) -> np.ndarray:
        """Each segment's instantaneous axis: its unit direction (n, 3), zero if still."""
        return self._axes()[1]

    @property
    def segments(self) -> tuple[str, ...]:
        """Segment names, top to bottom."""
        return self.model.segment_names

    def segment(self, name: str) -> dict[str, Any]:
        """Return the :meth:`to_dict` entry of one segment (e.g. ``"L4-L5"``)."""
        self.model.joint(name)
        return self.to_dict()["segments"][self.segments.index(name)]

    def pose(self, level: str) -> np.ndarray:
        """Return the (4, 4) local-to-global transform of ``level``."""
        return self.poses[self.model.level_names.index(self.model.vertebra(level).name)]

    def __repr__(self) -> str:
        changed = [
            f"{seg} {mobility_label(float(f))}"
            for seg, f in zip(self.segments, self.mobility, strict=True)
            if f != 1.0
        ]
        extra = f", {', '.join(changed)}" if changed else ""
        return (
            f"<SpineState twist {self.twist_deg:+.1f} deg, torque {self.torque_nm:+.2f} N m, "
            f"{len(self.segments)} segments{extra}>"
        )

    def table(self) -> str:
        """Return the per-segment rotation, share and facet gaps as a plain-text table.

        One row per segment, top to bottom: name, mobility, axial rotation (degrees),
        share of the twist, and the left and right facet gaps (mm, positive opens).
        ``print(state.table())`` in a notebook or a terminal; :meth:`to_dict` gives the
        same numbers as data.
        """
        rows = [("segment", "mobility", "rotation °", "share", "gap L mm", "gap R mm")]
        for s in self.to_dict()["segments"]:
            rows.append(
                (
                    s["name"],
                    s["mobility"],
                    f"{s['rotation_deg']['axial']:+.2f}",
                    f"{100 * s['share']:.0f}%",
                    f"{s['facet_gap_mm']['left']:+.2f}",
                    f"{s['facet_gap_mm']['right']:+.2f}",
                )
            )
        widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
        return "\n".join(
            "  ".join(
                cell.ljust(w) if c < 2 else cell.rjust(w)
                for c, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
            for row in rows
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary (rounded for reading; the arrays keep full precision)."""
        total = float(np.sum(np.abs(self.rotation_deg))) or 1.0
        segs = []
        for i, j in enumerate(self.model.joints):
            segs.append(
                {
                    "name": j.name,
                    "upper": j.upper,
                    "lower": j.lower,
                    "region": j.region,
                    "mobility": mobility_label(float(self.mobility[i])),
                    "rotation_deg": {
                        c: round(float(self.rotation3_deg[i, k]), 6)
                        for k, c in enumerate(_COMPONENTS)
                    },
                    "translation_mm": {
                        c: round(float(self.translation_mm[i, k]), 6)
                        for k, c in enumerate(("anterior", "superior", "right"))
                    },
                    "share": round(float(abs(self.rotation_deg[i]) / total), 6),
                    "facet_gap_mm": {
                        s: round(float(self.facet_gap_mm[k, i]), 6) for k, s in enumerate(SIDES)
                    },
                    "facet_force_n": {
                        s: round(float(self.facet_force_n[k, i]), 6) for k, s in enumerate(SIDES)
                    },
                    "capsule_stretch_mm": {
                        s: round(float(self.capsule_stretch_mm[k, i]), 6)
                        for k, s in enumerate(SIDES)
                    },
                    "axis": {
                        "point_mm": [round(float(x), 4) for x in self.axis_point_mm[i]],
                        "direction": [round(float(x), 6) for x in self.axis_direction[i]],
                    },
                }
            )
        return {
            "twist_deg": round(self.twist_deg, 6),
            "flexion_deg": round(float(self.top_rotation_deg[0]), 6),
            "lateral_deg": round(float(self.top_rotation_deg[1]), 6),
            "torque_nm": round(self.torque_nm, 6),
            "follower_n": round(self.follower_n, 6),
            "levels": self.levels,
            "reaction": {
                "moment_nm": {
                    c: round(float(self.reaction_nm[k]), 6) for k, c in enumerate(_COMPONENTS)
                },
                "force_n": round(self.follower_n, 6),
            },
            "segments": segs,
        }


@dataclass(frozen=True, eq=False)
class Sweep:
    """Many solves of one model at once (see :func:`spine3d.mechanics.sweep`).

    Attributes
    ----------
    twist_deg : (N,) float
    torque_nm : (N,) float
    rotation_deg : (N, n) float
        Segment rotations, top to bottom, degrees.
    facet_gap_mm : (N, 2, n) float
        Facet gap per side (left, right), mm, as :attr:`SpineState.facet_gap_mm`.
    poses : (N, m, 4, 4) float
        Local-to-global transform of every vertebra, T1 ... S1, mm.
    """

    twist_deg: np.ndarray
    torque_nm: np.ndarray
    rotation_deg: np.ndarray
    facet_gap_mm: np.ndarray
    poses: np.ndarray
