"""Bring your own spine: import per-vertebra meshes or a CT label map as a bone pack.

A source is a folder of per-level meshes (STL, OBJ, PLY, GLB, OFF, legacy VTK; the
level from the file name or a mapping file), one mesh holding several vertebrae as
separate pieces, or a CT label map (:mod:`.labelmap`). Each bone is

1. cleaned: welded, degenerate and repeated triangles dropped, decimated to
   :data:`TRIANGLE_BUDGET`;
2. scaled to millimetres: ``--units``, or from its size against the template of its
   level (the ratio snaps to 1, 10 or 1000 when it lies near one, so millimetres,
   centimetres and metres come out exact);
3. framed from its anatomy: the template vertebra of the nearest default level is
   fitted rigidly (from the 24 turns of its principal axes, best fit kept), so the
   canal lands behind the body and the spinous process posterior whatever the file's
   axes; for bones given in one frame the column's order decides superior;
4. labelled: the template's vertex sets (body, articular, spinous and transverse
   processes) reach the bone through a non-rigid fit of the template
   (:func:`trimesh.registration.nricp_amberg`) and the nearest fitted vertex;
5. placed: bones given in one frame keep their assembled pose; separate bones are
   stacked on the project's sagittal curve as :func:`~.column.column_bones` does;
6. measured and checked: each joint's articular surfaces are found as the default
   bones' are (:func:`~.column.articular_faces`) in the joint's own pose, then checked
   (facing surfaces parallel and near, angles plausible); ``--landmarks`` corrects them.

The pack is written by :func:`~.store.write_bone_set` into a temporary folder beside
the target, completed with each level's ``source_to_pack`` transform, provenance,
measured angles beside the published ranges and the checks, and renamed into place.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import shutil
import tempfile
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import trimesh
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ..anatomy import LEVELS, SEGMENTS, SIDES, joint_table
from ..anatomy.frames import apply, invert
from ..anatomy.model import facet_angles
from ..errors import SpineInputError
from . import labelmap
from .bones import Bone, Surface, fit_surface, landmarks, vertebra_bone
from .column import (
    ColumnBones,
    JointGeometry,
    articular_faces,
    column_bones,
    frame_with_up,
    joint_gap_mm,
    joint_normal,
    sacrum_bone,
    stack_on_curve,
)
from .labelmap import _first_line
from .store import MANIFEST, write_bone_set

__all__ = [
    "MESH_SUFFIXES",
    "TRIANGLE_BUDGET",
    "ImportResult",
    "Tolerances",
    "import_pack",
    "level_from_name",
    "measure_posed_joints",
    "parse_levels",
]

MESH_SUFFIXES = (".stl", ".obj", ".ply", ".glb", ".gltf", ".off", ".vtk")
"""File endings read as meshes."""

PACK_FORMAT = 1
"""Version of the fields an import adds to a format-2 manifest (``source_to_pack`` ...)."""

TRIANGLE_BUDGET = 8000
"""Triangles per bone in a pack at most (the default bones have about 6,800)."""
TRIANGLE_MIN = 3000
"""A coarser bone is subdivided (midpoints) until it has at least this many triangles."""


@dataclass(frozen=True)
class Tolerances:
    """Thresholds of the import and its checks, used by code and tests alike.

    Attributes
    ----------
    unit_snap : float
        A size ratio within this factor of 1, 10 or 1000 is taken as that unit.
    neighbour_mm : (float, float)
        Body centres of adjacent levels this far apart (mm) mean the bones were given
        assembled, in one frame.
    parallel_deg : float
        The two surfaces of a joint face each other within this angle.
    gap_mm : float
        Their centres lie within this distance along the joint normal.
    offset_mm : float
        Their centres lie within this distance across the joint.
    angle_margin_deg : float
        A joint's angles lie within the published range widened by this much.
    min_area_mm2 : float
        An articular surface smaller than this is doubtful.
    fit_rms : float
        A template fit whose RMS distance exceeds this fraction of the bone's RMS
        radius is not a vertebra.
    canal_sectors : int
        Of 12 sectors around the canal's centre, at least this many hold bone.
    landmark_radius_mm : float
        A corrected articular surface is the bone's surface within this distance of
        the user's point.
    """

    unit_snap: float = 1.35
    neighbour_mm: tuple[float, float] = (12.0, 70.0)
    parallel_deg: float = 35.0
    gap_mm: float = 6.0
    offset_mm: float = 8.0
    angle_margin_deg: float = 15.0
    min_area_mm2: float = 15.0
    fit_rms: float = 0.3
    canal_sectors: int = 9
    landmark_radius_mm: float = 5.0


TOL = Tolerances()
"""The tolerances in use."""

_UNITS = {"mm": 1.0, "cm": 10.0, "m": 1000.0}
_SNAP = (1.0, 10.0, 1000.0)
_FACET_NAMES = tuple(f"{w}_{s}" for w in ("superior", "inferior") for s in SIDES)

_LEVEL_RE = (
    (re.compile(r"(?i)vertebra[e]?_(\d{1,2})(?![0-9])"), "verse"),
    (re.compile(r"(?i)(?:^|[^a-z])(thoracic|lumbar)[ _-]?(\d{1,2})(?![0-9])"), "word"),
    (re.compile(r"(?i)(?:^|[^a-z])(sacrum|sacral)(?![a-z])"), "sacrum"),
    (re.compile(r"(?i)(?:^|[^a-z])([TLS])[ _-]?(\d{1,2})(?![0-9])"), "code"),
)


def level_from_name(name: str) -> str | None:
    """Return the level a file name names, or None.

    ``L3.stl``, ``lumbar3.obj``, ``vertebrae_L3.stl`` (TotalSegmentator), ``T12``,
    ``sacrum``, ``S1`` and VerSe's ``vertebra_21`` (label 21: L2) are understood.

    Parameters
    ----------
    name : str
        A file name, with or without folders and ending.

    Returns
    -------
    str or None
        ``"T1"`` ... ``"L5"``, ``"S1"``; None when no level (or no level of the model)
        is named.
    """
    stem = Path(name).name
    for suffix in (*MESH_SUFFIXES, *labelmap.LABEL_SUFFIXES):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    for pattern, kind in _LEVEL_RE:
        m = pattern.search(stem)
        if not m:
            continue
        if kind == "verse":
            level = labelmap.VERSE_LABELS.get(int(m.group(1)))
        elif kind == "word":
            level = f"{m.group(1)[0].upper()}{int(m.group(2))}"
        elif kind == "sacrum":
            level = "S1"
        else:
            level = f"{m.group(1).upper()}{int(m.group(2))}"
        return level if level in LEVELS else None
    return None


def parse_levels(text: str) -> tuple[str, ...]:
    """Parse ``"T1-L5"``, ``"L2,L3,L4"`` or ``"L3"`` into levels, top to bottom.

    Raises
    ------
    SpineInputError
        On an unknown level or a range that runs upward.
    """
    out: list[str] = []
    for part in text.split(","):
        a, _, b = part.strip().partition("-")
        for lv in (a, b or a):
            if lv not in LEVELS:
                raise SpineInputError(
                    f"--levels {text!r}: unknown level {lv!r}: expected {LEVELS[0]} ... "
                    f"{LEVELS[-1]}, as T1-L5 or L2,L3"
                )
        i, j = LEVELS.index(a), LEVELS.index(b or a)
        if j < i:
            raise SpineInputError(f"--levels {text!r}: a range runs top to bottom, e.g. T1-L5")
        out.extend(LEVELS[i : j + 1])
    return tuple(lv for lv in LEVELS if lv in out)


# --- reading -------------------------------------------------------------------------


@dataclass
class _Raw:
    """One bone as read: source coordinates and where it came from."""

    level: str
    vertices: np.ndarray
    faces: np.ndarray
    file: Path
    sha256: str
    piece: int | None = None
    label: int | None = None
    extra: dict = field(default_factory=dict)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_vtk(path: Path) -> trimesh.Trimesh:
    """Read a legacy ASCII VTK POLYDATA file (POINTS and POLYGONS)."""
    words = path.read_text(encoding="latin-1").split()
    up = [w.upper() for w in words]
    if "POLYDATA" not in up or "POINTS" not in up or "POLYGONS" not in up:
        raise ValueError("expected an ASCII legacy VTK POLYDATA file with POLYGONS")
    i = up.index("POINTS")
    n = int(words[i + 1])
    pts = np.array(words[i + 3 : i + 3 + 3 * n], dtype=float).reshape(n, 3)
    j = up.index("POLYGONS")
    count = int(words[j + 1])
    faces: list[list[int]] = []
    if j + 3 < len(up) and up[j + 3] == "OFFSETS":  # the 5.x layout
        k = j + 5
        offsets = np.array(words[k : k + count], dtype=int)
        k += count
        while up[k] != "CONNECTIVITY":
            k += 1
        conn = np.array(words[k + 2 : k + 2 + offsets[-1]], dtype=int)
        polys = [conn[a:b] for a, b in itertools.pairwise(offsets)]
    else:
        vals = np.array(words[j + 3 : j + 3 + int(words[j + 2])], dtype=int)
        polys, k = [], 0
        for _ in range(count):
            polys.append(vals[k + 1 : k + 1 + vals[k]])
            k += 1 + vals[k]
    for p in polys:
        faces.extend([int(p[0]), int(p[t]), int(p[t + 1])] for t in range(1, len(p) - 1))
    return trimesh.Trimesh(pts, np.array(faces, dtype=int).reshape(-1, 3), process=False)


def _read_mesh(path: Path) -> trimesh.Trimesh:
    try:
        if path.suffix.lower() == ".vtk":
            mesh = _read_vtk(path)
        else:
            mesh = trimesh.load(str(path), force="mesh", process=False)
    except Exception as exc:  # any parse failure of a damaged or foreign file
        raise SpineInputError(
            f"{path}: not a mesh ({_first_line(exc)}); expected {', '.join(MESH_SUFFIXES)}"
        ) from None
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise SpineInputError(f"{path}: not a mesh (no triangles)")
    return mesh


def _components(faces: np.ndarray, n: int) -> np.ndarray:
    """Return the (m,) connected-piece number of each triangle (pieces share vertices)."""
    rows = np.repeat(np.arange(len(faces)), 3)
    adj = coo_matrix((np.ones(len(rows)), (rows, faces.ravel())), shape=(len(faces), n))
    graph = (adj.T @ adj).tocsr()
    _, vertex_label = connected_components(graph, directed=False)
    return vertex_label[faces[:, 0]]


def _clean(vertices: np.ndarray, faces: np.ndarray) -> trimesh.Trimesh:
    """Weld, drop degenerate and repeated triangles and unused vertices."""
    mesh = trimesh.Trimesh(np.asarray(vertices, float), np.asarray(faces), process=False)
    mesh.merge_vertices(digits_vertex=None)
    mesh.update_faces(mesh.nondegenerate_faces())
    mesh.update_faces(mesh.unique_faces())
    mesh.remove_unreferenced_vertices()
    if mesh.is_watertight and mesh.volume < 0:
        mesh.invert()
    return mesh


HOLE_MM = 80.0
"""Holes whose rim is at most this long are closed (a fan from the rim's centre), mm."""


def _fill_holes(mesh: trimesh.Trimesh, max_rim_mm: float = HOLE_MM) -> trimesh.Trimesh:
    """Close the small holes of a mesh: each boundary loop by a fan of triangles.

    The boundary edges are walked into closed loops (at a vertex where two holes touch,
    any unused edge leaving it continues the walk); a loop whose rim is longer than
    ``max_rim_mm`` stays open.
    """
    faces = np.asarray(mesh.faces)
    directed = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    n = len(mesh.vertices)
    key = directed[:, 0].astype(np.int64) * n + directed[:, 1]
    rev = directed[:, 1].astype(np.int64) * n + directed[:, 0]
    border = directed[~np.isin(key, rev)]
    if len(border) == 0:
        return mesh
    leaving: dict[int, list[int]] = {}
    for a, b in border.tolist():
        leaving.setdefault(a, []).append(b)
    vertices = np.asarray(mesh.vertices, dtype=float)
    new_v, new_f = [], []
    for start in list(leaving):
        while leaving.get(start):
            loop, a = [start], leaving[start].pop()
            while a != start and leaving.get(a) and len(loop) <= len(border):
                loop.append(a)
                a = leaving[a].pop()
            if a != start or len(loop) < 3:
                continue
            ring = vertices[loop]
            if np.linalg.norm(ring - np.roll(ring, -1, axis=0), axis=1).sum() > max_rim_mm:
                continue
            c = n + len(new_v)
            new_v.append(ring.mean(axis=0))
            # The rim edge a->b belongs to a face; the new face runs b->a.
            new_f.extend([q, p, c] for p, q in zip(loop, loop[1:] + loop[:1], strict=True))
    if not new_v:
        return mesh
    return trimesh.Trimesh(np.vstack([vertices, new_v]), np.vstack([faces, new_f]), process=False)


def _pieces(mesh: trimesh.Trimesh, min_share: float = 0.02) -> list[trimesh.Trimesh]:
    """Split a welded mesh into its pieces, dropping crumbs under ``min_share`` of the area."""
    label = _components(np.asarray(mesh.faces), len(mesh.vertices))
    areas = np.bincount(label, weights=mesh.area_faces)
    keep = [k for k in np.argsort(-areas) if areas[k] >= min_share * areas.sum()]
    out = []
    for k in keep:
        sub = mesh.submesh([np.flatnonzero(label == k)], append=True, repair=False)
        out.append(sub)
    return out


def _load_mapping(path: Path) -> dict[str, str]:
    """Read a mapping file: ``[levels]`` of level = file name."""
    data = _read_toml(path, "the mapping")
    table = data.get("levels")
    if not isinstance(table, dict) or not table:
        raise SpineInputError(f'{path}: expected a [levels] table, e.g. L3 = "FJ3162.obj"')
    out = {}
    for level, name in table.items():
        if level not in LEVELS:
            raise SpineInputError(
                f"{path}: [levels] {level}: unknown level, expected {LEVELS[0]} ... {LEVELS[-1]}"
            )
        if not isinstance(name, str):
            raise SpineInputError(f"{path}: [levels] {level}: expected a file name")
        out[level] = name
    return out


def _read_folder(
    folder: Path, mapping: dict[str, str] | None, levels: Sequence[str] | None
) -> list[_Raw]:
    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and (p.suffix.lower() in MESH_SUFFIXES or labelmap.is_label_map(p))
    )
    if mapping is not None:
        chosen = {}
        for level, name in mapping.items():
            p = folder / name
            if not p.is_file():
                raise SpineInputError(f"{p}: no such file (mapping of {level})")
            chosen[p] = level
    else:
        chosen = {}
        for p in files:
            level = level_from_name(p.name)
            if level is None:
                raise SpineInputError(
                    f"{p}: cannot tell the level from the file name; name it like L3.stl, "
                    "lumbar3.obj or vertebrae_L3.stl, or give --map FILE"
                )
            chosen[p] = level
    seen: dict[str, Path] = {}
    for p, level in chosen.items():
        if level in seen:
            raise SpineInputError(
                f"{p}: claims level {level}, as does {seen[level].name}; one file per level"
            )
        seen[level] = p
    if not chosen:
        raise SpineInputError(
            f"{folder}: no mesh or label map files ({', '.join(MESH_SUFFIXES)}, .nii, .nii.gz)"
        )
    out = []
    for p, level in chosen.items():
        if levels is not None and level not in levels:
            continue
        if labelmap.is_label_map(p):
            for lv, (v, f, lab) in labelmap.read_label_map(p, level).items():
                out.append(_Raw(lv, v, f, p, _sha256(p), label=lab, extra={"units": "mm"}))
        else:
            mesh = _read_mesh(p)
            out.append(_Raw(level, mesh.vertices, mesh.faces, p, _sha256(p)))
    return out


