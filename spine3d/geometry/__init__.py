"""Geometry: the default bones from the ``myo-sim`` package, measured, and the ``meshes/`` store."""

from .store import (
    BoneMesh,
    atomic_path,
    build_meshes,
    default_mesh_dir,
    facet_mask,
    load_manifest,
    load_meshes,
    read_meshes,
    turned_facet_vertices,
    write_atomic,
)

__all__ = [
    "BoneMesh",
    "atomic_path",
    "build_meshes",
    "default_mesh_dir",
    "facet_mask",
    "load_manifest",
    "load_meshes",
    "read_meshes",
    "turned_facet_vertices",
    "write_atomic",
]
