"""Parametric vertebra meshes built from the anatomy model, in each vertebra's local frame.

Parts are convex hulls of ellipsoids (tapered processes), an extruded and warped body
(concave waist, tilted endplates), and elliptical articular plates placed and oriented
from the *same* facet centres and normals the mechanics uses. The parts are united
with manifold3d, the joint spaces are cleared in front of every articular surface,
and the result is refined and Taubin-smoothed for bone-like fillets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import manifold3d as mf
import numpy as np
import trimesh

from ..anatomy import SpineModel, Vertebra
from ..anatomy.frames import apply
from ..errors import SpineInputError

__all__ = [
    "INTERSECTION_TOL_MM3",
    "LODS",
    "Lod",
    "articular_surfaces",
    "build_vertebra",
    "facet_mask",
    "to_manifold",
]


@dataclass(frozen=True)
class Lod:
    """A level of detail: sphere and section resolution, triangle target, smoothing.

    ``target_triangles`` sets the longest edge after refinement from the surface area
    (equilateral triangles); 0 keeps the unrefined union.
    """

    segments: int
    section_points: int
    target_triangles: int
    smooth_iterations: int


LODS = {
    "coarse": Lod(segments=12, section_points=24, target_triangles=0, smooth_iterations=4),
    "default": Lod(segments=20, section_points=40, target_triangles=5000, smooth_iterations=8),
    "fine": Lod(segments=32, section_points=64, target_triangles=20000, smooth_iterations=10),
}
"""Levels of detail; ``"default"`` is what ``meshes/`` holds."""

INTERSECTION_TOL_MM3 = 0.01
"""Largest overlap of two rest-pose neighbours counted as touching, not interpenetrating,
mm³ (float32 vertex round-off on surfaces that meet)."""
PLATE_MM = 3.0
"""Thickness of an articular plate behind its surface, mm."""
_CLEAR_DEPTH_MM = 9.0
"""Depth of the joint space cleared in front of each articular surface, mm."""


def _ellipsoid(centre, radii, lod: Lod) -> mf.Manifold:
    return (
        mf.Manifold.sphere(1.0, lod.segments)
        .scale(list(map(float, radii)))
        .translate(list(map(float, centre)))
    )


def _hull(*parts: mf.Manifold) -> mf.Manifold:
    return mf.Manifold.batch_hull(list(parts))


def _frame(normal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """In-plane axes (u: across, v: up the plane) of a surface with unit ``normal``."""
    up = np.array([0.0, 1.0, 0.0])
    v = up - normal * float(up @ normal)
    if np.linalg.norm(v) < 1e-6:
        v = np.array([1.0, 0.0, 0.0]) - normal * normal[0]
    v /= np.linalg.norm(v)
    return np.cross(v, normal), v


def _oriented_cylinder(centre, normal, half_u, half_v, depth, offset, lod: Lod) -> mf.Manifold:
    """Elliptical cylinder with axis ``normal``, spanning ``[offset, offset + depth]`` along it."""
    u, v = _frame(normal)
    cyl = mf.Manifold.cylinder(float(depth), 1.0, 1.0, lod.segments * 2).scale(
        [float(half_u), float(half_v), 1.0]
    )
    m = np.column_stack([u, v, normal, np.asarray(centre) + normal * offset])
    return cyl.transform(m.tolist())


def articular_surfaces(model: SpineModel, level: str) -> list[dict]:
    """Articular surfaces of ``level`` in its local frame, from the model's facet data.

    Returns
    -------
    list of dict
        One per surface: ``joint``, ``side``, ``process`` (``"superior"`` or
        ``"inferior"``), ``centre_mm`` (3,), ``normal`` (3,) outward from the bone,
        ``width_mm``, ``height_mm``, ``area_mm2``, ``clearance_mm``.
    """
    out = []
    for j in model.joints:
        if level not in (j.lower, j.upper):
            continue
        lower = level == j.lower
        frame = j.disc_frame_in_lower if lower else j.disc_frame_in_upper
        for f in j.facets:
            n = frame[:3, :3] @ f.normal
            n = n if lower else -n
            centre = apply(frame, f.centre_mm) - n * (f.clearance_mm / 2)
            out.append(
                {
                    "joint": j.name,
                    "side": f.side,
                    "process": "superior" if lower else "inferior",
                    "centre_mm": centre,
                    "normal": n,
                    "width_mm": f.width_mm,
                    "height_mm": f.height_mm,
                    "area_mm2": f.area_mm2,
                    "clearance_mm": f.clearance_mm,
                }
            )
    return out


def facet_mask(model: SpineModel, level: str, mesh: trimesh.Trimesh) -> np.ndarray:
    """Return a (F,) bool mask of the faces of ``mesh`` on the articular surfaces of ``level``.

    A face counts when it lies within 1 mm of a surface plane, inside its extent, and
    faces within ~37 deg of its normal.
    """
    centres = mesh.triangles_center
    normals = mesh.face_normals
    mask = np.zeros(len(mesh.faces), dtype=bool)
    for s in articular_surfaces(model, level):
        c, n = np.asarray(s["centre_mm"]), np.asarray(s["normal"])
        d = centres - c
        on_plane = np.abs(d @ n) < 1.0
        inside = np.linalg.norm(d - np.outer(d @ n, n), axis=1) < 0.5 * max(
            s["width_mm"], s["height_mm"]
        )
        mask |= on_plane & inside & (normals @ n > 0.8)
    return mask


def _body(v: Vertebra, lod: Lod, kind: str) -> mf.Manifold:
    m = v.morphometry
    w, d, h = m["body_width_mm"], m["body_depth_mm"], v.body_height_mm
    t = np.linspace(0, 2 * np.pi, lod.section_points, endpoint=False)
    x, z = 0.5 * d * np.cos(t), 0.5 * w * np.sin(t)
    if kind == "thoracic":
        # Heart-shaped: narrower in front, a shallow notch behind for the canal.
        z = z * (1.0 - 0.22 * (x / (0.5 * d) + 1.0) / 2.0)
        x = np.where(x < 0, x + 0.10 * d * np.cos(np.pi * z / w) ** 2, x)
    else:
        # Kidney-shaped: wide, with a concave posterior border.
        x = np.where(x < 0, x + 0.16 * d * np.cos(np.pi * z / w) ** 2, x)
    # Counter-clockwise in (x, -z), so that the rotation below maps -z back to +Z.
    section = mf.CrossSection([np.column_stack([x, -z])[::-1].tolist()])
    body = (
        mf.Manifold.extrude(section, h, n_divisions=6).translate([0, 0, -h / 2]).rotate([-90, 0, 0])
    )
    wedge = math.tan(math.radians(v.body_wedge_deg) / 2)
    waist = 0.12

    def warp(p):
        px, py, pz = p
        s = 1.0 - waist * (1.0 - (2.0 * py / h) ** 2)
        return [px * s, py + (2.0 * py / h) * px * wedge, pz * s]

    return body.warp(warp)


def _posterior_arch(v: Vertebra, lod: Lod, kind: str) -> tuple[list[mf.Manifold], dict]:
    """Pedicles, laminae, spinous and transverse processes; return parts and landmarks."""
    m = v.morphometry
    d, h = m["body_depth_mm"], v.body_height_mm
    pw, ph, pl = m["pedicle_width_mm"], m["pedicle_height_mm"], m["pedicle_length_mm"]
    cw, cd, lt = m["canal_width_mm"], m["canal_depth_mm"], m["lamina_thickness_mm"]
    post = -0.5 * d
    zj = 0.5 * cw + 0.5 * pw  # pedicle axis, lateral of the canal
    xj = post - pl  # pedicle-lamina junction
    yj = 0.18 * h  # pedicles arise from the upper half of the body
    xs = post - cd - 0.5 * lt  # laminae meet behind the canal
    lam_h = 0.45 * h + 1.0
    parts = []
    landmarks = {"junction": (xj, yj, zj), "lamina_mid": (xs, yj - 0.45 * lam_h, 0.0)}
    for sz in (-1.0, 1.0):
        parts.append(
            _hull(
                # Rooted well inside the body's posterolateral curve.
                _ellipsoid((post + 0.3 * d, yj, sz * 0.85 * zj), (4.0, ph / 2, pw / 2), lod),
                # Tapering toward the lamina, under the articular processes of the level above.
                _ellipsoid((xj, yj - 1.0, sz * zj), (2.5, 0.4 * ph, min(pw / 2 + 0.5, 5.5)), lod),
            )
        )
        parts.append(
            _hull(
                # The upper border stays low: the inferior articular processes of the
                # level above rest on it.
                _ellipsoid(
                    (xj, yj - 0.2 * lam_h, sz * zj), (lt / 2, lam_h / 2, min(pw / 2, 4.0)), lod
                ),
                _ellipsoid((xs, yj - 0.25 * lam_h, sz * 2.0), (lt / 2, lam_h / 2, 2.5), lod),
            )
        )
    # Spinous process: long and sloping (thorax) or short, square and hatchet-shaped.
    slope = math.radians(m["spinous_slope_deg"])
    length = m["spinous_length_mm"]
    base = np.array([xs, yj - 0.3 * lam_h, 0.0])
    tip = base + length * np.array([-math.cos(slope), -math.sin(slope), 0.0])
    if kind == "thoracic":
        parts.append(
            _hull(
                _ellipsoid(base, (lt / 2 + 1, 0.35 * lam_h, 3.0), lod),
                _ellipsoid(tip, (3.0, 3.5, 2.8), lod),
            )
        )
    else:
        blade = 0.6 * lam_h + 4.0
        parts.append(
            _hull(
                _ellipsoid(base, (lt / 2 + 1, 0.4 * lam_h, 3.0), lod),
                _ellipsoid(tip + [1.5, 0.25 * blade, 0], (3.0, 0.5 * blade, 2.6), lod),
                _ellipsoid(tip + [0, -0.25 * blade, 0], (3.0, 0.5 * blade, 2.6), lod),
            )
        )
    # Transverse processes from the junction, lateral and (in the thorax) backward.
    back = math.radians(m["transverse_back_deg"])
    reach = 0.5 * m["transverse_span_mm"] - zj
    for sz in (-1.0, 1.0):
        tp_tip = np.array(
            [xj - reach * math.sin(back), yj + 1.0, sz * (zj + reach * math.cos(back))]
        )
        if kind == "thoracic":
            tip_part = _ellipsoid(tp_tip, (4.5, 4.5, 4.0), lod)
            root = _ellipsoid((xj, yj + 1.0, sz * zj), (4.0, 5.0, 3.5), lod)
        else:
            tip_part = _ellipsoid(tp_tip, (2.5, 3.5, 2.5), lod)
            root = _ellipsoid((xj, yj + 1.0, sz * zj), (3.0, 5.5, 3.0), lod)
        parts.append(_hull(root, tip_part))
        if m["costal_facets"] >= 0.5:
            # Costal facet on the front of the tip, for the tubercle of the rib.
            parts.append(_ellipsoid(tp_tip + [3.8, 0, 0], (1.2, 3.2, 3.2), lod))
    if m["costal_facets"] >= 0.5:
        for sz in (-1.0, 1.0):
            for sy in (-1.0, 1.0):
                # Demifacets for the rib heads at the posterolateral body corners.
                parts.append(
                    _ellipsoid(
                        (
                            post + 0.22 * d,
                            sy * (0.5 * h - 2.5),
                            sz * 0.5 * m["body_width_mm"] * 0.74,
                        ),
                        (3.0, 2.6, 2.2),
                        lod,
                    )
                )
    return parts, landmarks


def _articular_parts(model, v, lod, landmarks, surfaces, kind):
    """Articular plates, each joined to the arch behind its surface, and the joint spaces."""
    parts, spaces = [], []
    xj, yj, zj = landmarks["junction"]
    xm, ym, _ = landmarks["lamina_mid"]
    for s in surfaces:
        c, n = np.asarray(s["centre_mm"]), np.asarray(s["normal"])
        hu, hv = s["width_mm"] / 2, s["height_mm"] / 2
        plate = _oriented_cylinder(c, n, hu, hv, PLATE_MM, -PLATE_MM, lod)
        back = c - n * (PLATE_MM + 1.5)
        sz = 1.0 if s["side"] == "right" else -1.0
        if s["process"] == "superior":
            anchor = np.array([xj, yj + 2.0, sz * zj])
        else:
            t = 0.35
            anchor = np.array([xj + t * (xm - xj), 0.5 * (ym + yj), sz * zj * (1 - t)])
        # The process: the plate, a body of bone behind it, and a neck to the arch.
        bulk = _ellipsoid(back, (0.6 * hu, 0.6 * hv, 0.6 * hu), lod)
        process = _hull(plate, bulk)
        strut = _hull(
            _ellipsoid(back, (0.4 * hu, 0.4 * hv, 0.4 * hu), lod),
            _ellipsoid(anchor, (3.0, 4.0, 3.0), lod),
        )
        parts += [process, strut]
        if kind == "lumbar" and s["process"] == "superior":
            # Mammillary process on the back of the superior articular process.
            parts.append(_ellipsoid(back - n * 1.5 + [-2.0, 1.0, 0], (2.2, 2.2, 2.2), lod))
        spaces.append(_oriented_cylinder(c, n, hu + 2.0, hv + 2.0, _CLEAR_DEPTH_MM, 0.0, lod))
    return parts, spaces


def _sacrum(model: SpineModel, v: Vertebra, lod: Lod) -> tuple[list[mf.Manifold], dict]:
    """S1 body, alae, the tapering sacrum with its dorsal crest, and the S1 landmarks."""
    m = v.morphometry
    d, w, h = m["body_depth_mm"], m["body_width_mm"], v.body_height_mm
    span = m["transverse_span_mm"]
    parts = [_body(v, lod, "lumbar")]
    # Alae: wide wings lateral to the S1 body, sloping down and back.
    for sz in (-1.0, 1.0):
        parts.append(
            _hull(
                _ellipsoid((0.0, 0.1 * h, sz * 0.35 * w), (0.35 * d, 0.45 * h, 6.0), lod),
                _ellipsoid((-0.35 * d, -0.2 * h, sz * 0.5 * span), (0.3 * d, 0.7 * h, 6.0), lod),
                _ellipsoid((-0.5 * d, -1.4 * h, sz * 0.3 * span), (0.22 * d, 0.5 * h, 6.0), lod),
            )
        )
    # The body of the sacrum tapers to its apex, curving backward (sacral kyphosis).
    parts.append(
        _hull(
            _ellipsoid((0.0, -0.35 * h, 0.0), (0.45 * d, 0.3 * h, 0.45 * w), lod),
            _ellipsoid((-0.45 * d, -2.6 * h, 0.0), (0.35 * d, 0.4 * h, 0.32 * w), lod),
            _ellipsoid((-1.3 * d, -4.2 * h, 0.0), (0.2 * d, 0.25 * h, 0.14 * w), lod),
        )
    )
    # Dorsal wall over the sacral canal with the median crest.
    xc = -0.5 * d - m["canal_depth_mm"]
    parts.append(
        _hull(
            _ellipsoid((xc, -0.1 * h, 0.0), (3.0, 0.3 * h, 0.5 * m["canal_width_mm"] + 6), lod),
            _ellipsoid((xc - 0.6 * d, -3.0 * h, 0.0), (3.0, 0.3 * h, 10.0), lod),
        )
    )
    parts.append(
        _hull(
            _ellipsoid((xc - 4, -0.2 * h, 0.0), (3.0, 4.0, 2.5), lod),
            _ellipsoid((xc - 0.6 * d - 4, -2.8 * h, 0.0), (2.5, 3.0, 2.0), lod),
        )
    )
    zj = 0.5 * m["canal_width_mm"] + 0.5 * m["pedicle_width_mm"]
    for sz in (-1.0, 1.0):
        parts.append(
            _hull(
                _ellipsoid((-0.5 * d + 2, 0.1 * h, sz * zj), (3.0, 5.0, 5.0), lod),
                _ellipsoid((xc, -0.1 * h, sz * zj), (3.0, 5.0, 5.0), lod),
            )
        )
    landmarks = {
        "junction": (-0.5 * d - m["pedicle_length_mm"], 0.1 * h, zj),
        "lamina_mid": (xc, 0.0, 0.0),
    }
    return parts, landmarks


def _canal(v: Vertebra, lod: Lod) -> mf.Manifold:
    """Return the vertebral foramen: an elliptical tube behind the body, cut through the arch."""
    m = v.morphometry
    d, h = m["body_depth_mm"], v.body_height_mm
    cw, cd = m["canal_width_mm"], m["canal_depth_mm"]
    tube = mf.Manifold.cylinder(4 * h + 40, 1.0, 1.0, lod.segments * 2, center=True)
    tube = tube.scale([cd / 2, cw / 2, 1.0]).rotate([90, 0, 0])
    return tube.translate([-0.5 * d - cd / 2 + 0.5, 0.0, 0.0])


def to_manifold(mesh: trimesh.Trimesh) -> mf.Manifold:
    """Convert a trimesh to a manifold3d solid (for booleans and gap queries)."""
    return mf.Manifold(
        mf.Mesh(
            vert_properties=np.asarray(mesh.vertices, dtype=np.float32),
            tri_verts=np.asarray(mesh.faces, dtype=np.uint32),
        )
    )


def build_vertebra(model: SpineModel, level: str, lod: str = "default") -> trimesh.Trimesh:
    """Build the mesh of ``level`` in its local frame (mm; origin at the body centre).

    Parameters
    ----------
    model : SpineModel
    level : str
        ``"T1"`` ... ``"L5"`` or ``"S1"``.
    lod : {"coarse", "default", "fine"}, default: "default"

    Returns
    -------
    trimesh.Trimesh
        A watertight, consistently oriented mesh.
    """
    if lod not in LODS:
        raise SpineInputError(f"unknown level of detail {lod!r}: expected one of {', '.join(LODS)}")
    q = LODS[lod]
    v = model.vertebra(level)
    kind = "thoracic" if v.region == "thoracic" or v.name == "T11" else "lumbar"
    surfaces = articular_surfaces(model, level)
    if v.region == "sacral":
        parts, landmarks = _sacrum(model, v, q)
    else:
        parts, landmarks = _posterior_arch(v, q, kind)
        parts.append(_body(v, q, kind))
    art, spaces = _articular_parts(model, v, q, landmarks, surfaces, kind)
    solid = mf.Manifold.batch_boolean(parts + art, mf.OpType.Add)
    if v.region != "sacral":
        solid = solid - _canal(v, q)
    solid = solid - mf.Manifold.batch_boolean(spaces, mf.OpType.Add)
    # Split long hull edges so that smoothing works on even triangles, not slivers.
    if q.target_triangles:
        edge_mm = math.sqrt(4 * solid.surface_area() / (math.sqrt(3) * q.target_triangles))
        solid = solid.refine_to_length(edge_mm)
    out = solid.to_mesh()
    mesh = trimesh.Trimesh(
        vertices=np.asarray(out.vert_properties[:, :3], dtype=float),
        faces=np.asarray(out.tri_verts, dtype=np.int64),
        # manifold3d's output is manifold by index; merging by position could break that.
        process=False,
    )
    # Smooth everything but the articular surfaces: they keep the exact orientation the
    # mechanics uses, and the smoothing gives the rest its fillets.
    free = ~_on_surfaces(mesh.vertices, surfaces)[:, None]
    laplacian = trimesh.smoothing.laplacian_calculation(mesh, equal_weight=True)
    vertices = mesh.vertices.copy()
    for _ in range(q.smooth_iterations):
        for weight in (0.5, -0.53):  # Taubin's shrink-free lambda/mu pair
            vertices += weight * free * (laplacian @ vertices - vertices)
    mesh.vertices = vertices
    return mesh


def _on_surfaces(points: np.ndarray, surfaces: list[dict], tol_mm: float = 0.02) -> np.ndarray:
    """Return a (V,) bool mask of the points on the articular surfaces' planes and extents."""
    mask = np.zeros(len(points), dtype=bool)
    for s in surfaces:
        c, n = np.asarray(s["centre_mm"]), np.asarray(s["normal"])
        d = points - c
        u, v = _frame(n)
        ellipse = (d @ u / (s["width_mm"] / 2)) ** 2 + (d @ v / (s["height_mm"] / 2)) ** 2
        mask |= (np.abs(d @ n) < tol_mm) & (ellipse <= 1.0 + 1e-6)
    return mask
