"""The rib cage as the mechanics sees it: where its parts meet, measured on the bones.

Everything here comes from the mesh manifest (``spine3d meshes build`` measures it on
the rib cage's bones): each rib's head, tubercle, centreline and cross-section, each
costal cartilage's ends, centreline and cross-section, and the sternum's ends, width
and cross-section. Points are in the global rest frame, millimetres.

Resection states remove parts step by step, each step keeping the ones before:
``intact``; ``no_intercostals`` (the intercostal tissue cut); ``sternotomy`` (also the
sternum split lengthwise); ``no_anterior`` (also every costal cartilage cut from the
sternum and from the cartilage above, so the ribs hang free in front); ``none`` (no
rib cage: the isolated spine).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import SpineInputError

__all__ = [
    "RIB_STATES",
    "Cartilage",
    "Rib",
    "RibCage",
    "check_rib_state",
    "compile_rib_cage",
]

RIB_STATES = ("intact", "no_intercostals", "sternotomy", "no_anterior", "none")
"""Resection states, each removing more than the one before."""

_HEAD_ON_TWO = range(2, 10)
"""Ribs whose head meets its own vertebra and the one above, across the disc."""


@dataclass(frozen=True)
class Rib:
    """One rib, at rest.

    Attributes
    ----------
    name : str
        ``rib_5_left``.
    number : int
        1-12 from the top.
    side : str
        ``left`` or ``right``.
    level : str
        Its own vertebra (rib 5: T5), which carries its tubercle.
    head_levels : tuple of str
        The vertebrae its head meets: its own and, for ribs 2-9, the one above.
    head_mm : (3,) float
        The costovertebral joint, global mm.
    tubercle_mm : (3,) float or None
        The costotransverse joint (ribs 1-10), global mm: midway between the rib's
        point nearest its vertebra's transverse process tip and that tip.
    centreline_mm : (k, 3) float
        From the head to the anterior end, global mm.
    section_mm2 : float
        Mean cross-section (volume over length), mm².
    """

    name: str
    number: int
    side: str
    level: str
    head_levels: tuple[str, ...]
    head_mm: np.ndarray
    tubercle_mm: np.ndarray | None
    centreline_mm: np.ndarray
    section_mm2: float


@dataclass(frozen=True)
class Cartilage:
    """One costal cartilage, at rest.

    Attributes
    ----------
    name : str
        ``cartilage_5_left``.
    number : int
    side : str
    joins : str
        ``"sternum"`` (cartilages that reach it) or the cartilage above it joins
        (``cartilage_7_left`` for cartilage 8).
    centreline_mm : (k, 3) float
        From the rib end to the sternal or medial end, global mm.
    section_mm2 : float
        Mean cross-section, mm².
    """

    name: str
    number: int
    side: str
    joins: str
    centreline_mm: np.ndarray
    section_mm2: float


@dataclass(frozen=True)
class RibCage:
    """The rib cage of a model in one resection state (see :data:`RIB_STATES`).

    Attributes
    ----------
    state : str
        Not ``"none"`` (a model without ribs has no :class:`RibCage`).
    ribs : tuple of Rib
    cartilages : tuple of Cartilage
    sternum_superior_mm, sternum_inferior_mm : (3,) float
        Jugular notch and xiphoid tip, global mm.
    sternum_width_mm, sternum_section_mm2 : float
    part_levels : mapping of str to str
        Every rib cage part (``rib_5_left``, ``cartilage_5_left``, ``sternum``) and the
        level whose local frame its mesh is stored in.
    """

    state: str
    ribs: tuple[Rib, ...]
    cartilages: tuple[Cartilage, ...]
    sternum_superior_mm: np.ndarray
    sternum_inferior_mm: np.ndarray
    sternum_width_mm: float
    sternum_section_mm2: float
    part_levels: Mapping[str, str]

    @property
    def intercostals(self) -> bool:
        """Whether the intercostal tissue joins neighbouring ribs."""
        return self.state == "intact"

    @property
    def sternum_whole(self) -> bool:
        """Whether the two halves of the sternum are joined."""
        return self.state in ("intact", "no_intercostals")

    @property
    def anterior(self) -> bool:
        """Whether the costal cartilages join the sternum and each other."""
        return self.state in ("intact", "no_intercostals", "sternotomy")


def check_rib_state(ribs: object, where: str = "ribs") -> str:
    """Return ``ribs`` if it names a resection state, else raise one clear error."""
    if not isinstance(ribs, str) or ribs not in RIB_STATES:
        raise SpineInputError(f"{where} = {ribs!r}: expected one of {', '.join(RIB_STATES)}")
    return ribs


def _frozen(a) -> np.ndarray:
    out = np.array(a, dtype=float)
    out.flags.writeable = False
    return out


def compile_rib_cage(
    parts: Mapping,
    poses: Mapping[str, np.ndarray],
    level_marks: Mapping[str, Mapping],
    state: str,
    where: str,
) -> RibCage | None:
    """Build the rib cage of a model from the manifest's parts.

    Parameters
    ----------
    parts : mapping
        The manifest's ``parts`` (points in each part's ``moves_with`` frame).
    poses : mapping of str to (4, 4) float
        Rest pose of every level of the model.
    level_marks : mapping of str to mapping
        Every level's landmarks (local mm): the transverse process tips.
    state : str
        A resection state (checked).
    where : str
        The manifest's path, for errors.

    Returns
    -------
    RibCage or None
        None for ``state == "none"``.

    Raises
    ------
    SpineInputError
        If the bones hold no rib cage (or one without the measures the mechanics needs)
        and ``state`` asks for one.
    """
    check_rib_state(state)
    if state == "none":
        return None
    ribs_in = {n: p for n, p in parts.items() if isinstance(p, Mapping) and p.get("kind") == "rib"}
    missing = [
        n
        for n, p in ribs_in.items()
        if "measures" not in p or "head_mm" not in p.get("landmarks_mm", {})
    ]
    if not ribs_in or missing or "sternum" not in parts:
        why = "no rib cage" if not ribs_in else "a rib cage without the measures of its joints"
        raise SpineInputError(
            f"{where}: the bones hold {why}; use ribs = 'none' (or rebuild with "
            "`spine3d meshes build`)"
        )

    def glob(name: str, point) -> np.ndarray:
        pose = poses[parts[name]["moves_with"]]
        return np.asarray(pose[:3, :3] @ np.asarray(point, float) + pose[:3, 3])

    ribs = []
    for name, p in ribs_in.items():
        if p["moves_with"] not in poses:
            continue
        _, number, side = name.split("_")
        k = int(number)
        marks = p["landmarks_mm"]
        level = p["moves_with"]
        head_levels = (f"T{k - 1}", level) if k in _HEAD_ON_TWO else (level,)
        tubercle = None
        if "tubercle_mm" in marks and f"transverse_tip_{side}" in level_marks.get(level, {}):
            tip = glob(name, level_marks[level][f"transverse_tip_{side}"])
            tubercle = 0.5 * (glob(name, marks["tubercle_mm"]) + tip)
        ribs.append(
            Rib(
                name=name,
                number=k,
                side=side,
                level=level,
                head_levels=tuple(lv for lv in head_levels if lv in poses),
                head_mm=_frozen(glob(name, marks["head_mm"])),
                tubercle_mm=None if tubercle is None else _frozen(tubercle),
                centreline_mm=_frozen([glob(name, x) for x in p["measures"]["centreline_mm"]]),
                section_mm2=float(p["measures"]["section_mm2"]),
            )
        )
    ribs.sort(key=lambda r: (r.number, r.side))
    cartilages = []
    for name, p in parts.items():
        if not (isinstance(p, Mapping) and p.get("kind") == "cartilage"):
            continue
        if p["moves_with"] not in poses:
            continue
        _, number, side = name.split("_")
        marks = p["landmarks_mm"]
        joins = "sternum" if "sternal_end_mm" in marks else f"cartilage_{int(number) - 1}_{side}"
        cartilages.append(
            Cartilage(
                name=name,
                number=int(number),
                side=side,
                joins=joins,
                centreline_mm=_frozen([glob(name, x) for x in p["measures"]["centreline_mm"]]),
                section_mm2=float(p["measures"]["section_mm2"]),
            )
        )
    cartilages.sort(key=lambda c: (c.number, c.side))
    st = parts["sternum"]
    return RibCage(
        state=state,
        ribs=tuple(ribs),
        cartilages=tuple(cartilages),
        sternum_superior_mm=_frozen(glob("sternum", st["landmarks_mm"]["superior_mm"])),
        sternum_inferior_mm=_frozen(glob("sternum", st["landmarks_mm"]["inferior_mm"])),
        sternum_width_mm=float(st["measures"]["width_mm"]),
        sternum_section_mm2=float(st["measures"]["section_mm2"]),
        part_levels={
            n: p["moves_with"]
            for n, p in parts.items()
            if isinstance(p, Mapping) and p.get("kind") in ("rib", "cartilage", "sternum")
        },
    )
