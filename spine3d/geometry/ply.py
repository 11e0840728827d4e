"""Read the binary PLY files of a bone set with numpy alone.

The store writes every bone as a binary PLY of float vertices and triangles
(:func:`~.store.write_bone_set`); reading one back needs no mesh library, so a figure
starts without importing one.
"""

from __future__ import annotations

import numpy as np

__all__ = ["read_ply"]

_SCALARS = {
    "char": "i1",
    "int8": "i1",
    "uchar": "u1",
    "uint8": "u1",
    "short": "i2",
    "int16": "i2",
    "ushort": "u2",
    "uint16": "u2",
    "int": "i4",
    "int32": "i4",
    "uint": "u4",
    "uint32": "u4",
    "float": "f4",
    "float32": "f4",
    "double": "f8",
    "float64": "f8",
}
_MAX_HEADER = 64 * 1024


def _header(data: bytes) -> tuple[str, list[tuple[str, int, list[list[str]]]], int]:
    """Return the format, the elements ``(name, count, properties)`` and the body's offset."""
    end = data.find(b"end_header", 0, _MAX_HEADER)
    if not data.startswith(b"ply") or end < 0:
        raise ValueError("not a PLY file")
    body = data.index(b"\n", end) + 1
    fmt = ""
    elements: list[tuple[str, int, list[list[str]]]] = []
    for raw in data[:end].decode("ascii", "replace").splitlines()[1:]:
        words = raw.split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        if words[0] == "format" and len(words) == 3:
            fmt = words[1]
        elif words[0] == "element" and len(words) == 3:
            elements.append((words[1], int(words[2]), []))
        elif words[0] == "property" and elements:
            elements[-1][2].append(words[1:])
        else:
            raise ValueError(f"unreadable header line {raw!r}")
    return fmt, elements, body


def read_ply(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Return the vertices and triangles of a binary PLY file.

    Parameters
    ----------
    data : bytes
        The file's content: a ``vertex`` element with ``x``, ``y``, ``z`` (and any
        other scalar properties) and a ``face`` element whose one property is a list of
        three vertex indices per face.

    Returns
    -------
    vertices : (n, 3) float
        Millimetres, as stored.
    faces : (m, 3) int

    Raises
    ------
    ValueError
        Saying what is wrong, for a file that is not such a PLY, is cut short or
        indexes a vertex it does not have.
    """
    fmt, elements, offset = _header(data)
    order = {"binary_little_endian": "<", "binary_big_endian": ">"}.get(fmt)
    if order is None:
        raise ValueError(f"PLY format {fmt or '(none)'!r}, expected binary")
    vertices = faces = None
    for name, count, props in elements:
        if name == "vertex":
            if any(p[0] == "list" or p[0] not in _SCALARS or len(p) != 2 for p in props):
                raise ValueError("vertex properties must be scalars")
            dtype = np.dtype([(p[1], order + _SCALARS[p[0]]) for p in props])
            if not {"x", "y", "z"} <= set(dtype.names or ()):
                raise ValueError("vertices lack x, y or z")
            size = dtype.itemsize * count
            if offset + size > len(data):
                raise ValueError("file ends inside the vertices")
            table = np.frombuffer(data, dtype, count, offset)
            vertices = np.column_stack([table[k] for k in "xyz"]).astype(float)
            offset += size
        elif name == "face":
            if len(props) != 1 or props[0][0] != "list" or len(props[0]) != 4:
                raise ValueError("faces must be one list of vertex indices")
            n_type, i_type = (_SCALARS.get(t) for t in props[0][1:3])
            if n_type is None or i_type is None or i_type[0] == "f":
                raise ValueError("face list types must be integers")
            dtype = np.dtype([("n", order + n_type), ("i", order + i_type, (3,))])
            size = dtype.itemsize * count
            if offset + size > len(data):
                raise ValueError("file ends inside the faces")
            table = np.frombuffer(data, dtype, count, offset)
            if (table["n"] != 3).any():
                raise ValueError("faces must be triangles")
            faces = table["i"].astype(np.int64)
            offset += size
        else:
            raise ValueError(f"unexpected element {name!r}")
    if vertices is None or faces is None:
        raise ValueError("no vertex or no face element")
    if faces.size and (faces.min() < 0 or faces.max() >= len(vertices)):
        raise ValueError("a face indexes a vertex the file does not have")
    return vertices, faces
