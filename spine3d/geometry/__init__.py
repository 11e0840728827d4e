"""Geometry: parametric vertebra meshes from the anatomy model, and the ``meshes/`` store."""

from .builder import LODS, articular_surfaces, build_vertebra, facet_mask, to_manifold
from .store import (
    atomic_path,
    build_meshes,
    default_mesh_dir,
    load_manifest,
    load_meshes,
    write_atomic,
)

__all__ = [
    "LODS",
    "articular_surfaces",
    "atomic_path",
    "build_meshes",
    "build_vertebra",
    "default_mesh_dir",
    "facet_mask",
    "load_manifest",
    "load_meshes",
    "to_manifold",
    "write_atomic",
]
