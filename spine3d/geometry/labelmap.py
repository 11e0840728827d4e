"""CT label maps (NIfTI) to bone surfaces, one per vertebra.

Two labellings are read: VerSe (one file, labels 8-19 for T1-T12, 20-24 for L1-L5, 26
for the sacrum) and TotalSegmentator (one binary mask per structure, named
``vertebrae_L3.nii.gz``, ``sacrum.nii.gz``: the level comes from the file name, as for
meshes). A mask's surface is the boundary of its voxels, welded and smoothed (Taubin,
which does not shrink), in the scanner's millimetres through the file's affine. The
affine only places the voxels: which way is anterior or superior is found later from
the bone's shape, because a header's axis codes can be wrong.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse

from ..errors import SpineInputError

__all__ = ["LABEL_SUFFIXES", "VERSE_LABELS", "is_label_map", "mask_surface", "read_label_map"]

LABEL_SUFFIXES = (".nii", ".nii.gz")
"""File name endings read as label maps."""

VERSE_LABELS: dict[int, str] = {
    **{7 + i: f"T{i}" for i in range(1, 13)},
    **{19 + i: f"L{i}" for i in range(1, 6)},
    26: "S1",
}
"""VerSe vertebra labels and the levels they name (cervical, L6 and T13 are not used)."""

_SMOOTH_ITERATIONS = 12
"""Passes of Taubin smoothing over the voxel boundary."""
_MIN_VOXELS = 200
"""A label with fewer voxels is noise, not a vertebra."""


def is_label_map(path: Path) -> bool:
    """Return whether ``path`` names a NIfTI file by its ending."""
    return str(path).lower().endswith(LABEL_SUFFIXES)


def _first_line(exc: BaseException) -> str:
    """Return an exception's message as one short line (errors are one line)."""
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    return lines[0][:160]


def _load(path: Path):
    try:
        import nibabel
    except ImportError:  # pragma: no cover - nibabel is a dependency
        raise SpineInputError(
            f"{path}: reading NIfTI needs nibabel (pip install nibabel)"
        ) from None
    try:
        img = nibabel.load(str(path))
        data = np.asanyarray(img.dataobj)
    except Exception as exc:  # any parse failure of a damaged or foreign file
        raise SpineInputError(f"{path}: not a NIfTI label map ({_first_line(exc)})") from None
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise SpineInputError(f"{path}: expected a 3D label map, got shape {data.shape}")
    return data, np.asarray(img.affine, dtype=float)


def mask_surface(mask: np.ndarray, affine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the smoothed boundary surface of a binary voxel mask.

    Parameters
    ----------
    mask : (i, j, k) bool
    affine : (4, 4) float
        Voxel indices to millimetres (the NIfTI affine).

    Returns
    -------
    vertices : (n, 3) float
        Millimetres, in the affine's frame.
    faces : (m, 3) int
        Outward-facing triangles.
    """
    nz = np.argwhere(mask)
    lo = nz.min(axis=0)
    hi = nz.max(axis=0) + 1
    m = np.pad(mask[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]], 1).astype(np.int8)
    shape = np.array(m.shape) + 1  # the lattice of voxel corners
    quads = []
    for a in range(3):
        b, c = (a + 1) % 3, (a + 2) % 3
        d = np.diff(m, axis=a)
        for sign in (1, -1):
            idx = np.argwhere(d == sign)
            if len(idx) == 0:
                continue
            # The face between voxels i and i+1 along a lies on corner plane i+1.
            base = idx.copy()
            base[:, a] += 1
            eb, ec = np.eye(3, dtype=int)[b], np.eye(3, dtype=int)[c]
            corners = [base, base + eb, base + eb + ec, base + ec]
            # This order faces +a (b x c = a); a voxel entered along +a faces -a.
            if sign == 1:
                corners = corners[::-1]
            quads.append(np.stack(corners, axis=1))
    q = np.concatenate(quads)
    ids = np.ravel_multi_index(q.reshape(-1, 3).T, shape).reshape(-1, 4)
    uniq, inv = np.unique(ids, return_inverse=True)
    inv = inv.reshape(-1, 4)
    faces = np.concatenate([inv[:, [0, 1, 2]], inv[:, [0, 2, 3]]])
    corner = np.stack(np.unravel_index(uniq, shape), axis=1).astype(float)
    # Corner index p is the point p - 0.5 in padded voxel coordinates; undo the pad.
    ijk = corner - 1.5 + lo
    vertices = ijk @ affine[:3, :3].T + affine[:3, 3]
    if np.linalg.det(affine[:3, :3]) < 0:
        faces = faces[:, ::-1]
    return _taubin(vertices, faces, _SMOOTH_ITERATIONS), faces


def _taubin(vertices: np.ndarray, faces: np.ndarray, iterations: int) -> np.ndarray:
    """Return ``vertices`` after Taubin smoothing (lambda 0.5, mu -0.53) over the edges."""
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    edges = np.unique(np.sort(edges, axis=1), axis=0)
    n = len(vertices)
    adj = scipy.sparse.coo_matrix(
        (np.ones(2 * len(edges)), (edges.ravel(), edges[:, ::-1].ravel())), shape=(n, n)
    ).tocsr()
    deg = np.asarray(adj.sum(axis=1)).ravel()
    avg = scipy.sparse.diags(1.0 / np.maximum(deg, 1.0)) @ adj
    v = np.asarray(vertices, dtype=float)
    for _ in range(iterations):
        for step in (0.5, -0.53):
            v = v + step * (avg @ v - v)
    return v


def read_label_map(
    path: Path, level: str | None = None
) -> dict[str, tuple[np.ndarray, np.ndarray, int]]:
    """Read a label map into one surface per vertebra.

    Parameters
    ----------
    path : path
        A VerSe multi-label file, or (with ``level``) a binary mask of one structure.
    level : str, optional
        The level of a single-structure mask (every non-zero voxel).

    Returns
    -------
    dict of str to (vertices, faces, label)
        ``vertices`` (n, 3) mm in the scanner frame, ``faces`` (m, 3) int, and the label
        value the surface was made from.

    Raises
    ------
    SpineInputError
        If the file is not a label map or holds no vertebra label.
    """
    data, affine = _load(path)
    if not np.issubdtype(data.dtype, np.integer):
        rounded = np.rint(data)
        if not np.allclose(rounded, data):
            raise SpineInputError(f"{path}: not a label map (non-integer voxel values)")
        data = rounded.astype(np.int32)
    out = {}
    if level is not None:
        mask = data != 0
        if mask.sum() < _MIN_VOXELS:
            raise SpineInputError(f"{path}: the mask of {level} is empty or too small")
        v, f = mask_surface(mask, affine)
        return {level: (v, f, 1)}
    values, counts = np.unique(data, return_counts=True)
    for value, count in zip(values.tolist(), counts.tolist(), strict=True):
        if value in VERSE_LABELS and count >= _MIN_VOXELS:
            v, f = mask_surface(data == value, affine)
            out[VERSE_LABELS[value]] = (v, f, int(value))
    if not out:
        found = ", ".join(str(v) for v in values.tolist() if v != 0)[:80] or "none"
        raise SpineInputError(
            f"{path}: no vertebra labels (labels found: {found}); expected VerSe labels "
            "8-19 (T1-T12), 20-24 (L1-L5), 26 (sacrum), or one mask per file named by level"
        )
    return out
