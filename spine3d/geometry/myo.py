"""Read the default bones from the ``myo-sim`` package (Apache-2.0, MyoSuite's models).

The package's meshes are STL files in metres in OpenSim's frame (+X anterior,
+Y superior, +Z right). Its 17 vertebrae are morphs of one template: the same 212
vertices and 424 triangles. The thoracic files number the vertices differently from
the lumbar ones; :func:`template_order` finds the renumbering from the shapes and the
triangle graph, so one vertex index names the same anatomical place on every level.

The rest pose of the package's chain (``models/torso/assets/myotorso_chain.xml``)
places the vertebrae and the rib cage; :func:`chain_poses` reads it into transforms in
the sacrum body's frame, in millimetres.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import cache
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import trimesh
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from ..errors import MeshFileError

__all__ = [
    "MESH_FILES",
    "PACKAGE",
    "chain_poses",
    "package_version",
    "read_bone",
    "template_order",
]

PACKAGE = "myo-sim"
"""The PyPI distribution the default bones come from."""

MESH_FILES: dict[str, str] = {
    **{f"T{i}": f"thoracic{i}_s.stl" for i in range(1, 13)},
    **{f"L{i}": f"lumbar{i}.stl" for i in range(1, 6)},
    "S1": "sacrum.stl",
    "thorax": "thorax.stl",
    "pelvis_left": "l_pelvis.stl",
    "pelvis_right": "r_pelvis.stl",
}
"""The package's mesh file for each of our bones."""

_CHAIN_GEOMS: dict[str, str] = {
    **{f"L{i}": f"lumbar{i}_geom_1" for i in range(1, 6)},
    **{f"T{13 - i}": f"torso_geom_{i}" for i in range(1, 13)},
    "thorax": "torso_geom_13",
    "S1": "sacrum_geom_1",
}
_WELD_DIGITS = 7
"""Vertices closer than 1e-7 m (0.1 micrometre) are one vertex."""


def package_version() -> str:
    """Return the installed ``myo-sim`` version.

    Raises
    ------
    MeshFileError
        If the package is not installed.
    """
    try:
        return version(PACKAGE)
    except PackageNotFoundError:
        raise MeshFileError(
            f"the default bones come from the {PACKAGE} package, which is not installed: "
            f"pip install {PACKAGE}"
        ) from None


def _models_dir() -> Path:
    package_version()
    return Path(str(resources.files("myo_sim"))) / "models"


