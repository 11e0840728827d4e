"""A standalone web page of a scene: turn it, twist it, restrict a segment, offline.

The page answers from solutions computed here, with :func:`spine3d.sweep` (the same
solver as :func:`spine3d.solve`): for every mobility state it covers, every twist of its
slider grid. Each bone's mesh is stored once (positions quantised to 16 bits over its
bounding box, delta-coded in byte planes, deflated); a pose is one transform (a 16-bit
quaternion and a translation) per vertebra. three.js, vendored in ``vendor/``, is
inlined: the page makes no request.

What the page covers (:data:`TWIST_GRID_DEG`): twists from -60 to 60 degrees in steps
of one degree, for the scene's own mobility and for every state reached by setting one
shown segment to normal, restricted or hypermobile.
"""

from __future__ import annotations

import base64
import html
import json
import re
import zlib
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import numpy as np

import spine3d

from ..geometry import load_meshes, write_atomic
from ..mechanics import mobility_states, reachable_twist_deg, sweep
from ..mechanics.params import mobility_label
from ..scene import CAMERAS, LoadSpec, SceneSpec
from ..scene.describe import (
    ColorBar,
    bones_credit,
    context_parts,
    describe,
    describe_panel,
    nice_ceiling,
    solve_panel,
)
from ..scene.theme import DEFAULT_THEME, Theme, colormap, hex_to_rgb

__all__ = [
    "MAX_PAGE_BYTES",
    "STATES",
    "TWIST_GRID_DEG",
    "THREE_VERSION",
    "PageData",
    "page_data",
    "page_html",
    "write_page",
]

TWIST_GRID_DEG = np.arange(-60.0, 60.0 + 0.5, 1.0)
"""The slider's positions, degrees of twist of T1 on the sacrum (121 of them)."""

STATES = ("normal", "restricted", "hypermobile")
"""The order a click cycles a segment through."""

MAX_PAGE_BYTES = 10 * 1024 * 1024
"""The budget of a whole-column page, bytes."""

THREE_VERSION = "0.187.0"
"""The vendored three.js release (npm ``three``), MIT licence."""

_ASSETS = "spine3d.export"


@dataclass(frozen=True)
class PageData:
    """What the page shows: ``meta`` (JSON-ready) and ``blob`` (the binary arrays).

    Attributes
    ----------
    meta : dict
        Titles, levels, states, bones, labels, cameras, theme and the offsets of each
        array in ``blob``.
    blob : bytes
        Little-endian arrays, concatenated (each 4-byte aligned), before compression.
    rotation_deg : (S, G, n) float
        Segment rotations per state and slider position, as the solver gave them.
    poses : (S, G, m, 4, 4) float
        Vertebra poses, mm, per state and slider position.
    """

    meta: dict
    blob: bytes
    rotation_deg: np.ndarray
    poses: np.ndarray


class _Blob:
    """Concatenate arrays 4-byte aligned; remember where each is."""

    def __init__(self):
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, array: np.ndarray) -> dict:
        a = np.ascontiguousarray(array)
        data = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        entry = {"offset": self.size, "length": int(a.size), "type": a.dtype.name}
        pad = (-len(data)) % 4
        self.parts.append(data + b"\0" * pad)
        self.size += len(data) + pad
        return entry

    def bytes(self) -> bytes:
        return b"".join(self.parts)


def _delta_planes(values: np.ndarray, stride: int) -> tuple[np.ndarray, dict]:
    """Pack unsigned integers for deflate: differences ``stride`` apart, then byte planes.

    Neighbouring vertices and triangles are close, so their differences are small and
    their high bytes, stored together, mostly zero. The page undoes both (wrapping sums).

    Returns
    -------
    bytes : (size * count,) uint8
        All low bytes, then the next ones.
    header : dict
        ``count``, ``size`` (bytes per value) and ``stride``.
    """
    v = np.ascontiguousarray(values).ravel()
    d = v.copy()
    d[stride:] = v[stride:] - v[:-stride]  # unsigned: wraps, as the page's sums do
    size = v.dtype.itemsize
    planes = d.astype(d.dtype.newbyteorder("<")).view(np.uint8).reshape(-1, size).T
    return np.ascontiguousarray(planes).ravel(), {
        "count": int(v.size),
        "size": size,
        "stride": stride,
    }


