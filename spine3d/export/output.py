"""Checks on an output path, made before any work so that bad input writes nothing."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import SpineInputError
from ..scene import SceneSpec

__all__ = ["check_out", "check_panel"]


def check_out(out: str | Path, suffixes: tuple[str, ...]) -> Path:
    """Return ``out`` as a Path if it names a file of one of ``suffixes`` in a folder.

    Raises
    ------
    SpineInputError
        On another file type, a missing or unwritable folder, or a folder at ``out``.
    """
    path = Path(out)
    if path.suffix.lower() not in suffixes:
        raise SpineInputError(f"--out {out}: expected a {' or '.join(suffixes)} file")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise SpineInputError(f"--out {out}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise SpineInputError(f"--out {out}: folder {folder} is not writable")
    if path.is_dir():
        raise SpineInputError(f"--out {out}: is a folder, expected a file")
    return path


def check_panel(scene: SceneSpec, panel: int) -> int:
    """Return the 0-based index of a 1-based ``--panel`` of ``scene``.

    Raises
    ------
    SpineInputError
        Naming the scene file and how many panels it has.
    """
    n = len(scene.panels)
    if not 1 <= panel <= n:
        raise SpineInputError(f"{scene.source}: --panel {panel}: expected 1 to {n} (its panels)")
    return panel - 1
