"""Frozen scene specifications, one-to-one with a validated scene file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..mechanics.maneuver import Maneuver

__all__ = ["LoadSpec", "PanelSpec", "SceneSpec", "SpineSpec", "ViewSpec"]


@dataclass(frozen=True)
class SpineSpec:
    """Which vertebrae, their mobility and facet overrides, and the context bones.

    ``ribs`` and ``pelvis`` are None for the default: the rib cage where the panel
    shows the thorax (six or more thoracic vertebrae), the hip bones where it shows
    most of the column (twelve levels or more, L5 and S1 among them). ``bones`` is the
    absolute path of an imported bone pack, None for the shipped bones.
    """

    levels: tuple[str, ...]
    mobility: Mapping[str, str | float]
    facets: Mapping[str, Mapping[str, float]]
    ribs: bool | None = None
    pelvis: bool | None = None
    bones: str | None = None

    @property
    def show_ribs(self) -> bool:
        """Whether the rib cage is drawn."""
        if self.ribs is not None:
            return self.ribs
        return sum(lv.startswith("T") for lv in self.levels) >= 6

    @property
    def show_pelvis(self) -> bool:
        """Whether the hip bones are drawn."""
        if self.pelvis is not None:
            return self.pelvis
        return {"L5", "S1"} <= set(self.levels) and len(self.levels) >= 12


@dataclass(frozen=True)
class LoadSpec:
    """The global load: exactly one of ``twist_deg`` and ``torque_nm`` is set."""

    twist_deg: float | None
    torque_nm: float | None


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
    animation: Mapping[str, object] = field(default_factory=dict)
    theme: str = "light"
    language: str = "en"
    font_pt: float = 14.0