def _quantise(mesh, blob: _Blob) -> dict:
    """Store a mesh's vertices as uint16 over its bounding box and its triangles, packed."""
    v = np.asarray(mesh.vertices, dtype=float)
    lo, hi = v.min(0), v.max(0)
    span = np.where(hi > lo, hi - lo, 1.0)
    q = np.round((v - lo) / span * 65535).astype(np.uint16)
    faces = np.asarray(mesh.faces)
    index = faces.astype(np.uint16 if len(v) <= 65536 else np.uint32)
    pos_bytes, pos_head = _delta_planes(q, 3)
    idx_bytes, idx_head = _delta_planes(index, 1)
    return {
        "lo": lo.tolist(),
        "span": span.tolist(),
        "positions": blob.add(pos_bytes) | pos_head,
        "index": blob.add(idx_bytes) | idx_head,
    }


def _quaternions(r: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) to unit quaternions (..., 4) as (x, y, z, w)."""
    from scipy.spatial.transform import Rotation

    shape = r.shape[:-2]
    q = Rotation.from_matrix(r.reshape(-1, 3, 3)).as_quat()
    return q.reshape(*shape, 4)


def _hex(rgb) -> str:
    return "#" + "".join(f"{int(round(255 * c)):02x}" for c in rgb)


def _bone_credit(bones: str | None = None) -> str:
    """Return the credit line of the bones: the shipped ones' source, or a pack's name."""
    from ..geometry import load_manifest

    if bones is not None:
        return f"{bones_credit(bones)}."
    credit = load_manifest().get("source", {}).get("credit", "")
    return f"{credit}." if credit and not credit.endswith(".") else credit


def _gap_bar(theme: Theme) -> ColorBar:
    """Return the figure's facet-gap colour bar: diverging, centred on zero gap."""
    return ColorBar("", theme.gap_range_mm, theme.gap_cmap, 0.0)


def _stops(bar: ColorBar, n: int = 17) -> list[tuple[float, str]]:
    """Colour stops ``[(position 0-1, "#rrggbb"), ...]`` along a bar, for a CSS gradient.

    Sampled at values evenly spaced over the bar's range, so a diverging bar's centre
    falls where its value lies.
    """
    values = np.linspace(*bar.clim, n)
    return [
        (float(t), _hex(c)) for t, c in zip(np.linspace(0, 1, n), bar.colors(values), strict=True)
    ]


def _states(panel, shown_segments: list[str]) -> tuple[list[dict], list[list[int]]]:
    """Return the mobility states the page covers and, per segment and state, its index."""
    base = dict(panel.spine.mobility)
    states: list[dict] = [base]
    keys = [tuple(sorted(base.items()))]
    table = []
    for seg in shown_segments:
        row = []
        for name in STATES:
            mob = {k: v for k, v in base.items() if k != seg}
            if name != "normal":
                mob[seg] = name
            key = tuple(sorted(mob.items()))
            if key not in keys:
                keys.append(key)
                states.append(mob)
            row.append(keys.index(key))
        table.append(row)
    return states, table


def _relative(parent: np.ndarray, transform: np.ndarray) -> np.ndarray:
    return np.linalg.solve(parent, transform)


def _names_level(text: str, level: str) -> bool:
    """Return whether a label is ``level``'s own ("L4", "L4  (L4-L5 restricted)", not "L40")."""
    return text.startswith(level) and (len(text) == len(level) or not text[len(level)].isalnum())


def _moved(spec, drawing, theme: Theme):
    """Describe the panel again under another twist (to see what moves with what)."""
    t0 = drawing.state.twist_deg
    reach = reachable_twist_deg(drawing.state.model, dict(spec.spine.mobility))
    t1 = next(t for t in (t0 + 20.0, t0 - 20.0, t0 + reach / 2, t0 - reach / 2) if abs(t) < reach)
    moved_spec = replace(spec, load=LoadSpec(twist_deg=t1, torque_nm=None), maneuver=None)
    return describe_panel(moved_spec, solve_panel(moved_spec), 1.0, 16 / 9, theme)


_STILL = np.zeros(3)
_PART_T_MM = 0.005
"""Finest step a part's stored translation takes, mm (coarser only past 160 mm)."""


