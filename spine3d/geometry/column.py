"""The column of real bones in its rest pose, and the joint geometry measured from it.

The rest pose stacks the bones from the sacrum up with the tabled sagittal angles and
disc heights (``joints.csv``, ``pose.csv``) between the measured endplates: the upper
vertebra's inferior endplate centre sits one disc height above the lower one's superior
endplate centre, along the bisector of the two endplate normals.

Each facet joint is measured from the posed bones: the lower vertebra's superior
articular surface is the part of its superior process that faces the upper vertebra's
inferior process and lies near it, and the upper surface likewise. Their centres,
normals, areas and extents, expressed in the joint's disc frame, are what the mechanics
uses (:func:`measure_joints`). The template's vertebral bodies are about one size from
T1 to L5, so the disc, which is not drawn, takes the published endplate width and depth
of its two vertebrae (``morphometry.csv``), as it takes its height from ``joints.csv``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy.spatial import cKDTree

from ..anatomy import LEVELS, SEGMENTS, SIDES
from ..anatomy.frames import apply, invert, rot_z
from ..anatomy.model import CONTACT_SITES, BoneContact, facet_angles, facet_normal
from ..anatomy.tables import joint_table, morphometry_table, pose_constants
from . import myo
from .bones import (
    Bone,
    Surface,
    fit_surface,
    subdivide,
    turn_spinous,
    vertebra_bone,
    warp_surface,
)

__all__ = [
    "ColumnBones",
    "JointGeometry",
    "column_bones",
    "joint_contacts",
    "frame_with_up",
    "measure_joints",
    "sacrum_bone",
]

_S1_TOP_MM = 35.0
"""Depth below the sacrum's highest point searched for the S1 endplate, mm."""
_S1_HALF_WIDTH_MM = 20.0
"""Half-width about the mid-sagittal plane searched for the S1 endplate, mm."""
_FACING_COS = 0.3
"""An articular triangle faces its partner's process within ~72 deg."""
_DIRECTION_DEG = 50.0
"""A triangle of a surface chosen by direction faces within this angle of it, deg."""
_NEAR_MM = 4.0
"""An articular triangle lies within this much of the nearest partner point, mm."""