def _read_source(
    source: Path, mapping: dict[str, str] | None, levels: Sequence[str] | None
) -> tuple[list[_Raw], bool]:
    """Read a source; return its bones and whether they came in one frame by construction."""
    if source.is_dir():
        return _read_folder(source, mapping, levels), False
    if not source.is_file():
        raise SpineInputError(f"{source}: no such file or folder")
    if labelmap.is_label_map(source):
        named = level_from_name(source.name)
        maps = labelmap.read_label_map(source, named)
        sha = _sha256(source)
        raws = [
            _Raw(lv, v, f, source, sha, label=lab, extra={"units": "mm"})
            for lv, (v, f, lab) in maps.items()
            if levels is None or lv in levels
        ]
        if not raws:
            raise SpineInputError(f"{source}: none of the levels {', '.join(levels or ())}")
        return raws, True
    if source.suffix.lower() not in MESH_SUFFIXES:
        raise SpineInputError(
            f"{source}: not a mesh or label map; expected {', '.join(MESH_SUFFIXES)}, "
            ".nii or .nii.gz, or a folder of them"
        )
    mesh = _clean(*_read_mesh_arrays(source))
    pieces = _pieces(mesh)
    named = level_from_name(source.name)
    sha = _sha256(source)
    if len(pieces) == 1 and levels is None and named is not None:
        return [_Raw(named, pieces[0].vertices, pieces[0].faces, source, sha)], False
    if levels is None:
        raise SpineInputError(
            f"{source}: {len(pieces)} pieces; name the levels they are, top to bottom, "
            "with --levels (e.g. --levels L2-L5)"
        )
    if len(pieces) != len(levels):
        raise SpineInputError(
            f"{source}: {len(pieces)} pieces but --levels names {len(levels)} "
            f"({', '.join(levels)}); one piece per vertebra"
        )
    # Levels go to pieces by the column's order once the pieces are framed.
    raws = [
        _Raw("?", p.vertices, p.faces, source, sha, piece=k, extra={"piece_order": True})
        for k, p in enumerate(pieces)
    ]
    return raws, True


