"""Describe what to draw, GL-free.

Meshes with transforms and colours, facet markers, labels, lines, a colour bar, a bar
chart and a camera per panel.

``describe(scene)`` solves every panel (the same :func:`spine3d.solve` the command line
uses) and returns a :class:`Figure` that the render layer turns into pixels.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from .._display import RichDisplay
from ..anatomy import SIDES, SpineModel
from ..anatomy.frames import apply
from ..errors import SpineInputError
from ..mechanics import SpineState, solve
from ..mechanics.maneuver import contact_point_mm
from ..mechanics.params import mobility_label
from .models import facets_key, keyed_model
from .positions import (
    Slab,
    hold_points_mm,
    place_drawing,
    position_frame,
    room_camera,
    table_slab,
    thrust_arrow,
)
from .schema import CAMERA_ALIASES, ROTATION_COMPONENTS
from .spec import PanelSpec, SceneSpec
from .strings import number, text
from .theme import DEFAULT_THEME, Theme, colormap, fraction, hex_to_rgb, theme_named
from .workers import stop_workers_with_signals

if TYPE_CHECKING:
    from ..mechanics.cohort import Cohort

__all__ = [
    "AXIS_ARROW_MM",
    "FORCE_MM_PER_N",
    "ChartData",
    "CohortChart",
    "ColorBar",
    "Cone",
    "Figure",
    "Label",
    "Line",
    "Marker",
    "MeshItem",
    "Moment",
    "PanelDrawing",
    "TimelineData",
    "View",
    "bones_credit",
    "describe",
    "describe_panel",
    "drawn_moment_ms",
    "facet_trace",
    "fit_view",
    "mesh_hulls",
    "nice_ceiling",
    "project",
    "scene_theme",
    "chart_component",
    "clip_clock",
    "cohort_chart",
    "slow_window_ms",
    "coloured_rotation",
    "load_text",
    "maneuver_moment",
    "pops_by_phase",
    "position_words",
    "rotation_bar",
    "shown_peak",
    "simulate_cohort",
    "simulate_scene",
    "solve_panel",
]

_VIEW_ANGLE_DEG = 30.0
_DIRECTIONS = {  # from the focal point toward the camera, and the up vector
    "posterior": ((-1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
    "anterior": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
    "left": ((0.0, 0.0, -1.0), (0.0, 1.0, 0.0)),
    "right": ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0)),
    "superior": ((0.0, 1.0, 0.0), (-1.0, 0.0, 0.0)),
    "posterior-oblique": ((-0.78, 0.22, 0.58), (0.0, 1.0, 0.0)),
    "posterior-superior": ((-0.7, 0.7, 0.0), (0.0, 1.0, 0.0)),
}
_FILL = 0.9
"""Share of the 3D area's limiting side the drawn bone spans (5% margin each side)."""


@dataclass(frozen=True)
class MeshItem:
    """A bone (``meshes/<level>.ply``, or a rib cage or hip part) placed by ``transform``.

    ``transform`` is (4, 4); ``role`` is ``"bone"`` (a vertebra), ``"ghost"`` (its rest
    pose) or ``"context"`` (rib cage, hip bones). ``vertices`` (n, 3), when given,
    replace the mesh's vertices (a bone whose facets an override turns). ``bones`` is
    the imported pack the mesh comes from, None for the shipped bones.
    """

    level: str
    transform: np.ndarray
    color: tuple[float, float, float]
    value: float | None = None  # the coloured quantity, if any
    opacity: float = 1.0
    role: str = "bone"
    vertices: np.ndarray | None = None
    bones: str | None = None


@dataclass(frozen=True)
class Marker:
    """A facet joint: an elliptical disc at ``centre`` (3,) mm facing ``normal`` (3,)."""

    joint: str
    side: str
    centre: np.ndarray
    normal: np.ndarray
    radius_mm: float
    color: tuple[float, float, float]
    gap_mm: float


@dataclass(frozen=True)
class Label:
    """Text at a 3D point (mm).

    A ``"level"`` label names a vertebra: a figure sets it beside the bone with a leader
    line to ``anchor`` (the vertebra's centre); a ``"note"`` sits near ``position``, off
    the bone. ``position`` is where the interactive viewer draws either.
    """

    text: str
    position: np.ndarray
    color: tuple[float, float, float]
    bold: bool = True
    kind: str = "note"
    anchor: np.ndarray | None = None


@dataclass(frozen=True)
class Line:
    """A polyline (k, 3) mm."""

    points: np.ndarray
    color: tuple[float, float, float]
    width: float = 4.0


@dataclass(frozen=True)
class Cone:
    """An arrowhead at ``centre`` pointing along ``direction``."""

    centre: np.ndarray
    direction: np.ndarray
    height_mm: float
    radius_mm: float
    color: tuple[float, float, float]


@dataclass(frozen=True)
class ColorBar:
    """A colour bar: title, value range, matplotlib colour map and, if diverging, its centre."""

    title: str
    clim: tuple[float, float]
    cmap: str
    centre: float | None = None

    def colors(self, values: np.ndarray) -> np.ndarray:
        """Colours (..., 3) floats of ``values`` on this bar."""
        return colormap(self.cmap, fraction(values, self.clim, self.centre))

    @property
    def n_labels(self) -> int:
        """Number of tick labels that fall on round values (at most 7)."""
        span = self.clim[1] - self.clim[0]
        for step in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20, 25, 50):
            n = span / step
            if abs(n - round(n)) < 1e-9 and round(n) <= 6:
                return int(round(n)) + 1
        return 5


@dataclass(frozen=True)
class ChartData:
    """Bar chart of rotation per segment (bars top to bottom of the column)."""

    title: str
    names: tuple[str, ...]
    values: tuple[float, ...]
    colors: tuple[tuple[float, float, float], ...]
    ymax: float
    ymin: float = 0.0  # below zero for a signed component: the axis runs -ymax to ymax


@dataclass(frozen=True)
class TimelineData:
    """A line plot beside the 3D view: a manoeuvre over time, or sessions over weeks.

    ``series`` are ``(label, y, colour)`` on the lower (or only) axis, titled
    ``y_label``; ``upper`` series, when given, go on an axis above it that shares the
    time axis, titled ``upper_label`` (a thrust: the contact force over the target's
    rotation). ``band`` (0-1, like ``x``) is shaded on the lower axis, e.g. the reflex;
    ``marks`` are ``(x, label)`` lines across both axes (cavitations, each with its
    joint); ``phases`` are ``(start, end, name)`` spans named along the top; ``now``
    is the drawn moment.
    """

    title: str
    x: np.ndarray
    x_label: str
    y_label: str
    series: tuple[tuple[str, np.ndarray, tuple[float, float, float]], ...]
    band: np.ndarray | None = None
    band_label: str = ""
    marks: tuple[tuple[float, str], ...] = ()
    now: float | None = None
    past_only: bool = False
    text: tuple[str, str, str] = ("", "", "")  # the shaded-band and pop legends, the language
    upper: tuple[tuple[str, np.ndarray, tuple[float, float, float]], ...] = ()
    upper_label: str = ""
    phases: tuple[tuple[float, float, str], ...] = ()
    signed: bool = False  # the lower axis runs both ways from zero
    phase_keys: tuple[str, ...] = ()  # the phases' names in the model (``thrust``...)
    notes: tuple[str, ...] = ()  # lines under the legend: which joints popped, by phase
    notes_room: tuple[str, ...] = ()  # a clip's frame: the whole run's notes, for the room


@dataclass(frozen=True)
class CohortChart:
    """Cavitations per joint and side over a virtual cohort, beside the single model's.

    Rows run down the column (``names``, one per segment, top of the column first);
    ``counts`` (n, 2) are the cohort's pops on the left and right facet of each, and
    ``single`` (n, 2) bool the pops of the single model (the cohort's reference run).
    ``upside`` is the side facing up in side posture (None otherwise); ``target`` the
    segment aimed at; ``summary`` the lines of numbers under the chart.
    """

    title: str
    names: tuple[str, ...]
    counts: np.ndarray
    single: np.ndarray
    sides: tuple[str, str]
    upside: int | None
    target: str | None
    summary: tuple[str, ...]
    size: int
    x_label: str
    single_label: str
    upside_label: str
    colors: tuple[tuple[float, float, float], tuple[float, float, float]]
    language: str = "en"


@dataclass(frozen=True)
class View:
    """A camera: position, focal point, up (mm) and the vertical view angle (deg).

    ``aspect`` is the width / height of the 3D area the camera was fitted to: a figure
    gives the panel's 3D area that shape, so the fit holds (None: any shape).
    """

    position: np.ndarray
    focal_point: np.ndarray
    up: np.ndarray
    view_angle_deg: float = _VIEW_ANGLE_DEG
    aspect: float | None = None


