"""The ``meshes/`` store: one binary PLY per level and a JSON manifest.

The manifest records, per level, the local frame (rest pose), body and endplate
centres, the articular surfaces (centre, normal, area), the triangle count, the
file's SHA-256 and the version of the anatomy tables it was built from. Files are
written atomically (a temporary file, then a rename), the manifest last.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import numpy as np
import trimesh

from ..anatomy import LEVELS, SpineModel
from ..errors import MeshFileError
from .builder import articular_surfaces, build_vertebra

__all__ = [
    "MANIFEST",
    "atomic_path",
    "build_meshes",
    "default_mesh_dir",
    "load_manifest",
    "load_meshes",
    "write_atomic",
]

MANIFEST = "manifest.json"
REBUILD = "rebuild with `spine3d meshes build`"


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
    return trimesh.exchange.ply.export_ply(mesh, encoding="binary", include_attributes=False)


def _r(a, nd: int = 4) -> list[float]:
    return [round(float(x), nd) for x in np.asarray(a).ravel()]


def _entry(model: SpineModel, level: str, mesh: trimesh.Trimesh, data: bytes) -> dict:
    v = model.vertebra(level)
    return {
        "file": f"{level}.ply",
        "sha256": hashlib.sha256(data).hexdigest(),
        "triangles": int(len(mesh.faces)),
        "region": v.region,
        "local_frame": [_r(row) for row in v.rest_pose],
        "body_centre_mm": [0.0, 0.0, 0.0],
        "endplate_centres_mm": {
            "superior": _r(v.endplate_centre("superior")),
            "inferior": _r(v.endplate_centre("inferior")),
        },
        "facets": [
            {
                "joint": s["joint"],
                "side": s["side"],
                "process": s["process"],
                "centre_mm": _r(s["centre_mm"]),
                "normal": _r(s["normal"], 6),
                "area_mm2": round(s["area_mm2"], 2),
            }
            for s in articular_surfaces(model, level)
        ],
    }


def build_meshes(
    model: SpineModel,
    out_dir: Path | None = None,
    lod: str = "default",
    levels: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Build every level's mesh and write it with the manifest into ``out_dir``.

    Parameters
    ----------
    model : SpineModel
    out_dir : path, optional
        Defaults to :func:`default_mesh_dir`.
    lod : str, default: "default"
    levels : iterable of str, optional
        Defaults to all levels.
    progress : callable, optional
        Called with each level's name after it is written.

    Returns
    -------
    Path
        The manifest's path. A second build from the same tables is byte-identical.
    """
    out = Path(out_dir) if out_dir is not None else default_mesh_dir()
    out.mkdir(parents=True, exist_ok=True)
    # Build aside, then move in: an interrupted build leaves the old set as it was.
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.build-", dir=out.parent) as stage:
        entries = _build_into(model, Path(stage), lod, levels, progress)
        _move_in(Path(stage), out, [e["file"] for e in entries.values()] + [MANIFEST])
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


def _build_into(model, out: Path, lod: str, levels, progress) -> dict:
    """Write every level's PLY and the manifest into ``out``; return the entries."""
    entries = {}
    for level in levels or model.level_names:
        mesh = build_vertebra(model, level, lod)
        data = _ply_bytes(mesh)
        (out / f"{level}.ply").write_bytes(data)
        entries[level] = _entry(model, level, mesh, data)
        if progress:
            progress(level)
    manifest = {
        "format": 1,
        "units": "mm",
        "frame": "ISB: +X anterior, +Y superior, +Z right; origin at the body centre",
        "tables_version": model.tables_version,
        "lod": lod,
        "levels": entries,
    }
    (out / MANIFEST).write_bytes((json.dumps(manifest, indent=1) + "\n").encode())
    return entries


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
        manifest["levels"].items()
    except FileNotFoundError:
        raise MeshFileError(f"{path}: missing mesh manifest; {REBUILD}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise MeshFileError(f"{path}: corrupt mesh manifest ({exc}); {REBUILD}") from None
    return manifest


def load_meshes(
    levels: Iterable[str] | None = None, mesh_dir: Path | None = None, verify: bool = True
) -> dict[str, trimesh.Trimesh]:
    """Load meshes from ``meshes/`` in their local frames.

    Parameters
    ----------
    levels : iterable of str, optional
        Defaults to every level of the spine (T1 ... S1).
    mesh_dir : path, optional
        Defaults to :func:`default_mesh_dir`.
    verify : bool, default: True
        Check each file against the SHA-256 in the manifest.

    Returns
    -------
    dict
        ``{level: trimesh.Trimesh}``.

    Raises
    ------
    MeshFileError
        Naming the file, for a missing, corrupt or unknown mesh.
    """
    d = Path(mesh_dir) if mesh_dir is not None else default_mesh_dir()
    manifest = load_manifest(d)
    entries = manifest["levels"]
    out = {}
    for level in levels or LEVELS:
        if level not in entries:
            raise MeshFileError(
                f"{d / MANIFEST}: no mesh for level {level!r} (has {', '.join(entries)}); {REBUILD}"
            )
        entry = entries[level]
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("file"), str)
            and isinstance(entry.get("sha256"), str)
            and Path(entry["file"]).name == entry["file"]  # a file in this folder
        ):
            raise MeshFileError(f"{d / MANIFEST}: malformed entry for level {level!r}; {REBUILD}")
        path = d / entry["file"]
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise MeshFileError(f"{path}: missing mesh file; {REBUILD}") from None
        if verify and hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise MeshFileError(
                f"{path}: corrupt mesh file (checksum differs from the manifest); {REBUILD}"
            )
        try:
            mesh = trimesh.load(io.BytesIO(data), file_type="ply", process=False)
        except Exception as exc:  # any parse failure of a damaged file
            raise MeshFileError(f"{path}: corrupt mesh file ({exc}); {REBUILD}") from None
        if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
            raise MeshFileError(f"{path}: corrupt mesh file (no triangles); {REBUILD}")
        if not np.isfinite(mesh.vertices).all():
            raise MeshFileError(f"{path}: corrupt mesh file (NaN or infinite vertices); {REBUILD}")
        out[level] = mesh
    return out
