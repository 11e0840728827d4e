"""Context bones: the rib cage and the hip bones, placed beside the column.

The rib cage (:mod:`spine3d.geometry.ribcage`) keeps the shape it has in the
``myo-sim`` chain: one rigid transform, fitted to the twelve thoracic vertebrae (the
package's rest pose of their local frames against ours), places it at rest. Each part
is then stored in the local frame of the vertebra it moves with: a rib and its costal
cartilage with the vertebra whose body its head meets (rib 5 with T5), the sternum with
:data:`STERNUM_MOVES_WITH`. The hip bones share the sacrum's frame in the package and
move with S1. Until the mechanics models the rib cage, each part moves rigidly with its
vertebra.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import trimesh
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from ..anatomy.frames import apply, invert
from ..anatomy.tables import pose_constants
from . import myo
from .bones import landmarks
from .column import ColumnBones
from .ribcage import thorax_parts

__all__ = [
    "CENTRELINE_POINTS",
    "CHANGES",
    "CREDIT",
    "STERNUM_MOVES_WITH",
    "ContextPart",
    "context_parts",
    "part_measures",
]

CREDIT = (
    "Bones: myo-sim (MyoSuite, Apache-2.0), from the OpenSim lumbar and thoracolumbar spine models"
)
"""The credit line figures and the README carry."""

CHANGES = (
    "Loop-subdivided twice and framed from their endplates; spinous processes turned to "
    "the published slope of each level and articular processes into the published facet "
    "ranges, set a cartilage gap apart, by smooth local warps; restacked on the tabled "
    "sagittal curve; thorax split into ribs, costal cartilages and sternum, its logo "
    "dropped; hip bones split twice, Taubin-smoothed and turned about the sacroiliac "
    "joints to a standing pelvis. See NOTICE."
)
"""What was changed in the package's meshes (also in NOTICE)."""

STERNUM_MOVES_WITH = "T4"
"""The sternum is carried by the vertebra at the level of its sternal angle."""

_PELVIS_SUBDIVISIONS = 2


@dataclass(frozen=True)
class ContextPart:
    """A bone drawn for context.

    Attributes
    ----------
    name : str
        ``rib_5_left``, ``cartilage_5_left``, ``sternum``, ``pelvis_left``.
    kind : str
        ``"rib"``, ``"cartilage"``, ``"sternum"`` or ``"pelvis"``.
    moves_with : str
        The level whose local frame the vertices are in.
    vertices : (n, 3) float
        Millimetres, in that level's local frame.
    faces : (m, 3) int
    landmarks : dict of str to (3,) float
        In the same frame (rib head, tubercle, anterior end, ...).
    measures : dict of str to float or (k, 3) float
        What the mechanics needs of a rib cage part (see :func:`part_measures`); empty
        for the hip bones.
    """

    name: str
    kind: str
    moves_with: str
    vertices: np.ndarray
    faces: np.ndarray
    landmarks: dict[str, np.ndarray]
    measures: dict = field(default_factory=dict)


