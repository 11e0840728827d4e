"""The bone geometry measured by ``spine3d meshes build``, read from the mesh manifest.

The anatomy layer reads the measurements (numbers in JSON), never the meshes: rest
poses, disc frames and sizes, and each joint's articular surfaces.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path

__all__ = ["MEASURED_PATH", "measured_geometry"]

MEASURED_PATH = "meshes/manifest.json"
"""Where the measurements live, as a user sees it."""


@cache
def measured_geometry(bones: str | None = None) -> Mapping:
    """Return the parsed manifest of a set of bones (cached; treat as read-only).

    Parameters
    ----------
    bones : str, optional
        A folder with a ``manifest.json`` written by ``spine3d meshes build`` or
        ``spine3d import``; by default the shipped bones.

    Raises
    ------
    OSError, ValueError, KeyError
        If it is missing or not a manifest of format 2.
    """
    if bones is None:
        path = resources.files("spine3d.meshes_data").joinpath("manifest.json")
    else:
        path = Path(bones) / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != 2:
        raise ValueError(f"manifest format {data.get('format')!r}, expected 2")
    data["joints"].items()
    data["levels"].items()
    return data
