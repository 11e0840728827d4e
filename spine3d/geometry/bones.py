"""Real bones: the ``myo-sim`` vertebrae on one shared template, smoothed and framed.

Every vertebra T1-L5 is a morph of one template (212 vertices, 424 triangles), so a
set of template vertices names the same anatomical place on every level. The sets
(:func:`template_sets`) are defined once, as boxes on the template's L3 in the
package's frame (+X anterior, +Y superior, +Z right, mm); each level inherits them by
vertex number. Two passes of Loop subdivision smooth the low-poly bone (about 6,800
triangles); a new vertex belongs to a set when both ends of its parent edge do.

A vertebra's local frame (ISB: origin at the body centre, +X anterior, +Y superior,
+Z right) comes from its own endplates: +Y bisects the two endplate normals, the
origin is midway between the endplate centres, +X is the package's anterior axis made
perpendicular to +Y.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

import numpy as np
import trimesh
from scipy.spatial import cKDTree

from ..anatomy import LEVELS
from . import myo

__all__ = [
    "SUBDIVISIONS",
    "Bone",
    "Surface",
    "fit_surface",
    "template_sets",
    "vertebra_bone",
]

SUBDIVISIONS = 2
"""Passes of Loop subdivision applied to the package's low-poly bones."""

_REFERENCE = "L3"
"""The template shape on which the vertex sets are drawn."""

# Boxes on the template's L3, package frame, mm: (x range, y range, |z| range). Sides
# are split by the sign of z.
_BOXES: dict[str, tuple[tuple[float, float], tuple[float, float], tuple[float, float]]] = {
    "body": ((-12.5, 99.0), (-99.0, 99.0), (0.0, 99.0)),
    "superior_process": ((-37.0, -14.0), (24.0, 99.0), (5.0, 21.0)),
    "inferior_process": ((-37.0, -17.0), (-99.0, 16.0), (6.0, 20.0)),
    "spinous_process": ((-99.0, -36.0), (-99.0, 99.0), (0.0, 7.0)),
    "transverse_process": ((-30.0, -10.0), (12.0, 32.0), (21.0, 99.0)),
}

_ENDPLATE_COS = 0.75
"""A body triangle is on an endplate when its normal is within ~41 deg of +-Y."""


@cache
def _thoracic_order() -> np.ndarray:
    ref = myo.read_bone("L1")
    return myo.template_order(*myo.read_bone("T12"), *ref)


@cache
def _template_faces() -> np.ndarray:
    faces = myo.read_bone("L1")[1]
    faces.flags.writeable = False
    return faces


def base_vertices(level: str) -> np.ndarray:
    """Return a vertebra's package vertices in template numbering.

    Parameters
    ----------
    level : str
        ``"T1"`` ... ``"L5"``.

    Returns
    -------
    (212, 3) float
        Millimetres, package frame; faces are :func:`template_faces`.
    """
    v, f = myo.read_bone(level)
    if level.startswith("T"):
        perm = _thoracic_order()
        if not np.array_equal(f, myo.read_bone("T12")[1]):
            raise myo.MeshFileError(f"{level}: not a morph of the thoracic template")
        out = np.empty_like(v)
        out[perm] = v
        return out
    if not np.array_equal(f, _template_faces()):
        raise myo.MeshFileError(f"{level}: not a morph of the lumbar template")
    return v


def template_faces() -> np.ndarray:
    """Return the template's (424, 3) triangles (read-only)."""
    return _template_faces()


@cache
def template_sets() -> Mapping[str, np.ndarray]:
    """Return the named vertex sets of the template.

    Returns
    -------
    mapping of str to (212,) bool
        ``body``, ``spinous_process`` and, per side, ``superior_process_left`` ...
        ``transverse_process_right``.
    """
    v = base_vertices(_REFERENCE)
    out = {}
    for name, ((x0, x1), (y0, y1), (z0, z1)) in _BOXES.items():
        inside = (v[:, 0] >= x0) & (v[:, 0] <= x1) & (v[:, 1] >= y0) & (v[:, 1] <= y1)
        az = np.abs(v[:, 2])
        inside &= (az >= z0) & (az <= z1)
        if name in ("body", "spinous_process"):
            out[name] = inside
        else:
            out[f"{name}_left"] = inside & (v[:, 2] < 0)
            out[f"{name}_right"] = inside & (v[:, 2] > 0)
    for mask in out.values():
        mask.flags.writeable = False
    return MappingProxyType(out)