def _kabsch(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Return the (4, 4) rigid transform that best maps ``src`` (k, 3) onto ``dst``."""
    cs, cd = src.mean(axis=0), dst.mean(axis=0)
    u, _, vt = np.linalg.svd((src - cs).T @ (dst - cd))
    d = np.sign(np.linalg.det(vt.T @ u.T))
    rot = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    m = np.eye(4)
    m[:3, :3] = rot
    m[:3, 3] = cd - rot @ cs
    return m


_SETTLE_STEP_MM = 0.25
_SETTLE_STEPS = 40
_OVERLAP_TOL_MM3 = 0.01
"""Largest overlap of a rib with a vertebra counted as touching, mm³."""


def _manifold(vertices: np.ndarray, faces: np.ndarray):
    import manifold3d as mf

    return mf.Manifold(mf.Mesh(np.asarray(vertices, np.float32), np.asarray(faces, np.uint32)))


def _settle_ribs(
    column: ColumnBones, ribs: dict[str, np.ndarray], faces: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Return a small translation per rib that frees it from the vertebrae it meets.

    Placed as a whole, the rib cage sits on our column as it sat on the package's; a
    rib head that reaches into a vertebral body there is moved away from the overlap
    in :data:`_SETTLE_STEP_MM` steps (with its cartilage) until it only touches.
    """
    bodies = {
        lv: _manifold(
            apply(column.rest_poses[lv], column.bones[lv].vertices), column.bones[lv].faces
        )
        for lv in column.bones
    }
    out = {}
    for name, v in ribs.items():
        k = int(name.split("_")[1])
        near = [bodies[f"T{i}"] for i in (k - 1, k, k + 1) if 1 <= i <= 12]
        shift = np.zeros(3)
        for _ in range(_SETTLE_STEPS):
            rib = _manifold(v + shift, faces[name])
            hits = [rib ^ b for b in near]
            hits = [h for h in hits if h.volume() > _OVERLAP_TOL_MM3]
            if not hits:
                break
            pts = np.concatenate([np.asarray(h.to_mesh().vert_properties)[:, :3] for h in hits])
            away = (v + shift).mean(axis=0) - pts.mean(axis=0)
            shift += _SETTLE_STEP_MM * away / np.linalg.norm(away)
        m = np.eye(4)
        m[:3, 3] = shift
        out[name] = m
    return out


def context_parts(column: ColumnBones) -> dict[str, ContextPart]:
    """Place the rib cage and the hip bones beside ``column`` in its rest pose.

    Returns
    -------
    dict of str to ContextPart
    """
    chain = myo.chain_poses()
    thoracic = [f"T{i}" for i in range(1, 13)]
    # The package's local frames of T1-T12 (sacrum-body frame) against ours (global).
    theirs = {lv: chain[lv] @ invert(column.bones[lv].package_to_local) for lv in thoracic}
    src = np.concatenate([apply(theirs[lv], np.eye(3) * 20.0) for lv in thoracic])
    src = np.concatenate([src, np.array([theirs[lv][:3, 3] for lv in thoracic])])
    dst = np.concatenate([apply(column.rest_poses[lv], np.eye(3) * 20.0) for lv in thoracic])
    dst = np.concatenate([dst, np.array([column.rest_poses[lv][:3, 3] for lv in thoracic])])
    place = _kabsch(src, dst) @ chain["thorax"]
    parts = thorax_parts()
    shifts = _settle_ribs(
        column,
        {
            n: apply(place, np.asarray(p.mesh.vertices))
            for n, p in parts.items()
            if n.startswith("rib_")
        },
        {n: np.asarray(p.mesh.faces) for n, p in parts.items()},
    )
    out: dict[str, ContextPart] = {}
    for name, part in parts.items():
        kind = name.split("_")[0]
        level = STERNUM_MOVES_WITH if kind == "sternum" else f"T{name.split('_')[1]}"
        rib = "rib_" + name.split("_", 1)[1] if kind in ("rib", "cartilage") else None
        to_local = invert(column.rest_poses[level]) @ shifts.get(rib, np.eye(4)) @ place
        vertices = apply(to_local, np.asarray(part.mesh.vertices))
        marks = {k: apply(to_local, v) for k, v in part.landmarks.items()}
        tip = None
        if kind == "rib" and int(name.split("_")[1]) <= TUBERCLE_RIBS:
            side = name.split("_")[2]
            tip = landmarks(column.bones[level]).get(f"transverse_tip_{side}")
        extra, measures = part_measures(kind, vertices, np.asarray(part.mesh.faces), marks, tip)
        out[name] = ContextPart(
            name=name,
            kind=kind,
            moves_with=level,
            vertices=vertices,
            faces=np.asarray(part.mesh.faces),
            landmarks={**marks, **extra},
            measures=measures,
        )
    for name, part in _hip_bones(column).items():
        out[name] = part
    return out


CENTRELINE_POINTS = 8
"""Points of a rib's or a cartilage's centreline, end to end."""
TUBERCLE_RIBS = 10
"""Ribs 1-10 meet the transverse process of their vertebra (costotransverse joint)."""


def part_measures(
    kind: str,
    vertices: np.ndarray,
    faces: np.ndarray,
    marks: dict[str, np.ndarray],
    transverse_tip: np.ndarray | None = None,
) -> tuple[dict[str, np.ndarray], dict]:
    """Measure what the mechanics needs of a rib cage part.

    Parameters
    ----------
    kind : str
        ``"rib"``, ``"cartilage"`` or ``"sternum"``.
    vertices : (n, 3) float
        The part, mm, in any frame (the measures come out in the same frame).
    faces : (m, 3) int
    marks : dict of str to (3,) float
        Its landmarks (:class:`~.ribcage.RibPart`), same frame.
    transverse_tip : (3,) float, optional
        For a rib: the tip of its vertebra's transverse process on its side.

    Returns
    -------
    landmarks : dict of str to (3,) float
        New landmarks: a rib of 1-:data:`TUBERCLE_RIBS` gains ``tubercle_mm``, the
        point of the rib nearest the transverse process tip (the source ribs have no
        tubercle bump to find).
    measures : dict
        ``section_mm2``: volume over length, the mean cross-section, mm²;
        ``length_mm``: along the centreline (ribs, cartilages) or between the sternum's
        ends; ribs and cartilages: ``centreline_mm`` (:data:`CENTRELINE_POINTS`, 3),
        from the head (rib) or the rib end (cartilage) to the other end, the mean of
        the vertices in equal steps of the distance along the surface from the first
        end; sternum: ``width_mm``, its extent across (z).
    """
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    volume = abs(float(mesh.volume))
    out: dict = {}
    extra: dict[str, np.ndarray] = {}
    if kind == "sternum":
        length = float(np.linalg.norm(marks["superior_mm"] - marks["inferior_mm"]))
        out["width_mm"] = round(float(np.ptp(vertices[:, 2])), 4)
    else:
        start = marks["head_mm"] if kind == "rib" else marks["rib_end_mm"]
        line = _centreline(mesh, start)
        length = float(np.sum(np.linalg.norm(np.diff(line, axis=0), axis=1)))
        out["centreline_mm"] = line
        if kind == "rib" and transverse_tip is not None:
            d = np.linalg.norm(vertices - transverse_tip, axis=1)
            extra["tubercle_mm"] = vertices[int(np.argmin(d))]
    out["length_mm"] = round(length, 4)
    out["section_mm2"] = round(volume / length, 4)
    return extra, out


def _centreline(mesh: trimesh.Trimesh, start: np.ndarray) -> np.ndarray:
    """Centreline (:data:`CENTRELINE_POINTS`, 3) of an elongated piece from ``start``."""
    edges, lengths = mesh.edges_unique, mesh.edges_unique_length
    n = len(mesh.vertices)
    graph = sp.coo_matrix((lengths, (edges[:, 0], edges[:, 1])), shape=(n, n)).tocsr()
    first = int(np.argmin(np.linalg.norm(mesh.vertices - start, axis=1)))
    dist = dijkstra(graph, directed=False, indices=first)
    s = dist / dist[np.isfinite(dist)].max()
    bins = np.minimum((s * CENTRELINE_POINTS).astype(int), CENTRELINE_POINTS - 1)
    v = np.asarray(mesh.vertices)
    return np.array([v[bins == b].mean(axis=0) for b in range(CENTRELINE_POINTS)])


def _hip_landmarks(hip: np.ndarray) -> tuple[int, int]:
    """Return the vertex numbers of the ASIS and the pubic tubercle of a hip bone.

    Found in the package's frame, where the pelvis stands anatomically: the ASIS is the
    most anterior point of the upper half, the pubic tubercle the most anterior and
    lowest of the tenth of the vertices nearest the mid-sagittal plane.
    """
    upper = np.flatnonzero(hip[:, 1] > np.median(hip[:, 1]))
    asis = upper[np.argmax(hip[upper, 0])]
    medial = np.argsort(np.abs(hip[:, 2]))[: len(hip) // 10]
    pubis = medial[np.argmax(hip[medial, 0] - 0.5 * hip[medial, 1])]
    return int(asis), int(pubis)


def _hip_bones(column: ColumnBones) -> dict[str, ContextPart]:
    """Place the hip bones beside the sacrum, turned about the sacroiliac joints to stand.

    The package's sacrum stands almost upright in its pelvis (its S1 endplate 2 deg
    from horizontal with the anterior pelvic plane vertical), so the tabled sacral
    slope would tip the hip bones forward with it. They turn instead about the axis
    through the two sacroiliac joints (where each hip bone comes closest to the
    sacrum) until the anterior pelvic plane (mid-ASIS to pubic symphysis) stands at
    the tabled pelvic tilt: the joints stay in contact and the pelvis stands as in a
    standing radiograph.
    """
    chain = myo.chain_poses()
    to_s1 = column.bones["S1"].package_to_local @ invert(chain["S1"])
    hips, faces, marks = {}, {}, {}
    for side in ("left", "right"):
        v, f = myo.read_bone(f"pelvis_{side}")
        # The hip bones are open, with a few edges of three triangles: Loop subdivision
        # cannot take them, so split at midpoints and smooth with Taubin's filter.
        for _ in range(_PELVIS_SUBDIVISIONS):
            v, f = trimesh.remesh.subdivide(v, f)
        mesh = trimesh.Trimesh(v, f, process=False)
        trimesh.smoothing.filter_taubin(mesh, iterations=10)
        hips[side] = apply(to_s1, np.asarray(mesh.vertices))
        faces[side] = np.asarray(mesh.faces)
        marks[side] = _hip_landmarks(np.asarray(mesh.vertices))
    sacrum = column.bones["S1"].vertices
    tree = cKDTree(sacrum)
    joints = []
    for v in hips.values():
        d, _ = tree.query(v)
        joints.append(v[d < np.percentile(d, 2)].mean(axis=0))
    axis = joints[1] - joints[0]
    axis /= np.linalg.norm(axis)
    pose = column.rest_poses["S1"]
    tilt = float(pose_constants()["pelvic_tilt_deg"])

    def turned(angle: float) -> tuple[np.ndarray, float]:
        m = trimesh.transformations.rotation_matrix(angle, axis, point=joints[0])
        asis = np.mean([apply(m, hips[k][marks[k][0]]) for k in hips], axis=0)
        pubis = np.mean([apply(m, hips[k][marks[k][1]]) for k in hips], axis=0)
        app = pose[:3, :3] @ (asis - pubis)
        return m, math.degrees(math.atan2(app[0], app[1]))

    _, now = turned(0.0)
    turn = min(
        (turned(math.radians(s * (now - tilt))) for s in (1.0, -1.0)),
        key=lambda mt: abs(mt[1] - tilt),
    )[0]
    return {
        f"pelvis_{side}": ContextPart(
            name=f"pelvis_{side}",
            kind="pelvis",
            moves_with="S1",
            vertices=apply(turn, hips[side]),
            faces=faces[side],
            landmarks={
                "sacroiliac_mm": apply(turn, joints[i]),
                "asis_mm": apply(turn, hips[side][marks[side][0]]),
                "pubic_tubercle_mm": apply(turn, hips[side][marks[side][1]]),
            },
        )
        for i, side in enumerate(("left", "right"))
    }