def frame_with_up(y: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Return the transform into a frame with its +Y along ``y`` and its origin at ``origin``.

    The frame's +X is the current +X (anterior) made perpendicular to ``y``, and +Z
    completes a right-handed frame, so a vertebra or disc framed this way keeps the
    ISB axes: +X anterior, +Y superior, +Z right.

    Parameters
    ----------
    y : (3,) float
        The new +Y (need not be unit length; not parallel to +X), current frame.
    origin : (3,) float
        The new origin, current frame, mm.

    Returns
    -------
    (4, 4) float
        Rigid transform taking current coordinates to the new frame's.
    """
    y = np.asarray(y, dtype=float) / np.linalg.norm(y)
    x = np.array([1.0, 0.0, 0.0]) - y[0] * y
    x /= np.linalg.norm(x)
    rot = np.stack([x, y, np.cross(x, y)])
    m = np.eye(4)
    m[:3, :3] = rot
    m[:3, 3] = -rot @ origin
    return m


def sacrum_bone() -> Bone:
    """Return the sacrum smoothed, in S1's local frame.

    The S1 endplate is the upward-facing part of the sacrum's top near the mid-sagittal
    plane; the local origin lies half the tabled S1 body height below its centre.
    The sacrum carries the sets ``body`` (the S1 endplate region) and
    ``superior_process_left``/``_right`` (its posterior top, lateral to the canal).
    """
    v0, f0 = myo.read_bone("S1")
    top = v0[:, 1] > v0[:, 1].max() - _S1_TOP_MM
    sets0 = {
        "body": top & (np.abs(v0[:, 2]) < _S1_HALF_WIDTH_MM + 6.0),
    }
    v, f, sets = subdivide(v0, f0, sets0)
    bone = Bone("S1", v, f, sets, np.eye(4))
    tri_n = bone.face_normals()
    centres = v[f].mean(axis=1)
    mask = (
        bone.face_mask("body") & (tri_n[:, 1] > 0.85) & (np.abs(centres[:, 2]) < _S1_HALF_WIDTH_MM)
    )
    plate = fit_surface(v, f, mask)
    m = morphometry_table()["S1"]
    h = 0.5 * (float(m["body_height_post_mm"]) + float(m["body_height_ant_mm"]))
    to_local = frame_with_up(plate.normal, plate.centre_mm - 0.5 * h * plate.normal)
    local = apply(to_local, v)
    # The superior articular processes: behind the endplate, above its rim, lateral.
    x_back = apply(to_local, plate.centre_mm)[0] - 0.5 * plate.width_mm
    sap = (local[:, 0] < x_back - 4.0) & (local[:, 1] > 0.5 * h - 8.0)
    sets = dict(sets)
    sets["superior_process_left"] = sap & (local[:, 2] < -6.0)
    sets["superior_process_right"] = sap & (local[:, 2] > 6.0)
    # The body set is the S1 endplate itself, so that Bone.endplate finds this plate.
    plate_vertices = np.zeros(len(v), dtype=bool)
    plate_vertices[f[mask].ravel()] = True
    sets["body"] = plate_vertices
    return Bone("S1", local, f, sets, to_local)


@dataclass(frozen=True)
class ColumnBones:
    """Every vertebra's bone in its local frame and its rest pose.

    Attributes
    ----------
    bones : dict of str to Bone
        T1 ... S1.
    rest_poses : dict of str to (4, 4) float
        Local-to-global transforms, mm.
    endplates : dict of str to dict of str to Surface
        Each vertebra's ``"superior"`` and ``"inferior"`` endplate in its local frame,
        fitted once on the bones as built (facet warps never move the pose).
    """

    bones: dict[str, Bone]
    rest_poses: dict[str, np.ndarray]
    endplates: dict[str, dict[str, Surface]]

    def with_bones(self, bones: dict[str, Bone]) -> ColumnBones:
        """Return the same column with (warped) ``bones``."""
        return ColumnBones(bones, self.rest_poses, self.endplates)


def _disc_frame_in_lower(sup: Surface, inf: Surface, sagittal_deg: float, disc_mm: float):
    """Return the (4, 4) upper-in-lower transform and the disc frame in the lower.

    ``sup`` is the lower vertebra's superior endplate, ``inf`` the upper one's inferior
    endplate, each in its own local frame.
    """
    rel_rot = rot_z(math.radians(sagittal_deg))
    n_upper = rel_rot[:3, :3] @ (-inf.normal)
    m = sup.normal + n_upper
    m /= np.linalg.norm(m)
    target = sup.centre_mm + disc_mm * m
    rel = rel_rot.copy()
    rel[:3, 3] = target - rel_rot[:3, :3] @ inf.centre_mm
    disc = frame_with_up(m, sup.centre_mm + 0.5 * disc_mm * m)
    return rel, invert(disc)


@cache
def column_bones() -> ColumnBones:
    """Return the default bones T1-S1 and their rest pose (cached; treat as read-only)."""
    morph = morphometry_table()
    # The package's spinous processes slope alike at every level; turn each to the
    # published slope of its level (long and steep mid-thoracic, level lumbar).
    bones = {
        lv: turn_spinous(vertebra_bone(lv), float(morph[lv]["spinous_slope_deg"]))
        for lv in LEVELS[:-1]
    }
    bones["S1"] = sacrum_bone()
    plates = {
        lv: {w: b.endplate(w) for w in ("superior", "inferior") if lv != "S1" or w == "superior"}
        for lv, b in bones.items()
    }
    slope = math.radians(float(pose_constants()["sacral_slope_deg"]))
    poses = stack_on_curve(plates, LEVELS, rot_z(-slope))
    return ColumnBones(bones, {lv: poses[lv] for lv in LEVELS}, plates)


def stack_on_curve(
    endplates: dict[str, dict[str, Surface]], levels, lowest_pose: np.ndarray
) -> dict[str, np.ndarray]:
    """Stack adjacent levels from the lowest up on the tabled sagittal curve and discs.

    Parameters
    ----------
    endplates : dict
        Each level's ``"superior"`` and ``"inferior"`` endplate in its local frame.
    levels : sequence of str
        Adjacent levels, top to bottom.
    lowest_pose : (4, 4) float
        The rest pose of the lowest level.

    Returns
    -------
    dict of str to (4, 4) float
        Local-to-global rest poses, mm.
    """
    jt = joint_table()
    levels = list(levels)
    poses = {levels[-1]: lowest_pose}
    for k in range(len(levels) - 1, 0, -1):
        upper, lower = levels[k - 1], levels[k]
        seg = f"{upper}-{lower}"
        rel, _ = _disc_frame_in_lower(
            endplates[lower]["superior"],
            endplates[upper]["inferior"],
            float(jt[seg]["sagittal_deg"]),
            float(jt[seg]["disc_height_mm"]),
        )
        poses[upper] = poses[lower] @ rel
    return poses


@dataclass(frozen=True)
class JointGeometry:
    """A joint measured from the posed bones.

    Attributes
    ----------
    name : str
    disc_frame_in_lower, disc_frame_in_upper : (4, 4) float
        Disc-frame-to-vertebra transforms.
    disc_height_mm, disc_width_mm, disc_depth_mm : float
    superior, inferior : dict of str to Surface
        Per side, the lower vertebra's superior articular surface and the upper
        vertebra's inferior one, in the disc frame.
    superior_faces, inferior_faces : dict of str to (k,) int
        The triangles of each surface, numbered as in its bone.
    """

    name: str
    disc_frame_in_lower: np.ndarray
    disc_frame_in_upper: np.ndarray
    disc_height_mm: float
    disc_width_mm: float
    disc_depth_mm: float
    superior: dict[str, Surface]
    inferior: dict[str, Surface]
    superior_faces: dict[str, np.ndarray]
    inferior_faces: dict[str, np.ndarray]


def _transform_surface(m: np.ndarray, s: Surface) -> Surface:
    return Surface(apply(m, s.centre_mm), m[:3, :3] @ s.normal, s.area_mm2, s.width_mm, s.height_mm)


def articular_faces(
    bone: Bone, process: str, partner: np.ndarray, direction: np.ndarray | None = None
) -> np.ndarray:
    """Find the part of ``bone``'s ``process`` set that faces and nears ``partner`` points.

    With a ``direction``, the part that faces that way (within
    :data:`_DIRECTION_DEG`) and toward the partner at all: the surface a joint of that
    orientation would use, so that turning it there is a small warp.

    Parameters
    ----------
    bone : Bone
        In any frame, with ``partner`` in the same frame.
    process : str
        A set name, e.g. ``"superior_process_left"``.
    partner : (k, 3) float
        The facing process's vertices.
    direction : (3,) float, optional
        Unit vector in the same frame.

    Returns
    -------
    (k,) int
        The triangles of the surface; :func:`~.bones.fit_surface` on them gives a
        normal out of the bone, toward the partner.
    """
    faces = bone.face_mask(process)
    tri = bone.vertices[bone.faces]
    centres = tri.mean(axis=1)
    normals = bone.face_normals()
    dist, idx = cKDTree(partner).query(centres)
    towards = partner[idx] - centres
    towards /= np.maximum(np.linalg.norm(towards, axis=1, keepdims=True), 1e-9)
    toward_partner = (normals * towards).sum(axis=1)
    if direction is None:
        facing = toward_partner > _FACING_COS
    else:
        facing = (normals @ direction > math.cos(math.radians(_DIRECTION_DEG))) & (
            toward_partner > 0.0
        )
    cand = faces & facing
    if not cand.any():
        raise myo.MeshFileError(f"{bone.name}: no articular surface found on {process}")
    near = cand & (dist < dist[cand].min() + _NEAR_MM)
    return np.flatnonzero(near)


def measure_joints(
    column: ColumnBones,
    targets: dict[tuple[str, str], np.ndarray] | None = None,
    faces: dict[str, JointGeometry] | None = None,
) -> dict[str, JointGeometry]:
    """Measure every joint's disc and articular surfaces from the posed bones.

    Parameters
    ----------
    column : ColumnBones
    targets : dict of (joint, side) to (3,) float, optional
        Joint normals (disc frame) to select the surfaces by (see
        :func:`articular_surface`); by default each surface is the part of its process
        that faces the partner process.
    faces : dict of str to JointGeometry, optional
        Keep the surfaces' triangles of an earlier measurement instead of choosing
        them again.

    Returns
    -------
    dict of str to JointGeometry
        ``{"T1-T2": ..., "L5-S1": ...}``.
    """
    jt = joint_table()
    morph = morphometry_table()
    out = {}
    for seg in SEGMENTS:
        upper_name, lower_name = seg.split("-")
        lower, upper = column.bones[lower_name], column.bones[upper_name]
        rel, disc_in_lower = _disc_frame_in_lower(
            column.endplates[lower_name]["superior"],
            column.endplates[upper_name]["inferior"],
            float(jt[seg]["sagittal_deg"]),
            float(jt[seg]["disc_height_mm"]),
        )
        # The upper bone expressed in the lower's frame, then everything in the disc frame.
        to_disc = invert(disc_in_lower)
        up_v = apply(rel, upper.vertices)
        upper_in_lower = Bone(upper.name, up_v, upper.faces, upper.sets, np.eye(4))
        sup, inf, sup_f, inf_f = {}, {}, {}, {}
        for side in SIDES:
            if faces is not None:
                sup_f[side] = faces[seg].superior_faces[side]
                inf_f[side] = faces[seg].inferior_faces[side]
            else:
                n = None if targets is None else disc_in_lower[:3, :3] @ targets[seg, side]
                sup_f[side] = articular_faces(
                    lower,
                    f"superior_process_{side}",
                    up_v[upper.sets[f"inferior_process_{side}"]],
                    n,
                )
                inf_f[side] = articular_faces(
                    upper_in_lower,
                    f"inferior_process_{side}",
                    lower.vertices[lower.sets[f"superior_process_{side}"]],
                    None if n is None else -n,
                )
            s = fit_surface(lower.vertices, lower.faces, sup_f[side])
            i = fit_surface(up_v, upper.faces, inf_f[side])
            sup[side] = _transform_surface(to_disc, s)
            inf[side] = _transform_surface(to_disc, i)
        # The template's bodies are one size from T1 to L5; the disc, which is not
        # drawn, takes the published endplate size of its two vertebrae, as it takes
        # its height from the joint table.
        plates = (morph[lower_name], morph[upper_name])
        width = 0.5 * sum(float(m["body_width_mm"]) for m in plates)
        depth = 0.5 * sum(float(m["body_depth_mm"]) for m in plates)
        out[seg] = JointGeometry(
            name=seg,
            disc_frame_in_lower=disc_in_lower,
            disc_frame_in_upper=invert(rel) @ disc_in_lower,
            disc_height_mm=float(jt[seg]["disc_height_mm"]),
            disc_width_mm=float(width),
            disc_depth_mm=float(depth),
            superior=sup,
            inferior=inf,
            superior_faces=sup_f,
            inferior_faces=inf_f,
        )
    return out


CARTILAGE_MM = 0.75
"""Articular cartilage on each facet surface, mm (0.5-1 mm per side, calibration notes):
the drawn bone surfaces of a joint stand two layers plus the clearance apart."""
_WARP_PASSES = 16
_CHOOSE_PASSES = 6


def joint_normal(geometry: JointGeometry, side: str) -> np.ndarray:
    """Return the unit normal of a joint's side: from the lower surface to the upper one."""
    n = geometry.superior[side].normal - geometry.inferior[side].normal
    return n / np.linalg.norm(n)


def joint_gap_mm(geometry: JointGeometry, side: str) -> float:
    """Return the bone-to-bone distance of a joint's side along its normal, mm."""
    s, i = geometry.superior[side], geometry.inferior[side]
    return float((i.centre_mm - s.centre_mm) @ joint_normal(geometry, side))


_RANGE_MARGIN_DEG = 2.0
"""A facet outside its published range is turned this far inside it, so that the
re-measured angle stays in the range."""


def _clamp_angle(value: float, lo: float, hi: float) -> float:
    if lo <= value <= hi or lo <= value + 180.0 <= hi:
        return value
    lo, hi = lo + _RANGE_MARGIN_DEG, hi - _RANGE_MARGIN_DEG

    # Nearest bound on the half circle of plane orientations.
    def dist(b: float) -> float:
        d = abs(value - b) % 180.0
        return min(d, 180.0 - d)

    return lo if dist(lo) <= dist(hi) else hi


def target_normals(
    joints: dict[str, JointGeometry], overrides: dict | None = None
) -> dict[tuple[str, str], np.ndarray]:
    """Return each facet's target normal in its disc frame.

    The measured orientation where it lies within the published range of
    ``joints.csv`` (``coronal_min_deg`` ...), else the nearest angle in the range;
    an override (``{joint: {side: {"coronal_deg": .., "transverse_deg": ..}}}``)
    replaces either angle.
    """
    jt = joint_table()
    out = {}
    for seg, g in joints.items():
        row = jt[seg]
        for side in SIDES:
            cor, tra = facet_angles(joint_normal(g, side), side)
            cor = _clamp_angle(cor, float(row["coronal_min_deg"]), float(row["coronal_max_deg"]))
            t_lo, t_hi = float(row["transverse_min_deg"]), float(row["transverse_max_deg"])
            if not t_lo <= tra <= t_hi:
                tra = min(max(tra, t_lo + _RANGE_MARGIN_DEG), t_hi - _RANGE_MARGIN_DEG)
            over = ((overrides or {}).get(seg) or {}).get(side, {})
            cor = float(over.get("coronal_deg", cor))
            tra = float(over.get("transverse_deg", tra))
            out[seg, side] = facet_normal(cor, tra, side)
    return out


def warp_joint_surfaces(
    bones: dict[str, Bone],
    joints: dict[str, JointGeometry],
    targets: dict[tuple[str, str], np.ndarray],
    gap_mm: dict[str, float] | None = None,
) -> dict[str, Bone]:
    """Warp the articular processes of ``bones`` so each joint faces its target normal.

    Parameters
    ----------
    bones : dict of str to Bone
        In their local frames.
    joints : dict of str to JointGeometry
        Measured from those bones.
    targets : dict of (joint, side) to (3,) float
        Target normals in the disc frames; a joint not named is left alone.
    gap_mm : dict of str to float, optional
        Bone-to-bone distance to set per joint; by default the gap is kept.

    Returns
    -------
    dict of str to Bone
        New bones; those not touched are the same objects.
    """
    verts = {name: b.vertices for name, b in bones.items()}
    for (seg, side), n1 in targets.items():
        g = joints[seg]
        upper, lower = seg.split("-")
        n0 = joint_normal(g, side)
        if float(n0 @ n1) > math.cos(math.radians(0.05)) and gap_mm is None:
            continue
        sup, inf = g.superior[side], g.inferior[side]
        to_lower, to_upper = g.disc_frame_in_lower, g.disc_frame_in_upper
        verts[lower] = warp_surface(
            verts[lower],
            apply(to_lower, sup.centre_mm),
            to_lower[:3, :3] @ sup.normal,
            to_lower[:3, :3] @ n1,
            region=verts[lower][bones[lower].sets[f"superior_process_{side}"]],
        )
        gap = float((inf.centre_mm - sup.centre_mm) @ n1)
        shift = 0.0 if gap_mm is None else gap - gap_mm[seg]
        verts[upper] = warp_surface(
            verts[upper],
            apply(to_upper, inf.centre_mm),
            to_upper[:3, :3] @ inf.normal,
            to_upper[:3, :3] @ -n1,
            shift,
            region=verts[upper][bones[upper].sets[f"inferior_process_{side}"]],
        )
    return {
        name: b
        if verts[name] is b.vertices
        else Bone(b.name, verts[name], b.faces, b.sets, b.package_to_local)
        for name, b in bones.items()
    }


def corrected_column(overrides: dict | None = None) -> tuple[ColumnBones, dict[str, JointGeometry]]:
    """Return the default column with every facet in its published range, and its joints.

    Facets measured outside the range of ``joints.csv`` (and facets named in
    ``overrides``) are turned by :func:`warp_surface`; every joint's bone surfaces are
    set :data:`CARTILAGE_MM` twice plus the tabled clearance apart. The warp is
    repeated until the re-measured normals stand within 0.1 deg of their targets.
    """
    column = column_bones()
    bones = dict(column.bones)
    jt = joint_table()
    gaps = {seg: 2.0 * CARTILAGE_MM + float(jt[seg]["clearance_mm"]) for seg in SEGMENTS}
    targets = target_normals(measure_joints(column), overrides)
    joints = measure_joints(column, targets)
    for k in range(_WARP_PASSES):
        bones = warp_joint_surfaces(bones, joints, targets, gaps)
        # Choose the surfaces afresh while the warp is large, then keep them: the last
        # passes turn fixed patches, which converges.
        frozen = joints if k >= _CHOOSE_PASSES else None
        joints = measure_joints(column.with_bones(bones), targets, frozen)
    return column.with_bones(bones), joints


_MIDLINE_MM = 0.5
"""The middle site's vertices lie within this of the mid-sagittal plane, mm."""
_LATERAL_MM = 5.0
"""The left and right sites' vertices lie beyond this from the mid-sagittal plane, mm."""
_BEHIND_MM = 2.0
"""Posterior elements lie this far behind the posterior border of the body, mm."""
_ARTICULAR_MARGIN_MM = 1.0
"""Vertices this near an articular surface belong to the facet joint, not a contact, mm."""
_PLANE_RADIUS_MM = 2.5
"""The lower bone's surface plane at a contact is fitted over this radius, mm."""
_RAY_CHUNK = 64


def _vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals (n, 3) of a closed, outward-wound mesh."""
    tri = vertices[faces]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    vn = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(vn, faces[:, k], fn)
    return vn / np.maximum(np.linalg.norm(vn, axis=1, keepdims=True), 1e-12)


def _body_back(bone: Bone, vertices: np.ndarray) -> float:
    """Return the posterior border of a bone's body: the least x of its body set, mm.

    ``vertices`` are the bone's, in the frame to measure in; a bone without a body set
    has its border at the origin.
    """
    body = bone.sets.get("body")
    if body is None or not body.any():
        return 0.0
    return float(vertices[body, 0].min())


def _first_hits(
    origins: np.ndarray, dirs: np.ndarray, tri: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distance (k,) along each ray to the first triangle it meets, and that triangle (k,).

    Möller-Trumbore on every ray and triangle; ``inf`` and -1 where a ray meets none.
    """
    e1, e2 = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    dist = np.full(len(origins), np.inf)
    which = np.full(len(origins), -1)
    for s in range(0, len(origins), _RAY_CHUNK):
        o, d = origins[s : s + _RAY_CHUNK, None], dirs[s : s + _RAY_CHUNK, None]
        p = np.cross(d, e2)
        det = np.einsum("rtk,tk->rt", p, e1)
        ok = np.abs(det) > 1e-12
        inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
        tv = o - tri[:, 0]
        u = np.einsum("rtk,rtk->rt", tv, p) * inv
        q = np.cross(tv, e1)
        v = np.einsum("rk,rtk->rt", d[:, 0], q) * inv
        t = np.einsum("tk,rtk->rt", e2, q) * inv
        t = np.where(ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 1e-9), t, np.inf)
        k = np.argmin(t, axis=1)
        dist[s : s + _RAY_CHUNK] = t[np.arange(len(k)), k]
        which[s : s + _RAY_CHUNK] = np.where(np.isfinite(dist[s : s + _RAY_CHUNK]), k, -1)
    return dist, which