def _sweep(model, twist_deg: np.ndarray, mobility: dict, parts: list) -> dict:
    """Solve ``twist_deg`` (N,) as :func:`spine3d.sweep`, and pose rib cage ``parts``.

    ``parts`` are ``(name, level it moves with)``. Returns the sweep's arrays, with
    ``part_offsets`` (N, P, 4, 4), each part's pose relative to its level's, and
    ``part_axial_deg`` (N, P), its axial rotation on that level.
    """
    names = ("rotation_deg", "poses", "facet_gap_mm", "torque_nm")
    n = len(twist_deg)
    if not parts:
        sw = sweep(model, twist_deg, mobility=mobility)
        out = {k: getattr(sw, k) for k in names}
        return out | {"part_offsets": np.zeros((n, 0, 4, 4)), "part_axial_deg": np.zeros((n, 0))}
    solved = [spine3d.solve(model, twist_deg=float(t), mobility=mobility) for t in twist_deg]
    out = {k: np.array([getattr(st, k) for st in solved]) for k in names}
    out["part_offsets"] = np.array(
        [[_relative(st.pose(lv), st.part_poses[name]) for name, lv in parts] for st in solved]
    )
    out["part_axial_deg"] = np.array(
        [[float(st.part_rotation3_deg.get(name, _STILL)[2]) for name, _ in parts] for st in solved]
    )
    return out


def _follows(before: np.ndarray, after: np.ndarray, poses) -> int | None:
    """Return which vertebra points or a transform move with: its index, -1 for none.

    ``before`` and ``after`` are (4, 4) transforms or (k, 4) homogeneous points in two
    states; ``poses`` the shown vertebrae's (pose before, pose after). None when they
    neither stay put nor move rigidly with a vertebra (e.g. the twist arrow).
    """
    if np.allclose(before, after, atol=1e-6):
        return -1
    for v, (p0, p1) in enumerate(poses):
        if np.allclose(_relative(p0, before), _relative(p1, after), atol=1e-6):
            return v
    return None


def _attachments(spec, drawing, levels: list[str], theme: Theme) -> dict[str, list]:
    """Return, for the meshes, lines and labels of ``drawing``, the vertebra each follows.

    A vertebra follows itself, a level label its level, a ghost nothing (-1). Anything
    else (a rib, the pelvis, a facet plane's trace and its angle) is compared with a
    drawing under another twist: it follows the vertebra relative to which it
    did not move, or nothing if it did not move at all; None if neither (it is left out).
    """
    index = {lv: i for i, lv in enumerate(levels)}
    meshes = [-1 if m.role == "ghost" else index.get(m.level, -2) for m in drawing.meshes]
    level_labels = [
        next((index[lv] for lv in levels if _names_level(lb.text, lv)), -2) for lb in drawing.labels
    ]
    out = {"meshes": meshes, "lines": [-2] * len(drawing.lines), "labels": level_labels}
    if all(v != -2 for group in out.values() for v in group):
        return out
    moved = _moved(spec, drawing, theme)
    state0 = drawing.state
    poses = [(np.asarray(state0.pose(lv)), np.asarray(moved.state.pose(lv))) for lv in levels]

    def points(p):
        p = np.atleast_2d(np.asarray(p, dtype=float))
        return np.hstack([p, np.ones((len(p), 1))]).T

    pairs = {
        "meshes": [
            (a.transform, b.transform) for a, b in zip(drawing.meshes, moved.meshes, strict=False)
        ],
        "lines": [
            (points(a.points), points(b.points))
            for a, b in zip(drawing.lines, moved.lines, strict=False)
        ],
        "labels": [
            (points(a.position), points(b.position))
            for a, b in zip(drawing.labels, moved.labels, strict=False)
        ],
    }
    for group, found in out.items():
        if len(getattr(moved, group)) != len(found):  # it draws other things: leave them
            out[group] = [v if v != -2 else None for v in found]
            continue
        for k, v in enumerate(found):
            if v == -2:
                found[k] = _follows(*pairs[group][k], poses)
    return out


