"""``--bones PACK`` and ``--ribs STATE``: run a command on other bones, or another rib cage."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spine3d.scene import SceneSpec

__all__ = ["add_bones_option", "add_ribs_option", "load_scene_with_bones"]

BONES_HELP = (
    "draw and solve on a bone pack from `spine3d import` "
    "(default: the scene's, or the shipped bones)"
)

RIB_STATES = ("intact", "no_intercostals", "sternotomy", "no_anterior", "none")
"""The choices of ``--ribs``: :data:`spine3d.anatomy.RIB_STATES`, kept here so that the
command line starts without importing the model (a test holds them equal)."""

RIBS_HELP = (
    "the rib cage in the mechanics of every panel: intact, no_intercostals, sternotomy, "
    "no_anterior or none (default: the scene's, or the bones')"
)


def add_bones_option(parser: argparse.ArgumentParser, ribs: bool = True) -> None:
    """Add ``--bones PACK`` (and, with ``ribs``, ``--ribs STATE``) to a subcommand's parser."""
    parser.add_argument("--bones", metavar="PACK", help=BONES_HELP)
    if ribs:
        add_ribs_option(parser)


def add_ribs_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--ribs STATE`` to a subcommand's parser."""
    parser.add_argument("--ribs", metavar="STATE", choices=RIB_STATES, help=RIBS_HELP)


def load_scene_with_bones(path: str | Path, args: argparse.Namespace) -> SceneSpec:
    """Load and check a scene file; with ``--ribs`` and ``--bones``, every panel on them.

    Parameters
    ----------
    path : str or Path
        A scene file or a shipped scene's name.
    args : argparse.Namespace
        The parsed command line; its ``ribs`` and ``bones``, if any and set, name the
        rib cage's state and the pack.

    Returns
    -------
    SceneSpec

    Raises
    ------
    SpineInputError
        One line, for a bad scene, a pack that is not one or lacks a level it shows, or
        a rib cage the bones lack.
    """
    from spine3d.scene import load_scene, with_bones, with_ribs

    scene = load_scene(path)
    ribs = getattr(args, "ribs", None)
    if ribs is not None:
        scene = with_ribs(scene, ribs)
    bones = getattr(args, "bones", None)
    return scene if bones is None else with_bones(scene, bones)
