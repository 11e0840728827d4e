"""Rib cage parts from the ``myo-sim`` thorax: 24 ribs, costal cartilages and the sternum.

``myo_sim/models/meshes/thorax.stl`` (metres; OpenSim frame, +X anterior, +Y superior,
+Z right) holds 44 connected pieces: 24 ribs (closed low-poly bands of 96-192
triangles), one piece that fuses the sternum with every costal cartilage (1,450
triangles) and, in front of the sternum, a logo (a ring of 15,180 triangles and a human
figure of 18 small open sheets). :func:`thorax_parts` returns the anatomy in the mesh's
own coordinates, in millimetres.

Rules
-----
Logo
    The bones of the rib cage are closed surfaces that either come in mirror pairs
    across the mid-sagittal plane ``z = 0`` (the ribs) or are their own mirror image
    (the sternum with its cartilages). A piece is kept when it is closed and the
    ``z``-mirror of its vertices lies within :data:`MIRROR_TOL_MM` (95th percentile of
    nearest-vertex distances) of a closed piece. Bones match within 2.7 mm; the
    figure's sheets are open and the ring, closed, is off-centre and open on one side
    (11 mm).
Ribs
    Every kept piece other than the self-mirrored one is a rib, on the side of the sign
    of its centroid's ``z`` (+Z right). Its two ends are the ends of the longest
    shortest path along its edges; the **head** is the medial end (smaller ``|z|``),
    the other is the **anterior end**. Ribs are numbered 1-12 from the top by the height
    of the head.
Cartilages and sternum
    The sternocostal piece is refined (see below), then cut along its faces. The
    **sternum** is the column ``|z| <= w(y)``: ``w(y)`` is the half-width of the
    piece's section through the mid-sagittal plane at height ``y`` (the section
    interval that contains ``z = 0``), opened (grey-scale morphological opening) over
    :data:`STERNUM_OPENING_MM`, so that the cartilage attachments, which are less tall
    than that, drop out of the profile while the manubrium stays. Every other face
    belongs to the cartilage of the rib whose anterior end is nearest *along the
    surface* (shortest path over the face adjacency, seeded at the faces nearest each
    rib's anterior end). A rib has a cartilage when its anterior end lies within
    :data:`CARTILAGE_REACH_MM` of the piece: ribs 1-10. Ribs 8-10 join the costal
    margin; each of their cartilages is the stretch of the margin nearer its own rib
    than the next rib's, so it ends on the cartilage above (landmark
    ``medial_end_mm``), while cartilages 1-7 end on the sternum (``sternal_end_mm``).
    The floating ribs 11-12 have no cartilage in the source and get none. Stray bits
    of a label are given to the neighbour they share most edges with, so every part is
    one body; each cut is closed with a fan around its centroid, so every part is a
    closed, consistently wound surface.

Smoothing: ribs are midpoint-subdivided once, the sternocostal piece twice (a finer
cut), then Taubin-smoothed (``trimesh.smoothing.filter_taubin``), which rounds the
low-poly bands without pulling their ends back as Loop subdivision does (about 1 mm).
The source ribs are already closed bands (every piece is watertight), so every part is
closed. A cartilage is not glued to its rib: the source leaves gaps of up to 2.95 mm
between rib ends and the sternocostal piece (ribs 2 and 6), and the parts keep them
(at most 2.7 mm after smoothing). No tubercle is given: the bands have no tubercle
bump to find. Everything is deterministic.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import scipy.sparse as sp
import trimesh
from scipy.ndimage import grey_opening
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

__all__ = [
    "CARTILAGE_REACH_MM",
    "MIRROR_TOL_MM",
    "STERNUM_OPENING_MM",
    "RibPart",
    "load_thorax_mesh",
    "thorax_parts",
]

M_TO_MM = 1000.0
MIRROR_TOL_MM = 5.0
"""Largest 95th-percentile distance from a mirrored bone to its mirror twin, mm."""
CARTILAGE_REACH_MM = 8.0
"""A rib has a cartilage when its anterior end lies this close to the sternocostal
piece, mm (ribs 1-10 lie within 5.1 mm, rib 11 about 60 mm away)."""
STERNUM_OPENING_MM = 16.0
"""Height of the opening of the sternal half-width profile, mm: taller than a cartilage
attachment (at most 14 mm), shorter than the manubrium."""
END_CAP_MM = 6.0
"""Radius along the surface over which an end landmark averages vertices, mm."""
_SLICE_STEP_MM = 1.0
_STERNOCOSTAL_PASSES = 2  # finer faces give a finer cut
_N_RIBS = 12
SIDES = ("left", "right")


@dataclass(frozen=True)
class RibPart:
    """One part of the rib cage, in the thorax mesh's frame, in millimetres.

    Attributes
    ----------
    name : str
        ``rib_<n>_<side>``, ``cartilage_<n>_<side>`` or ``sternum``; ``n`` counts from
        the top, ``side`` is ``left`` (``z < 0``) or ``right`` (``z > 0``).
    mesh : trimesh.Trimesh
        Closed, consistently wound surface, mm.
    landmarks : Mapping[str, (3,) float]
        Read-only points, mm. Ribs: ``head_mm`` (posterior-medial end, at the vertebral
        body), ``anterior_end_mm``. Cartilages: ``rib_end_mm`` and either
        ``sternal_end_mm`` (cartilages that reach the sternum) or ``medial_end_mm``
        (ribs 8-10: where it joins the cartilage above). Sternum: ``superior_mm``
        (jugular notch), ``inferior_mm`` (xiphoid tip).
    """

    name: str
    mesh: trimesh.Trimesh
    landmarks: Mapping[str, np.ndarray]


def load_thorax_mesh() -> trimesh.Trimesh:
    """Load ``thorax.stl`` from the installed ``myo-sim`` package.

    Returns
    -------
    trimesh.Trimesh
        The mesh as shipped: metres, OpenSim frame, vertices merged.
    """
    ref = importlib.resources.files("myo_sim") / "models" / "meshes" / "thorax.stl"
    with importlib.resources.as_file(ref) as path:
        mesh = trimesh.load_mesh(path, process=True)
    return mesh


def thorax_parts(mesh: trimesh.Trimesh | None = None) -> dict[str, RibPart]:
    """Split the thorax mesh into ribs, costal cartilages and the sternum; drop the logo.

    Parameters
    ----------
    mesh : trimesh.Trimesh or None, default: None
        A thorax in metres in the OpenSim frame (+X anterior, +Y superior, +Z right),
        mirror-symmetric about ``z = 0``; ``None`` loads ``thorax.stl`` from
        ``myo-sim``.

    Returns
    -------
    dict[str, RibPart]
        ``rib_1_left`` ... ``rib_12_left``, ``rib_1_right`` ... ``rib_12_right``,
        ``cartilage_<n>_<side>`` for every rib that has one (1-10 for ``thorax.stl``)
        and ``sternum``, in the mesh's coordinates scaled to millimetres.

    Raises
    ------
    ValueError
        If the mesh does not hold one self-mirrored sternocostal piece and 12 ribs a side.
    """
    src = load_thorax_mesh() if mesh is None else mesh
    mm = trimesh.Trimesh(
        np.asarray(src.vertices, dtype=np.float64) * M_TO_MM,
        np.asarray(src.faces, dtype=np.int64),
        process=True,
    )
    pieces = _pieces(mm)
    bones, _ = _sort_pieces(pieces)
    mirrored = [i for i, twin in bones.items() if twin == i]
    if len(mirrored) != 1:
        raise ValueError(f"expected one self-mirrored sternocostal piece, found {len(mirrored)}")
    sternocostal = pieces[mirrored[0]]
    parts: dict[str, RibPart] = {}
    ribs = _ribs([pieces[i] for i in bones if i != mirrored[0]])
    for name, (rib_mesh, head, anterior) in ribs.items():
        parts[name] = RibPart(name, rib_mesh, _frozen(head_mm=head, anterior_end_mm=anterior))
    parts.update(_split_sternocostal(sternocostal, ribs))
    return parts


def _frozen(**points: np.ndarray) -> Mapping[str, np.ndarray]:
    out = {}
    for key, value in points.items():
        arr = np.array(value, dtype=np.float64).reshape(3)
        arr.flags.writeable = False
        out[key] = arr
    return MappingProxyType(out)


def _pieces(mesh: trimesh.Trimesh) -> list[trimesh.Trimesh]:
    """Split into pieces connected by shared edges, in the order of their first face."""
    labels = _face_labels(mesh.face_adjacency, len(mesh.faces))
    order = np.unique(labels, return_index=True)[1]
    groups = [np.flatnonzero(labels == labels[first]) for first in np.sort(order)]
    return mesh.submesh(groups, append=False, only_watertight=False, repair=False)


def _face_labels(adjacency: np.ndarray, n: int) -> np.ndarray:
    graph = sp.coo_matrix(
        (np.ones(len(adjacency)), (adjacency[:, 0], adjacency[:, 1])), shape=(n, n)
    )
    return connected_components(graph, directed=False)[1]


def _sort_pieces(pieces: list[trimesh.Trimesh]) -> tuple[dict[int, int], list[int]]:
    """Sort pieces into bones (index to its mirror twin's index) and the rest."""
    closed = [i for i, p in enumerate(pieces) if p.is_watertight]
    trees = {i: cKDTree(pieces[i].vertices) for i in closed}
    bones: dict[int, int] = {}
    for i in closed:
        mirrored = pieces[i].vertices * (1.0, 1.0, -1.0)
        gaps = {j: np.percentile(tree.query(mirrored)[0], 95) for j, tree in trees.items()}
        twin = min(gaps, key=gaps.__getitem__)
        if gaps[twin] <= MIRROR_TOL_MM:
            bones[i] = twin
    dropped = [i for i in range(len(pieces)) if i not in bones]
    return bones, dropped


def _edge_graph(mesh: trimesh.Trimesh) -> sp.csr_matrix:
    edges, lengths = mesh.edges_unique, mesh.edges_unique_length
    n = len(mesh.vertices)
    return sp.coo_matrix((lengths, (edges[:, 0], edges[:, 1])), shape=(n, n)).tocsr()


def _end_caps(mesh: trimesh.Trimesh) -> tuple[np.ndarray, np.ndarray]:
    """Find the two ends of an elongated piece: mean of the vertices near each tip."""
    graph = _edge_graph(mesh)
    first = int(np.argmax(dijkstra(graph, directed=False, indices=0)))
    from_first = dijkstra(graph, directed=False, indices=first)
    second = int(np.argmax(from_first))
    from_second = dijkstra(graph, directed=False, indices=second)
    v = mesh.vertices
    return v[from_first <= END_CAP_MM].mean(axis=0), v[from_second <= END_CAP_MM].mean(axis=0)


def _smooth(mesh: trimesh.Trimesh, passes: int = 1) -> trimesh.Trimesh:
    """Midpoint-subdivide ``passes`` times, then Taubin-smooth (keeps ends in place)."""
    vertices, faces = mesh.vertices, mesh.faces
    for _ in range(passes):
        vertices, faces = trimesh.remesh.subdivide(vertices, faces)
    out = trimesh.Trimesh(vertices, faces, process=True)
    trimesh.smoothing.filter_taubin(out, lamb=0.5, nu=0.53, iterations=10)
    return out


def _ribs(
    pieces: list[trimesh.Trimesh],
) -> dict[str, tuple[trimesh.Trimesh, np.ndarray, np.ndarray]]:
    """Name, smoothed mesh, head and anterior end of every rib."""
    by_side: dict[str, list[tuple[trimesh.Trimesh, np.ndarray, np.ndarray]]] = {
        s: [] for s in SIDES
    }
    for piece in pieces:
        rib = _smooth(piece)
        a, b = _end_caps(rib)
        head, anterior = (a, b) if abs(a[2]) < abs(b[2]) else (b, a)
        by_side["right" if rib.centroid[2] > 0 else "left"].append((rib, head, anterior))
    out = {}
    for side, ribs in by_side.items():
        if len(ribs) != _N_RIBS:
            raise ValueError(f"expected {_N_RIBS} ribs on the {side}, found {len(ribs)}")
        ribs.sort(key=lambda r: -r[1][1])
        for number, rib in enumerate(ribs, start=1):
            out[f"rib_{number}_{side}"] = rib
    return out


def _sternal_half_width(mesh: trimesh.Trimesh) -> tuple[np.ndarray, np.ndarray]:
    """Heights and opened half-width of the section through ``z = 0``, mm."""
    y_lo, y_hi = mesh.bounds[:, 1]
    heights = np.arange(y_hi - 0.5 * _SLICE_STEP_MM, y_lo, -_SLICE_STEP_MM)
    half = np.zeros(len(heights))
    for k, y in enumerate(heights):
        segments = trimesh.intersections.mesh_plane(mesh, [0.0, 1.0, 0.0], [0.0, y, 0.0])
        if len(segments) == 0:
            continue
        spans = np.sort(segments[:, :, 2], axis=1)
        spans = spans[np.argsort(spans[:, 0], kind="stable")]
        lo, hi = spans[0]
        for s_lo, s_hi in spans[1:]:
            if s_lo > hi:
                if lo <= 0.0 <= hi:
                    break
                lo = s_lo
            hi = max(hi, s_hi)
        if lo <= 0.0 <= hi:
            half[k] = max(-lo, hi)
    size = max(1, round(STERNUM_OPENING_MM / _SLICE_STEP_MM))
    return heights, grey_opening(half, size=size, mode="constant", cval=0.0)


def _split_sternocostal(
    piece: trimesh.Trimesh,
    ribs: Mapping[str, tuple[trimesh.Trimesh, np.ndarray, np.ndarray]],
) -> dict[str, RibPart]:
    mesh = _smooth(piece, passes=_STERNOCOSTAL_PASSES)
    heights, half = _sternal_half_width(mesh)
    centres = mesh.triangles_center
    width = np.interp(centres[:, 1], heights[::-1], half[::-1], left=0.0, right=0.0)
    sternum = np.abs(centres[:, 2]) <= width

    names = ["sternum"]
    seeds = []
    tree = cKDTree(centres)
    for name, (_, _, anterior) in ribs.items():
        gap, nearest = tree.query(anterior)
        if gap <= CARTILAGE_REACH_MM:
            names.append(name.replace("rib_", "cartilage_"))
            seeds.append(int(nearest))
    labels = np.zeros(len(mesh.faces), dtype=np.int64)
    adjacency = mesh.face_adjacency
    keep = ~(sternum[adjacency[:, 0]] | sternum[adjacency[:, 1]])
    pairs = adjacency[keep]
    lengths = np.linalg.norm(centres[pairs[:, 0]] - centres[pairs[:, 1]], axis=1)
    n = len(mesh.faces)
    graph = sp.coo_matrix((lengths, (pairs[:, 0], pairs[:, 1])), shape=(n, n)).tocsr()
    dist = dijkstra(graph, directed=False, indices=seeds)
    nearest_seed = np.argmin(dist, axis=0)
    reached = np.isfinite(dist.min(axis=0))
    labels[~sternum & reached] = nearest_seed[~sternum & reached] + 1
    labels = _one_body_per_label(mesh, labels, len(names))

    parts = {}
    pieces = {}
    for k, name in enumerate(names):
        sub = mesh.submesh([np.flatnonzero(labels == k)], append=True, repair=False)
        pieces[name] = _cap(sub)
    sternum_mesh = pieces["sternum"]
    top, bottom = _extreme_mid(sternum_mesh)
    parts["sternum"] = RibPart(
        "sternum", sternum_mesh, _frozen(superior_mm=top, inferior_mm=bottom)
    )
    corners = [set(map(int, np.unique(mesh.faces[labels == k]))) for k in range(len(names))]
    for k, name in enumerate(names[1:], start=1):
        rib_anterior = ribs[name.replace("cartilage_", "rib_")][2]
        cart = pieces[name]
        gaps = np.linalg.norm(cart.vertices - rib_anterior, axis=1)
        near = cart.vertices[gaps <= END_CAP_MM]
        rib_end = near.mean(axis=0) if len(near) else cart.vertices[np.argmin(gaps)]
        on_sternum = sorted(corners[k] & corners[0])
        if on_sternum:
            marks = _frozen(rib_end_mm=rib_end, sternal_end_mm=mesh.vertices[on_sternum].mean(0))
        else:
            above = _cartilage_above(names, corners, k)
            joint = sorted(corners[k] & corners[above])
            marks = _frozen(rib_end_mm=rib_end, medial_end_mm=mesh.vertices[joint].mean(0))
        parts[name] = RibPart(name, cart, marks)
    return parts


def _number_side(name: str) -> tuple[int, str]:
    _, number, side = name.split("_")
    return int(number), side


def _cartilage_above(names: list[str], corners: list[set[int]], k: int) -> int:
    """Label of the nearest higher cartilage on the same side that label ``k`` touches."""
    number, side = _number_side(names[k])
    touching = [
        (_number_side(names[j])[0], j)
        for j in range(1, len(names))
        if j != k
        and _number_side(names[j])[1] == side
        and _number_side(names[j])[0] < number
        and corners[k] & corners[j]
    ]
    if not touching:
        raise ValueError(f"{names[k]} touches neither the sternum nor a cartilage above it")
    return max(touching)[1]


def _one_body_per_label(mesh: trimesh.Trimesh, labels: np.ndarray, n_labels: int) -> np.ndarray:
    """Give every stray bit of a label to the label it shares most edges with."""
    labels = labels.copy()
    adjacency = mesh.face_adjacency
    n = len(mesh.faces)
    for _ in range(10):
        same = labels[adjacency[:, 0]] == labels[adjacency[:, 1]]
        pairs = adjacency[same]
        graph = sp.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
        comp = connected_components(graph, directed=False)[1]
        changed = False
        for k in range(n_labels):
            mine = np.flatnonzero(labels == k)
            if len(mine) == 0:
                continue
            ids, counts = np.unique(comp[mine], return_counts=True)
            main = ids[np.argmax(counts)]
            for stray in ids[ids != main]:
                faces = comp == stray
                border = adjacency[faces[adjacency[:, 0]] ^ faces[adjacency[:, 1]]]
                other = np.where(faces[border[:, 0]], labels[border[:, 1]], labels[border[:, 0]])
                other = other[other != k]
                if len(other):
                    labels[faces] = np.bincount(other).argmax()
                    changed = True
        if not changed:
            break
    return labels


def _cap(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """Close every boundary loop with a fan of triangles around its centroid."""
    edges = mesh.edges
    _, inverse, counts = np.unique(
        np.sort(edges, axis=1), axis=0, return_inverse=True, return_counts=True
    )
    boundary = edges[counts[inverse.ravel()] == 1]
    if len(boundary) == 0:
        return mesh
    following = dict(zip(boundary[:, 1].tolist(), boundary[:, 0].tolist(), strict=True))
    vertices = [mesh.vertices]
    faces = [mesh.faces]
    n = len(mesh.vertices)
    seen: set[int] = set()
    for start in sorted(following):
        if start in seen:
            continue
        loop = [start]
        while following[loop[-1]] != start:
            loop.append(following[loop[-1]])
            if len(loop) > len(following):
                raise ValueError("a cut boundary is not a simple loop")
        seen.update(loop)
        centre = mesh.vertices[loop].mean(axis=0)
        vertices.append(centre[None])
        # boundary edge (a, b) runs a -> b in its face; the cap runs b -> a
        faces.append(np.column_stack([loop, np.roll(loop, -1), np.full(len(loop), n)]))
        n += 1
    return trimesh.Trimesh(np.vstack(vertices), np.vstack(faces), process=True)


def _extreme_mid(mesh: trimesh.Trimesh) -> tuple[np.ndarray, np.ndarray]:
    """Midline points at the top and the bottom of a piece (mean of the end vertices)."""
    v = mesh.vertices
    top = v[v[:, 1] >= v[:, 1].max() - 2.0].mean(axis=0)
    bottom = v[v[:, 1] <= v[:, 1].min() + 2.0].mean(axis=0)
    top[2] = bottom[2] = 0.0
    return top, bottom