def page_data(scene: SceneSpec, panel: int = 0, theme: Theme = DEFAULT_THEME) -> PageData:
    """Solve every state and slider position the page covers; pack meshes and poses.

    Parameters
    ----------
    scene : SceneSpec
    panel : int, default: 0
        Which panel of the scene the page shows.
    theme : Theme, default: DEFAULT_THEME

    Returns
    -------
    PageData
    """
    spec = scene.panels[panel]
    fig = describe(scene, theme)
    drawing = fig.panels[panel]
    state0 = drawing.state
    model = state0.model
    levels = list(spec.spine.levels)
    level_index = {lv: i for i, lv in enumerate(levels)}
    all_levels = model.level_names
    pose_rows = [all_levels.index(model.vertebra(lv).name) for lv in levels]
    joints = model.joints
    shown_seg = [i for i, j in enumerate(joints) if j.upper in level_index]
    states, state_table = _states(spec, [joints[i].name for i in shown_seg])

    # A very stiff state may not reach the slider's ends before a segment fails: it is
    # solved as far as it reaches, and the page stops its slider there.
    reach = [min(reachable_twist_deg(model, m), TWIST_GRID_DEG[-1]) for m in states]
    # Rib cage parts the mechanics poses: each rides on its vertebra with its own offset
    # per pose, and a rib takes its own colour (see describe's rule).
    parts = context_parts(spec.spine.bones)
    posed = [
        (b, item.level, parts[item.level][1])
        for b, item in enumerate(drawing.meshes)
        if item.role == "context" and item.level in state0.part_poses
    ]
    sweeps = []
    for m, r in zip(states, reach, strict=True):
        inside = np.abs(TWIST_GRID_DEG) <= r
        sw = _sweep(model, TWIST_GRID_DEG[inside], m, [(n, lv) for _, n, lv in posed])
        rows = np.clip(np.cumsum(inside) - 1, 0, inside.sum() - 1)  # beyond: the last row
        sweeps.append({k: v[rows] for k, v in sw.items()})
    rotation = np.stack([s["rotation_deg"] for s in sweeps])  # (S, G, n)
    poses = np.stack([s["poses"] for s in sweeps])[:, :, pose_rows]  # (S, G, m, 4, 4)
    gaps = np.stack([s["facet_gap_mm"] for s in sweeps])  # (S, G, 2, n)
    torque = np.stack([s["torque_nm"] for s in sweeps])
    part_offsets = np.stack([s["part_offsets"] for s in sweeps])  # (S, G, P, 4, 4)
    part_axial = np.stack([s["part_axial_deg"] for s in sweeps])  # (S, G, P)

    view = spec.view
    peak = (
        np.abs(rotation[:, :, shown_seg]).max(axis=2) if shown_seg else np.zeros(rotation.shape[:2])
    )
    clim = np.vectorize(nice_ceiling, otypes=[float])(peak)
    blob = _Blob()

    # Bones: a vertebra follows its own pose, any other bone the vertebra it moves with
    # (found by describing the panel under another twist), a ghost stays where it is.
    meshes_needed = sorted({m.level for m in drawing.meshes})
    geometry = load_meshes(meshes_needed, mesh_dir=spec.spine.bones)
    mesh_entries = {lv: _quantise(geometry[lv], blob) | {"name": lv} for lv in meshes_needed}
    mesh_ids = {lv: k for k, lv in enumerate(meshes_needed)}
    follows = _attachments(spec, drawing, levels, theme)
    seg_of = {joints[i].upper: i for i in shown_seg}
    bones, coloured = [], []
    part_of = {b: (p, level) for p, (b, _, level) in enumerate(posed)}
    for b, (item, parent) in enumerate(zip(drawing.meshes, follows["meshes"], strict=True)):
        if b in part_of:  # posed per pose, on the vertebra it moves with
            parent = level_index[part_of[b][1]]
        if parent is None:
            parent = -1
        if parent < 0:
            offset = item.transform
        else:
            offset = _relative(np.asarray(state0.pose(levels[parent])), item.transform)
        if item.role == "bone" and view.color_by == "segment_rotation" and item.level in seg_of:
            coloured.append((len(bones), seg_of[item.level]))
        bones.append(
            {
                "name": item.level,
                "role": item.role,
                "mesh": mesh_ids[item.level],
                "parent": parent,
                "offset": np.asarray(offset).T.ravel().tolist(),
                "color": _hex(item.color),
                "opacity": item.opacity,
            }
        )
    # Per-pose bone colours (the figure's colour map at the figure's limit).
    bone_rgb = np.tile(
        np.array([hex_to_rgb(b["color"]) for b in bones]), (*rotation.shape[:2], 1, 1)
    )
    for b, seg in coloured:
        bone_rgb[:, :, b] = colormap(theme.rotation_cmap, np.abs(rotation[:, :, seg]) / clim)
    if view.color_by == "segment_rotation":
        for b, (p, _) in part_of.items():
            if drawing.meshes[b].value is not None:  # a rib, coloured by its own rotation
                bone_rgb[:, :, b] = colormap(
                    theme.rotation_cmap, np.abs(part_axial[:, :, p]) / clim
                )
    bone_rgb[:, :, [b for b, bone in enumerate(bones) if bone["role"] == "ghost"]] = hex_to_rgb(
        theme.bone
    )

    markers = []
    marker_rgb = []
    for mk in drawing.markers:
        j = model.joint(mk.joint)
        parent = level_index[j.lower]
        place = np.eye(4)
        place[:3, :3] *= mk.radius_mm
        place[:3, 3] = mk.centre
        offset = _relative(np.asarray(state0.pose(j.lower)), place)
        markers.append(
            {
                "joint": mk.joint,
                "side": mk.side,
                "parent": parent,
                "offset": offset.T.ravel().tolist(),
            }
        )
        if view.color_by == "facet_gap":
            g = gaps[:, :, ("left", "right").index(mk.side), joints.index(j)]
            marker_rgb.append(_gap_bar(theme).colors(g))
        else:
            marker_rgb.append(np.broadcast_to(hex_to_rgb(theme.facet), (*rotation.shape[:2], 3)))
    marker_rgb = np.stack(marker_rgb, axis=2) if markers else np.zeros((*rotation.shape[:2], 0, 3))

    # Labels: a level's text follows the state (restricted, hypermobile); others are fixed.
    labels = []
    for lb, parent in zip(drawing.labels, follows["labels"], strict=True):
        if parent is None:
            continue
        frame = np.asarray(state0.pose(levels[parent])) if parent >= 0 else np.eye(4)
        local = np.linalg.solve(frame, [*lb.position, 1.0])[:3].tolist()
        is_level = parent >= 0 and _names_level(lb.text, levels[parent])
        labels.append(
            {
                "level": levels[parent] if is_level else None,
                "text": lb.text,
                "color": _hex(lb.color),
                "parent": parent,
                "local": local,
            }
        )
    lines = []
    for ln, parent in zip(drawing.lines, follows["lines"], strict=True):
        if parent is None:
            continue
        frame = np.asarray(state0.pose(levels[parent])) if parent >= 0 else np.eye(4)
        pts = np.linalg.solve(frame, np.hstack([ln.points, np.ones((len(ln.points), 1))]).T).T
        lines.append(
            {
                "parent": parent,
                "points": pts[:, :3].ravel().tolist(),
                "color": _hex(ln.color),
                "width": ln.width,
            }
        )

    cameras = {}
    aspect = 16 / 9
    for c in CAMERAS:
        # The page draws no twist arrow (its readout says the direction): frame the bones.
        v = replace(view, camera=c, position=None, focal_point=None, up=None, twist_axis=False)
        cam = describe_panel(replace(spec, view=v), state0, 1.0, aspect, theme).view
        cameras[c] = {
            "position": cam.position.tolist(),
            "focal": cam.focal_point.tolist(),
            "up": cam.up.tolist(),
            "fov": cam.view_angle_deg,
        }
    start_camera = view.camera
    if view.position is not None:
        cameras["scene"] = {
            "position": drawing.view.position.tolist(),
            "focal": drawing.view.focal_point.tolist(),
            "up": drawing.view.up.tolist(),
            "fov": drawing.view.view_angle_deg,
        }
        start_camera = "scene"

    factors = dict(mobility_states())
    state_labels = []
    for mob in states:
        named = {k: (v if isinstance(v, str) else mobility_label(float(v))) for k, v in mob.items()}
        state_labels.append([named.get(joints[i].name, "normal") for i in range(len(joints))])
    colorbar = None
    if view.color_by == "segment_rotation":
        ticks = {}
        for c in np.unique(clim):
            bar = ColorBar("", (0.0, float(c)), theme.rotation_cmap)
            ticks[f"{c:g}"] = np.round(np.linspace(0.0, c, bar.n_labels), 10).tolist()
        colorbar = {
            "title": "segment rotation (°)",
            "stops": _stops(ColorBar("", (0.0, 1.0), theme.rotation_cmap)),
            "ticks": ticks,
        }
    elif view.color_by == "facet_gap":
        bar = _gap_bar(theme)
        colorbar = {
            "title": "facet gap (mm)",
            "stops": _stops(bar),
            "fixed": list(theme.gap_range_mm),
            "ticks": {"fixed": np.round(np.linspace(*bar.clim, bar.n_labels), 10).tolist()},
        }

    start_twist = float(np.clip(np.round(state0.twist_deg), TWIST_GRID_DEG[0], TWIST_GRID_DEG[-1]))
    arrays = {
        # Rotations as unit quaternions in 16 bits (under 0.01 degrees of error),
        # translations as float32 mm.
        "poseQuat": blob.add(np.round(_quaternions(poses[..., :3, :3]) * 32767).astype(np.int16)),
        "poseT": blob.add(poses[..., :3, 3].astype(np.float32)),
        "rotation": blob.add(rotation.astype(np.float32)),
        "torque": blob.add(torque.astype(np.float32)),
        "clim": blob.add(clim.astype(np.float32)),
        "boneColors": blob.add(np.round(bone_rgb * 255).astype(np.uint8)),
        "markerColors": blob.add(np.round(marker_rgb * 255).astype(np.uint8)),
    }
    # Part poses change little from one slider position to the next: 16-bit integers,
    # each the difference from the same part's one position before, deflate well.
    n_parts = part_offsets.shape[2]
    part_quat = np.round(_quaternions(part_offsets[..., :3, :3]) * 32767).astype(np.int16)
    part_t = part_offsets[..., :3, 3]
    t_scale = max(float(np.abs(part_t).max(initial=0.0)) / 32767, _PART_T_MM)
    part_packed = {}
    for name, values, width in (
        ("quat", part_quat, 4),
        ("t", np.round(part_t / t_scale).astype(np.int16), 3),
    ):
        planes, head = _delta_planes(values.view(np.uint16), max(n_parts * width, 1))
        part_packed[name] = blob.add(planes) | head
    part_packed["tScale"] = t_scale
    meta = {
        "title": scene.title,
        "caption": scene.caption,
        "panelTitle": drawing.title,
        "note": (
            "The page shows this spine under a static twist; the manoeuvre over time is in "
            "spine3d animate and spine3d simulate."
            if spec.maneuver is not None
            else ""
        ),
        "credit": (
            f"Made with spine3d {spine3d.__version__} from {Path(scene.source).name}: every pose "
            f"was solved by the spine3d solver when this page was written. 3D view: three.js "
            f"{THREE_VERSION} (MIT licence). {_bone_credit(spec.spine.bones)}"
        ),
        "levels": levels,
        "segments": [{"name": j.name, "upper": j.upper, "lower": j.lower} for j in joints],
        "shownSegments": shown_seg,
        "grid": {"min": float(TWIST_GRID_DEG[0]), "step": 1.0, "count": len(TWIST_GRID_DEG)},
        "startTwist": start_twist,
        "states": [
            {k: (v if isinstance(v, str) else float(v)) for k, v in m.items()} for m in states
        ],
        "stateLabels": state_labels,
        "reachDeg": [float(r) for r in reach],
        "stateTable": state_table,
        "cycle": list(STATES),
        "factors": factors,
        "meshes": [mesh_entries[lv] for lv in meshes_needed],
        "bones": bones,
        "parts": [b for b, _, _ in posed],
        "partPoses": part_packed,
        "markers": markers,
        "labels": labels,
        "lines": lines,
        "cameras": cameras,
        "camera": start_camera,
        "colorBy": view.color_by,
        "colorbar": colorbar,
        "chart": bool(view.chart and shown_seg),
        "background": scene.background,
        "theme": {
            "text": theme.text,
            "restricted": theme.restricted,
            "hypermobile": theme.hypermobile,
            "neutralBar": theme.neutral_bar,
            "facet": theme.facet,
        },
        "arrays": arrays,
    }
    return PageData(meta=meta, blob=blob.bytes(), rotation_deg=rotation, poses=poses)


