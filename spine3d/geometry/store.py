"""The ``meshes/`` store: one binary PLY per bone and a JSON manifest.

The manifest (format 2) records, per level, the local frame (rest pose), the
endplates, landmarks and articular surfaces (centre, normal, area, extent and the
triangles they were measured on), the triangle count and the file's SHA-256; per joint
the disc frames and size, each facet's measured orientation and where the posterior
elements would meet bone on bone; the rib cage and hip
parts with the level each moves with; and the bones' source and licence. A set is
written into a temporary folder beside the target and moved in file by file, the
manifest last, with Ctrl-C, SIGTERM and SIGHUP held off: an interrupted build leaves
the previous set as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..anatomy import LEVELS, SIDES, SpineModel, region_of, tables_version
from ..anatomy.frames import apply
from ..anatomy.model import facet_angles
from ..errors import MeshFileError
from .ply import read_ply

if TYPE_CHECKING:  # building and measuring bones needs trimesh and scipy; reading does not
    import trimesh

    from ..anatomy.model import BoneContact
    from .bones import Surface
    from .column import ColumnBones, JointGeometry
    from .parts import ContextPart

__all__ = [
    "MANIFEST",
    "BoneMesh",
    "atomic_path",
    "build_meshes",
    "default_mesh_dir",
    "load_manifest",
    "load_meshes",
    "read_meshes",
    "write_atomic",
]

MANIFEST = "manifest.json"
REBUILD = "rebuild with `spine3d meshes build`"
REIMPORT = "import the pack again with `spine3d import`"


def _fix_hint(manifest: dict) -> str:
    """Return how to mend a bone set: import a pack again, or rebuild the shipped bones."""
    source = manifest.get("source")
    return REIMPORT if isinstance(source, dict) and "pack_format" in source else REBUILD


def default_mesh_dir() -> Path:
    """Return the directory of the shipped meshes (``meshes/`` of the project)."""
    return Path(str(resources.files("spine3d.meshes_data")))


@contextmanager
def atomic_path(path: Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path`` that becomes ``path`` when the block succeeds.

    On an error the temporary file is removed and ``path`` is left as it was. ``suffix``
    keeps a file type for writers that read it from the name (e.g. ``".mp4"``).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp makes the file private; give it the usual umask-based mode.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _ply_bytes(mesh: trimesh.Trimesh) -> bytes:
    import trimesh

    return trimesh.exchange.ply.export_ply(mesh, encoding="binary", include_attributes=False)


def _r(a, nd: int = 4) -> list:
    a = np.asarray(a, dtype=float)
    if a.ndim == 2:
        return [_r(row, nd) for row in a]
    return [round(float(x), nd) for x in a.ravel()]


def _surface(s: Surface, frame: np.ndarray | None = None, faces=None) -> dict:
    from .bones import Surface

    if frame is not None:
        s = Surface(
            apply(frame, s.centre_mm), frame[:3, :3] @ s.normal, s.area_mm2, s.width_mm, s.height_mm
        )
    return {
        "centre_mm": _r(s.centre_mm),
        "normal": _r(s.normal, 9),
        "area_mm2": round(float(s.area_mm2), 2),
        "width_mm": round(float(s.width_mm), 3),
        "height_mm": round(float(s.height_mm), 3),
        **({} if faces is None else {"faces": [int(f) for f in faces]}),
    }


def _joint_entry(g: JointGeometry, contacts: Mapping[str, BoneContact]) -> dict:
    from .column import joint_gap_mm, joint_normal

    facets = {}
    for side in SIDES:
        n = joint_normal(g, side)
        sup, inf = g.superior[side], g.inferior[side]
        coronal, transverse = facet_angles(n, side)
        facets[side] = {
            "centre_mm": _r(0.5 * (sup.centre_mm + inf.centre_mm)),
            "normal": _r(n, 9),
            "coronal_deg": round(coronal, 2),
            "transverse_deg": round(transverse, 2),
            "width_mm": round(float(sup.width_mm), 3),
            "height_mm": round(float(sup.height_mm), 3),
            "area_mm2": round(float(sup.area_mm2), 2),
            "bone_gap_mm": round(joint_gap_mm(g, side), 3),
        }
    return {
        "disc_frame_in_lower": _r(g.disc_frame_in_lower, 10),
        "disc_frame_in_upper": _r(g.disc_frame_in_upper, 10),
        "disc_height_mm": round(g.disc_height_mm, 3),
        "disc_width_mm": round(g.disc_width_mm, 3),
        "disc_depth_mm": round(g.disc_depth_mm, 3),
        "facets": facets,
        "contacts": {
            site: {
                "point_mm": _r(c.point_mm),
                "plane_mm": _r(c.plane_mm),
                "normal": _r(c.normal, 9),
                "gap_mm": round(c.gap_mm, 3),
            }
            for site, c in contacts.items()
        },
    }


def _mesh(vertices: np.ndarray, faces: np.ndarray) -> trimesh.Trimesh:
    import trimesh

    # float32 in the file: round once so the manifest's numbers are the file's numbers.
    return trimesh.Trimesh(np.asarray(vertices, dtype=np.float32), faces, process=False)


def _mass(mesh) -> dict:
    """Return a bone's volume (mm^3), centroid (mm) and inertia per unit mass (mm^2).

    Taken as a uniform solid: multiply by a density and the volume for its mass and
    inertia.
    """
    props = mesh.mass_properties  # unit density: the mass is the volume
    volume = float(props["volume"])
    return {
        "volume_mm3": round(volume, 3),
        "centroid_mm": _r(np.asarray(props["center_mass"])),
        "gyration_mm2": _r(np.asarray(props["inertia"]) / volume),
    }


def _hull_vertices(vertices: np.ndarray) -> list[int]:
    """Return the indices of the vertices on the convex hull, ascending.

    Stored in the manifest so that fitting a camera to placed bones needs no hull
    computation (nor its library) when a figure is drawn.
    """
    from scipy.spatial import ConvexHull

    return [int(i) for i in np.sort(ConvexHull(np.asarray(vertices, dtype=float)).vertices)]


def build_meshes(
    out_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Build every bone from the ``myo-sim`` package and write it with the manifest.

    Vertebrae T1-L5 and the sacrum go to ``LEVEL.ply`` in their local frames; the rib
    cage (``rib_5_left.ply``, ``cartilage_5_left.ply``, ``sternum.ply``) and the hip
    bones (``pelvis_left.ply``) go to ``PART.ply`` in the local frame of the vertebra
    they move with. The manifest records every measured frame, endplate, articular
    surface and joint (see :mod:`spine3d.geometry.column`).

    Parameters
    ----------
    out_dir : path, optional
        Defaults to :func:`default_mesh_dir`.
    progress : callable, optional
        Called with each bone's name after it is written.

    Returns
    -------
    Path
        The manifest's path. A second build is byte-identical.
    """
    from . import myo
    from .column import corrected_column
    from .parts import CHANGES, CREDIT, context_parts

    column, joints = corrected_column()
    source = {
        "package": myo.PACKAGE,
        "version": myo.package_version(),
        "licence": "Apache-2.0",
        "credit": CREDIT,
        "changes": CHANGES,
    }
    parts = context_parts(column)
    return write_bone_set(out_dir, column, joints, source, parts, progress)