def read_bone(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Read one of the package's bones, welded, in millimetres.

    Parameters
    ----------
    name : str
        A key of :data:`MESH_FILES` (``"L3"``, ``"S1"``, ``"thorax"``, ``"pelvis_left"``).

    Returns
    -------
    vertices : (n, 3) float
        Millimetres, in the package's mesh frame.
    faces : (m, 3) int
        Vertices are numbered in order of first appearance in the file, so the result
        is the same on every machine.
    """
    path = _models_dir() / "meshes" / MESH_FILES[name]
    try:
        soup = trimesh.load(path, file_type="stl", process=False)
    except (OSError, ValueError) as exc:
        raise MeshFileError(f"{path}: cannot read the {PACKAGE} mesh ({exc})") from None
    corners = np.asarray(soup.vertices)[np.asarray(soup.faces)].reshape(-1, 3)
    key = np.round(corners * 10**_WELD_DIGITS).astype(np.int64)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    faces = rank[inverse.ravel()].reshape(-1, 3)
    vertices = np.empty((len(first), 3))
    vertices[rank] = corners[first] * 1000.0
    return vertices, faces


def _adjacency(faces: np.ndarray, n: int) -> np.ndarray:
    adj = np.zeros((n, n))
    for a, b in ((0, 1), (1, 2), (2, 0)):
        adj[faces[:, a], faces[:, b]] = 1.0
        adj[faces[:, b], faces[:, a]] = 1.0
    return adj


def _face_set(faces: np.ndarray) -> set[tuple[int, ...]]:
    return {tuple(sorted(f)) for f in faces.tolist()}


def template_order(
    vertices: np.ndarray, faces: np.ndarray, ref_vertices: np.ndarray, ref_faces: np.ndarray
) -> np.ndarray:
    """Find the renumbering that makes a morph of the template use the template's numbers.

    A rigid-plus-scale alignment and an assignment by distance give a first guess;
    re-solving the assignment with a reward for neighbours that map to neighbours makes
    it exact on the triangle graph.

    Parameters
    ----------
    vertices : (n, 3) float
    faces : (m, 3) int
    ref_vertices : (n, 3) float
    ref_faces : (m, 3) int

    Returns
    -------
    (n,) int
        ``perm`` with ``perm[i]`` the template number of vertex ``i``.

    Raises
    ------
    MeshFileError
        If the two meshes are not the same triangle graph.
    """
    n = len(vertices)
    if n != len(ref_vertices) or len(faces) != len(ref_faces):
        raise MeshFileError("the bone is not a morph of the template (vertex counts differ)")
    a = vertices - vertices.mean(axis=0)
    b = ref_vertices - ref_vertices.mean(axis=0)
    matrix, _, _ = trimesh.registration.icp(a, b, scale=True, max_iterations=50)
    dist = cdist(trimesh.transform_points(a, matrix), b)
    dist /= dist.mean()
    adj, ref_adj = _adjacency(faces, n), _adjacency(ref_faces, n)
    _, perm = linear_sum_assignment(dist)
    for _ in range(50):
        shared = adj @ ref_adj[perm]  # neighbours of i whose images neighbour j
        _, new = linear_sum_assignment(dist - 3.0 * shared)
        if np.array_equal(new, perm):
            break
        perm = new
    if _face_set(perm[faces]) != _face_set(ref_faces):
        raise MeshFileError("the bone is not a morph of the template (triangle graphs differ)")
    return perm


def _rotation(elem: ET.Element) -> np.ndarray:
    if "quat" in elem.attrib:
        w, x, y, z = map(float, elem.attrib["quat"].split())
        return trimesh.transformations.quaternion_matrix([w, x, y, z])
    if "euler" in elem.attrib:
        # MuJoCo's default sequence "xyz": intrinsic rotations about the moving axes.
        ax, ay, az = map(float, elem.attrib["euler"].split())
        return trimesh.transformations.euler_matrix(ax, ay, az, axes="rxyz")
    return np.eye(4)


def _local(elem: ET.Element) -> np.ndarray:
    m = _rotation(elem)
    m[:3, 3] = [1000.0 * float(x) for x in elem.attrib.get("pos", "0 0 0").split()]
    return m


@cache
def _chain() -> dict[str, np.ndarray]:
    path = _models_dir() / "torso" / "assets" / "myotorso_chain.xml"
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise MeshFileError(f"{path}: cannot read the {PACKAGE} chain ({exc})") from None
    sacrum = root if root.get("name") == "sacrum" else root.find(".//body[@name='sacrum']")
    if sacrum is None:
        raise MeshFileError(f"{path}: no sacrum body in the {PACKAGE} chain")
    poses: dict[str, np.ndarray] = {}

    def walk(body: ET.Element, pose: np.ndarray) -> None:
        for child in body:
            if child.tag == "geom" and child.get("mesh"):
                poses[child.get("name", "")] = pose @ _local(child)
            elif child.tag == "body":
                walk(child, pose @ _local(child))

    walk(sacrum, np.eye(4))
    return poses


def chain_poses() -> dict[str, np.ndarray]:
    """Return the package's rest pose of each bone in the sacrum body's frame.

    Returns
    -------
    dict of str to (4, 4) float
        ``{"T1": ..., "L5": ..., "S1": ..., "thorax": ...}``: each takes the bone's mesh
        coordinates (mm) to the sacrum body's frame (mm; +X anterior, +Y superior,
        +Z right, as the hip bones' meshes).
    """
    poses = _chain()
    missing = [g for g in _CHAIN_GEOMS.values() if g not in poses]
    if missing:
        raise MeshFileError(f"the {PACKAGE} chain lacks {', '.join(missing)}")
    return {name: poses[geom].copy() for name, geom in _CHAIN_GEOMS.items()}
