"""Checks on an output place, made before any work: so that a bad ``--out`` costs nothing.

A missing or unwritable folder, a file where a folder is needed, and a disk without
room for the result are each one :class:`~spine3d.errors.SpineInputError` line, raised
before rendering (or building, or encoding) starts.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ..errors import SpineInputError

__all__ = ["check_file", "check_folder", "mb"]


def mb(n_bytes: float) -> str:
    """Return a size for a message: ``"3.2 MB"``."""
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes < 1e9 else f"{n_bytes / 1e9:.1f} GB"


def check_folder(folder: Path, what: str, need_bytes: int = 0, create: bool = False) -> Path:
    """Check that ``folder`` can take ``need_bytes`` of new files; return it.

    Parameters
    ----------
    folder : Path
        The folder the outputs go in.
    what : str
        The option or argument that named it, for the message (``"--out figures/"``).
    need_bytes : int, default: 0
        About how much will be written, bytes (an upper estimate).
    create : bool, default: False
        Make ``folder`` (one level) when it is missing and its parent is usable.

    Raises
    ------
    SpineInputError
        One line naming the folder and what is wrong with it.
    """
    folder = Path(folder) if str(folder) else Path(".")
    if folder.exists() and not folder.is_dir():
        raise SpineInputError(f"{what}: {folder} exists and is not a folder")
    if not folder.exists():
        parent = folder.parent
        if parent.exists() and not parent.is_dir():
            raise SpineInputError(f"{what}: {parent} exists and is not a folder")
        if not create or not parent.is_dir():
            raise SpineInputError(f"{what}: folder {folder} does not exist")
        check_folder(parent, what, need_bytes)
        try:
            folder.mkdir()
        except OSError as exc:
            raise SpineInputError(f"{what}: cannot make folder {folder} ({exc.strerror})") from None
    try:  # a real file, not os.access: that says yes to root on a read-only place
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise SpineInputError(f"{what}: folder {folder} is not writable ({exc.strerror})") from None
    free = shutil.disk_usage(folder).free
    if need_bytes and free < need_bytes:
        raise SpineInputError(
            f"{what}: the disk of {folder} is full: {mb(free)} free, about {mb(need_bytes)} needed"
        )
    return folder


def check_file(out: Path, what: str, need_bytes: int = 0) -> Path:
    """Check that the file ``out`` can be written (its folder, room, not a folder itself)."""
    out = Path(out)
    if out.is_dir():
        raise SpineInputError(f"{what}: {out} is a folder, expected a file name")
    check_folder(out.parent, what, need_bytes)
    return out