def write_bone_set(
    out_dir: Path | None,
    column: ColumnBones,
    joints: Mapping[str, JointGeometry],
    source: Mapping,
    parts: Mapping[str, ContextPart] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write a set of measured bones: one PLY per bone and ``manifest.json`` (format 2).

    Parameters
    ----------
    out_dir : path or None
        Folder to write; :func:`default_mesh_dir` when None.
    column : ColumnBones
        The vertebrae (a run of adjacent levels) in their local frames and rest pose.
    joints : mapping of str to JointGeometry
        The joints between them, measured (:func:`~.column.measure_joints`).
    source : mapping
        Provenance: at least ``credit`` and ``licence``, recorded as the manifest's
        ``source``.
    parts : mapping of str to ContextPart, optional
        Rib cage and hip bones.
    progress : callable, optional

    Returns
    -------
    Path
        The manifest's path.
    """
    from .bones import landmarks
    from .column import joint_contacts

    out = Path(out_dir) if out_dir is not None else default_mesh_dir()
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    levels = {}
    for level in (lv for lv in LEVELS if lv in column.bones):
        bone = column.bones[level]
        mesh = _mesh(bone.vertices, bone.faces)
        data = _ply_bytes(mesh)
        files[f"{level}.ply"] = data
        surfaces = {}
        for seg, g in joints.items():
            upper, lower = seg.split("-")
            for side in SIDES:
                if lower == level:
                    surfaces[f"superior_{side}"] = _surface(
                        g.superior[side], g.disc_frame_in_lower, g.superior_faces[side]
                    )
                if upper == level:
                    surfaces[f"inferior_{side}"] = _surface(
                        g.inferior[side], g.disc_frame_in_upper, g.inferior_faces[side]
                    )
        levels[level] = {
            "file": f"{level}.ply",
            "sha256": hashlib.sha256(data).hexdigest(),
            "triangles": int(len(bone.faces)),
            "hull_vertices": _hull_vertices(mesh.vertices),
            "region": region_of(level),
            "local_frame": _r(column.rest_poses[level], 10),
            "package_to_local": _r(bone.package_to_local, 6),
            "endplates": {w: _surface(p) for w, p in column.endplates[level].items()},
            "landmarks_mm": {k: _r(p) for k, p in landmarks(bone).items()},
            "facets": surfaces,
            "mass": _mass(mesh),
        }
        if progress:
            progress(level)
    part_entries = {}
    for name, part in (parts or {}).items():
        mesh = _mesh(part.vertices, part.faces)
        data = _ply_bytes(mesh)
        files[f"{name}.ply"] = data
        part_entries[name] = {
            "file": f"{name}.ply",
            "sha256": hashlib.sha256(data).hexdigest(),
            "triangles": int(len(part.faces)),
            "hull_vertices": _hull_vertices(mesh.vertices),
            "kind": part.kind,
            "moves_with": part.moves_with,
            "landmarks_mm": {k: _r(v) for k, v in part.landmarks.items()},
        }
        if part.measures:
            part_entries[name]["measures"] = {
                k: _r(v) if isinstance(v, np.ndarray) else v for k, v in part.measures.items()
            }
    if parts and progress:
        progress("rib cage and pelvis")
    manifest = {
        "format": 2,
        "units": "mm",
        "frame": "ISB: +X anterior, +Y superior, +Z right; origin at the body centre",
        "tables_version": tables_version(),
        "source": dict(source),
        "levels": levels,
        "joints": {seg: _joint_entry(g, joint_contacts(column, g)) for seg, g in joints.items()},
        "parts": part_entries,
    }
    # Build aside, then move in: an interrupted build leaves the old set as it was.
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.build-", dir=out.parent) as stage:
        for name, data in files.items():
            (Path(stage) / name).write_bytes(data)
        (Path(stage) / MANIFEST).write_bytes((json.dumps(manifest, indent=1) + "\n").encode())
        _move_in(Path(stage), out, [*files, MANIFEST])
    return out / MANIFEST


def _move_in(stage: Path, out: Path, names: list[str]) -> None:
    """Move ``names`` from ``stage`` into ``out``, the manifest last, signals held off.

    Each move is a rename on one file system, and Ctrl-C, SIGTERM and SIGHUP wait
    until all are done, so the folder never mixes two builds.
    """
    held = {signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM)}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        umask = os.umask(0)
        os.umask(umask)
        for name in names:
            os.chmod(stage / name, 0o666 & ~umask)
            os.replace(stage / name, out / name)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def load_manifest(mesh_dir: Path | None = None) -> dict:
    """Read and check the manifest of ``mesh_dir``.

    Raises
    ------
    MeshFileError
        If it is missing or not a valid manifest.
    """
    d = Path(mesh_dir) if mesh_dir is not None else default_mesh_dir()
    path = d / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or not isinstance(manifest["levels"], dict):
            raise TypeError("expected an object with a levels object")
    except FileNotFoundError:
        raise MeshFileError(f"{path}: missing mesh manifest; {REBUILD}") from None
    except RecursionError:
        raise MeshFileError(
            f"{path}: corrupt mesh manifest (nested too deeply); {REBUILD}"
        ) from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise MeshFileError(f"{path}: corrupt mesh manifest ({exc}); {REBUILD}") from None
    return manifest


@dataclass(frozen=True)
class BoneMesh:
    """A bone's triangle mesh as stored, read without a mesh library.

    Attributes
    ----------
    vertices : (n, 3) float
        Millimetres, in the local frame of the level the bone moves with; read-only.
    faces : (m, 3) int
        Vertex indices of each triangle; read-only.
    hull : (k,) int or None
        Indices of the vertices on the convex hull, when the manifest records them.
    """

    vertices: np.ndarray
    faces: np.ndarray
    hull: np.ndarray | None = None


def read_meshes(
    levels: Iterable[str] | None = None, mesh_dir: Path | None = None, verify: bool = True
) -> dict[str, BoneMesh]:
    """Read bones from a bone set, each in the local frame of the level it moves with.

    Parameters
    ----------
    levels : iterable of str, optional
        Names of levels (``"L3"``) or context parts (``"rib_5_left"``, ``"sternum"``,
        ``"pelvis_left"``); defaults to every bone in the manifest, which for the shipped
        bones must hold every level T1 ... S1.
    mesh_dir : path, optional
        A bone set's folder (``meshes/`` or an imported pack); defaults to
        :func:`default_mesh_dir`.
    verify : bool, default: True
        Check each file against the SHA-256 in the manifest.

    Returns
    -------
    dict of str to BoneMesh

    Raises
    ------
    MeshFileError
        Naming the file, for a missing, corrupt or unknown mesh.
    """
    d = Path(mesh_dir) if mesh_dir is not None else default_mesh_dir()
    manifest = load_manifest(d)
    fix = _fix_hint(manifest)
    parts = manifest.get("parts", {})
    if not isinstance(parts, dict):
        raise MeshFileError(
            f"{d / MANIFEST}: corrupt mesh manifest (parts is not an object); {fix}"
        )
    entries = {**manifest["levels"], **parts}
    if levels is None and mesh_dir is None:
        missing = [lv for lv in LEVELS if lv not in entries]
        if missing:
            raise MeshFileError(f"{d / MANIFEST}: no mesh for level {missing[0]!r}; {fix}")
    out = {}
    for level in levels or entries:
        if level not in entries:
            raise MeshFileError(
                f"{d / MANIFEST}: no mesh for level {level!r} (has {', '.join(entries)}); {fix}"
            )
        entry = entries[level]
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("file"), str)
            and isinstance(entry.get("sha256"), str)
            and Path(entry["file"]).name == entry["file"]  # a file in this folder
        ):
            raise MeshFileError(f"{d / MANIFEST}: malformed entry for level {level!r}; {fix}")
        path = d / entry["file"]
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise MeshFileError(f"{path}: missing mesh file; {fix}") from None
        if verify and hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise MeshFileError(
                f"{path}: corrupt mesh file (checksum differs from the manifest); {fix}"
            )
        try:
            vertices, faces = read_ply(data)
        except (ValueError, TypeError) as exc:  # any parse failure of a damaged file
            raise MeshFileError(f"{path}: corrupt mesh file ({exc}); {fix}") from None
        if len(faces) == 0:
            raise MeshFileError(f"{path}: corrupt mesh file (no triangles); {fix}")
        if not np.isfinite(vertices).all():
            raise MeshFileError(f"{path}: corrupt mesh file (NaN or infinite vertices); {fix}")
        hull = entry.get("hull_vertices")
        if hull is not None:
            try:
                hull = np.asarray(hull, dtype=np.int64)
            except (ValueError, TypeError, OverflowError):  # text, nesting, a huge number
                hull = np.empty(0, dtype=np.int64)
            if hull.ndim != 1 or not hull.size or hull.min() < 0 or hull.max() >= len(vertices):
                raise MeshFileError(f"{d / MANIFEST}: malformed hull of {level!r}; {fix}")
            hull.flags.writeable = False
        vertices.flags.writeable = False
        faces.flags.writeable = False
        out[level] = BoneMesh(vertices, faces, hull)
    return out


def load_meshes(
    levels: Iterable[str] | None = None, mesh_dir: Path | None = None, verify: bool = True
) -> dict[str, trimesh.Trimesh]:
    """Load bones as :class:`trimesh.Trimesh` (see :func:`read_meshes` for the arguments).

    Returns
    -------
    dict
        ``{name: trimesh.Trimesh}``.

    Raises
    ------
    MeshFileError
        Naming the file, for a missing, corrupt or unknown mesh.
    """
    import trimesh

    return {
        name: trimesh.Trimesh(m.vertices.copy(), m.faces.copy(), process=False)
        for name, m in read_meshes(levels, mesh_dir, verify).items()
    }


def facet_mask(
    level: str, mesh: BoneMesh | trimesh.Trimesh, mesh_dir: Path | None = None
) -> np.ndarray:
    """Return the triangles of ``level``'s bone that form its measured articular surfaces.

    They are the triangles the build measured each surface on (the manifest's
    ``faces``), so the drawn facets are the computed ones.

    Parameters
    ----------
    level : str
    mesh : BoneMesh or trimesh.Trimesh
        The level's bone.
    mesh_dir : path, optional

    Returns
    -------
    (m,) bool
    """
    out = np.zeros(len(mesh.faces), dtype=bool)
    for surface in load_manifest(mesh_dir)["levels"][level]["facets"].values():
        out[np.asarray(surface["faces"], dtype=int)] = True
    return out


_TURN_PASSES = 8
_TURN_TOL_DEG = 0.05
"""A facet turned by less than this from its measured orientation is drawn as measured."""


@cache
def _template_sets(level: str) -> dict[str, np.ndarray]:
    from .bones import vertebra_bone
    from .column import sacrum_bone

    if level == "S1":
        return dict(sacrum_bone().sets)
    return dict(vertebra_bone(level).sets)


def turned_facet_vertices(model: SpineModel, mesh_dir: Path | None = None) -> dict[str, np.ndarray]:
    """Return the vertices of every bone whose facets ``model`` turns from the measured ones.

    A facet override (``coronal_deg``, ``transverse_deg``) turns a joint's normal; the
    drawn bones follow with the warp the build uses (:func:`~.bones.warp_surface`): the
    lower vertebra's superior articular process and the upper one's inferior process
    turn about their surfaces' centres, so a figure shows the joint the mechanics uses.

    Parameters
    ----------
    model : SpineModel
    mesh_dir : path, optional
        An imported pack (the one ``model`` was compiled from); its bones do not share
        the template's vertices, so there the warp falls off by distance from the
        surface alone, not also by the articular process.

    Returns
    -------
    dict of str to (n, 3) float
        ``{level: vertices}`` in the level's local frame, only for the levels that
        change; the faces are those of ``<mesh_dir>/<level>.ply``.
    """
    from .bones import fit_surface, warp_surface

    manifest = load_manifest(mesh_dir)
    meshes: dict[str, BoneMesh] = {}
    out: dict[str, np.ndarray] = {}
    for j in model.joints:
        measured = manifest["joints"][j.name]["facets"]
        for side, facet in zip(SIDES, j.facets, strict=True):
            n0 = np.asarray(measured[side]["normal"], dtype=float)
            n0 /= np.linalg.norm(n0)
            n1 = np.asarray(facet.normal, dtype=float)
            if np.degrees(np.linalg.norm(np.cross(n0, n1))) < _TURN_TOL_DEG and n0 @ n1 > 0:
                continue
            for level, frame, process, sign in (
                (j.lower, j.disc_frame_in_lower, f"superior_{side}", 1.0),
                (j.upper, j.disc_frame_in_upper, f"inferior_{side}", -1.0),
            ):
                if level not in out:
                    meshes.update(read_meshes([level], mesh_dir, verify=False))
                    out[level] = np.asarray(meshes[level].vertices, dtype=float).copy()
                surface = manifest["levels"][level]["facets"][process]
                # The shipped bones share the template's vertices, so the warp can keep to
                # the articular process; an imported pack's bones turn by distance alone.
                region = None
                if mesh_dir is None:
                    region = _template_sets(level)[process.replace("_", "_process_", 1)]
                faces = np.asarray(meshes[level].faces)
                target = sign * (frame[:3, :3] @ n1)
                # Repeat on the same triangles: the falloff leaves a residual each time.
                for _ in range(_TURN_PASSES):
                    fit = fit_surface(out[level], faces, surface["faces"])
                    if np.degrees(np.linalg.norm(np.cross(fit.normal, target))) < 0.1:
                        break
                    out[level] = warp_surface(
                        out[level],
                        fit.centre_mm,
                        fit.normal,
                        target,
                        region=None if region is None else out[level][region],
                    )
    return out
