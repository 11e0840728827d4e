"""Frozen scene specifications, one-to-one with a validated scene file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import SpineInputError
from ..mechanics.maneuver import Maneuver

__all__ = ["LoadSpec", "PanelSpec", "PopulationSpec", "SceneSpec", "SpineSpec", "ViewSpec"]


@dataclass(frozen=True)
class SpineSpec:
    """Which vertebrae, their mobility and facet overrides, the rib cage and the context bones.

    ``ribs`` is the rib cage's resection state in the mechanics, one of
    :data:`~spine3d.anatomy.RIB_STATES`, or None for the bones' default (``"intact"``
    for the shipped bones, ``"none"`` for a pack without ribs). The rib cage is drawn
    where the panel shows the thorax (six or more thoracic vertebrae) and the state
    has one. ``pelvis`` is None for the default: the hip bones where the panel shows
    most of the column (twelve levels or more, L5 and S1 among them). ``bones`` is the
    absolute path of an imported bone pack, None for the shipped bones.
    """

    levels: tuple[str, ...]
    mobility: Mapping[str, str | float]
    facets: Mapping[str, Mapping[str, float]]
    ribs: str | None = None
    pelvis: bool | None = None
    bones: str | None = None

    @property
    def show_ribs(self) -> bool:
        """Whether the rib cage is drawn (where the state's model has one)."""
        if self.ribs == "none":
            return False
        return sum(lv.startswith("T") for lv in self.levels) >= 6

    @property
    def show_pelvis(self) -> bool:
        """Whether the hip bones are drawn."""
        if self.pelvis is not None:
            return self.pelvis
        return {"L5", "S1"} <= set(self.levels) and len(self.levels) >= 12


@dataclass(frozen=True)
class LoadSpec:
    """The static load on the top vertebra (T1), in the three planes (``[load]``).

    Each axis is either angle-controlled or loaded by a moment (or free): at most one
    of ``twist_deg`` and ``torque_nm``, of ``flexion_deg`` and ``moment_flexion_nm``,
    of ``lateral_deg`` and ``moment_lateral_nm``. Signs as :func:`spine3d.solve`:
    upper body turning left, forward, to the right positive.

    Attributes
    ----------
    twist_deg, flexion_deg, lateral_deg : float or None
        Cardan angles of T1 relative to its rest pose, degrees.
    torque_nm : float or None
        Axial moment, N m.
    moment_flexion_nm, moment_lateral_nm : float or None
        Flexion and lateral bending moments, N m.
    follower_n : float, default: 0.0
        Compressive follower load through every disc centre, N.
    """

    twist_deg: float | None
    torque_nm: float | None
    flexion_deg: float | None = None
    lateral_deg: float | None = None
    moment_flexion_nm: float | None = None
    moment_lateral_nm: float | None = None
    follower_n: float = 0.0

    def solve_kwargs(self) -> dict[str, Any]:
        """Return the keyword arguments of :func:`spine3d.solve` for this load."""
        out: dict[str, Any] = {}
        for name in ("twist_deg", "torque_nm", "flexion_deg", "lateral_deg"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        moments = {
            c: v
            for c, v in (("flexion", self.moment_flexion_nm), ("lateral", self.moment_lateral_nm))
            if v is not None
        }
        if moments:
            out["moment_nm"] = moments
        if self.follower_n:
            out["follower_n"] = self.follower_n
        return out

    def scaled(self, w: float) -> LoadSpec:
        """Return this load with every angle and moment times ``w`` (the follower kept)."""
        return replace(
            self,
            **{
                name: None if getattr(self, name) is None else getattr(self, name) * w
                for name in _SCALED
            },
        )

    def overridden(self, kwargs: Mapping[str, Any]) -> LoadSpec:
        """Return this load with the axes that ``kwargs`` name replaced by them.

        ``kwargs`` are :func:`spine3d.solve` keywords (``twist_deg``, ``torque_nm``,
        ``flexion_deg``, ``lateral_deg``, ``moment_nm``, ``follower_n``), e.g. from the
        command line. An axis they name (by its angle or its moment) takes only their
        value; the other axes and the follower load keep this load's.

        Raises
        ------
        SpineInputError
            If ``kwargs`` give an axis both an angle and a moment, or two moments.
        """
        fields: dict[str, float] = {}
        for key, value in kwargs.items():
            if key == "moment_nm":
                for comp, nm in value.items():
                    if _MOMENT_FIELD[comp] in fields:
                        raise SpineInputError(
                            f"give {_MOMENT_FIELD[comp]} or moment_nm[{comp!r}], not both"
                        )
                    fields[_MOMENT_FIELD[comp]] = nm
            elif key in _AXIS_OF or key == "follower_n":
                fields[key] = value
        out = {}
        for angle, moment in _AXIS_FIELDS:
            if angle in fields and moment in fields:
                raise SpineInputError(f"give {angle} or {moment}, not both")
            if angle in fields or moment in fields:
                out[angle], out[moment] = fields.get(angle), fields.get(moment)
        if "follower_n" in fields:
            out["follower_n"] = fields["follower_n"]
        return replace(self, **out)

    @property
    def bending(self) -> bool:
        """Whether the load bends (flexion or lateral, by angle or moment)."""
        return any(getattr(self, n) is not None for n in _SCALED[2:])


_AXIS_FIELDS = (
    ("twist_deg", "torque_nm"),
    ("flexion_deg", "moment_flexion_nm"),
    ("lateral_deg", "moment_lateral_nm"),
)
_AXIS_OF = {name: k for k, pair in enumerate(_AXIS_FIELDS) for name in pair}
_MOMENT_FIELD = {
    "axial": "torque_nm",
    "flexion": "moment_flexion_nm",
    "lateral": "moment_lateral_nm",
}

_SCALED = (
    "twist_deg",
    "torque_nm",
    "flexion_deg",
    "lateral_deg",
    "moment_flexion_nm",
    "moment_lateral_nm",
)


@dataclass(frozen=True)
class ViewSpec:
    """How one panel is drawn (see ``docs/scenes.md``)."""

    camera: str
    position: tuple[float, float, float] | None
    focal_point: tuple[float, float, float] | None
    up: tuple[float, float, float] | None
    zoom: float
    color_by: str
    labels: bool
    facets: bool
    facet_planes: bool
    ghost: bool
    twist_axis: bool
    chart: bool
    azimuth_deg: float | None = None
    elevation_deg: float = 0.0
    distance_mm: float | None = None
    axes: bool = False
    forces: bool = False


@dataclass(frozen=True)
class PanelSpec:
    """One panel: a spine under a load, seen one way."""

    title: str
    spine: SpineSpec
    load: LoadSpec
    view: ViewSpec
    maneuver: Maneuver | None = None
    at_ms: float | None = None


@dataclass(frozen=True)
class PopulationSpec:
    """A virtual cohort (``[population]``): each member runs the panel's thrust.

    Attributes
    ----------
    size : int
        Number of members, 1 to 500.
    seed : int, default: 0
        Random seed of the members' draws, 0 to 2**32 - 1.
    """

    size: int
    seed: int = 0


@dataclass(frozen=True)
class SceneSpec:
    """A whole figure: panels side by side with linked cameras, title and caption.

    Attributes
    ----------
    name : str
        The scene's name (file stem), used for output files.
    source : str
        Where it came from (a path), for messages.
    width, height : int
        Image size, pixels.
    maneuver : Maneuver, optional
        What ``spine3d simulate`` runs (``[maneuver]``).
    at_ms : float, optional
        The moment of the manoeuvre a render draws.
    schedule : (int, float), optional
        Sessions and minutes between them (``[schedule]``).
    population : PopulationSpec, optional
        A virtual cohort that runs each panel's thrust or mobilisation (``[population]``).
    animation : mapping
        ``[animation]``: kind, fps, duration_s, orbit_deg.
    theme : str
        ``"light"`` or ``"dark"``.
    language : str
        Language of the built-in strings (``"en"``, ``"de"``).
    font_pt : float
        Smallest text, points, on a figure as wide as a slide.
    """

    name: str
    source: str
    title: str
    caption: str
    panels: tuple[PanelSpec, ...]
    width: int
    height: int
    transparent: bool
    background: str
    maneuver: Maneuver | None = None
    at_ms: float | None = None
    schedule: tuple[int, float] | None = None
    population: PopulationSpec | None = None
    animation: Mapping[str, object] = field(default_factory=dict)
    theme: str = "light"
    language: str = "en"
    font_pt: float = 14.0
