"""The patient's position in the room, and what a practitioner's manoeuvre adds to a panel.

GL-free. The mechanics works in the patient's own frame (ISB: +X anterior, +Y superior,
+Z right, the standing pose). A panel whose ``[maneuver]`` puts the patient in side
posture or prone is drawn through one rigid transform of that frame into the room
(+Y up, the table below), so that everything drawn (bones, rib cage, pelvis, labels,
facet balls, bubbles, arrows) follows:

- **standing**: the patient frame itself;
- **side posture**: lying on ``lying_on``, the spine horizontal, that side down and the
  upper side up; seen from behind (the ``posterior`` camera) the head is on the left
  when lying on the left side, on the right when lying on the right;
- **prone**: face down, the back up, the head toward +X of the room.

Beside the bones, a thrust draws the practitioner's contact as an arrow that pushes on
the contact point along the force, its shaft in proportion to the force at that moment
(:data:`THRUST_MM_PER_N`) with the value beside it, the stabilising holds on the
shoulder (T1) and the pelvis (S1) as small markers, and a faint table under the body.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..anatomy.frames import apply
from .strings import number, text

__all__ = [
    "THRUST_MM_PER_N",
    "Slab",
    "hold_points_mm",
    "place_drawing",
    "position_frame",
    "room_camera",
    "table_slab",
    "thrust_arrow",
]

THRUST_MM_PER_N = 0.25
"""Length of the thrust arrow's shaft per newton of contact force, mm (400 N: 100 mm);
one scale on every panel, figure and frame, so that arrows compare."""
THRUST_HEAD_MM = (10.0, 22.0)
"""Least and largest length of the thrust arrow's head, mm (a quarter of the shaft in
between; its radius half its length)."""
THRUST_MIN_N = 1.0
"""Below this contact force no thrust arrow is drawn (the hand not yet pressing)."""
TABLE_GAP_MM = 15.0
"""Gap between the lowest drawn bone and the table's top, mm (the soft tissue's place)."""
TABLE_THICKNESS_MM = 10.0
TABLE_MARGIN_MM = (45.0, 12.0)
"""How far the table reaches past the drawn bones along the body and across it, mm."""
HOLD_RADIUS_MM = 7.0
"""Radius of a stabilising hold's marker, mm."""

_UP = np.array([0.0, 1.0, 0.0])


def position_frame(position: str | None, lying_on: str = "left") -> np.ndarray:
    """Return the (4, 4) rotation that puts the patient frame into the room.

    Parameters
    ----------
    position : {"standing", "side_posture", "prone"} or None
        None is standing.
    lying_on : {"left", "right"}, default: "left"
        Side posture: the side that lies on the table (down).

    Returns
    -------
    (4, 4) float
        Columns are where the patient's anterior, superior and right axes point in the
        room (+Y up): side posture puts the superior axis horizontal and the lain-on
        side down; prone puts the anterior axis down.
    """
    m = np.eye(4)
    if position == "side_posture":
        s = 1.0 if lying_on == "left" else -1.0
        # Right side up (lying on the left): +Z -> +Y, superior -> -Z, anterior stays.
        m[:3, :3] = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, s], [0.0, -s, 0.0]])
    elif position == "prone":
        # Anterior -> down, superior -> +X of the room, right stays.
        m[:3, :3] = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    return m


