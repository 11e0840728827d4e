"""Describe what to draw, GL-free.

Meshes with transforms and colours, facet markers, labels, lines, a colour bar, a bar
chart and a camera per panel.

``describe(scene)`` solves every panel (the same :func:`spine3d.solve` the command line
uses) and returns a :class:`Figure` that the render layer turns into pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from ..anatomy import SIDES, SpineModel, load_model
from ..anatomy.frames import apply
from ..mechanics import SpineState, solve
from ..mechanics.params import mobility_label
from .spec import PanelSpec, SceneSpec
from .theme import DEFAULT_THEME, Theme, colormap, hex_to_rgb

__all__ = [
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
    "describe",
    "describe_panel",
    "drawn_moment_ms",
    "facet_trace",
    "nice_ceiling",
    "shown_peak",
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
}


@dataclass(frozen=True)
class MeshItem:
    """A vertebra mesh (``meshes/<level>.ply``) placed by ``transform`` (4, 4)."""

    level: str
    transform: np.ndarray
    color: tuple[float, float, float]
    value: float | None = None  # the coloured quantity, if any
    opacity: float = 1.0
    role: str = "bone"  # "bone" or "ghost"


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
    """Text at a 3D point (mm)."""

    text: str
    position: np.ndarray
    color: tuple[float, float, float]
    bold: bool = True


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
    """A colour bar: title, value range and colour stops."""

    title: str
    clim: tuple[float, float]
    stops: tuple[tuple[float, str], ...]

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


@dataclass(frozen=True)
class View:
    """A camera: position, focal point, up (mm) and the vertical view angle (deg)."""

    position: np.ndarray
    focal_point: np.ndarray
    up: np.ndarray
    view_angle_deg: float = _VIEW_ANGLE_DEG


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


@dataclass(frozen=True)
class Figure:
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


@lru_cache(maxsize=16)
def _model(facets_key: tuple) -> SpineModel:
    return load_model(facets={j: dict(kv) for j, kv in facets_key})


def _facets_key(facets) -> tuple:
    return tuple(sorted((j, tuple(sorted(kv.items()))) for j, kv in facets.items()))


def simulate_scene(scene: SceneSpec, panel: int = 0, progress=None):
    """Run the scene's ``[maneuver]`` (and ``[schedule]``) on a panel's spine.

    ``progress``, if given, is called with (sessions done, sessions in all) during a
    schedule.

    Returns
    -------
    Run or Schedule
        A :class:`~spine3d.mechanics.timedomain.Schedule` when the scene has one.
    """
    from ..errors import SpineInputError

    p = scene.panels[panel]
    if p.maneuver is None:
        raise SpineInputError(f"{scene.source}: no [maneuver] table: nothing to simulate")
    return _simulate(
        _facets_key(p.spine.facets),
        tuple(sorted(p.spine.mobility.items())),
        p.maneuver,
        scene.schedule,
        progress,
    )


@lru_cache(maxsize=32)
def _simulate(facets_key: tuple, mobility: tuple, maneuver, schedule, progress=None):
    from ..mechanics.timedomain import run_schedule, simulate

    model = _model(facets_key)
    if schedule is not None:
        sessions, interval = schedule
        return run_schedule(model, maneuver, sessions, interval, dict(mobility), progress=progress)
    return simulate(model, maneuver, dict(mobility))


def solve_panel(panel: PanelSpec) -> SpineState:
    """Solve a panel's spine under its load (the solve every figure and the viewer use)."""
    model = _model(_facets_key(panel.spine.facets))
    return solve(
        model,
        panel.load.twist_deg,
        torque_nm=panel.load.torque_nm,
        mobility=dict(panel.spine.mobility),
    )


def nice_ceiling(x: float) -> float:
    """Return the smallest 'round' number (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k) >= ``x``."""
    if x <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(x))
    for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * mag >= x - 1e-12:
            return m * mag
    return 10 * mag