def _read_mesh_arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    mesh = _read_mesh(path)
    return np.asarray(mesh.vertices), np.asarray(mesh.faces)


# --- fitting -------------------------------------------------------------------------


def _template(level: str) -> Bone:
    """Return the template bone of ``level`` in its local frame (one subdivision).

    The sacrum is decimated to about 2,000 triangles; its sets follow by nearest vertex.
    """
    if level not in _TEMPLATES:
        if level == "S1":
            full = sacrum_bone()
            mesh = trimesh.Trimesh(full.vertices, full.faces, process=False)
            small = mesh.simplify_quadric_decimation(face_count=2000)
            v, f = np.asarray(small.vertices), np.asarray(small.faces)
            _, idx = cKDTree(full.vertices).query(v)
            sets = {k: np.asarray(m)[idx] for k, m in full.sets.items()}
            _TEMPLATES[level] = Bone("S1", v, f, MappingProxyType(sets), full.package_to_local)
        else:
            _TEMPLATES[level] = vertebra_bone(level, iterations=1)
    return _TEMPLATES[level]


_TEMPLATES: dict[str, Bone] = {}


def _rms_radius(mesh: trimesh.Trimesh) -> float:
    c = mesh.triangles_center
    w = mesh.area_faces
    centre = (w[:, None] * c).sum(0) / w.sum()
    return float(np.sqrt((w * ((c - centre) ** 2).sum(1)).sum() / w.sum()))


def _turns() -> list[np.ndarray]:
    out = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1.0, -1.0), repeat=3):
            m = np.zeros((3, 3))
            m[range(3), perm] = signs
            if np.linalg.det(m) > 0:
                out.append(m)
    return out


_TURNS = _turns()


