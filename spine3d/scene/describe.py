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
from ..mechanics.params import mobility_label
from .models import facets_key, keyed_model
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
    "ColorBar",
    "Cone",
    "Figure",
    "Label",
    "Line",
    "Marker",
    "MeshItem",
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
    "coloured_rotation",
    "load_text",
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

    ``series`` are ``(label, y, colour)``; ``band`` (0-1, like ``x``) is shaded, e.g.
    guarding; ``marks`` are ``(x, label)`` ticks (cavitations); ``now`` is the drawn moment.
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


def _camera(panel: PanelSpec, state: SpineState, points: np.ndarray, aspect) -> View:
    v = panel.view
    if v.position is not None:
        return View(np.array(v.position), np.array(v.focal_point), np.array(v.up))
    direction, up = _direction(panel, state)
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
) -> PanelDrawing:
    """Describe one solved panel (see :func:`describe`).

    ``aspect`` is the width / height of the 3D area to frame the panel in; None lets
    the camera's fit choose it (a figure lays its panels out to that shape).
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
    points = _placed_points(tuple(meshes), lines, cones, markers)
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
    return PanelDrawing(
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
        view=_camera(panel, state, points, aspect),
        twist_text=load,
        zoom=v.zoom,
        fit_points=points,
    )


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

    Once the first cavity has grown, else the end of the rise (or of the thrust).
    """
    from ..mechanics.params import timedomain

    pops = sorted(float(t) for t in run.cavitation_t_ms[np.isfinite(run.cavitation_t_ms)])
    mv = run.maneuver
    rise = mv.duration_ms + (timedomain()["preload_ms"] if mv.kind == "hvla" else 0.0)
    return pops[0] + timedomain()["bubble_growth_ms"] if pops else rise


def _moment(scene: SceneSpec, i: int, theme: Theme, flash: bool = False, language: str = "en"):
    """For a panel with a manoeuvre: (state, bubbles, text, timeline) at the drawn moment."""
    panel = scene.panels[i]
    if panel.maneuver is None:
        return None

    result = simulate_scene(scene, i)
    schedule = result if hasattr(result, "day") else None
    run = schedule.last if schedule is not None else result
    mv = panel.maneuver
    t_now = panel.at_ms if panel.at_ms is not None else drawn_moment_ms(run)
    k = run.index(t_now)
    t_now = float(run.t_ms[k])
    state = run.state_at(t_now)
    bubble, flash_rgb = hex_to_rgb(theme.bubble), hex_to_rgb(theme.flash)
    bubbles = []
    for seg, side, radius in run.bubbles_at(t_now):
        at = (SIDES.index(side), state.model.segment_names.index(seg))
        t_pop = run.cavitation_t_ms[at]
        flashing = flash and np.isfinite(t_pop) and 0 <= t_now - t_pop < theme.flash_ms
        j = state.model.joint(seg)
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
    lang = language
    popped = ", ".join(f"{b.joint} {text(lang, b.side)}" for b in bubbles[:2])
    popped = popped or text(lang, "none_yet")
    if len(bubbles) > 2:
        popped = text(lang, "and_more", first=popped, n=len(bubbles) - 2)
    readout = text(
        lang,
        "moment",
        name=text(lang, mv.kind),
        t=number(t_now, ".0f", lang),
        torque=number(run.torque_nm[k], "+.1f", lang),
        guarding=number(100 * run.guarding[k], ".0f", lang),
        popped=popped,
    )
    if run.specificity is not None:
        readout += ", " + text(
            lang, "specificity", value=number(100 * run.specificity, ".0f", lang)
        )
    if schedule is not None:
        timeline = _schedule_timeline(schedule, panel, theme, lang)
        day = number(schedule.day[-1], ".0f", lang)
        readout = text(lang, "session", n=len(schedule.day), day=day) + ": " + readout
    else:
        timeline = _run_timeline(run, panel, t_now, theme, lang, past_only=flash)
    return state, tuple(bubbles), readout, timeline


def _run_timeline(
    run, panel: PanelSpec, t_now: float, theme: Theme, lang: str, past_only: bool
) -> TimelineData:
    mv = panel.maneuver
    if mv.kind == "self_twist":
        label, y = text(lang, "twist_of_t1"), np.abs(run.rotation_deg.sum(axis=1))
    else:
        i = run.model.segment_names.index(mv.target)
        label = text(lang, "segment_rotation", segment=mv.target)
        y = np.abs(run.rotation_deg[:, i])
    marks = tuple(
        (e.t_ms, f"{e.segment} {text(lang, e.side)}")
        for e in run.events
        if e.type == "cavitation" and (not past_only or e.t_ms <= t_now)
    )
    return TimelineData(
        title=text(lang, "over_time"),
        x=run.t_ms,
        x_label=text(lang, "time_ms"),
        y_label=label,
        series=((label, y, hex_to_rgb(theme.text)),),
        band=run.guarding,
        band_label=text(lang, "guarding"),
        marks=marks,
        now=t_now,
        past_only=past_only,
        text=(text(lang, "shaded", label="{}"), text(lang, "pop", label="{}"), lang),
    )


def _schedule_timeline(schedule, panel: PanelSpec, theme: Theme, lang: str) -> TimelineData:
    names = schedule.first.model.segment_names
    nz = schedule.laxity_deg
    restricted = [s for s, v in panel.spine.mobility.items() if v == "restricted"]
    picks = []
    for seg in restricted:
        i = names.index(seg)
        picks += [names[j] for j in (i - 1, i, i + 1) if 0 <= j < len(names)]
    if not picks:
        picks = [names[int(np.argmax(nz[-1] - nz[0]))]]
    palette = [theme.hypermobile, theme.axis, theme.bubble, theme.facet]
    series = []
    for n, seg in enumerate(dict.fromkeys(picks)):
        colour = theme.restricted if seg in restricted else palette[n % len(palette)]
        label = text(lang, "segment_restricted", segment=seg) if seg in restricted else seg
        series.append((label, nz[:, names.index(seg)], hex_to_rgb(colour)))
    return TimelineData(
        title=text(lang, "neutral_zone_over", n=len(schedule.day)),
        x=schedule.day,
        x_label=text(lang, "day"),
        y_label=text(lang, "neutral_zone"),
        series=tuple(series),
        text=("", "", lang),
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
        key = (p.levels, v.camera, v.azimuth_deg, v.elevation_deg, v.distance_mm, v.zoom)
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
    """
    width, height = size or (scene.width, scene.height)
    theme = theme or scene_theme(scene)
    lang = scene.language
    moments = [_moment(scene, i, theme, flash, lang) for i in range(len(scene.panels))]
    states = [m[0] if m else solve_panel(p) for m, p in zip(moments, scene.panels, strict=True)]
    fixed = clim is not None
    if clim is None:
        clim = nice_ceiling(
            max(shown_peak(p, s) for p, s in zip(scene.panels, states, strict=True))
        )
    panels = []
    for p, st, m in zip(scene.panels, states, moments, strict=True):
        d = describe_panel(p, st, clim, None, theme, lang)
        if m:
            _, bubbles, text, timeline = m
            popped = {(b.joint, b.side) for b in bubbles}  # a bubble replaces its joint's ball
            kept = tuple(mk for mk in d.markers if (mk.joint, mk.side) not in popped)
            d = replace(d, markers=kept + bubbles, twist_text=text, timeline=timeline, chart=None)
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