@dataclass(frozen=True)
class PanelDrawing:
    """Everything one panel draws, and the solved state it shows."""

    title: str
    state: SpineState
    levels: tuple[str, ...]
    meshes: tuple[MeshItem, ...]
    markers: tuple[Marker, ...]
    labels: tuple[Label, ...]
    lines: tuple[Line, ...]
    cones: tuple[Cone, ...]
    colorbar: ColorBar | None
    chart: ChartData | None
    view: View
    twist_text: str
    timeline: TimelineData | None = None
    zoom: float = 1.0
    fit_points: np.ndarray | None = None  # (k, 3) mm: what the camera frames
    frame: np.ndarray = field(default_factory=lambda: np.eye(4))  # patient frame -> room
    slabs: tuple[Slab, ...] = ()  # the table under a lying patient
    cohort: CohortChart | None = None  # pops over a cohort, instead of the timeline


@dataclass(frozen=True)
class Figure(RichDisplay):
    """A whole figure: panels side by side, title, caption, size and background."""

    name: str
    title: str
    caption: str
    panels: tuple[PanelDrawing, ...]
    width: int
    height: int
    transparent: bool
    background: str
    theme: Theme = field(default=DEFAULT_THEME)
    language: str = "en"
    credit: str = ""  # whose bones, when not the shipped ones


_model = keyed_model
_facets_key = facets_key


def simulate_scene(scene: SceneSpec, panel: int = 0, progress=None):
    """Run the scene's ``[maneuver]`` (and ``[schedule]``) on a panel's spine.

    ``progress``, if given, is called with (sessions done, sessions in all) during a
    schedule. With a ``[population]``, this is the single model beside the cohort
    (:func:`simulate_cohort`).

    Returns
    -------
    Run or Schedule
        A :class:`~spine3d.mechanics.timedomain.Schedule` when the scene has one.

    Raises
    ------
    SpineInputError
        One line naming the scene and the panel's ``[maneuver]``, if the panel has none
        or the spine cannot follow it.
    """
    p = scene.panels[panel]
    if p.maneuver is None:
        raise SpineInputError(f"{scene.source}: no [maneuver] table: nothing to simulate")
    try:
        return _simulate(
            _facets_key(p.spine.facets),
            tuple(sorted(p.spine.mobility.items())),
            p.maneuver,
            scene.schedule,
            progress,
            p.spine.bones,
            p.spine.ribs,
        )
    except SpineInputError as exc:
        raise _named(scene, panel, exc) from None


@lru_cache(maxsize=32)
def _simulate(
    facets_key: tuple, mobility: tuple, maneuver, schedule, progress=None, bones=None, ribs=None
):
    from ..mechanics.timedomain import run_schedule, simulate

    model = _model(facets_key, bones, ribs)
    if schedule is not None:
        sessions, interval = schedule
        return run_schedule(model, maneuver, sessions, interval, dict(mobility), progress=progress)
    return simulate(model, maneuver, dict(mobility))


def simulate_cohort(
    scene: SceneSpec,
    panel: int = 0,
    progress: Callable[[int, int], None] | None = None,
    *,
    workers: int | None = None,
) -> Cohort:
    """Run a panel's thrust or mobilisation on the scene's ``[population]``.

    The members run in worker processes; Ctrl-C, SIGTERM or SIGHUP stops them with the
    program (:func:`~spine3d.scene.workers.stop_workers_with_signals`). The result is
    kept for the process: asking again (a figure after the numbers) costs nothing.

    Parameters
    ----------
    scene : SceneSpec
        A scene with a ``[population]`` (``scene.population``).
    panel : int, default: 0
        The panel whose ``[maneuver]`` the cohort runs.
    progress : callable, optional
        Called with (members done, members in all).
    workers : int, optional
        Processes to use (default: the machine's cores, at most the cohort's size); the
        result does not depend on it.

    Returns
    -------
    Cohort
        Its ``reference`` is :func:`simulate_scene`'s run of the same panel.

    Raises
    ------
    SpineInputError
        One line naming the scene, if it has no population, the panel no thrust, or a
        member's spine cannot follow the manoeuvre.
    """
    p = scene.panels[panel]
    pop = scene.population
    if pop is None:
        raise SpineInputError(f"{scene.source}: no [population] table: no cohort to run")
    if p.maneuver is None or not p.maneuver.is_thrust or scene.schedule is not None:
        what = "a [schedule]" if scene.schedule is not None else "no thrust or mobilisation"
        raise SpineInputError(
            f"{scene.source}: [population] size = {pop.size}: panel {panel + 1} has {what}"
        )
    reference = simulate_scene(scene, panel)
    key = (
        _facets_key(p.spine.facets),
        tuple(sorted(p.spine.mobility.items())),
        p.maneuver,
        pop,
        p.spine.bones,
        p.spine.ribs,
    )
    if key in _COHORTS:
        _COHORTS.move_to_end(key)
        return _COHORTS[key]
    from ..mechanics.cohort import run_cohort

    model = _model(key[0], p.spine.bones, p.spine.ribs)
    try:
        with stop_workers_with_signals():
            cohort = run_cohort(
                model,
                p.maneuver,
                dict(key[1]),
                pop.size,
                pop.seed,
                workers=workers,
                progress=progress,
                reference=reference,
            )
    except SpineInputError as exc:
        raise _named(scene, panel, exc, "population") from None
    _COHORTS[key] = cohort
    while len(_COHORTS) > _COHORTS_KEPT:
        _COHORTS.popitem(last=False)
    return cohort


_COHORTS: OrderedDict[tuple, Cohort] = OrderedDict()
_COHORTS_KEPT = 4
"""Cohorts kept per process, the last asked for."""


def _named(scene: SceneSpec, panel: int, exc: SpineInputError, table: str = "") -> SpineInputError:
    """Return ``exc`` as one line that names the scene and the panel's table."""
    message = str(exc)
    if message.startswith(scene.source):
        return exc
    p = scene.panels[panel]
    label = table or ("maneuver" if p.maneuver is scene.maneuver else f"panel {panel + 1}.maneuver")
    if message.startswith("[maneuver]"):
        message = message.removeprefix("[maneuver] ")
    return SpineInputError(f"{scene.source}: [{label}] {message}")


def solve_panel(panel: PanelSpec) -> SpineState:
    """Solve a panel's spine under its load (the solve every figure and the viewer use)."""
    model = _model(_facets_key(panel.spine.facets), panel.spine.bones, panel.spine.ribs)
    return solve(model, mobility=dict(panel.spine.mobility), **panel.load.solve_kwargs())


def nice_ceiling(x: float) -> float:
    """Return the smallest 'round' number (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k) >= ``x``."""
    if x <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(x))
    for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * mag >= x - 1e-12:
            return m * mag
    return 10 * mag


@lru_cache(maxsize=4)
def meshes(bones: str | None = None) -> dict:
    """Name -> :class:`~spine3d.geometry.BoneMesh` of a bone set, read once per process.

    ``bones`` is an imported pack's folder; None: the shipped bones.
    """
    from ..geometry import read_meshes

    return read_meshes(mesh_dir=bones)


@lru_cache(maxsize=4)
def context_parts(bones: str | None = None) -> dict[str, tuple[str, str]]:
    """Part name -> (kind, level it moves with) of a bone set's rib cage and hip bones."""
    from ..geometry import load_manifest

    parts = load_manifest(bones).get("parts", {})
    return {name: (e["kind"], e["moves_with"]) for name, e in parts.items()}


@lru_cache(maxsize=16)
def _turned_bones(facets_key: tuple, bones: str | None = None) -> dict[str, np.ndarray]:
    """Level -> vertices of the bones a facet override turns (see the geometry layer)."""
    if not facets_key:
        return {}
    from ..geometry import turned_facet_vertices

    return turned_facet_vertices(_model(facets_key, bones), bones)


RIB_CAGE_KINDS = ("rib", "cartilage", "sternum")
"""Kinds of the context parts that make up the rib cage."""


def _context_items(
    spine, state: SpineState, theme: Theme, bar: ColorBar | None = None, color_by: str = "none"
) -> list[MeshItem]:
    """Place the rib cage and hip bones of a panel.

    The hip bones move with S1. The rib cage is drawn from the state: where it holds
    ``part_poses`` (a solve with the rib cage in the mechanics), exactly those parts in
    those poses, so that a part resected from the mechanics is not drawn; a model
    without a rib cage draws none; otherwise (a state of the one-degree-of-freedom law)
    each part moves rigidly with the vertebra it moves with. With a rotation ``bar``,
    each rib is coloured by its own rotation on it (``part_rotation3_deg``).
    """
    shown = set(spine.levels)
    colours = {"rib": theme.rib, "cartilage": theme.cartilage, "sternum": theme.cartilage}
    ribs = spine.show_ribs and state.model.ribs != "none"
    posed = state.part_poses
    items = []
    for name, (kind, level) in context_parts(spine.bones).items():
        value = None
        if kind == "pelvis":
            if not (spine.show_pelvis and level in shown):
                continue
            colour, opacity = hex_to_rgb(theme.bone), 1.0
            pose = np.asarray(state.pose(level))
        else:
            if not (ribs and level in shown) or (posed and name not in posed):
                continue
            colour, opacity = hex_to_rgb(colours[kind]), theme.rib_opacity
            pose = np.asarray(posed[name] if posed else state.pose(level))
            turned = state.part_rotation3_deg.get(name)
            if kind == "rib" and bar is not None and turned is not None:
                value = float(_component(np.asarray(turned, dtype=float)[None, :], color_by)[0])
                colour = tuple(bar.colors(np.array(value)).tolist())
        items.append(MeshItem(name, pose, colour, value, opacity, "context", bones=spine.bones))
    return items


