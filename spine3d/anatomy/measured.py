"""The bone geometry measured by ``spine3d meshes build``, read from the mesh manifest.

The anatomy layer reads the measurements (numbers in JSON), never the meshes: rest
poses, disc frames and sizes, and each joint's articular surfaces.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources

__all__ = ["MEASURED_PATH", "measured_geometry"]

MEASURED_PATH = "meshes/manifest.json"
"""Where the measurements live, as a user sees it."""


@cache
def measured_geometry() -> Mapping:
    """Return the parsed manifest of the shipped bones (cached; treat as read-only).

    Raises
    ------
    OSError, ValueError, KeyError
        If it is missing or not a manifest of format 2.
    """
    text = resources.files("spine3d.meshes_data").joinpath("manifest.json").read_text("utf-8")
    data = json.loads(text)
    if data.get("format") != 2:
        raise ValueError(f"manifest format {data.get('format')!r}, expected 2")
    data["joints"].items()
    data["levels"].items()
    return data
