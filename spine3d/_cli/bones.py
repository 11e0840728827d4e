"""``--bones PACK``: run a command on an imported bone pack instead of the shipped bones."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spine3d.scene import SceneSpec

__all__ = ["add_bones_option", "load_scene_with_bones"]

BONES_HELP = (
    "draw and solve on a bone pack from `spine3d import` "
    "(default: the scene's, or the shipped bones)"
)


def add_bones_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--bones PACK`` to a subcommand's parser."""
    parser.add_argument("--bones", metavar="PACK", help=BONES_HELP)


def load_scene_with_bones(path: str | Path, args: argparse.Namespace) -> SceneSpec:
    """Load and check a scene file; with ``--bones PACK``, every panel on that pack.

    Parameters
    ----------
    path : str or Path
        A scene file or a shipped scene's name.
    args : argparse.Namespace
        The parsed command line; its ``bones``, if any and set, names the pack.

    Returns
    -------
    SceneSpec

    Raises
    ------
    SpineInputError
        One line, for a bad scene or a pack that is not one or lacks a level it shows.
    """
    from spine3d.scene import load_scene, with_bones

    scene = load_scene(path)
    bones = getattr(args, "bones", None)
    return scene if bones is None else with_bones(scene, bones)