@lru_cache(maxsize=4)
def mesh_hulls(bones: str | None = None) -> dict[str, np.ndarray]:
    """Name -> (k, 4) homogeneous vertices of the bone's convex hull, local frame, mm.

    A placed hull projects to the same outline as the placed mesh: cameras are
    fitted to these. The hull is the one the manifest records; a bone set written
    before manifests recorded it gets it computed here.
    """
    out = {}
    for lv, m in meshes(bones).items():
        v = np.asarray(m.vertices, dtype=float)
        if m.hull is not None:
            v = v[m.hull]
        else:
            from scipy.spatial import ConvexHull

            v = v[ConvexHull(v).vertices]
        out[lv] = np.hstack([v, np.ones((len(v), 1))])
    return out


def _placed_points(meshes_: tuple[MeshItem, ...], lines, cones, markers) -> np.ndarray:
    """(k, 3) mm: every drawn bone (hull vertices placed), line, arrowhead and ball."""
    pts = [
        (mesh_hulls(m.bones)[m.level] @ m.transform.T)[:, :3] for m in meshes_ if m.role != "ghost"
    ]
    pts += [ln.points for ln in lines]
    pts += [np.array([c.centre + c.direction * c.height_mm, c.centre]) for c in cones]
    pts += [mk.centre + mk.radius_mm * np.eye(3) for mk in markers]
    pts += [mk.centre - mk.radius_mm * np.eye(3) for mk in markers]
    return np.vstack(pts) if pts else np.zeros((1, 3))