def subdivide(
    vertices: np.ndarray,
    faces: np.ndarray,
    sets: Mapping[str, np.ndarray],
    iterations: int = SUBDIVISIONS,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Loop-subdivide a mesh and carry its vertex sets along.

    Parameters
    ----------
    vertices : (n, 3) float
    faces : (m, 3) int
    sets : mapping of str to (n,) bool
    iterations : int

    Returns
    -------
    vertices : (n', 3) float
    faces : (4**iterations * m, 3) int
    sets : dict of str to (n',) bool
        A new (edge) vertex is in a set when both ends of its edge are.
    """
    v, f = np.asarray(vertices, float), np.asarray(faces)
    out = {k: np.asarray(m, bool) for k, m in sets.items()}
    for _ in range(iterations):
        edges = trimesh.Trimesh(v, f, process=False).edges_unique
        v, f = trimesh.remesh.subdivide_loop(v, f, iterations=1)
        out = {k: np.concatenate([m, m[edges[:, 0]] & m[edges[:, 1]]]) for k, m in out.items()}
    return v, f, out


@dataclass(frozen=True)
class Surface:
    """A fitted patch of bone surface.

    Attributes
    ----------
    centre_mm : (3,) float
        Area-weighted centroid, mm.
    normal : (3,) float
        Unit area-weighted outward normal.
    area_mm2 : float
    width_mm, height_mm : float
        Extent across and along the patch's long in-plane axis (twice the RMS
        distance times 2, i.e. the ellipse of the same second moment), mm.
    """

    centre_mm: np.ndarray
    normal: np.ndarray
    area_mm2: float
    width_mm: float
    height_mm: float


def fit_surface(vertices: np.ndarray, faces: np.ndarray, face_mask: np.ndarray) -> Surface:
    """Fit centre, normal, area and extent to the selected triangles of a mesh.

    Parameters
    ----------
    vertices : (n, 3) float
    faces : (m, 3) int
    face_mask : (m,) bool or (k,) int
        The triangles, as a mask or as indices.

    Returns
    -------
    Surface
    """
    tri = vertices[faces[face_mask]]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    areas = 0.5 * np.linalg.norm(cross, axis=1)
    total = float(areas.sum())
    if total <= 0.0:
        raise ValueError("empty surface")
    centres = tri.mean(axis=1)
    centre = (areas[:, None] * centres).sum(axis=0) / total
    normal = cross.sum(axis=0)
    normal /= np.linalg.norm(normal)
    d = centres - centre
    d -= np.outer(d @ normal, normal)
    cov = (areas[:, None, None] * np.einsum("ni,nj->nij", d, d)).sum(axis=0) / total
    ev = np.sort(np.linalg.eigvalsh(cov))[::-1]
    # A uniform ellipse with semi-axis a has variance a**2 / 4 along it.
    height, width = (4.0 * np.sqrt(np.maximum(ev[:2], 0.0))).tolist()
    return Surface(centre, normal, total, width, height)


@dataclass(frozen=True)
class Bone:
    """A smoothed bone in its local frame.

    Attributes
    ----------
    name : str
    vertices : (n, 3) float
        Millimetres, local frame.
    faces : (m, 3) int
    sets : mapping of str to (n,) bool
        The template's vertex sets carried to this mesh (empty for bones that are not
        on the template).
    package_to_local : (4, 4) float
        Takes the package's mesh coordinates (mm) to the local frame.
    """

    name: str
    vertices: np.ndarray
    faces: np.ndarray
    sets: Mapping[str, np.ndarray]
    package_to_local: np.ndarray

    def face_mask(self, name: str) -> np.ndarray:
        """Return the (m,) triangles whose three vertices are in set ``name``."""
        return self.sets[name][self.faces].all(axis=1)

    def face_normals(self) -> np.ndarray:
        """Return the (m, 3) unit normals of the triangles."""
        tri = self.vertices[self.faces]
        n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)

    def endplate(self, which: str) -> Surface:
        """Fit the ``"superior"`` or ``"inferior"`` endplate (outward normal)."""
        sign = {"superior": 1.0, "inferior": -1.0}[which]
        mask = self.face_mask("body") & (sign * self.face_normals()[:, 1] > _ENDPLATE_COS)
        return fit_surface(self.vertices, self.faces, mask)


def _frame_from_endplates(vertices: np.ndarray, faces: np.ndarray, body: np.ndarray) -> np.ndarray:
    """Return the (4, 4) package-to-local transform of a vertebra from its endplates."""
    probe = Bone("", vertices, faces, {"body": body}, np.eye(4))
    sup, inf = probe.endplate("superior"), probe.endplate("inferior")
    y = sup.normal - inf.normal
    y /= np.linalg.norm(y)
    x = np.array([1.0, 0.0, 0.0]) - y[0] * y
    x /= np.linalg.norm(x)
    z = np.cross(x, y)
    origin = 0.5 * (sup.centre_mm + inf.centre_mm)
    rot = np.stack([x, y, z])
    m = np.eye(4)
    m[:3, :3] = rot
    m[:3, 3] = -rot @ origin
    return m


def vertebra_bone(level: str, iterations: int = SUBDIVISIONS) -> Bone:
    """Return vertebra ``level`` (T1-L5) smoothed, in its local frame.

    Parameters
    ----------
    level : str
    iterations : int, default: 2
        Passes of Loop subdivision.

    Returns
    -------
    Bone
    """
    if level not in LEVELS[:-1]:
        raise ValueError(f"no template bone for {level!r}")
    v, f, sets = subdivide(base_vertices(level), template_faces(), template_sets(), iterations)
    to_local = _frame_from_endplates(v, f, sets["body"])
    local = v @ to_local[:3, :3].T + to_local[:3, 3]
    for m in sets.values():
        m.flags.writeable = False
    return Bone(level, local, f, MappingProxyType(sets), to_local)


WARP_INNER_MM = 4.0
"""Vertices within this distance of a warped surface's centre move with it fully, mm."""
WARP_OUTER_MM = 11.0
"""Vertices beyond this distance of a warped surface's centre do not move, mm."""


WARP_REGION_MM = 4.0
"""Distance outside a warped process over which the warp fades out, mm."""


def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _rotation(axis: np.ndarray, angle_rad: np.ndarray) -> np.ndarray:
    """Return (k, 3, 3) rotations about unit ``axis`` by ``angle_rad`` (k,) (Rodrigues)."""
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    s, c = np.sin(angle_rad)[:, None, None], np.cos(angle_rad)[:, None, None]
    return np.eye(3) + s * k + (1.0 - c) * (k @ k)


def warp_surface(
    vertices: np.ndarray,
    centre_mm: np.ndarray,
    normal: np.ndarray,
    target_normal: np.ndarray,
    shift_mm: float = 0.0,
    region: np.ndarray | None = None,
) -> np.ndarray:
    """Turn a surface of a bone to a new normal and shift it along it, with smooth falloff.

    Every vertex turns about the surface centre by the angle between ``normal`` and
    ``target_normal`` times a weight that is 1 within :data:`WARP_INNER_MM` of the
    centre and falls smoothly (smoothstep) to 0 at :data:`WARP_OUTER_MM`, and moves
    ``shift_mm`` along the target normal times the same weight. The bone stays one
    smooth surface: there is no seam.

    Parameters
    ----------
    vertices : (n, 3) float
        Millimetres.
    centre_mm : (3,) float
    normal, target_normal : (3,) float
        Unit vectors.
    shift_mm : float, default: 0.0
    region : (k, 3) float, optional
        The process the surface belongs to: the weight also falls to 0 within
        :data:`WARP_REGION_MM` outside it, so the lamina and the canal stay put.

    Returns
    -------
    (n, 3) float
        The warped vertices.
    """
    v = np.asarray(vertices, float)
    c = np.asarray(centre_mm, float)
    n0, n1 = np.asarray(normal, float), np.asarray(target_normal, float)
    d = np.linalg.norm(v - c, axis=1)
    t = np.clip((WARP_OUTER_MM - d) / (WARP_OUTER_MM - WARP_INNER_MM), 0.0, 1.0)
    w = _smoothstep(t)
    if region is not None:
        gap, _ = cKDTree(region).query(v)
        w *= _smoothstep(1.0 - gap / WARP_REGION_MM)
    moving = w > 0.0
    axis = np.cross(n0, n1)
    s = np.linalg.norm(axis)
    angle = float(np.arctan2(s, float(n0 @ n1)))
    out = v.copy()
    if s > 1e-12:
        rot = _rotation(axis / s, angle * w[moving])
        out[moving] = c + np.einsum("kij,kj->ki", rot, v[moving] - c)
    out[moving] += (shift_mm * w[moving])[:, None] * n1
    return out


_SPINOUS_PASSES = 6
SPINOUS_BASE_MM = 6.0
"""Length over which a turned spinous process blends into its lamina, mm."""


def spinous_axis(bone: Bone) -> tuple[np.ndarray, np.ndarray]:
    """Return the base (3,) and the unit direction (3,) of a vertebra's spinous process.

    The base is the centre of the process's border with the lamina (its vertices next
    to vertices outside the set); the direction points from it to the centroid of the
    process (a lumbar process is taller than it is long, so its principal axis would
    stand upright).
    """
    inside = bone.sets["spinous_process"]
    edge_in = inside[bone.faces]
    border = bone.faces[edge_in.any(axis=1) & ~edge_in.all(axis=1)]
    ring = np.unique(border[inside[border]])
    base = bone.vertices[ring].mean(axis=0)
    u = bone.vertices[inside].mean(axis=0) - base
    return base, u / np.linalg.norm(u)


def spinous_slope_deg(bone: Bone) -> float:
    """Return the angle of the spinous process below the local transverse plane, deg."""
    _, u = spinous_axis(bone)
    return float(np.degrees(np.arctan2(-u[1], -u[0])))


def turn_spinous(bone: Bone, slope_deg: float) -> Bone:
    """Turn a vertebra's spinous process in the sagittal plane to ``slope_deg``.

    A smooth local warp about the process's base: the weight rises from 0 at the base
    to 1 at :data:`SPINOUS_BASE_MM` along the process and fades out within
    :data:`WARP_REGION_MM` of the process, so the laminae and the articular processes
    stay where they are.
    """
    out = bone
    for _ in range(_SPINOUS_PASSES):
        base, u = spinous_axis(out)
        angle = np.radians(slope_deg - spinous_slope_deg(out))
        if abs(angle) < np.radians(0.2):
            break
        v = out.vertices
        along = (v - base) @ u
        gap, _ = cKDTree(v[bone.sets["spinous_process"]]).query(v)
        w = _smoothstep(along / SPINOUS_BASE_MM) * _smoothstep(1.0 - gap / WARP_REGION_MM)
        moving = w > 0.0
        rot = _rotation(np.array([0.0, 0.0, 1.0]), angle * w[moving])
        turned = v.copy()
        turned[moving] = base + np.einsum("kij,kj->ki", rot, v[moving] - base)
        out = Bone(bone.name, turned, bone.faces, bone.sets, bone.package_to_local)
    return out


def landmarks(bone: Bone) -> dict[str, np.ndarray]:
    """Return a vertebra's named landmarks in its local frame, mm.

    ``anterior_body`` and ``posterior_body``: the most anterior and posterior points of
    the body on the mid-sagittal plane at mid-height (where the longitudinal ligaments
    run); ``spinous_base`` and ``spinous_tip``; ``transverse_tip_left`` and ``_right``
    (the most lateral points of the transverse processes); ``mammillary_left`` and
    ``_right`` (the most posterior points of the superior articular processes, where
    the mammillary processes sit). A bone without a set (the sacrum has no spinous or
    transverse process sets) has no such landmark.
    """
    v = bone.vertices
    out: dict[str, np.ndarray] = {}
    body = bone.sets.get("body")
    if body is not None and body.any():
        mid = body & (np.abs(v[:, 2]) < 3.0)
        if mid.any():
            pts = v[mid]
            pts = pts[np.abs(pts[:, 1] - np.median(pts[:, 1])) < 4.0]
            out["anterior_body"] = pts[np.argmax(pts[:, 0])]
            out["posterior_body"] = pts[np.argmin(pts[:, 0])]
    if "spinous_process" in bone.sets and bone.sets["spinous_process"].any():
        base, u = spinous_axis(bone)
        pts = v[bone.sets["spinous_process"]]
        out["spinous_base"] = base
        out["spinous_tip"] = pts[np.argmax((pts - base) @ u)]
        # The most lateral points behind the body: the transverse process tips (the
        # template's transverse-process box does not reach the thoracic tips).
        behind = v[(v[:, 0] < out["posterior_body"][0]) & ~bone.sets["spinous_process"]]
        out["transverse_tip_left"] = behind[np.argmin(behind[:, 2])]
        out["transverse_tip_right"] = behind[np.argmax(behind[:, 2])]
    for side in ("left", "right"):
        sap = bone.sets.get(f"superior_process_{side}")
        if sap is not None and sap.any():
            pts = v[sap]
            out[f"mammillary_{side}"] = pts[np.argmin(pts[:, 0])]
    return out