def room_camera(
    frame: np.ndarray, direction: np.ndarray, up: np.ndarray, anatomical_up: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Return a camera preset's direction and up in the room.

    A preset names a side of the patient (``posterior``: the back), so its direction
    turns with the patient; its up is the room's, so that a lying spine is drawn
    horizontal, unless the camera looks straight down or up (then the patient's own up
    turned into the room) or ``anatomical_up`` asks for the patient's (a view down the
    vertebra's own axis keeps anterior at the bottom).

    Parameters
    ----------
    frame : (4, 4) float
        From :func:`position_frame`.
    direction, up : (3,) float
        The preset in the patient frame (from the focal point toward the camera).
    anatomical_up : bool, default: False
    """
    r = np.asarray(frame, dtype=float)[:3, :3]
    d = r @ np.asarray(direction, dtype=float)
    d = d / np.linalg.norm(d)
    if anatomical_up or abs(float(d @ _UP)) > 0.95:
        return d, r @ np.asarray(up, dtype=float)
    return d, _UP.copy()


@dataclass(frozen=True)
class Slab:
    """A flat box (the table).

    ``centre`` (3,) mm; ``axes`` (3, 3), whose columns are its edges' directions;
    ``half_mm`` (3,), its half sizes along them, mm; colour and opacity.
    """

    centre: np.ndarray
    axes: np.ndarray
    half_mm: np.ndarray
    color: tuple[float, float, float]
    opacity: float = 0.35

    def corners(self) -> np.ndarray:
        """Return the eight corners (8, 3), mm."""
        signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)
        return self.centre + (signs * self.half_mm) @ self.axes.T

    def transform(self) -> np.ndarray:
        """(4, 4) that takes a unit cube centred at the origin (side 1) onto the slab."""
        m = np.eye(4)
        m[:3, :3] = self.axes * (2.0 * self.half_mm)
        m[:3, 3] = self.centre
        return m


def table_slab(points: np.ndarray, color, opacity: float = 0.35) -> Slab:
    """Return the table under ``points`` (k, 3), room frame, mm.

    Its top lies :data:`TABLE_GAP_MM` below the lowest point; it reaches
    :data:`TABLE_MARGIN_MM` past the points along the body (the longer of the floor's
    two directions) and across it.
    """
    pts = np.asarray(points, dtype=float)
    lo, hi = pts.min(0), pts.max(0)
    top = lo[1] - TABLE_GAP_MM
    centre = np.array(
        [0.5 * (lo[0] + hi[0]), top - 0.5 * TABLE_THICKNESS_MM, 0.5 * (lo[2] + hi[2])]
    )
    along, across = TABLE_MARGIN_MM
    x_long = (hi[0] - lo[0]) >= (hi[2] - lo[2])
    half = np.array(
        [
            0.5 * (hi[0] - lo[0]) + (along if x_long else across),
            0.5 * TABLE_THICKNESS_MM,
            0.5 * (hi[2] - lo[2]) + (across if x_long else along),
        ]
    )
    return Slab(centre, np.eye(3), half, tuple(float(c) for c in color), opacity)


def thrust_arrow(
    tip: np.ndarray, direction: np.ndarray, force_n: float, language: str = "en"
) -> tuple[np.ndarray, np.ndarray, float, str] | None:
    """Return the thrust arrow pushing on ``tip`` along ``direction``, or None.

    Parameters
    ----------
    tip : (3,) float
        The contact point, mm.
    direction : (3,) float
        The force's direction (normalised here).
    force_n : float
        The contact force at this moment, N.
    language : str, default: "en"

    Returns
    -------
    (tail, head_base, head_mm, label) or None
        Tail (3,) and the base of the arrowhead (3,) in mm, the head's length, mm, and
        the force as text. The shaft from tail to the head's base is
        ``force_n * THRUST_MM_PER_N`` long; None below :data:`THRUST_MIN_N`.
    """
    if force_n < THRUST_MIN_N:
        return None
    d = np.asarray(direction, dtype=float)
    d = d / np.linalg.norm(d)
    tip = np.asarray(tip, dtype=float)
    head = float(np.clip(0.25 * force_n * THRUST_MM_PER_N, *THRUST_HEAD_MM))
    base = tip - head * d
    tail = base - force_n * THRUST_MM_PER_N * d
    label = text(language, "force_n", force=number(force_n, ".0f", language))
    return tail, base, head, label


def hold_points_mm(model, maneuver, poses_of) -> list[tuple[str, np.ndarray]]:
    """Where the stabilising holds act: ``[(level, point (3,) mm)]`` in the patient frame.

    The practitioner's hand on the shoulder (T1) and the table and thigh on the pelvis
    (S1), each as the time-domain model holds them. In side posture each marker sits
    on the upper side, beside the vertebra; prone, behind it, where a hand rests.
    ``poses_of(level)`` returns a level's (4, 4) pose. None for standing.
    """
    if maneuver.position not in ("side_posture", "prone"):
        return []
    out = []
    for level in ("T1", "S1"):
        if level not in model.level_names:
            continue
        m = model.vertebra(level).morphometry
        if maneuver.position == "side_posture":
            z = 0.5 * float(m.get("transverse_span_mm", 80.0)) + 18.0
            local = np.array([-15.0, 0.0, z if maneuver.upside == "right" else -z])
        else:
            depth = float(m.get("body_depth_mm", 35.0)) + float(m.get("spinous_length_mm", 30.0))
            local = np.array([-(depth + 25.0), 0.0, 0.0])
        out.append((level, apply(np.asarray(poses_of(level)), local)))
    return out


def _turn(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    return apply(m, points)


def place_drawing(drawing, frame: np.ndarray):
    """Return ``drawing`` (a PanelDrawing) with every item moved by ``frame`` (4, 4).

    Meshes, facet and bubble balls, labels and their anchors, lines, arrowheads and
    the points the camera frames all move; the state stays in the patient frame.
    """
    f = np.asarray(frame, dtype=float)
    if np.allclose(f, np.eye(4)):
        return drawing
    r = f[:3, :3]
    meshes = tuple(replace(m, transform=f @ m.transform) for m in drawing.meshes)
    markers = tuple(
        replace(mk, centre=_turn(f, mk.centre), normal=r @ mk.normal) for mk in drawing.markers
    )
    labels = tuple(
        replace(
            lb,
            position=_turn(f, lb.position),
            anchor=None if lb.anchor is None else _turn(f, lb.anchor),
        )
        for lb in drawing.labels
    )
    lines = tuple(replace(ln, points=_turn(f, ln.points)) for ln in drawing.lines)
    cones = tuple(
        replace(cn, centre=_turn(f, cn.centre), direction=r @ cn.direction) for cn in drawing.cones
    )
    fit = None if drawing.fit_points is None else _turn(f, drawing.fit_points)
    return replace(
        drawing,
        meshes=meshes,
        markers=markers,
        labels=labels,
        lines=lines,
        cones=cones,
        fit_points=fit,
        frame=f @ drawing.frame,
    )