def joint_contacts(column: ColumnBones, joint: JointGeometry) -> dict[str, BoneContact]:
    """Measure where a joint's posterior elements would meet bone on bone.

    For each site of :data:`CONTACT_SITES`, the upper vertebra's posterior elements (its
    vertices behind the body, away from the articular surfaces) are followed as the
    vertebra extends about the disc centre (each along its own path, ``z x p``): the
    point whose path meets the lower bone (articular surfaces aside) after the
    smallest turn, and the plane of the lower bone's surface where it meets it.

    Parameters
    ----------
    column : ColumnBones
    joint : JointGeometry
        A joint measured from ``column`` (:func:`measure_joints`).

    Returns
    -------
    dict of str to BoneContact
        By site; a site whose points meet nothing is left out.
    """
    upper_name, lower_name = joint.name.split("-")
    upper, lower = column.bones[upper_name], column.bones[lower_name]
    up = apply(invert(joint.disc_frame_in_upper), upper.vertices)
    lo = apply(invert(joint.disc_frame_in_lower), lower.vertices)
    # The lower bone's triangles behind its body, articular surfaces aside.
    keep = lo[lower.faces].mean(axis=1)[:, 0] < _body_back(lower, lo)
    for faces in joint.superior_faces.values():
        keep[faces] = False
    tri = lo[lower.faces[keep]]
    tri_n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    tri_area = 0.5 * np.linalg.norm(tri_n, axis=1)
    tri_c = tri.mean(axis=1)
    # The upper bone's posterior elements, away from its articular surfaces.
    articular = np.zeros(len(up), dtype=bool)
    for faces in joint.inferior_faces.values():
        articular[upper.faces[faces].ravel()] = True
    near, _ = cKDTree(up[articular]).query(up)
    back = _body_back(upper, up)
    path = np.stack([-up[:, 1], up[:, 0], np.zeros(len(up))], axis=1)  # z x p
    lever = np.linalg.norm(path, axis=1)
    path /= np.maximum(lever, 1e-9)[:, None]
    facing = np.einsum("ij,ij->i", _vertex_normals(up, upper.faces), path) > 0.0
    arch = (up[:, 0] < back - _BEHIND_MM) & (near > _ARTICULAR_MARGIN_MM) & facing
    z = up[:, 2]
    sites = {
        "left": arch & (z < -_LATERAL_MM),
        "middle": arch & (np.abs(z) <= _MIDLINE_MM),
        "right": arch & (z > _LATERAL_MM),
    }
    # A ray meets a triangle no nearer than its origin's nearest corner less the longest
    # edge: rays are cast in order of that bound until it passes the best turn found.
    edge = float(np.linalg.norm(tri - np.roll(tri, 1, axis=1), axis=2).max())
    bound = cKDTree(tri.reshape(-1, 3)).query(up)[0] - edge
    out = {}
    for site in CONTACT_SITES:
        cand = np.flatnonzero(sites[site])
        cand = cand[np.argsort(bound[cand] / lever[cand], kind="stable")]
        best, hit_at = np.inf, None
        for s in range(0, cand.size, _RAY_CHUNK):
            chunk = cand[s : s + _RAY_CHUNK]
            if bound[chunk[0]] / lever[chunk[0]] > best:
                break
            dist, hit = _first_hits(up[chunk], path[chunk], tri)
            turn = dist / lever[chunk]
            k = int(np.argmin(turn))
            if turn[k] < best:
                best, hit_at = turn[k], (chunk[k], dist[k], hit[k])
        if hit_at is None:
            continue
        vertex, dist_mm, hit_tri = hit_at
        point = up[vertex]
        on = point + dist_mm * path[vertex]
        # The lower surface's plane there: its triangles nearby that face the point.
        ring = np.linalg.norm(tri_c - on, axis=1) < _PLANE_RADIUS_MM
        ring &= tri_n @ (point - on) > 0.0
        ring[hit_tri] = True
        weight = tri_area[ring] / np.linalg.norm(tri_n[ring], axis=1)
        normal = (tri_n[ring] * weight[:, None]).sum(axis=0)
        normal /= np.linalg.norm(normal)
        out[site] = BoneContact(site, point, on, normal)
    return out