def _asset(name: str) -> str:
    return resources.files(_ASSETS).joinpath(name).read_text(encoding="utf-8")


def page_html(data: PageData) -> str:
    """Return the whole page: markup, styles, three.js, the page script and the data."""
    # Level 6: level 9 takes eight times as long for 0.4% less.
    packed = base64.b64encode(zlib.compress(data.blob, 6)).decode("ascii")
    meta = json.dumps(data.meta, separators=(",", ":")).replace("</", "<\\/")
    title = html.escape(data.meta["title"] or "spine3d")
    parts = {
        "TITLE": title,
        "STYLE": _asset("page/page.css"),
        "THREE": _asset("vendor/three.min.js"),
        "SCRIPT": _asset("page/page.js"),
        "META": meta,
        "DATA": packed,
    }
    # One pass, so that nothing inserted is read as a placeholder.
    return re.sub(r"\{\{([A-Z]+)\}\}", lambda m: parts[m.group(1)], _asset("page/page.html"))


def write_page(scene: SceneSpec, out: Path, panel: int = 0, theme: Theme = DEFAULT_THEME) -> int:
    """Write the page of ``scene`` to ``out`` atomically; return its size in bytes."""
    text = page_html(page_data(scene, panel, theme)).encode("utf-8")
    write_atomic(Path(out), text)
    return len(text)