def _camera(panel: PanelSpec, state: SpineState, aspect: float) -> View:
    v = panel.view
    if v.position is not None:
        return View(np.array(v.position), np.array(v.focal_point), np.array(v.up))
    model = state.model
    pts = []
    for lv in panel.spine.levels:
        m = model.vertebra(lv).morphometry
        back = m["body_depth_mm"] / 2 + m["canal_depth_mm"] + m["spinous_length_mm"] + 6.0
        xs = (-back, m["body_depth_mm"] / 2 + 4.0)
        ys = (
            -model.vertebra(lv).body_height_mm / 2 - 8.0,
            model.vertebra(lv).body_height_mm / 2 + 8.0,
        )
        zs = (-m["transverse_span_mm"] / 2 - 6.0, m["transverse_span_mm"] / 2 + 6.0)
        pose = state.pose(lv)
        pts += [apply(pose, (x, y, z)) for x in xs for y in ys for z in zs]
    if v.twist_axis:  # room for the twist arrow above the top vertebra
        top = state.pose(panel.spine.levels[0])
        pts.append(
            np.asarray(top)[:3, 3]
            + [0.0, model.vertebra(panel.spine.levels[0]).body_height_mm / 2 + 55.0, 0.0]
        )
    pts = np.array(pts)
    lo, hi = pts.min(0), pts.max(0)
    focal = 0.5 * (lo + hi)
    direction, up = (np.array(a, dtype=float) for a in _DIRECTIONS[v.camera])
    if v.camera == "superior":
        # Look down the shown vertebrae's own axis, not the global one: the kyphosis
        # tilts a thoracic vertebra by tens of degrees.
        mid = np.asarray(state.pose(panel.spine.levels[len(panel.spine.levels) // 2]))[:3, :3]
        direction, up = mid @ direction, mid @ up
    direction /= np.linalg.norm(direction)
    right = np.cross(direction * -1, up)
    right /= np.linalg.norm(right)
    true_up = np.cross(right, -direction)
    rel = pts - focal
    half_h = np.abs(rel @ true_up).max()
    half_w = np.abs(rel @ right).max()
    depth = np.abs(rel @ direction).max()
    t = math.tan(math.radians(_VIEW_ANGLE_DEG / 2))
    distance = max(half_h / t, half_w / (t * aspect)) * 1.08 / v.zoom + depth
    return View(focal + direction * distance, focal, true_up)


def _label_offset(camera: str, m) -> np.ndarray:
    """Where a level's label goes in its local frame: in front from the side, else right."""
    if camera in ("left", "right"):
        return np.array([m["body_depth_mm"] / 2 + 16.0, 0.0, 0.0])
    return np.array([0.0, 0.0, m["transverse_span_mm"] / 2 + 10.0])


def describe_panel(
    panel: PanelSpec,
    state: SpineState,
    rotation_clim: float,
    aspect: float,
    theme: Theme = DEFAULT_THEME,
) -> PanelDrawing:
    """Describe one solved panel (see :func:`describe`)."""
    model = state.model
    v = panel.view
    shown = set(panel.spine.levels)
    seg_of = {j.upper: i for i, j in enumerate(model.joints)}
    bone = hex_to_rgb(theme.bone)
    meshes, markers, labels, lines, cones = [], [], [], [], []
    for lv in panel.spine.levels:
        value = None
        color = bone
        if v.color_by == "segment_rotation" and lv in seg_of:
            value = abs(float(state.rotation_deg[seg_of[lv]]))
            color = tuple(colormap(theme.rotation_stops, value / rotation_clim).tolist())
        # When the joints are the subject, see them through the bone.
        opacity = theme.bone_opacity_gap if v.color_by == "facet_gap" and v.facets else 1.0
        meshes.append(MeshItem(lv, np.asarray(state.pose(lv)), color, value, opacity))
        if v.ghost:
            meshes.append(
                MeshItem(
                    lv,
                    np.asarray(model.vertebra(lv).rest_pose),
                    bone,
                    None,
                    theme.ghost_opacity,
                    "ghost",
                )
            )
        if v.labels:
            text = lv
            if lv in seg_of:
                state_name = mobility_label(float(state.mobility[seg_of[lv]]))
                if state_name in ("restricted", "hypermobile"):
                    text = f"{lv}  ({model.joints[seg_of[lv]].name} {state_name})"
            colour = theme.text
            if "restricted" in text:
                colour = theme.restricted
            elif "hypermobile" in text:
                colour = theme.hypermobile
            labels.append(
                Label(
                    text,
                    apply(state.pose(lv), _label_offset(v.camera, model.vertebra(lv).morphometry)),
                    hex_to_rgb(colour),
                )
            )
    for i, j in enumerate(model.joints):
        if j.lower not in shown:
            continue
        frame = np.asarray(state.pose(j.lower)) @ j.disc_frame_in_lower
        for s, f in enumerate(j.facets):
            gap = float(state.facet_gap_mm[s, i])
            if v.facets and j.upper in shown:
                if v.color_by == "facet_gap":
                    lo, hi = theme.gap_range_mm
                    t = (gap - lo) / (hi - lo)
                    color = tuple(colormap(theme.gap_stops, t).tolist())
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
        ln, cn, lb = _twist_arrow(model, state, panel, theme)
        lines += ln
        cones += cn
        labels.append(lb)
    colorbar = None
    if v.color_by == "segment_rotation":
        colorbar = ColorBar("segment rotation (°)", (0.0, rotation_clim), theme.rotation_stops)
    elif v.color_by == "facet_gap":
        colorbar = ColorBar("facet gap (mm)", theme.gap_range_mm, theme.gap_stops)
    chart = None
    if v.chart and any(j.upper in shown for j in model.joints):
        keep = [i for i, j in enumerate(model.joints) if j.upper in shown]
        rot = np.abs(state.rotation_deg[keep])
        names = tuple(model.joints[i].upper for i in keep)
        if v.color_by == "segment_rotation":
            colors = tuple(
                tuple(c) for c in colormap(theme.rotation_stops, rot / rotation_clim).tolist()
            )
        else:  # the colours of the figure mean something else: keep the bars neutral
            colors = (hex_to_rgb(theme.neutral_bar),) * len(rot)
        chart = ChartData(
            "rotation per segment (°)",
            names,
            tuple(float(x) for x in rot),
            colors,
            nice_ceiling(max(float(rot.max()), 0.1)),
        )
    load = (
        ""
        if state.twist_deg == 0
        else (
            f"twist {state.twist_deg:+.0f}° (T1 on sacrum), {state.torque_nm:.1f} N m"
            if panel.load.twist_deg is not None
            else f"torque {state.torque_nm:+.1f} N m, twist {state.twist_deg:+.1f}°"
        )
    )
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
        view=_camera(panel, state, aspect),
        twist_text=load,
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


def _twist_arrow(model, state, panel, theme) -> tuple[list[Line], list[Cone], Label]:
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
    turn = "upper body turns left" if sign > 0 else "upper body turns right"
    label = Label(turn, centre + [0.0, 8.0, r + 14.0], color)
    return (
        [axis, Line(arc, color, 5.0)],
        [Cone(arc[-1] + tangent * 5, tangent, 12.0, 5.0, color)],
        label,
    )


def shown_peak(panel: PanelSpec, state: SpineState) -> float:
    """Largest rotation among the segments below the shown levels, degrees."""
    shown = set(panel.spine.levels)
    rot = [
        abs(float(r))
        for j, r in zip(state.model.joints, state.rotation_deg, strict=True)
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


def _moment(scene: SceneSpec, i: int, theme: Theme, flash: bool = False):
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
    popped = ", ".join(f"{b.joint} {b.side}" for b in bubbles[:2]) or "none yet"
    if len(bubbles) > 2:
        popped += f" and {len(bubbles) - 2} more"
    names = {"self_twist": "self-twist", "hvla": "HVLA thrust", "mobilisation": "mobilisation"}
    text = (
        f"{names[mv.kind]}, t = {t_now:.0f} ms: {run.torque_nm[k]:+.1f} N m, "
        f"guarding {100 * run.guarding[k]:.0f}%, popped: {popped}"
    )
    if run.specificity is not None:
        text += f", specificity {100 * run.specificity:.0f}%"
    if schedule is not None:
        timeline = _schedule_timeline(schedule, panel, theme)
        text = f"session {len(schedule.day)} (day {schedule.day[-1]:.0f}): " + text
    else:
        timeline = _run_timeline(run, panel, t_now, theme)
    return state, tuple(bubbles), text, timeline


def _run_timeline(run, panel: PanelSpec, t_now: float, theme: Theme) -> TimelineData:
    mv = panel.maneuver
    if mv.kind == "self_twist":
        label, y = "twist of T1 on the sacrum (°)", np.abs(run.rotation_deg.sum(axis=1))
    else:
        i = run.model.segment_names.index(mv.target)
        label, y = f"{mv.target} rotation (°)", np.abs(run.rotation_deg[:, i])
    marks = tuple((e.t_ms, f"{e.segment} {e.side}") for e in run.events if e.type == "cavitation")
    return TimelineData(
        title="over time",
        x=run.t_ms,
        x_label="time (ms)",
        y_label=label,
        series=((label, y, hex_to_rgb(theme.text)),),
        band=run.guarding,
        band_label="guarding",
        marks=marks,
        now=t_now,
    )


def _schedule_timeline(schedule, panel: PanelSpec, theme: Theme) -> TimelineData:
    names = schedule.first.model.segment_names
    nz = schedule.neutral_zone_deg
    restricted = [s for s, v in panel.spine.mobility.items() if v == "restricted"]
    picks = []
    for seg in restricted:
        i = names.index(seg)
        picks += [names[j] for j in (i - 1, i, i + 1) if 0 <= j < len(names)]
    if not picks:
        picks = [names[int(np.argmax(nz[-1] - nz[0]))]]
    palette = [theme.hypermobile, theme.restricted, theme.accent, theme.axis]
    series = []
    for n, seg in enumerate(dict.fromkeys(picks)):
        colour = theme.restricted if seg in restricted else palette[n % len(palette)]
        if seg in restricted:
            label = f"{seg} (restricted)"
        else:
            label = seg
        series.append((label, nz[:, names.index(seg)], hex_to_rgb(colour)))
    return TimelineData(
        title=f"neutral zone over {len(schedule.day)} sessions",
        x=schedule.day,
        x_label="day",
        y_label="neutral zone (°)",
        series=tuple(series),
    )


def _common_scale(panels: tuple[PanelDrawing, ...]) -> tuple[PanelDrawing, ...]:
    """Put every panel's camera at the largest distance, so that panels share one scale."""
    if len(panels) < 2:
        return panels
    dist = [np.linalg.norm(p.view.position - p.view.focal_point) for p in panels]
    far = max(dist)
    out = []
    for p, d in zip(panels, dist, strict=True):
        direction = (p.view.position - p.view.focal_point) / d
        view = View(p.view.focal_point + direction * far, p.view.focal_point, p.view.up)
        out.append(replace(p, view=view))
    return tuple(out)


def describe(
    scene: SceneSpec,
    theme: Theme = DEFAULT_THEME,
    size: tuple[int, int] | None = None,
    clim: float | None = None,
    flash: bool = False,
) -> Figure:
    """Solve every panel of ``scene`` and describe the figure.

    Parameters
    ----------
    scene : SceneSpec
    theme : Theme, default: DEFAULT_THEME
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
    moments = [_moment(scene, i, theme, flash) for i in range(len(scene.panels))]
    states = [m[0] if m else solve_panel(p) for m, p in zip(moments, scene.panels, strict=True)]
    fixed = clim is not None
    if clim is None:
        clim = nice_ceiling(
            max(shown_peak(p, s) for p, s in zip(scene.panels, states, strict=True))
        )
    aspect = (width / len(scene.panels)) / (height * (1.0 - theme.title_row - theme.caption_row))
    panels = []
    for p, st, m in zip(scene.panels, states, moments, strict=True):
        d = describe_panel(p, st, clim, aspect, theme)
        if m:
            _, bubbles, text, timeline = m
            popped = {(b.joint, b.side) for b in bubbles}  # a bubble replaces its joint's ball
            kept = tuple(mk for mk in d.markers if (mk.joint, mk.side) not in popped)
            d = replace(d, markers=kept + bubbles, twist_text=text, timeline=timeline, chart=None)
        panels.append(d)
    if fixed:  # frames of a clip: the chart's axis holds still too
        panels = [
            p if p.chart is None else replace(p, chart=replace(p.chart, ymax=clim)) for p in panels
        ]
    panels = _common_scale(tuple(panels))
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
    )