def _principal(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = points.mean(axis=0)
    _, _, vt = np.linalg.svd(points - c, full_matrices=False)
    return c, vt


def _kabsch(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the rotation and translation taking points ``a`` onto ``b`` (no mirror)."""
    ca, cb = a.mean(0), b.mean(0)
    h = (a - ca).T @ (b - cb)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(vt.T @ u.T))
    r = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    return r, cb - r @ ca


def _icp(src, dst, dst_tree, r, t, iterations):
    """Fit ``src`` (template points) to ``dst`` (bone points) rigidly, both ways, trimmed."""
    cost = np.inf
    for _ in range(iterations):
        moved = src @ r.T + t
        d1, i1 = dst_tree.query(moved)
        d2, i2 = cKDTree(moved).query(dst)
        k1 = d1 <= np.quantile(d1, 0.9)
        k2 = d2 <= np.quantile(d2, 0.9)
        a = np.concatenate([src[k1], src[i2[k2]]])
        b = np.concatenate([dst[i1[k1]], dst[k2]])
        r, t = _kabsch(a, b)
        cost = 0.5 * (np.sqrt((d1[k1] ** 2).mean()) + np.sqrt((d2[k2] ** 2).mean()))
    return r, t, float(cost)


def _rigid_fit(
    template: Bone, mesh: trimesh.Trimesh, up: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, float]:
    """Fit the template (local frame) onto the bone (mm): ``x_bone = R x_local + t``.

    Tries the 24 turns of the principal axes, keeps the best few after a coarse pass
    and refines them; with ``up`` (the column's superior direction in the bone's frame)
    only fits whose +Y points within 60 deg of it are kept, if any.
    """
    rng = np.random.default_rng(0)
    tv = template.vertices
    src = tv[rng.choice(len(tv), min(400, len(tv)), replace=False)]
    dst_full, _ = trimesh.sample.sample_surface(mesh, 3000, seed=1)
    dst = dst_full[:1500]
    ct, at = _principal(tv)
    cb, ab = _principal(dst_full)
    tree = cKDTree(dst)
    trials = []
    for turn in _TURNS:
        r = ab.T @ turn @ at
        t = cb - r @ ct
        r, t, cost = _icp(src, dst, tree, r, t, 6)
        trials.append((cost, r, t))
    if up is not None:
        agree = [tr for tr in trials if tr[1][:, 1] @ up > 0.5]
        trials = agree or trials
    trials.sort(key=lambda tr: tr[0])
    best = None
    tree_full = cKDTree(dst_full)
    for _, r, t in trials[:2]:
        fit = _icp(tv, dst_full, tree_full, r, t, 20)
        if best is None or fit[2] < best[2]:
            best = fit
    assert best is not None
    return best


def _transfer_sets(template: Bone, fitted: np.ndarray, vertices: np.ndarray) -> dict:
    """Give each bone vertex the sets of the nearest fitted template vertex."""
    _, idx = cKDTree(fitted).query(vertices)
    return {k: np.asarray(m)[idx] for k, m in template.sets.items()}


def _nonrigid(template: Bone, r, t, mesh: trimesh.Trimesh, scale_mm: float) -> np.ndarray:
    """Return the template's vertices fitted non-rigidly onto the bone (bone frame, mm)."""
    src = trimesh.Trimesh(template.vertices @ r.T + t, template.faces, process=False)
    # Stiff to soft; the thresholds scale with the bone.
    steps = [[0.02, 3, 0.5, 5], [0.005, 3, 0.0, 5]]
    return trimesh.registration.nricp_amberg(
        src,
        mesh,
        steps=steps,
        distance_threshold=0.4 * scale_mm,
        use_faces=False,
        use_vertex_normals=False,
    )


@dataclass(frozen=True)
class _Fitted:
    level: str
    bone: Bone
    source_to_pack: np.ndarray
    rms_mm: float
    raw: _Raw


def _refine_frame(level: str, v_local: np.ndarray, faces: np.ndarray, sets: dict) -> np.ndarray:
    """Return the (4, 4) transform from the rough local frame to the bone's own frame."""
    probe = Bone(level, v_local, faces, sets, np.eye(4))
    if level == "S1":
        n = probe.face_normals()
        c = v_local[faces].mean(axis=1)
        mask = probe.face_mask("body") & (n[:, 1] > 0.85) & (np.abs(c[:, 2]) < 20.0)
        if mask.sum() < 3:
            return np.eye(4)
        plate = fit_surface(v_local, faces, mask)
        t0 = _TEMPLATES["S1"] if "S1" in _TEMPLATES else _template("S1")
        top = t0.endplate("superior")
        # The template's origin lies this far below its plate along the normal.
        depth = float(top.centre_mm @ top.normal)
        return frame_with_up(plate.normal, plate.centre_mm - depth * plate.normal)
    try:
        sup, inf = probe.endplate("superior"), probe.endplate("inferior")
    except ValueError:
        return np.eye(4)
    y = sup.normal - inf.normal
    return frame_with_up(y, 0.5 * (sup.centre_mm + inf.centre_mm))


def _s1_plate(template: Bone, local: np.ndarray, faces: np.ndarray, moved: np.ndarray):
    """Return the (n,) vertices of the S1 endplate of a sacrum in its rough local frame.

    The sacrum's body set is its endplate, too thin to survive the transfer on a coarse
    or irregular bone: the plate is taken as the upward-facing triangles within
    :data:`_S1_PLATE_REACH_MM` (plus the plate's radius) of the template's plate centre;
    the transferred set when there are none.
    """
    plate = template.vertices[template.sets["body"]]
    centre = plate.mean(axis=0)
    radius = float(np.linalg.norm(plate - centre, axis=1).max()) + _S1_PLATE_REACH_MM
    tri = local[faces]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    c = tri.mean(axis=1)
    near = (np.linalg.norm(c - centre, axis=1) < radius) & (np.abs(c[:, 1] - centre[1]) < 8.0)
    up = near & (n[:, 1] > 0.7)
    if up.sum() < 3:
        return moved
    out = np.zeros(len(local), dtype=bool)
    out[faces[up].ravel()] = True
    return out


def _canal_sectors(bone: Bone, template: Bone) -> int:
    """Count the 12 sectors around the canal that hold bone (a ring: 12; no canal: 0).

    The canal's centre is sought near the template's (midway between the back of the
    body and the base of the spinous process): the point, within 8 mm of it in the
    transverse plane, farthest from the bone's surface while outside the bone.
    """
    lm = landmarks(template)
    if "spinous_base" not in lm:
        return 12
    c0 = 0.5 * (lm["posterior_body"] + lm["spinous_base"])
    mesh = trimesh.Trimesh(bone.vertices, bone.faces, process=False)
    pts, fi = trimesh.sample.sample_surface(mesh, 4000, seed=2)
    tree = cKDTree(pts)
    g = np.linspace(-8.0, 8.0, 9)
    cands = c0 + np.stack(np.meshgrid(g, [0.0], g, indexing="ij"), axis=-1).reshape(-1, 3)
    _, idx = tree.query(cands, k=12)
    # Outside the bone: most of the nearest surface points face the candidate.
    facing = ((cands[:, None, :] - pts[idx]) * mesh.face_normals[fi[idx]]).sum(axis=2) > 0.0
    clear = np.linalg.norm(cands - pts[idx[:, 0]], axis=1)
    clear[facing.mean(axis=1) <= 0.5] = -1.0
    if clear.max() <= 0.0:
        return 0
    c = cands[np.argmax(clear)]
    near = pts[np.abs(pts[:, 1] - c[1]) < 10.0] - c
    rad = np.hypot(near[:, 0], near[:, 2])
    near = near[(rad > 1.0) & (rad < 30.0)]
    ang = np.arctan2(near[:, 2], near[:, 0])
    return len(np.unique(np.floor((ang + np.pi) / (2 * np.pi) * 12).astype(int) % 12))


def _fit_bone(raw: _Raw, scale: float, up: np.ndarray | None) -> _Fitted:
    """Clean, scale, frame and label one bone."""
    mesh = _clean(raw.vertices * scale, raw.faces)
    if len(mesh.faces) > TRIANGLE_BUDGET:
        mesh = mesh.simplify_quadric_decimation(face_count=TRIANGLE_BUDGET)
        mesh = _clean(mesh.vertices, mesh.faces)
    mesh = _fill_holes(mesh)
    while len(mesh.faces) < TRIANGLE_MIN:
        # A coarse atlas bone: split its triangles (the shape stays) so that surfaces
        # and landmarks have vertices to fall on.
        mesh = trimesh.Trimesh(*trimesh.remesh.subdivide(mesh.vertices, mesh.faces), process=False)
    level = raw.level
    template = _template(level)
    r, t, cost = _rigid_fit(template, mesh, up)
    size = _rms_radius(mesh)
    if cost > TOL.fit_rms * size:
        raise SpineInputError(
            f"{raw.file}: {_where(raw)}does not fit a vertebra (template distance "
            f"{cost:.1f} mm, {cost / size:.0%} of its size; at most {TOL.fit_rms:.0%})"
        )
    fitted = _nonrigid(template, r, t, mesh, size)
    verts = np.asarray(mesh.vertices)
    sets = _transfer_sets(template, fitted, verts)
    # Source (as read) to the rough local frame, then refined on the bone's endplates.
    rough = np.eye(4)
    rough[:3, :3] = r.T
    rough[:3, 3] = -r.T @ t
    local = apply(rough, verts)
    if level == "S1":
        sets["body"] = _s1_plate(template, local, np.asarray(mesh.faces), sets["body"])
    refine = _refine_frame(level, local, np.asarray(mesh.faces), sets)
    to_local = refine @ rough
    local = apply(to_local, verts)
    for m in sets.values():
        m.flags.writeable = False
    scaled = np.diag([scale, scale, scale, 1.0])
    bone = Bone(level, local, np.asarray(mesh.faces), MappingProxyType(sets), to_local @ scaled)
    if level != "S1" and _canal_sectors(bone, template) < TOL.canal_sectors:
        raise SpineInputError(
            f"{raw.file}: {_where(raw)}not a vertebra (no canal behind the body found)"
        )
    return _Fitted(level, bone, to_local @ scaled, cost, raw)


def _where(raw: _Raw) -> str:
    if raw.piece is not None:
        return f"piece {raw.piece + 1} "
    if raw.label is not None and raw.label != 1:
        return f"label {raw.label} ({raw.level}) "
    return ""


def _unit_scale(raws: Sequence[_Raw], units: str) -> tuple[float, str]:
    """Return the factor to millimetres and how it was found."""
    if units in _UNITS:
        return _UNITS[units], units
    if units != "auto":
        raise SpineInputError(f"--units {units!r}: expected auto, mm, cm or m")
    if all(r.extra.get("units") == "mm" for r in raws):
        return 1.0, "mm (label map affine)"
    ratios = []
    for raw in raws:
        level = raw.level if raw.level in LEVELS else "L3"
        t = _template(level)
        ref = _rms_radius(trimesh.Trimesh(t.vertices, t.faces, process=False))
        size = _rms_radius(trimesh.Trimesh(raw.vertices, raw.faces, process=False))
        if size <= 0:
            raise SpineInputError(f"{raw.file}: {_where(raw)}has no extent")
        ratios.append(ref / size)
    est = float(np.median(ratios))
    for unit, factor in (("mm", 1.0), ("cm", 10.0), ("m", 1000.0)):
        if abs(math.log(est / factor)) < math.log(TOL.unit_snap):
            return factor, f"{unit} (from size)"
    return est, f"arbitrary, scaled to the template's size ({est:.4g} mm per unit)"


# --- joints --------------------------------------------------------------------------


def measure_posed_joints(column: ColumnBones, segments: Sequence[str]) -> dict[str, JointGeometry]:
    """Measure the joints between adjacent bones in their own rest pose.

    As :func:`~.column.measure_joints`, but each upper vertebra stays where the
    column's rest pose puts it (an assembled import keeps its own curve and disc
    heights), and only the joints in ``segments`` are measured.

    Parameters
    ----------
    column : ColumnBones
    segments : sequence of str
        Joints whose two levels are both in ``column``.

    Returns
    -------
    dict of str to JointGeometry
    """
    out = {}
    for seg in segments:
        upper_name, lower_name = seg.split("-")
        lower, upper = column.bones[lower_name], column.bones[upper_name]
        rel = invert(column.rest_poses[lower_name]) @ column.rest_poses[upper_name]
        sup_plate = column.endplates[lower_name]["superior"]
        inf_plate = column.endplates[upper_name]["inferior"]
        m = sup_plate.normal - rel[:3, :3] @ inf_plate.normal
        m /= np.linalg.norm(m)
        c_up = apply(rel, inf_plate.centre_mm)
        height = float((c_up - sup_plate.centre_mm) @ m)
        disc_in_lower = invert(frame_with_up(m, 0.5 * (sup_plate.centre_mm + c_up)))
        to_disc = invert(disc_in_lower)
        up_v = apply(rel, upper.vertices)
        upper_in_lower = Bone(upper.name, up_v, upper.faces, upper.sets, np.eye(4))
        sup, inf, sup_f, inf_f = {}, {}, {}, {}
        for side in SIDES:
            sup_f[side] = _contact_faces(lower, f"superior_process_{side}", upper_in_lower)
            inf_f[side] = _contact_faces(
                upper_in_lower, f"inferior_process_{side}", lower, f"superior_process_{side}"
            )
            # Each surface once more, facing only the other's surface: the two agree.
            for _ in range(_MUTUAL_PASSES):
                sup_f[side] = _contact_faces(
                    lower, f"superior_process_{side}", upper_in_lower, partner_faces=inf_f[side]
                )
                inf_f[side] = _contact_faces(
                    upper_in_lower, f"inferior_process_{side}", lower, partner_faces=sup_f[side]
                )
            sup[side] = _to(to_disc, _plane_fit(lower.vertices, lower.faces, sup_f[side]))
            inf[side] = _to(to_disc, _plane_fit(up_v, upper.faces, inf_f[side]))
        body_l = lower.vertices[lower.sets["body"]]
        body_u = upper.vertices[upper.sets["body"]]
        out[seg] = JointGeometry(
            name=seg,
            disc_frame_in_lower=disc_in_lower,
            disc_frame_in_upper=invert(rel) @ disc_in_lower,
            disc_height_mm=height,
            disc_width_mm=float(0.5 * (np.ptp(body_l[:, 2]) + np.ptp(body_u[:, 2]))),
            disc_depth_mm=float(0.5 * (np.ptp(body_l[:, 0]) + np.ptp(body_u[:, 0]))),
            superior=sup,
            inferior=inf,
            superior_faces=sup_f,
            inferior_faces=inf_f,
        )
    return out


_SET_REACH_MM = 5.0
"""A process set is widened by this much on the bone before its contact is sought, mm."""
_S1_PLATE_REACH_MM = 4.0
"""The sacrum's transferred endplate set is widened by this much, mm."""
_MUTUAL_PASSES = 1
"""Passes choosing each articular surface against the other's surface."""
_CONTACT_MM = 2.5
"""A contact triangle lies within this much of the joint's nearest approach, mm."""


def _near_set(bone: Bone, name: str) -> np.ndarray:
    """Return the (n,) vertices of set ``name`` widened by :data:`_SET_REACH_MM`."""
    inside = np.asarray(bone.sets[name])
    if not inside.any():
        return inside
    d, _ = cKDTree(bone.vertices[inside]).query(bone.vertices)
    return d <= _SET_REACH_MM


def _contact_faces(
    bone: Bone,
    process: str,
    partner: Bone,
    partner_process: str | None = None,
    partner_faces: np.ndarray | None = None,
):
    """Return the triangles of ``bone``'s ``process`` that face and near the partner bone.

    The articular surface is where the two bones face each other across the joint: a
    triangle of the (widened) process whose nearest partner point faces back at it
    (normals opposed within 60 deg), within :data:`_CONTACT_MM` of the nearest
    approach; of those, the connected piece with the most area. Falls back to
    :func:`~.column.articular_faces` when no triangle qualifies. With
    ``partner_faces``, only those partner triangles count as the partner.
    """
    other = partner_process or process.replace("superior", "inferior")
    if partner_faces is None:
        p_mask = _near_set(partner, other)
    else:
        p_mask = np.zeros(len(partner.vertices), dtype=bool)
        p_mask[partner.faces[partner_faces].ravel()] = True
    faces = _near_set(bone, process)[bone.faces].all(axis=1)
    if not p_mask.any() or not faces.any():
        raise SpineInputError(f"{bone.name}: no {process.replace('_', ' ')} found")
    pv = partner.vertices[p_mask]
    pn = trimesh.Trimesh(partner.vertices, partner.faces, process=False).vertex_normals[p_mask]
    centres = bone.vertices[bone.faces].mean(axis=1)
    normals = bone.face_normals()
    dist, idx = cKDTree(pv).query(centres)
    # Facing by the normals alone: real bone meshes may overlap a little at a joint,
    # so the partner's nearest point can lie behind the surface.
    facing = (normals * pn[idx]).sum(1) < -0.5
    cand = faces & facing
    if not cand.any():
        return articular_faces(bone, process, partner.vertices[partner.sets[other]])
    near = np.flatnonzero(cand & (dist < dist[cand].min() + _CONTACT_MM))
    # One joint is one patch: keep the piece of the selection with the most area.
    label = _components(bone.faces[near], len(bone.vertices))
    area = np.bincount(label, weights=_face_areas(bone)[near])
    return near[label == np.argmax(area)]


def _face_areas(bone: Bone) -> np.ndarray:
    tri = bone.vertices[bone.faces]
    return 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)


def _plane_fit(vertices: np.ndarray, faces: np.ndarray, chosen: np.ndarray) -> Surface:
    """Fit a surface as :func:`~.bones.fit_surface`, its normal the best plane's."""
    s = fit_surface(vertices, faces, chosen)
    tri = vertices[faces[chosen]]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    d = tri.mean(axis=1) - s.centre_mm
    cov = (area[:, None, None] * np.einsum("ni,nj->nij", d, d)).sum(axis=0)
    n = np.linalg.eigh(cov)[1][:, 0]
    n = n if n @ s.normal >= 0 else -n
    return Surface(s.centre_mm, n, s.area_mm2, s.width_mm, s.height_mm)


def _to(m: np.ndarray, s: Surface) -> Surface:
    return Surface(apply(m, s.centre_mm), m[:3, :3] @ s.normal, s.area_mm2, s.width_mm, s.height_mm)


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    c = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


def check_joint(g: JointGeometry) -> list[str]:
    """Return what is doubtful about a measured joint, one phrase per finding (or none)."""
    row = joint_table()[g.name]
    out = []
    for side in SIDES:
        s, i = g.superior[side], g.inferior[side]
        par = _angle_deg(s.normal, -i.normal)
        if par > TOL.parallel_deg:
            out.append(f"{side}: surfaces {par:.0f} deg from parallel")
        n = joint_normal(g, side)
        d = i.centre_mm - s.centre_mm
        gap = joint_gap_mm(g, side)
        across = float(np.linalg.norm(d - (d @ n) * n))
        if abs(gap) > TOL.gap_mm:
            out.append(f"{side}: surfaces {gap:.1f} mm apart")
        if across > TOL.offset_mm:
            out.append(f"{side}: surfaces {across:.1f} mm offset")
        if min(s.area_mm2, i.area_mm2) < TOL.min_area_mm2:
            out.append(f"{side}: surface of {min(s.area_mm2, i.area_mm2):.0f} mm2")
        cor, tra = facet_angles(n, side)
        m = TOL.angle_margin_deg
        lo, hi = float(row["coronal_min_deg"]) - m, float(row["coronal_max_deg"]) + m
        # A plane's orientation wraps at 180 deg (2 and 178 are both near-coronal).
        if not any(lo <= cor + k <= hi for k in (-180.0, 0.0, 180.0)):
            out.append(f"{side}: coronal {cor:.0f} deg outside {lo:.0f}-{hi:.0f}")
        lo, hi = float(row["transverse_min_deg"]) - m, float(row["transverse_max_deg"]) + m
        if not (lo <= tra <= hi):
            out.append(f"{side}: transverse {tra:.0f} deg outside {lo:.0f}-{hi:.0f}")
    return out


def _read_toml(path: Path, what: str) -> dict:
    """Read a TOML file, or raise the one-line error naming it and ``what`` it holds."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpineInputError(f"{path}: cannot read {what} ({_first_line(exc)})") from None


def _read_landmarks(path: Path, levels: Sequence[str]) -> dict[str, dict[str, np.ndarray]]:
    """Read ``[LEVEL] superior_left = [x, y, z]`` ... in source coordinates."""
    data = _read_toml(path, "the landmarks")
    out: dict[str, dict[str, np.ndarray]] = {}
    for level, table in data.items():
        if level not in levels:
            raise SpineInputError(
                f"{path}: [{level}]: not an imported level (imported: {', '.join(levels)})"
            )
        if not isinstance(table, dict):
            raise SpineInputError(f"{path}: [{level}]: expected a table of named points")
        for name, point in table.items():
            if name not in _FACET_NAMES:
                raise SpineInputError(
                    f"{path}: [{level}] {name}: unknown point, expected one of "
                    f"{', '.join(_FACET_NAMES)}"
                )
            p = np.asarray(point, dtype=object)
            if p.shape != (3,) or not all(
                isinstance(x, int | float) and not isinstance(x, bool) for x in p
            ):
                raise SpineInputError(f"{path}: [{level}] {name}: expected [x, y, z] numbers")
            out.setdefault(level, {})[name] = np.asarray(point, dtype=float)
    return out


def _apply_landmarks(
    path: Path,
    points: dict[str, dict[str, np.ndarray]],
    fitted: dict[str, _Fitted],
    column: ColumnBones,
    joints: dict[str, JointGeometry],
) -> dict[str, JointGeometry]:
    """Re-choose the articular surfaces the user pointed at; return the joints."""
    out = dict(joints)
    for level, named in points.items():
        bone = fitted[level].bone
        centres = bone.vertices[bone.faces].mean(axis=1)
        for name, p_src in named.items():
            which, side = name.split("_")
            p = apply(fitted[level].source_to_pack, p_src)
            d = np.linalg.norm(centres - p, axis=1)
            if d.min() > 3.0:
                raise SpineInputError(
                    f"{path}: [{level}] {name}: the point lies {d.min():.1f} mm from the bone "
                    "(give it in the source's coordinates, on the articular surface)"
                )
            faces = np.flatnonzero(d < TOL.landmark_radius_mm)
            seg = _joint_of(level, which, fitted)
            if seg is None:
                raise SpineInputError(
                    f"{path}: [{level}] {name}: no imported joint uses this surface"
                )
            g = out[seg]
            surf = fit_surface(bone.vertices, bone.faces, faces)
            sup, inf = dict(g.superior), dict(g.inferior)
            sup_f, inf_f = dict(g.superior_faces), dict(g.inferior_faces)
            if which == "superior":
                sup[side] = _to(invert(g.disc_frame_in_lower), surf)
                sup_f[side] = faces
            else:
                inf[side] = _to(invert(g.disc_frame_in_upper), surf)
                inf_f[side] = faces
            out[seg] = JointGeometry(
                g.name,
                g.disc_frame_in_lower,
                g.disc_frame_in_upper,
                g.disc_height_mm,
                g.disc_width_mm,
                g.disc_depth_mm,
                sup,
                inf,
                sup_f,
                inf_f,
            )
    return out


def _joint_of(level: str, which: str, fitted: Mapping[str, _Fitted]) -> str | None:
    i = LEVELS.index(level)
    if which == "superior" and i > 0 and LEVELS[i - 1] in fitted:
        return f"{LEVELS[i - 1]}-{level}"
    if which == "inferior" and i + 1 < len(LEVELS) and LEVELS[i + 1] in fitted:
        return f"{level}-{LEVELS[i + 1]}"
    return None


# --- the pack ------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote and found.

    Attributes
    ----------
    pack : Path
        The pack folder.
    levels : tuple of str
        The imported levels, top to bottom.
    units : str
        How the source's units were taken.
    assembled : bool
        Whether the rest pose is the source's own.
    doubtful : mapping of str to list of str
        Per joint, what its checks found doubtful (absent when nothing was).
    angles : mapping of str to dict
        Per joint and side, the measured ``coronal_deg`` and ``transverse_deg``.
    """

    pack: Path
    levels: tuple[str, ...]
    units: str
    assembled: bool
    doubtful: Mapping[str, list[str]]
    angles: Mapping[str, dict]


def _order_pieces(raws: list[_Raw], levels: Sequence[str], scale: float) -> list[_Raw]:
    """Give the pieces of one mesh their levels by the column's order, top to bottom."""
    ref = levels[len(levels) // 2]
    ref = ref if ref != "S1" else "L5"
    ups, centres = [], []
    for raw in raws:
        mesh = _clean(raw.vertices * scale, raw.faces)
        r, _, _ = _rigid_fit(_template(ref), mesh, None)
        ups.append(r[:, 1])
        centres.append(mesh.vertices.mean(axis=0))
    centres_a = np.asarray(centres)
    axis = _principal(centres_a)[1][0] if len(raws) > 1 else np.asarray(ups[0])
    if axis @ np.sum(ups, axis=0) < 0:
        axis = -axis
    order = np.argsort(-(centres_a @ axis))
    out = []
    for level, k in zip(levels, order, strict=True):
        raw = raws[int(k)]
        out.append(_Raw(level, raw.vertices, raw.faces, raw.file, raw.sha256, piece=raw.piece))
    return out


def _assembled(fitted: dict[str, _Fitted]) -> bool:
    """Whether adjacent bones sit where a column puts them (given in one frame)."""
    names = [lv for lv in LEVELS if lv in fitted]
    if len(names) < 2:
        return False
    lo, hi = TOL.neighbour_mm
    for a, b in itertools.pairwise(names):
        if LEVELS.index(b) != LEVELS.index(a) + 1:
            return False
        # Body centres and the lower one's +Y, in source millimetres.
        ia, ib = invert(_rigid(fitted[a])), invert(_rigid(fitted[b]))
        d = float(np.linalg.norm(ia[:3, 3] - ib[:3, 3]))
        if not lo <= d <= hi:
            return False
        # The upper one lies superior of the lower.
        if (ia[:3, 3] - ib[:3, 3]) @ ib[:3, 1] < 0.5 * d:
            return False
    return True


def _scale_of(f: _Fitted) -> float:
    return float(np.linalg.norm(f.source_to_pack[:3, 0]))


def _rigid(f: _Fitted) -> np.ndarray:
    """Return the rigid source-millimetre-to-local transform of a fitted bone."""
    s = _scale_of(f)
    m = f.source_to_pack.copy()
    m[:3, :3] /= s
    return m


def _rest_poses(fitted: dict[str, _Fitted], assembled: bool, endplates) -> dict[str, np.ndarray]:
    names = [lv for lv in LEVELS if lv in fitted]
    default = column_bones().rest_poses
    lowest = names[-1]
    if assembled:
        # The lowest bone sits where the project's column puts it; the rest keep the
        # source's own arrangement relative to it.
        frame = default[lowest] @ _rigid(fitted[lowest])
        return {lv: frame @ invert(_rigid(fitted[lv])) for lv in names}
    return stack_on_curve(endplates, names, default[lowest])


def _published(seg: str) -> dict:
    row = joint_table()[seg]
    keys = ("coronal_min_deg", "coronal_max_deg", "transverse_min_deg", "transverse_max_deg")
    return {k: float(row[k]) for k in keys}


def import_pack(
    source: Path,
    out: Path,
    levels: Sequence[str] | None = None,
    units: str = "auto",
    landmarks_file: Path | None = None,
    mapping_file: Path | None = None,
    name: str | None = None,
    licence: str | None = None,
    force: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> ImportResult:
    """Import a spine from meshes or a label map and write it as a pack.

    Parameters
    ----------
    source : path
        A folder of per-level meshes or label maps, one mesh of several vertebrae
        (with ``levels``), or a label map.
    out : path
        The pack folder to write; it must not exist unless ``force``.
    levels : sequence of str, optional
        The levels to import (for one mesh of pieces: the levels the pieces are).
    units : {"auto", "mm", "cm", "m"}, default: "auto"
    landmarks_file : path, optional
        TOML of articular surface points per level, in source coordinates.
    mapping_file : path, optional
        TOML ``[levels]`` table of level = file name, for files named otherwise.
    name, licence : str, optional
        Recorded in the manifest's ``source`` (the licence is credited by figures).
    force : bool, default: False
        Replace an existing pack.
    progress : callable, optional
        Called as ``progress(what, done, total)``.

    Returns
    -------
    ImportResult

    Raises
    ------
    SpineInputError
        One line naming the file and what is wrong; nothing is left at ``out``.
    """
    source, out = Path(source), Path(out)
    if out.exists() and not force:
        raise SpineInputError(f"--out {out}: exists; choose another folder or give --force")
    if out.exists() and not (out / MANIFEST).is_file():
        raise SpineInputError(f"--out {out}: exists and is not a pack; not replacing it")
    if not out.parent.is_dir():
        raise SpineInputError(f"--out {out}: folder {out.parent} does not exist")
    mapping = _load_mapping(Path(mapping_file)) if mapping_file is not None else None
    raws, one_frame = _read_source(source, mapping, levels)
    if not raws:
        raise SpineInputError(f"{source}: none of the levels {', '.join(levels or ())}")
    scale, unit_text = _unit_scale(raws, units)
    if raws[0].level == "?":
        assert levels is not None
        raws = _order_pieces(raws, levels, scale)
    raws.sort(key=lambda r: LEVELS.index(r.level))
    names = [r.level for r in raws]
    absent = [lv for lv in levels or () if lv not in names]
    if absent:
        raise SpineInputError(
            f"--levels names {', '.join(absent)}, which {source} does not hold "
            f"(it holds {', '.join(names)})"
        )
    gaps = [b for a, b in itertools.pairwise(names) if LEVELS.index(b) != LEVELS.index(a) + 1]
    if gaps:
        raise SpineInputError(
            f"{source}: the levels {', '.join(names)} skip a level before {gaps[0]}; "
            "a pack is a run of adjacent levels"
        )
    total = len(raws) + 1
    fitted: dict[str, _Fitted] = {}
    up = _column_up(raws, scale)
    for k, raw in enumerate(raws):
        if progress:
            progress(f"Fitting {raw.level}", k, total)
        try:
            fitted[raw.level] = _fit_bone(raw, scale, up)
        except (ValueError, IndexError, np.linalg.LinAlgError) as exc:
            if isinstance(exc, SpineInputError):
                raise
            raise SpineInputError(
                f"{raw.file}: {_where(raw)}cannot be fitted as {raw.level} ({_first_line(exc)})"
            ) from None
    if progress:
        progress("Measuring joints", len(raws), total)
    bones = {lv: f.bone for lv, f in fitted.items()}
    endplates = {
        lv: {w: b.endplate(w) for w in ("superior", "inferior") if lv != "S1" or w == "superior"}
        for lv, b in bones.items()
    }
    assembled = _assembled(fitted)
    poses = _rest_poses(fitted, assembled, endplates)
    column = ColumnBones(bones, poses, endplates)
    segs = [s for s in SEGMENTS if all(lv in bones for lv in s.split("-"))]
    try:
        joints = measure_posed_joints(column, segs)
    except SpineInputError as exc:
        raise SpineInputError(f"{source}: {exc}") from None
    if landmarks_file is not None:
        points = _read_landmarks(Path(landmarks_file), names)
        joints = _apply_landmarks(Path(landmarks_file), points, fitted, column, joints)
    doubtful = {seg: found for seg in segs if (found := check_joint(joints[seg]))}
    files = sorted({(str(r.file), r.sha256) for r in raws})
    src = {
        "package": f"imported: {name or source.name}",
        "version": f"spine3d import, pack format {PACK_FORMAT}",
        "name": name or source.name,
        "licence": licence or "unknown (give --licence)",
        "credit": name or source.name,
        "units": unit_text,
        "scale_to_mm": scale,
        "assembled": assembled,
        "pack_format": PACK_FORMAT,
        "files": [{"file": Path(f).name, "sha256": s} for f, s in files],
    }
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        path = write_bone_set(tmp, column, joints, src)
        manifest = json.loads(path.read_text(encoding="utf-8"))
        angles = _complete_manifest(manifest, fitted, joints, doubtful)
        path.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if progress:
        progress("Done", total, total)
    return ImportResult(out, tuple(names), unit_text, assembled, MappingProxyType(doubtful), angles)


def _column_up(raws: Sequence[_Raw], scale: float) -> np.ndarray | None:
    """Return the superior direction of bones given in one frame, from their order."""
    if len(raws) < 2:
        return None
    c = np.array([r.vertices.mean(axis=0) * scale for r in raws])
    idx = np.array([LEVELS.index(r.level) for r in raws], dtype=float)
    step = np.linalg.norm(c[0] - c[-1]) / max(idx[-1] - idx[0], 1.0)
    if not 0.5 * TOL.neighbour_mm[0] <= step <= TOL.neighbour_mm[1]:
        return None
    axis = _principal(c)[1][0]
    # Superior is where the level index falls (T1 is 0).
    return axis if (c - c.mean(0)) @ axis @ (idx - idx.mean()) < 0 else -axis


def _complete_manifest(
    manifest: dict,
    fitted: Mapping[str, _Fitted],
    joints: Mapping[str, JointGeometry],
    doubtful: Mapping[str, list[str]],
) -> dict:
    def r(a, nd=8):
        return np.round(np.asarray(a, dtype=float), nd).tolist()

    for lv, f in fitted.items():
        entry = manifest["levels"][lv]
        entry["mesh"] = entry["file"]
        entry["source_to_pack"] = r(f.source_to_pack, 10)
        entry["source"] = {
            "file": f.raw.file.name,
            "sha256": f.raw.sha256,
            **({} if f.raw.piece is None else {"piece": f.raw.piece}),
            **({} if f.raw.label is None else {"label": f.raw.label}),
        }
        entry["fit_rms_mm"] = round(f.rms_mm, 3)
    angles = {}
    for seg in joints:
        entry = manifest["joints"][seg]
        entry["published"] = _published(seg)
        entry["doubtful"] = list(doubtful.get(seg, []))
        angles[seg] = {
            side: {
                "coronal_deg": entry["facets"][side]["coronal_deg"],
                "transverse_deg": entry["facets"][side]["transverse_deg"],
            }
            for side in SIDES
        }
    return angles