def _basis(direction: np.ndarray, up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Right and true-up unit vectors of a camera looking along ``-direction``."""
    right = np.cross(-direction, up)
    right /= np.linalg.norm(right)
    return right, np.cross(right, -direction)


def fit_view(
    points: np.ndarray,
    direction: np.ndarray,
    up: np.ndarray,
    aspect: float | None = None,
    zoom: float = 1.0,
    distance_mm: float | None = None,
) -> View:
    """Frame ``points`` (k, 3) mm, seen from ``direction`` (focal point to camera).

    The perspective outline of the points spans :data:`_FILL` of the limiting side of
    a 3D area ``aspect`` (width / height) wide, centred; with ``aspect`` None the area
    takes the outline's own shape (returned as ``View.aspect``). ``zoom`` narrows the
    view angle (2: twice as large); ``distance_mm`` fixes the distance from the centre
    of the points instead of fitting it.
    """
    pts = np.asarray(points, dtype=float)
    d = np.asarray(direction, dtype=float)
    d = d / np.linalg.norm(d)
    right, true_up = _basis(d, np.asarray(up, dtype=float))
    t = math.tan(math.radians(_VIEW_ANGLE_DEG / 2))
    focal = 0.5 * (pts.min(0) + pts.max(0))
    for _ in range(4):
        rel = pts - focal
        x, y, z = rel @ right, rel @ true_up, rel @ d
        if distance_mm is not None:
            dist = float(distance_mm)
        else:
            need = z + np.abs(y) / (t * _FILL)
            if aspect is not None:
                need = np.maximum(need, z + np.abs(x) / (t * _FILL * aspect))
            dist = float(max(need.max(), 1.0))
        depth = np.maximum(dist - z, 1e-3)
        u, v = x / depth, y / depth
        # Re-centre the outline: shift the focal point across the view.
        du, dv = 0.5 * (u.max() + u.min()), 0.5 * (v.max() + v.min())
        focal = focal + (du * right + dv * true_up) * dist
    a = aspect
    if a is None:  # the area takes the outline's shape, with the same margin across
        a = max((u.max() - u.min()) / max(v.max() - v.min(), 1e-9), 0.05)
    angle = 2 * math.degrees(math.atan(t / zoom))
    return View(focal + d * dist, focal, true_up, angle, a)


def _direction(panel: PanelSpec, state: SpineState) -> tuple[np.ndarray, np.ndarray]:
    """(direction from focal point to camera, up) of the panel's preset or angles."""
    v = panel.view
    if v.azimuth_deg is not None:
        az, el = math.radians(v.azimuth_deg), math.radians(v.elevation_deg)
        # 0: from behind (-X), 90: from the right (+Z); elevation toward +Y.
        direction = np.array(
            [-math.cos(el) * math.cos(az), math.sin(el), math.cos(el) * math.sin(az)]
        )
        return direction, np.array([0.0, 1.0, 0.0])
    camera = CAMERA_ALIASES.get(v.camera, v.camera)
    direction, up = (np.array(a, dtype=float) for a in _DIRECTIONS[camera])
    if camera == "superior":
        # Look down the shown vertebrae's own axis, not the global one: the kyphosis
        # tilts a thoracic vertebra by tens of degrees.
        mid = np.asarray(state.pose(panel.spine.levels[len(panel.spine.levels) // 2]))[:3, :3]
        direction, up = mid @ direction, mid @ up
    return direction / np.linalg.norm(direction), up


def _camera(
    panel: PanelSpec,
    state: SpineState,
    points: np.ndarray,
    aspect,
    frame: np.ndarray | None = None,
) -> View:
    """Return the panel's camera, fitted to ``points`` (k, 3) mm.

    A preset or angles name a side of the patient; with a ``frame`` (a lying patient,
    :func:`~.positions.position_frame`) they turn with the patient while up stays the
    room's (:func:`~.positions.room_camera`). A custom position is in the room.
    """
    v = panel.view
    if v.position is not None:
        return View(np.array(v.position), np.array(v.focal_point), np.array(v.up))
    direction, up = _direction(panel, state)
    if frame is not None and not np.allclose(frame, np.eye(4)):
        superior = v.azimuth_deg is None and CAMERA_ALIASES.get(v.camera, v.camera) == "superior"
        direction, up = room_camera(frame, direction, up, anatomical_up=superior)
    return fit_view(points, direction, up, aspect, v.zoom, v.distance_mm)


def project(view: View, points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Pixel coordinates (k, 2) (x right, y down) of ``points`` (k, 3) mm in a 3D area.

    Parameters
    ----------
    view : View
    points : (k, 3) float
    size : (int, int)
        Width and height of the 3D area, pixels; the view angle is vertical.
    """
    pos = np.asarray(view.position, dtype=float)
    d = np.asarray(view.focal_point, dtype=float) - pos
    d /= np.linalg.norm(d)
    right, true_up = _basis(-d, np.asarray(view.up, dtype=float))
    rel = np.atleast_2d(np.asarray(points, dtype=float)) - pos
    depth = np.maximum(rel @ d, 1e-6)
    t = math.tan(math.radians(view.view_angle_deg / 2))
    w, h = size
    x = w / 2 + (rel @ right) / depth / t * h / 2
    y = h / 2 - (rel @ true_up) / depth / t * h / 2
    return np.stack([x, y], axis=-1)


def _label_offset(camera: str, m) -> np.ndarray:
    """Where a level's label goes in its local frame: in front from the side, else right."""
    if camera in ("left", "right"):
        return np.array([m["body_depth_mm"] / 2 + 16.0, 0.0, 0.0])
    return np.array([0.0, 0.0, m["transverse_span_mm"] / 2 + 10.0])


def describe_panel(
    panel: PanelSpec,
    state: SpineState,
    rotation_clim: float,
    aspect: float | None,
    theme: Theme = DEFAULT_THEME,
    language: str = "en",
    moment: Moment | None = None,
) -> PanelDrawing:
    """Describe one solved panel (see :func:`describe`).

    ``aspect`` is the width / height of the 3D area to frame the panel in; None lets
    the camera's fit choose it (a figure lays its panels out to that shape). A
    ``moment`` of a manoeuvre (:func:`maneuver_moment`) adds its bubbles, the thrust's
    arrow, the holds, the table and its readout and timeline, and puts the panel in the
    patient's position.
    """
    model = state.model
    v = panel.view
    shown = set(panel.spine.levels)
    seg_of = {j.upper: i for i, j in enumerate(model.joints)}
    bone = hex_to_rgb(theme.bone)
    meshes, markers, labels, lines, cones = [], [], [], [], []
    bones = panel.spine.bones
    turned = _turned_bones(_facets_key(panel.spine.facets), bones)
    bar = rotation_bar(v.color_by, rotation_clim, theme, language)
    for lv in panel.spine.levels:
        value = None
        color = bone
        if bar is not None and lv in seg_of:
            value = float(coloured_rotation(state, v.color_by)[seg_of[lv]])
            color = tuple(bar.colors(np.array(value)).tolist())
        # When the joints are the subject, see them through the bone.
        opacity = theme.bone_opacity_gap if v.color_by == "facet_gap" and v.facets else 1.0
        if v.axes:  # the axes pass through the bodies: see them through the bone
            opacity = min(opacity, theme.bone_opacity_axes)
        meshes.append(
            MeshItem(
                lv,
                np.asarray(state.pose(lv)),
                color,
                value,
                opacity,
                vertices=turned.get(lv),
                bones=bones,
            )
        )
        if v.ghost:
            meshes.append(
                MeshItem(
                    lv,
                    np.asarray(model.vertebra(lv).rest_pose),
                    bone,
                    None,
                    theme.ghost_opacity,
                    "ghost",
                    bones=bones,
                )
            )
        if v.labels:
            name, colour = lv, theme.text
            if lv in seg_of:
                state_name = mobility_label(float(state.mobility[seg_of[lv]]))
                if state_name in ("restricted", "hypermobile"):
                    said = text(language, state_name)
                    name = f"{lv}  ({model.joints[seg_of[lv]].name} {said})"
                    colour = getattr(theme, state_name)
            labels.append(
                Label(
                    name,
                    apply(state.pose(lv), _label_offset(v.camera, model.vertebra(lv).morphometry)),
                    hex_to_rgb(colour),
                    kind="level",
                    anchor=np.asarray(state.pose(lv))[:3, 3].copy(),
                )
            )
    meshes += _context_items(panel.spine, state, theme, bar, v.color_by)
    for i, j in enumerate(model.joints):
        if j.lower not in shown:
            continue
        frame = np.asarray(state.pose(j.lower)) @ j.disc_frame_in_lower
        for s, f in enumerate(j.facets):
            gap = float(state.facet_gap_mm[s, i])
            if v.forces and j.upper in shown and not f.removed:
                arrow = _force_arrow(frame, f, float(state.facet_force_n[s, i]), theme)
                if arrow is not None:
                    lines.append(arrow[0])
                    cones.append(arrow[1])
            if v.facets and j.upper in shown and not f.removed:
                if v.color_by == "facet_gap":
                    color = tuple(_gap_bar(theme, language).colors(gap).tolist())
                else:
                    color = hex_to_rgb(theme.facet)
                markers.append(
                    Marker(
                        j.name,
                        f.side,
                        apply(frame, f.centre_mm),
                        frame[:3, :3] @ f.normal,
                        0.5 * min(f.width_mm, f.height_mm),
                        color,
                        gap,
                    )
                )
            if v.facet_planes:
                lines_, labels_ = facet_trace(model, j, f, state.pose(j.lower), theme)
                lines.append(lines_)
                labels.append(labels_)
    if v.twist_axis:
        ln, cn, lb = _twist_arrow(model, state, panel, theme, language)
        lines += ln
        cones += cn
        labels.append(lb)
    if v.axes:
        ln, cn, lb = _rotation_axes(state, shown, theme, language)
        lines += ln
        cones += cn
        labels += lb
    extra_fit = None
    if moment is not None:
        markers, lines, cones, labels, extra_fit = _maneuver_items(
            panel, state, moment, markers, lines, cones, labels, theme, language
        )
    points = _placed_points(tuple(meshes), lines, cones, markers)
    if extra_fit is not None:
        points = np.vstack([points, extra_fit])
    colorbar = bar
    if v.color_by == "facet_gap":
        colorbar = _gap_bar(theme, language)
    chart = None
    if v.chart and any(j.upper in shown for j in model.joints):
        keep = [i for i, j in enumerate(model.joints) if j.upper in shown]
        shows = chart_component(panel)
        rot = coloured_rotation(state, shows)[keep]
        names = tuple(model.joints[i].upper for i in keep)
        if bar is not None:
            colors = tuple(tuple(c) for c in bar.colors(rot).tolist())
        else:  # the colours of the figure mean something else: keep the bars neutral
            colors = (hex_to_rgb(theme.neutral_bar),) * len(rot)
        top = nice_ceiling(max(float(np.abs(rot).max()), 0.1))
        signed = shows in ROTATION_COMPONENTS
        chart = ChartData(
            text(language, f"chart_{shows}" if signed else "chart_title"),
            names,
            tuple(float(x) for x in rot),
            colors,
            top,
            -top if signed else 0.0,
        )
    load = load_text(panel, state, language)
    if v.forces:
        note = text(language, "force_scale", n=number(10.0 / FORCE_MM_PER_N, ".0f", language))
        load = f"{load}; {note}" if load else note
    drawing = PanelDrawing(
        title=panel.title,
        state=state,
        levels=panel.spine.levels,
        meshes=tuple(meshes),
        markers=tuple(markers),
        labels=tuple(labels),
        lines=tuple(lines),
        cones=tuple(cones),
        colorbar=colorbar,
        chart=chart,
        view=View(np.zeros(3), np.zeros(3), np.array([0.0, 1.0, 0.0])),
        twist_text=load,
        zoom=v.zoom,
        fit_points=points,
    )
    if moment is not None:
        drawing = replace(
            place_drawing(drawing, moment.frame),
            twist_text=moment.readout,
            timeline=moment.timeline,
            chart=None,
        )
        if moment.table:
            bone = [m for m in drawing.meshes if m.role != "ghost"]
            hull = np.vstack([(mesh_hulls(m.bones)[m.level] @ m.transform.T)[:, :3] for m in bone])
            slab = table_slab(hull, hex_to_rgb(theme.table), theme.table_opacity)
            top = slab.corners()[[1, 3, 5, 7]]  # its top face: framed under the body
            drawing = replace(
                drawing, slabs=(slab,), fit_points=np.vstack([drawing.fit_points, top])
            )
    view = _camera(panel, state, drawing.fit_points, aspect, drawing.frame)
    return replace(drawing, view=view)


def facet_trace(
    model: SpineModel, joint, facet, pose: np.ndarray, theme: Theme = DEFAULT_THEME
) -> tuple[Line, Label]:
    """Return a facet plane's trace seen from above the lower vertebra, and its angle.

    Parameters
    ----------
    model : SpineModel
    joint, facet : Joint, Facet
    pose : (4, 4) float
        Where the lower vertebra is drawn (its local frame, or its pose in a state).
    theme : Theme, default: DEFAULT_THEME
    """
    pose = np.asarray(pose)
    frame = pose @ joint.disc_frame_in_lower
    n = frame[:3, :3] @ facet.normal
    across = np.cross(pose[:3, 1], n)
    across /= np.linalg.norm(across)
    top = 0.5 * model.vertebra(joint.lower).body_height_mm + 30.0
    c = apply(frame, facet.centre_mm)
    c = c - pose[:3, 1] * ((c - pose[:3, 3]) @ pose[:3, 1]) + pose[:3, 1] * top
    half = 0.5 * facet.width_mm + 6.0
    angle = facet.coronal_deg if facet.coronal_deg <= 90 else 180 - facet.coronal_deg
    lateral = (
        across if (across @ pose[:3, 2]) * (1 if facet.side == "right" else -1) > 0 else -across
    )
    color = hex_to_rgb(theme.accent)
    return (
        Line(np.array([c - half * across, c + half * across]), color, 6.0),
        Label(f"{angle:.0f}°", c + (half + 5.0) * lateral - pose[:3, 0] * 4.0, color),
    )


def _gap_bar(theme: Theme, language: str) -> ColorBar:
    """Facet gap: a diverging map centred on zero gap (touching)."""
    return ColorBar(text(language, "colorbar_gap"), theme.gap_range_mm, theme.gap_cmap, 0.0)


FORCE_MM_PER_N = 0.5
"""Length of a facet force arrow per newton of contact force, mm (40 N: 20 mm); one
scale for every panel and figure, so that arrows compare."""
_FORCE_MIN_N = 1.0
"""A facet carrying less than this draws no arrow (touching, barely loaded)."""
AXIS_ARROW_MM = 40.0
"""Length of a segment's axis-of-rotation arrow, mm (centred on the axis point)."""


def coloured_rotation(state: SpineState, color_by: str) -> np.ndarray:
    """Per segment, the rotation a ``color_by`` colours by, degrees, (n,) float.

    ``flexion``, ``lateral`` and ``axial`` are the signed Cardan components; anything
    else (``segment_rotation``, and the bars of a figure coloured by gap) is the size of
    the segment's axial rotation.
    """
    if color_by in ROTATION_COMPONENTS:
        return np.asarray(state.rotation3_deg)[:, ROTATION_COMPONENTS.index(color_by)]
    return np.abs(np.asarray(state.rotation_deg))


def _component(rotation3_deg: np.ndarray, color_by: str) -> np.ndarray:
    """Return what a ``color_by`` colours of Cardan angles (k, 3), degrees, as (k,).

    The angles are ``[flexion, lateral, axial]``; as :func:`coloured_rotation`, a
    component for ``flexion``, ``lateral`` or ``axial``, else the axial rotation's size.
    """
    if color_by in ROTATION_COMPONENTS:
        return rotation3_deg[:, ROTATION_COMPONENTS.index(color_by)]
    return np.abs(rotation3_deg[:, 2])


def chart_component(panel: PanelSpec) -> str:
    """Return what a panel's bar chart shows: its ``color_by``, or the bending it is under.

    A panel coloured by a rotation component charts that component; one coloured
    otherwise charts the size of the axial rotation, unless its load bends without a
    twist: then the bending component (flexion before lateral), signed.
    """
    v, ld = panel.view, panel.load
    if v.color_by != "facet_gap" and v.color_by != "none":
        return v.color_by
    if ld.twist_deg is None and ld.torque_nm is None:
        if ld.flexion_deg is not None or ld.moment_flexion_nm is not None:
            return "flexion"
        if ld.lateral_deg is not None or ld.moment_lateral_nm is not None:
            return "lateral"
    return v.color_by


def rotation_bar(
    color_by: str, clim: float, theme: Theme = DEFAULT_THEME, language: str = "en"
) -> ColorBar | None:
    """Return the colour bar of a rotation ``color_by`` (None for a gap or no colour).

    A size runs 0 to ``clim`` on the theme's sequential map; a signed component runs
    ``-clim`` to ``clim`` on its diverging map, centred on zero.
    """
    if color_by == "segment_rotation":
        return ColorBar(text(language, "colorbar_rotation"), (0.0, clim), theme.rotation_cmap)
    if color_by in ROTATION_COMPONENTS:
        return ColorBar(text(language, f"colorbar_{color_by}"), (-clim, clim), theme.gap_cmap, 0.0)
    return None


def load_text(panel: PanelSpec, state: SpineState, language: str = "en") -> str:
    """Return the readout under a panel: the load and what it takes, in ``language``."""
    ld = panel.load
    parts = []
    axial_free = ld.twist_deg is None and ld.torque_nm is None
    # A bending load with the axial axis free: its twist is a by-product, not the load.
    if abs(state.twist_deg) >= 0.05 and not (axial_free and ld.bending):
        twist_fmt, torque_fmt, key = (
            ("+.0f", ".1f", "twist_load")
            if ld.twist_deg is not None
            else ("+.1f", "+.1f", "torque_load")
        )
        parts.append(
            text(
                language,
                key,
                twist=number(state.twist_deg, twist_fmt, language),
                torque=number(state.torque_nm, torque_fmt, language),
            )
        )
    for k, name, angle, moment in (
        (0, "flexion_load", ld.flexion_deg, ld.moment_flexion_nm),
        (1, "lateral_load", ld.lateral_deg, ld.moment_lateral_nm),
    ):
        if angle is None and moment is None:
            continue
        parts.append(
            text(
                language,
                name,
                angle=number(
                    float(state.top_rotation_deg[k]),
                    "+.0f" if angle is not None else "+.1f",
                    language,
                ),
                moment=number(float(state.reaction_nm[k]), "+.1f", language),
            )
        )
    if ld.follower_n:
        parts.append(text(language, "follower_load", force=number(ld.follower_n, ".0f", language)))
    return "; ".join(parts)


def _force_arrow(frame: np.ndarray, facet, force_n: float, theme: Theme):
    """Return a facet's contact force as a pushing arrow, its tip at the joint, or None.

    The force on the upper vertebra's facet acts along the lower facet's normal; the
    arrow comes from outside the joint along it, ``force_n * FORCE_MM_PER_N`` long.
    """
    if force_n < _FORCE_MIN_N:
        return None
    n = frame[:3, :3] @ facet.normal
    n = n / np.linalg.norm(n)
    tip = apply(frame, facet.centre_mm) - 3.0 * n  # just short of the joint line
    head = min(10.0, 0.45 * force_n * FORCE_MM_PER_N + 4.0)
    length = force_n * FORCE_MM_PER_N + head
    tail = tip - length * n
    color = hex_to_rgb(theme.force)
    return (
        Line(np.array([tail, tip - head * n]), color, 8.0),
        Cone(tip - 0.5 * head * n, n, head, 0.45 * head, color),
    )


def _rotation_axes(
    state: SpineState, shown: set[str], theme: Theme, language: str
) -> tuple[list[Line], list[Cone], list[Label]]:
    """Each shown segment's instantaneous axis of rotation as an arrow through its point.

    The arrow points along the axis (right-hand rule: the upper vertebra turns
    anticlockwise looking down it at the tip); its middle is the axis's point nearest
    the disc centre, so a lecturer sees the axis move toward the impacted facet.
    """
    color = hex_to_rgb(theme.rotation_axis)
    lines, cones, labels = [], [], []
    half = 0.5 * AXIS_ARROW_MM
    for i, j in enumerate(state.model.joints):
        d = np.asarray(state.axis_direction[i], dtype=float)
        if not (j.upper in shown and j.lower in shown) or np.linalg.norm(d) < 0.5:
            continue
        d = d / np.linalg.norm(d)
        p = np.asarray(state.axis_point_mm[i], dtype=float)
        lines.append(Line(np.array([p - half * d, p + (half - 8.0) * d]), color, 10.0))
        cones.append(Cone(p + (half - 5.0) * d, d, 12.0, 5.0, color))
    if cones:  # one label names them all, at the top arrow's head
        tip = cones[0].centre + cones[0].direction * 5.0
        labels.append(
            Label(
                text(language, "rotation_axis"),
                tip + [0.0, 10.0, -55.0],  # the viewer: left of the column, clear of the levels
                color,
                kind="level",
                anchor=tip,
            )
        )
    return lines, cones, labels


def _twist_arrow(model, state, panel, theme, language) -> tuple[list[Line], list[Cone], Label]:
    """Return a vertical axis over the top shown vertebra, an arc showing the turn, a label."""
    top = panel.spine.levels[0]
    pose = np.asarray(state.pose(top))
    h = model.vertebra(top).body_height_mm
    centre = pose[:3, 3] + np.array([0.0, h / 2 + 28.0, 0.0])
    color = hex_to_rgb(theme.axis)
    axis = Line(np.array([centre - [0, 20.0, 0], centre + [0, 22.0, 0]]), color, 3.0)
    sign = 1.0 if state.twist_deg >= 0 else -1.0
    r = 32.0
    # Positive twist turns the front (+X) toward the left (-Z): right-handed about +Y.
    angles = np.linspace(-0.9, 0.9, 40) * sign
    arc = np.array([centre + r * np.array([math.cos(a), 0.0, -math.sin(a)]) for a in angles])
    tangent = arc[-1] - arc[-2]
    tangent /= np.linalg.norm(tangent)
    turn = text(language, "turns_left" if sign > 0 else "turns_right")
    # Set beside the bone like a level label, its leader pointing at the arrowhead.
    label = Label(turn, centre + [0.0, 8.0, r + 14.0], color, kind="level", anchor=arc[-1])
    return (
        [axis, Line(arc, color, 5.0)],
        [Cone(arc[-1] + tangent * 5, tangent, 12.0, 5.0, color)],
        label,
    )


def shown_peak(panel: PanelSpec, state: SpineState) -> float:
    """Largest rotation among the segments below the shown levels, degrees.

    The rotation the panel colours and charts (:func:`chart_component`): a
    component's size for ``flexion``, ``lateral`` or ``axial``, else the axial
    rotation's.
    """
    shown = set(panel.spine.levels)
    rot = [
        abs(float(r))
        for j, r in zip(
            state.model.joints, coloured_rotation(state, chart_component(panel)), strict=True
        )
        if j.upper in shown
    ]
    return max(rot, default=0.0)


def drawn_moment_ms(run) -> float:
    """Return the moment a still of ``run`` draws without ``at_ms``, ms.

    A thrust: once the first cavity from the thrust's start on has grown, else the
    thrust's peak (without a thrust, once the first cavity has grown, else the end of
    the preload). A self-twist: once its first cavity has grown, else the end of the
    rise. Never past the run's end.
    """
    from ..mechanics.params import timedomain

    growth = timedomain()["bubble_growth_ms"]
    mv = run.maneuver
    pops = np.sort(np.asarray(run.cavitation_t_ms)[np.isfinite(run.cavitation_t_ms)])
    if mv.is_thrust:
        phases = mv.phases_ms()
        start, end = phases["thrust"]
        if end > start:
            later = pops[pops >= start]
            t = later[0] + growth if len(later) else 0.5 * (start + end)
        else:
            t = pops[0] + growth if len(pops) else phases["settle"][1]
    else:
        t = pops[0] + growth if len(pops) else mv.duration_ms
    return float(min(t, run.t_ms[-1]))


@dataclass(frozen=True, eq=False)
class Moment:
    """A manoeuvre at the moment a panel draws it.

    Attributes
    ----------
    run : Run
        The simulation (a schedule's last session).
    t_ms : float
        The drawn moment, on the run's clock.
    state : SpineState
        The spine then, in the patient frame.
    bubbles : tuple of Marker
        The cavities present then (a fresh one flashing in a clip).
    readout : str
        The line under the panel: time, phase, force or moment, pops so far.
    timeline : TimelineData
    force_n : float
        The contact force then, N (0 for a self-twist).
    frame : (4, 4) float
        The patient's position in the room (:func:`~.positions.position_frame`).
    table : bool
        Draw the table (a lying patient).
    """

    run: object
    t_ms: float
    state: SpineState
    bubbles: tuple[Marker, ...]
    readout: str
    timeline: TimelineData
    force_n: float
    frame: np.ndarray
    table: bool


def _moment(
    scene: SceneSpec, i: int, theme: Theme, flash: bool = False, language: str = "en"
) -> Moment | None:
    """For a panel with a manoeuvre: its :class:`Moment` at the drawn time (else None)."""
    panel = scene.panels[i]
    if panel.maneuver is None:
        return None
    result = simulate_scene(scene, i)
    schedule = result if hasattr(result, "day") else None
    run = schedule.last if schedule is not None else result
    return maneuver_moment(run, panel, panel.at_ms, theme, language, flash, schedule)


def maneuver_moment(
    run,
    panel: PanelSpec,
    t_ms: float | None = None,
    theme: Theme = DEFAULT_THEME,
    language: str = "en",
    flash: bool = False,
    schedule=None,
) -> Moment:
    """Return ``run`` at ``t_ms`` as a panel draws it.

    Parameters
    ----------
    run : Run
        A simulation of ``panel``'s manoeuvre on ``panel``'s spine.
    panel : PanelSpec
    t_ms : float, optional
        The moment, ms; default :func:`drawn_moment_ms`.
    theme : Theme, default: DEFAULT_THEME
    language : str, default: "en"
    flash : bool, default: False
        A clip's frame: a cavity in its first milliseconds flashes, and the timeline,
        the readout and the specificity show only what has happened so far.
    schedule : Schedule, optional
        The schedule ``run`` is the last session of: the timeline shows the laxity
        over its sessions.

    Returns
    -------
    Moment
        Its state and bubbles in the patient frame; ``frame`` puts them in the room.
    """
    t_now = drawn_moment_ms(run) if t_ms is None else float(t_ms)
    k = run.index(t_now)
    t_now = float(run.t_ms[k])
    state = run.state_at(t_now)
    model = state.model
    bubble, flash_rgb = hex_to_rgb(theme.bubble), hex_to_rgb(theme.flash)
    bubbles = []
    for seg, side, radius in run.bubbles_at(t_now):
        at = (SIDES.index(side), model.segment_names.index(seg))
        t_pop = run.cavitation_t_ms[at]
        flashing = flash and np.isfinite(t_pop) and 0 <= t_now - t_pop < theme.flash_ms
        j = model.joint(seg)
        f = j.facet(side)
        frame = np.asarray(state.pose(j.lower)) @ j.disc_frame_in_lower
        bubbles.append(
            Marker(
                seg,
                side,
                apply(frame, f.centre_mm),
                frame[:3, :3] @ f.normal,
                radius * theme.bubble_scale * (1.6 if flashing else 1.0),
                flash_rgb if flashing else bubble,
                float(run.gap_mm[(k, *at)]),
            )
        )
    mv = run.maneuver
    lang = language
    readout = _readout(run, k, t_now, lang, so_far=flash)
    if schedule is not None:
        timeline = _schedule_timeline(schedule, panel, theme, lang)
        day = number(schedule.day[-1], ".0f", lang)
        readout = text(lang, "session", n=len(schedule.day), day=day) + ": " + readout
    else:
        timeline = _run_timeline(run, panel, t_now, theme, lang, past_only=flash)
    lying = mv.position in ("side_posture", "prone")
    return Moment(
        run=run,
        t_ms=t_now,
        state=state,
        bubbles=tuple(bubbles),
        readout=readout,
        timeline=timeline,
        force_n=float(run.force_n[k]),
        frame=position_frame(mv.position, mv.lying_on),
        table=lying,
    )


SLOW_BEFORE_MS = 150.0
"""A clip slows down from this long before a thrust (or a self-twist) starts, ms ..."""
SLOW_AFTER_MS = 250.0
"""... until this long after it has ended (the reflex's answer), ms."""


def _key_ms(run) -> tuple[float, float]:
    """Return the (start, end) of what a clip slows down: the thrust, or the twist, ms."""
    mv = run.maneuver
    if mv.is_thrust:
        a, b = mv.phases_ms()["thrust"]
        if b <= a:  # positioning and preload only: the preload
            a, b = mv.phases_ms()["preload"]
        return float(a), float(b)
    return 0.0, float(mv.duration_ms)


def slow_window_ms(run) -> tuple[float, float]:
    """Return the part of ``run`` a clip or the viewer plays slowed down, (start, end) ms.

    From :data:`SLOW_BEFORE_MS` before the thrust (or the twist) starts to
    :data:`SLOW_AFTER_MS` after it ends, within the run.
    """
    a, b = _key_ms(run)
    return max(a - SLOW_BEFORE_MS, 0.0), min(b + SLOW_AFTER_MS, float(run.t_ms[-1]))


def clip_clock(runs: list, n_frames: int, slow_share: float = 0.6) -> np.ndarray:
    """Each frame's moment on each run's clock for a clip of ``n_frames``, ms.

    The runs' key moments (a thrust's start, a self-twist's start) fall on the same
    frame, so that a thrust and a twist side by side start together; a run waits at
    its start before and holds its end after. Around the key moments
    (:data:`SLOW_BEFORE_MS` before to :data:`SLOW_AFTER_MS` after) the clip is slowed
    down: that window takes ``slow_share`` of the frames, the positioning before and
    the rest after share the others in proportion to their length.

    Parameters
    ----------
    runs : list of Run or None
        None for a panel without a manoeuvre (its column is all zeros).
    n_frames : int

    Returns
    -------
    (n_frames, len(runs)) float
    """
    keys = [(_key_ms(r) if r is not None else None) for r in runs]
    lead = max((k[0] for k in keys if k is not None), default=0.0)
    shift = [lead - k[0] if k is not None else 0.0 for k in keys]
    ends = [r.t_ms[-1] + d for r, d in zip(runs, shift, strict=True) if r is not None]
    total = max(ends, default=1.0)
    a = max(lead - SLOW_BEFORE_MS, 0.0)
    b = min(lead + max((k[1] - k[0] for k in keys if k), default=0.0) + SLOW_AFTER_MS, total)
    u = np.linspace(0.0, 1.0, n_frames)
    before, after = a, total - b
    fast = before + after
    if fast <= 0.05 * total or b <= a:  # a short manoeuvre: no need to change speed
        tau = u * total
    else:
        share_before = (1 - slow_share) * before / fast
        knots_u = [0.0, share_before, share_before + slow_share, 1.0]
        tau = np.interp(u, knots_u, [0.0, a, b, total])
    out = np.zeros((n_frames, len(runs)))
    for i, r in enumerate(runs):
        if r is not None:
            out[:, i] = np.clip(tau - shift[i], 0.0, r.t_ms[-1])
    return out


def _pops_text(run, t_now: float, lang: str) -> str:
    """Return the cavitations up to ``t_now``: "L4-L5 right", or "11, the last ..."."""
    pops = [
        f"{e.segment} {text(lang, e.side)}"
        for e in run.events
        if e.type == "cavitation" and e.t_ms <= t_now
    ]
    if len(pops) > 1:
        return text(lang, "pops_last", n=len(pops), last=pops[-1])
    return pops[0] if pops else text(lang, "none_yet")


def _specificity(run, t_now: float | None) -> float | None:
    """Share of the cavitations (up to ``t_now``; None: all) at the target; None if none."""
    mv = run.maneuver
    if not mv.is_thrust:
        return None
    if t_now is None:
        return run.specificity
    pops = [e for e in run.events if e.type == "cavitation" and e.t_ms <= t_now]
    if not pops:
        return None
    return sum(e.segment == mv.target for e in pops) / len(pops)


def _readout(run, k: int, t_now: float, lang: str, so_far: bool) -> str:
    """Return the line under a manoeuvre's panel at step ``k``: time, phase, load, pops."""
    mv = run.maneuver
    popped = _pops_text(run, t_now, lang)
    if not mv.is_thrust:
        return text(
            lang,
            "moment",
            name=text(lang, mv.kind),
            t=number(t_now, ".0f", lang),
            torque=number(run.torque_nm[k], "+.1f", lang),
            guarding=number(100 * run.guarding[k], ".0f", lang),
            popped=popped,
        )
    readout = text(
        lang,
        "thrust_moment",
        name=text(lang, mv.kind),
        position=position_words(mv.position, mv.lying_on, lang),
        t=number(t_now, ".0f", lang),
        phase=text(lang, f"phase_{run.phase_at(t_now)}"),
        force=number(run.force_n[k], ".0f", lang),
        guarding=number(100 * run.guarding[k], ".0f", lang),
        popped=popped,
    )
    spec = _specificity(run, t_now if so_far else None)
    if spec is not None:
        key = "specificity_so_far" if so_far else "specificity"
        readout += ", " + text(lang, key, value=number(100 * spec, ".0f", lang))
    return readout


def position_words(position: str | None, lying_on: str, language: str = "en") -> str:
    """Return the patient's position in words, e.g. "side posture, lying on the left"."""
    if position == "side_posture":
        return text(language, "side_posture_on", side=text(language, f"on_{lying_on}"))
    return text(language, position or "standing")


def _maneuver_items(panel, state, moment, markers, lines, cones, labels, theme, language):
    """Add a manoeuvre's drawing to a panel's items, all in the patient frame.

    Bubbles replace the balls of the joints that cavitated; a thrust adds its arrow on
    the contact (and, for the framing only, where the arrow's tail reaches at the peak
    force, so that a clip's camera holds still) and the stabilising holds.

    Returns
    -------
    markers, lines, cones, labels : list
    extra_fit : (k, 3) float or None
        Points to frame that are not drawn.
    """
    run, model = moment.run, state.model
    mv = run.maneuver
    shown = set(panel.spine.levels)
    popped = {(b.joint, b.side) for b in moment.bubbles}
    markers = [mk for mk in markers if (mk.joint, mk.side) not in popped]
    markers += [b for b in moment.bubbles if model.joint(b.joint).upper in shown]
    lines, cones, labels = list(lines), list(cones), list(labels)
    extra = []
    local = contact_point_mm(model, mv)
    if local is not None and mv.contact_level in shown:
        tip = apply(np.asarray(state.pose(mv.contact_level)), local)
        # The force keeps the direction it had in the posture (as the mechanics applies it).
        posed = np.asarray(run.posture.state.pose(mv.contact_level))[:3, :3]
        direction = posed @ np.asarray(mv.direction, dtype=float)
        colour = hex_to_rgb(theme.force)
        arrow = thrust_arrow(tip, direction, moment.force_n, language)
        if arrow is not None:
            tail, base, head, said = arrow
            d = (tip - base) / head
            lines.append(Line(np.array([tail, base + 0.2 * head * d]), colour, 12.0))
            cones.append(Cone(base + 0.5 * head * d, d, head, 0.5 * head, colour))
            labels.append(Label(said, tail - 10.0 * d, colour))
        peak = thrust_arrow(tip, direction, float(np.max(run.force_n)), language)
        if peak is not None:
            extra.append(peak[0] - 16.0 * direction / np.linalg.norm(direction))
    hold = hex_to_rgb(theme.hold)
    for level, point in hold_points_mm(model, mv, state.pose):
        if level not in shown:
            continue
        markers.append(Marker("hold", level, point, np.array([0.0, 1.0, 0.0]), 7.0, hold, 0.0))
        # The word beside the marker, away from its vertebra (the viewer draws it there).
        out = point - np.asarray(state.pose(level))[:3, 3]
        out = out / max(float(np.linalg.norm(out)), 1e-9)
        labels.append(Label(text(language, "hold"), point + 16.0 * out, hold))
    extra_fit = np.array(extra) if extra else None
    return markers, lines, cones, labels, extra_fit


def _phases(mv, lang: str) -> tuple[tuple[tuple[float, float, str], ...], tuple[str, ...]]:
    """Return the phases that take time, ``((start, end, name), ...)``, and their keys."""
    kept = [(name, a, b) for name, (a, b) in mv.phases_ms().items() if b > a]
    return (
        tuple((float(a), float(b), text(lang, f"phase_{name}")) for name, a, b in kept),
        tuple(name for name, _, _ in kept),
    )


def _joint_runs(indices: list[int], names: tuple[str, ...]) -> str:
    """Segments by index as text, three or more in a row as "T10-T11 … L3-L4"."""
    out, run = [], []
    for i in sorted(set(indices)):
        if run and i != run[-1] + 1:
            out.append(run)
            run = []
        run.append(i)
    if run:
        out.append(run)
    said = []
    for r in out:
        if len(r) >= 3:
            said.append(f"{names[r[0]]} … {names[r[-1]]}")
        else:
            said += [names[i] for i in r]
    return ", ".join(said)


def pops_by_phase(run, t_now: float | None, lang: str = "en") -> tuple[str, ...]:
    """One line per phase with cavitations (up to ``t_now``): how many, and which joints.

    E.g. ``"positioning, 3 pops: right T11-T12 … L1-L2"``; each side's joints top to
    bottom, three or more adjacent ones as a run.
    """
    names = run.model.segment_names
    by_phase: dict[str, dict[str, list[int]]] = {}
    for e in run.events:
        if e.type != "cavitation" or (t_now is not None and e.t_ms > t_now):
            continue
        phase = e.phase or run.phase_at(e.t_ms)
        by_phase.setdefault(phase, {}).setdefault(e.side, []).append(names.index(e.segment))
    lines = []
    for phase, sides in by_phase.items():
        n = sum(len(v) for v in sides.values())
        joints = "; ".join(
            f"{text(lang, side)} {_joint_runs(sides[side], names)}"
            for side in SIDES
            if side in sides
        )
        key = "pops_in_one" if n == 1 else "pops_in"
        lines.append(text(lang, key, phase=text(lang, f"phase_{phase}"), n=n, joints=joints))
    return tuple(lines)


def _run_timeline(
    run, panel: PanelSpec, t_now: float, theme: Theme, lang: str, past_only: bool
) -> TimelineData:
    """Describe a run over time: the load above, the rotation below, the reflex shaded.

    A thrust: the contact force (N) over the target segment's axial rotation; a
    self-twist: the trunk muscles' moment (N m) over the twist of T1 on the sacrum.
    Phases are named along the top; each cavitation is a line, and the lines under
    the legend say which joints popped in which phase.
    """
    mv = run.maneuver
    if mv.is_thrust:
        i = run.model.segment_names.index(mv.target)
        label, y = text(lang, "target_rotation", segment=mv.target), run.rotation_deg[:, i]
        upper_label, upper = text(lang, "contact_force"), run.force_n
        signed = True
    else:
        label, y = text(lang, "twist_of_t1"), np.abs(run.rotation_deg.sum(axis=1))
        upper_label, upper = text(lang, "muscle_moment"), np.abs(run.torque_nm)
        signed = False
    marks = tuple(
        (e.t_ms, f"{e.segment} {text(lang, e.side)}")
        for e in run.events
        if e.type == "cavitation" and (not past_only or e.t_ms <= t_now)
    )
    phases, keys = _phases(mv, lang)
    return TimelineData(
        title=text(lang, "over_time"),
        x=run.t_ms,
        x_label=text(lang, "time_ms"),
        y_label=label,
        series=((label, y, hex_to_rgb(theme.text)),),
        band=run.guarding,
        band_label=text(lang, "reflex_band"),
        marks=marks,
        now=t_now,
        past_only=past_only,
        text=("{}", text(lang, "pops_legend"), lang),
        upper=((upper_label, upper, hex_to_rgb(theme.force)),),
        upper_label=upper_label,
        phases=phases,
        signed=signed,
        phase_keys=keys,
        notes=pops_by_phase(run, t_now if past_only else None, lang),
        notes_room=pops_by_phase(run, None, lang),
    )


def _schedule_timeline(schedule, panel: PanelSpec, theme: Theme, lang: str) -> TimelineData:
    """Each picked segment's laxity over the sessions (the hypothesis the model illustrates).

    The restricted segments and their neighbours; without one, the segment whose laxity
    grew most.
    """
    from ..mechanics.params import timedomain

    names = schedule.first.model.segment_names
    lax = schedule.laxity_deg
    restricted = [s for s, v in panel.spine.mobility.items() if v == "restricted"]
    picks = []
    for seg in restricted:
        i = names.index(seg)
        picks += [names[j] for j in (i - 1, i, i + 1) if 0 <= j < len(names)]
    if not picks:
        picks = [names[int(np.argmax(lax[-1] - lax[0]))]]
    # Not the bubble's turquoise: a line in it would read as a pop.
    palette = [theme.hypermobile, theme.force, theme.axis, theme.facet]
    series = []
    for n, seg in enumerate(dict.fromkeys(picks)):
        colour = theme.restricted if seg in restricted else palette[n % len(palette)]
        label = text(lang, "segment_restricted", segment=seg) if seg in restricted else seg
        series.append((label, lax[:, names.index(seg)], hex_to_rgb(colour)))
    moment = number(timedomain()["laxity_moment_nm"], "g", lang)
    return TimelineData(
        title=text(lang, "laxity", moment=moment),
        x=schedule.day,
        x_label=text(lang, "day"),
        y_label=text(lang, "laxity", moment=moment),
        series=tuple(series),
        text=("", "", lang),
    )


def cohort_chart(cohort, theme: Theme = DEFAULT_THEME, language: str = "en") -> CohortChart:
    """Describe a cohort's cavitations per joint and side beside the single model's.

    Rows are the segments where any member or the single model (the cohort's
    reference run) cavitated, and the target, top of the column first.

    Parameters
    ----------
    cohort : Cohort
        From :func:`spine3d.mechanics.cohort.run_cohort`.
    theme : Theme, default: DEFAULT_THEME
    language : str, default: "en"

    Returns
    -------
    CohortChart
        ``counts`` (rows, 2) equal :meth:`Cohort.pops_by_joint` on those rows.
    """
    lang = language
    names = tuple(cohort.segments)
    counts = np.asarray(cohort.pops_by_joint())  # (2, n)
    single = np.asarray(cohort.reference.cavitated, bool)  # (2, n)
    mv = cohort.maneuver
    keep = [
        i
        for i, seg in enumerate(names)
        if counts[:, i].any() or single[:, i].any() or seg == mv.target
    ]

    unit = "\u00a0%" if lang == "de" else "%"

    def pct(x) -> str:
        return "–" if x is None else number(100 * x, ".0f", lang) + unit

    summary = []
    if cohort.upside_share is not None or mv.position == "side_posture":
        summary.append(text(lang, "cohort_upside_share", value=pct(cohort.upside_share)))
    zone = ", ".join(cohort.target_zone)
    summary += [
        text(lang, "cohort_zone_share", zone=zone, value=pct(cohort.target_zone_share)),
        text(lang, "cohort_specificity", value=pct(cohort.specificity)),
        text(lang, "cohort_per_thrust", value=number(cohort.pops_per_thrust, ".1f", lang)),
        text(lang, "cohort_positioning", value=pct(cohort.positioning_only_share)),
    ]
    up = SIDES.index(mv.upside) if mv.position == "side_posture" else None
    colours = [hex_to_rgb(theme.neutral_bar), hex_to_rgb(theme.neutral_bar)]
    if up is not None:
        colours[up] = hex_to_rgb(theme.upside)
    return CohortChart(
        title=text(lang, "cohort_title", n=cohort.size),
        names=tuple(names[i] for i in keep),
        counts=counts[:, keep].T.copy(),
        single=single[:, keep].T.copy(),
        sides=(text(lang, "left"), text(lang, "right")),
        upside=up,
        target=mv.target,
        summary=tuple(summary),
        size=cohort.size,
        x_label=text(lang, "cohort_x"),
        single_label=text(lang, "cohort_single"),
        upside_label=text(lang, "cohort_upside"),
        colors=(colours[0], colours[1]),
        language=lang,
    )


def _share_frames(
    panels: tuple[PanelDrawing, ...], specs: tuple[PanelSpec, ...], aspect: float | None
) -> tuple[PanelDrawing, ...]:
    """Frame panels that show the same levels from the same camera as one.

    The union of what they draw is framed, so that they share one scale and their
    cameras can be linked.
    """
    groups: dict[tuple, list[int]] = {}
    for i, (p, spec) in enumerate(zip(panels, specs, strict=True)):
        v = spec.view
        if v.position is not None or p.fit_points is None:
            continue
        # A patient lying and one standing are never framed as one.
        placed = tuple(np.round(p.frame, 6).ravel())
        key = (p.levels, v.camera, v.azimuth_deg, v.elevation_deg, v.distance_mm, v.zoom, placed)
        groups.setdefault(key, []).append(i)
    out = list(panels)
    for members in groups.values():
        if len(members) < 2:
            continue
        first = panels[members[0]]
        pts = np.vstack([panels[i].fit_points for i in members])
        v = specs[members[0]].view
        direction = first.view.position - first.view.focal_point
        view = fit_view(pts, direction, first.view.up, aspect, v.zoom, v.distance_mm)
        for i in members:
            out[i] = replace(panels[i], view=view)
    return tuple(out)


def scene_theme(scene: SceneSpec) -> Theme:
    """Return the theme a scene asks for (``theme``, ``font_pt``)."""
    return theme_named(scene.theme, scene.font_pt)


def describe(
    scene: SceneSpec,
    theme: Theme | None = None,
    size: tuple[int, int] | None = None,
    clim: float | None = None,
    flash: bool = False,
    cohorts: dict | None = None,
) -> Figure:
    """Solve every panel of ``scene`` and describe the figure.

    Parameters
    ----------
    scene : SceneSpec
    theme : Theme, optional
        Default: the scene's own (:func:`scene_theme`).
    size : (int, int), optional
        Image width and height, overriding the scene's.
    clim : float, optional
        Upper colour limit of segment rotation, degrees (frames of an animation share
        one); default: the shown peak, rounded up.

    Returns
    -------
    Figure
    flash : bool, default: False
        Draw a cavity in its first milliseconds as a flash (for the frames of a clip;
        a still shows every cavity as a bubble).
    cohorts : dict of int to Cohort, optional
        A panel's cohort (:func:`~spine3d.mechanics.cohort.run_cohort` of its
        manoeuvre): the panel draws the cohort's single model (its reference run) and,
        instead of the timeline, the pops per joint and side over the cohort
        (:func:`cohort_chart`). By default, a scene's ``[population]`` runs on each
        panel with a thrust (:func:`simulate_cohort`).
    """
    width, height = size or (scene.width, scene.height)
    theme = theme or scene_theme(scene)
    lang = scene.language
    if cohorts is None and scene.population is not None and scene.schedule is None:
        cohorts = {
            i: simulate_cohort(scene, i)
            for i, p in enumerate(scene.panels)
            if p.maneuver is not None and p.maneuver.is_thrust
        }
    cohorts = cohorts or {}
    moments = [
        maneuver_moment(cohorts[i].reference, p, p.at_ms, theme, lang, flash)
        if i in cohorts
        else _moment(scene, i, theme, flash, lang)
        for i, p in enumerate(scene.panels)
    ]
    states = [m.state if m else solve_panel(p) for m, p in zip(moments, scene.panels, strict=True)]
    fixed = clim is not None
    if clim is None:
        clim = nice_ceiling(
            max(shown_peak(p, s) for p, s in zip(scene.panels, states, strict=True))
        )
    panels = []
    for i, (p, st, m) in enumerate(zip(scene.panels, states, moments, strict=True)):
        d = describe_panel(p, st, clim, None, theme, lang, m)
        if i in cohorts:
            d = replace(d, timeline=None, cohort=cohort_chart(cohorts[i], theme, lang))
        panels.append(d)
    if fixed:  # frames of a clip: the chart's axis holds still too
        panels = [
            p
            if p.chart is None
            else replace(p, chart=replace(p.chart, ymax=clim, ymin=-clim if p.chart.ymin else 0.0))
            for p in panels
        ]
    else:  # panels that chart the same quantity share its axis, so that bars compare
        top: dict[str, float] = {}
        for p in panels:
            if p.chart is not None:
                top[p.chart.title] = max(top.get(p.chart.title, 0.0), p.chart.ymax)
        panels = [
            p
            if p.chart is None
            else replace(
                p,
                chart=replace(
                    p.chart,
                    ymax=top[p.chart.title],
                    ymin=-top[p.chart.title] if p.chart.ymin else 0.0,
                ),
            )
            for p in panels
        ]
    panels = _share_frames(tuple(panels), scene.panels, None)
    packs = dict.fromkeys(p.spine.bones for p in scene.panels if p.spine.bones is not None)
    return Figure(
        name=scene.name,
        title=scene.title,
        caption=scene.caption,
        panels=panels,
        width=width,
        height=height,
        transparent=scene.transparent,
        background=scene.background,
        theme=theme,
        language=lang,
        credit="; ".join(bones_credit(b, lang) for b in packs),
    )


def bones_credit(bones: str, language: str = "en") -> str:
    """Return the line that credits an imported bone pack: its name and licence.

    Parameters
    ----------
    bones : str
        The pack's folder.
    language : str, default: "en"

    Returns
    -------
    str
        E.g. ``"Bones: BodyParts3D (CC BY-SA 2.1 JP)"``.
    """
    from ..geometry import load_manifest

    src = load_manifest(bones).get("source", {})
    name = src.get("name") or src.get("credit") or str(bones)
    licence = src.get("licence") or text(language, "licence_unknown")
    return text(language, "bones_credit", name=name, licence=licence)
