"""Load and validate scene files (TOML) into a :class:`~spine3d.scene.spec.SceneSpec`.

Every problem is one :class:`~spine3d.errors.SpineInputError` line naming the file,
the key and what is allowed; unknown keys are errors, with a did-you-mean.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import stat
import tomllib
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..anatomy import SEGMENTS, check_rib_state, levels_between, load_model
from ..errors import MeshFileError, SpineInputError, UnreachableTwistError
from ..mechanics import mobility_factors, solve
from ..mechanics.maneuver import CONTACT_LANDMARKS, THRUST_KEYS, TWIST_KEYS, Maneuver
from .models import spine_model
from .schema import FIGURE_VIEW_KEYS, SCHEMA, Key
from .spec import LoadSpec, PanelSpec, PopulationSpec, SceneSpec, SpineSpec, ViewSpec
from .theme import THEMES, min_height_px

__all__ = [
    "DEFAULT_SCENE",
    "MAX_SCENE_BYTES",
    "check_pack",
    "default_scene_path",
    "load_scene",
    "parse_scene",
    "resolve_scene",
    "shipped_scenes",
    "with_bones",
    "with_ribs",
]

DEFAULT_SCENE = "self_twist"
"""The scene the viewer opens without an argument (the whole column under a self-twist)."""

MAX_SCENE_BYTES = 4 * 1024 * 1024
"""Largest scene file read, bytes: a scene is a page of text, never megabytes."""


def _scenes_dir() -> Path:
    from importlib import resources

    return Path(str(resources.files("spine3d.scenes_data")))


def default_scene_path() -> Path:
    """Return the path of the shipped default scene (installed with the package)."""
    return _scenes_dir() / f"{DEFAULT_SCENE}.toml"


def shipped_scenes() -> dict[str, Path]:
    """Return the scenes shipped with the package, ``{name: path}``, sorted by name."""
    return {p.stem: p for p in sorted(_scenes_dir().glob("*.toml"))}


def resolve_scene(path: str | Path) -> Path:
    """Return the file a scene argument names: a path, or a shipped scene's name.

    ``"self_twist"`` (or ``"self_twist.toml"``) names the shipped scene when no such
    file exists here; anything with a folder in it is always a path.
    """
    p = Path(path)
    if p.exists() or os.sep in str(path) or (os.altsep and os.altsep in str(path)):
        return p
    shipped = shipped_scenes()
    name = p.stem if p.suffix == ".toml" else p.name
    return shipped.get(name, p)


_COLOUR = re.compile(r"^(#[0-9a-fA-F]{6}|[a-zA-Z]+)$")


def _colour_ok(value: str) -> bool:
    """Tell whether the renderer draws this colour: ``#rrggbb`` or a name matplotlib knows."""
    from matplotlib.colors import is_color_like

    return bool(_COLOUR.match(value)) and is_color_like(value)


_SECTIONS = ("spine", "load", "view")


def _fail(where: str, key: str, value: Any, allowed: str) -> SpineInputError:
    return SpineInputError(f"{where}: {key} = {_show(value)}: expected {allowed}")


def _show(value: Any, limit: int = 40) -> str:
    """Show a value in a message, shortened: a 400-digit number must not fill the screen."""
    if isinstance(value, str) and len(value) > 60:
        return f'"{value[:40]}... ({len(value)} characters)"'
    if isinstance(value, str):
        text = f'"{value}"'
    elif isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, int) and value.bit_length() > 3.33 * limit:
        # str() of an integer of thousands of digits raises: count them from the bits.
        digits = math.floor(math.log10(abs(value))) + 1
        digits -= abs(value) < 10 ** (digits - 1)  # log10 of 99...9 rounds up to a power of 10
        return f"a {digits}-digit integer"
    else:
        try:
            text = repr(value)
        except (ValueError, RecursionError):  # too many digits, or nested too deep
            text = f"a {type(value).__name__}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _home(key: str, section: str) -> str | None:
    """Return the table a misplaced key belongs in (``"[load]"``, ``"top level"``), if any."""
    for s, keys in SCHEMA.items():
        if key in keys and s != section and s != "panel":
            return f"[{s}]" if s else "the top level"
    return None


def _unknown(where: str, section: str, key: str, allowed: list[str]) -> SpineInputError:
    where_key = f"[{section}] {key}" if section else key
    home = _home(key, section.rpartition(".")[2] if section else "")
    if home is not None:
        return SpineInputError(
            f"{where}: unknown key {where_key}: {key} belongs in {home}; "
            f"allowed here: {', '.join(allowed)}"
        )
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return SpineInputError(
        f"{where}: unknown key {where_key}{hint}: allowed keys are {', '.join(allowed)}"
    )


def _value(where: str, label: str, key: Key, value: Any) -> Any:
    t = key.type
    if t == "str":
        if not isinstance(value, str) or (key.high is not None and len(value) > key.high):
            raise _fail(where, label, value, key.allowed())
        return value
    if t == "bool":
        if not isinstance(value, bool):
            raise _fail(where, label, value, key.allowed())
        return value
    if t in ("int", "float"):
        ok = isinstance(value, int) if t == "int" else isinstance(value, int | float)
        try:
            finite = ok and math.isfinite(value)
        except OverflowError:  # an integer too large for a float
            finite = False
        if isinstance(value, bool) or not finite:
            raise _fail(where, label, value, key.allowed())
        if key.low is not None and not key.low <= value <= key.high:
            raise _fail(where, label, value, key.allowed())
        return value if t == "int" else float(value)
    if t == "choice":
        if value not in key.choices:
            raise _fail(where, label, value, key.allowed())
        return value
    if t == "ribs":
        if value is True:  # the older bool key: draw the rib cage, i.e. the default
            return "intact"
        if value is False:
            return "none"
        if value not in key.choices:
            raise _fail(where, label, value, key.allowed())
        return value
    if t == "vec3":
        if (
            not isinstance(value, list)
            or len(value) != 3
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
            or not all(math.isfinite(v) and abs(v) <= 1e6 for v in value)
        ):
            raise _fail(where, label, value, key.allowed())
        return tuple(float(v) for v in value)
    if t == "levels":
        if not isinstance(value, str):
            raise _fail(where, label, value, key.allowed())
        try:
            return levels_between(value)
        except SpineInputError as exc:
            raise SpineInputError(f"{where}: {label} = {_show(value)}: {exc}") from None
    if t == "mobility":
        if not isinstance(value, dict):
            raise _fail(where, label, value, key.allowed())
        for segment, state in value.items():  # float() of a 400-digit integer overflows
            if isinstance(state, int) and not isinstance(state, bool) and state.bit_length() > 64:
                raise _fail(where, f"{label}.{segment}", state, "a factor from 0.02 to 20")
        try:
            mobility_factors(value)
        except SpineInputError as exc:
            raise SpineInputError(f"{where}: {label}: {exc}") from None
        return dict(value)
    if t == "facets":
        if not isinstance(value, dict):
            raise _fail(where, label, value, key.allowed())
        try:
            load_model(facets=value)
        except SpineInputError as exc:
            raise SpineInputError(f"{where}: {label}: {exc}") from None
        return {k: dict(v) for k, v in value.items()}
    if t == "pack":
        if not isinstance(value, str) or not value.strip():
            raise _fail(where, label, value, key.allowed())
        return check_pack(Path(where).parent / value, f"{where}: {label} = {_show(value)}")
    raise AssertionError(t)


_PACK = "expected a bone pack written by `spine3d import`"
_DISC_SIZES = ("disc_height_mm", "disc_width_mm", "disc_depth_mm")


def check_pack(path: str | Path, what: str) -> str:
    """Return the absolute path of a bone pack's folder, after checking it is one.

    Parameters
    ----------
    path : str or Path
        The folder (``~`` expands).
    what : str
        Where it was named, to start an error line (``"scene.toml: [spine] bones = ..."``).

    Raises
    ------
    SpineInputError
        If it is not a folder with a readable manifest of measured bones.
    """
    from ..geometry import load_manifest

    p = Path(path).expanduser()
    if not p.is_dir():
        raise SpineInputError(f"{what}: no such folder: {_PACK}")
    try:
        manifest = load_manifest(p)
    except MeshFileError:
        raise SpineInputError(f"{what}: {p} has no readable manifest.json: {_PACK}") from None
    if manifest.get("format") != 2 or not isinstance(manifest.get("joints"), dict):
        raise SpineInputError(f"{what}: {p}/manifest.json is not of measured bones: {_PACK}")
    if not isinstance(manifest.get("parts", {}), dict):
        raise SpineInputError(f"{what}: {p}/manifest.json: parts is not a table: {_PACK}")
    try:  # NaN or infinity would reach the solver as a spine that cannot move
        json.dumps(manifest["joints"], allow_nan=False)
    except ValueError:
        raise SpineInputError(
            f"{what}: {p}/manifest.json: a joint holds NaN or infinity: {_PACK}"
        ) from None
    for name, joint in manifest["joints"].items():
        sizes = [joint.get(k) for k in _DISC_SIZES] if isinstance(joint, dict) else []
        if any(isinstance(v, int | float) and v <= 0 for v in sizes):
            raise SpineInputError(
                f"{what}: {p}/manifest.json: joint {name} has a disc size <= 0 mm: {_PACK}"
            )
    try:  # the joints, levels and credit the model reads from it
        load_model(bones=str(p.resolve()))
    except SpineInputError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:
        why = f"no {exc}" if isinstance(exc, KeyError) else _show(str(exc), 60)[1:-1]
        raise SpineInputError(f"{what}: {p}/manifest.json is malformed ({why}): {_PACK}") from None
    return str(p.resolve())


def _pack_covers(what: str, spine: SpineSpec, ribs_text: str | None = None) -> None:
    """Refuse levels, or context bones asked for by name, that the spine's pack lacks.

    ``ribs_text`` is how the rib cage was asked for (``ribs = true``), for the message.
    """
    if spine.bones is None:
        return
    from ..geometry import load_manifest

    manifest = load_manifest(Path(spine.bones))
    has = [lv for lv in manifest["levels"]]
    missing = [lv for lv in spine.levels if lv not in has]
    if missing:
        raise SpineInputError(
            f"{what} levels = {spine.levels[0]}-{spine.levels[-1]}: the bone pack "
            f"{spine.bones} has no {', '.join(missing)} (it has {', '.join(has)})"
        )
    kinds = {part.get("kind") for part in manifest.get("parts", {}).values()}
    if spine.ribs not in (None, "none") and "rib" not in kinds:
        asked = ribs_text or f"ribs = {_show(spine.ribs)}"
        raise SpineInputError(
            f"{what} {asked}: the bone pack {spine.bones} has no rib cage (an imported "
            'pack holds vertebrae only); leave ribs out or set it "none"'
        )
    if spine.pelvis and "pelvis" not in kinds:
        raise SpineInputError(
            f"{what} pelvis = true: the bone pack {spine.bones} has no pelvis (an imported "
            "pack holds vertebrae only); leave pelvis out or set it false"
        )


def _section(where: str, name: str, table: Any, label: str, keys: dict[str, Key]) -> dict:
    if not isinstance(table, dict):
        raise SpineInputError(f"{where}: [{label}] must be a table")
    out = {}
    for k, v in table.items():
        if k not in keys:
            raise _unknown(where, label, k, list(keys))
        out[k] = _value(where, f"[{label}] {k}", keys[k], v)
    return out


def _view(d: dict) -> ViewSpec:
    keys = SCHEMA["view"]
    get = lambda k: d.get(k, keys[k].default)  # noqa: E731
    return ViewSpec(
        camera=get("camera"),
        position=get("position"),
        focal_point=get("focal_point"),
        up=get("up"),
        zoom=get("zoom"),
        color_by=get("color_by"),
        labels=get("labels"),
        facets=get("facets"),
        facet_planes=get("facet_planes"),
        ghost=get("ghost"),
        twist_axis=get("twist_axis"),
        chart=get("chart"),
        azimuth_deg=get("azimuth_deg"),
        elevation_deg=get("elevation_deg"),
        distance_mm=get("distance_mm"),
        axes=get("axes"),
        forces=get("forces"),
    )


_AXIS_PAIRS = (
    ("twist_deg", "torque_nm"),
    ("flexion_deg", "moment_flexion_nm"),
    ("lateral_deg", "moment_lateral_nm"),
)
"""Per axis, the angle and the moment that control it: one or the other."""


def _load(where: str, label: str, d: dict) -> LoadSpec:
    for angle, moment in _AXIS_PAIRS:
        if angle in d and moment in d:
            raise SpineInputError(f"{where}: [{label}] give {angle} or {moment}, not both")
    given = {k for pair in _AXIS_PAIRS for k in pair} & set(d)
    twist = d.get("twist_deg")
    if not given:  # no load named: the default twist
        twist = SCHEMA["load"]["twist_deg"].default
    return LoadSpec(
        twist_deg=twist,
        torque_nm=d.get("torque_nm"),
        flexion_deg=d.get("flexion_deg"),
        lateral_deg=d.get("lateral_deg"),
        moment_flexion_nm=d.get("moment_flexion_nm"),
        moment_lateral_nm=d.get("moment_lateral_nm"),
        follower_n=d.get("follower_n", SCHEMA["load"]["follower_n"].default),
    )


def _camera_complete(where: str, label: str, view: dict) -> None:
    custom = [k for k in ("position", "focal_point", "up") if view.get(k) is not None]
    if custom and len(custom) != 3:
        raise SpineInputError(
            f"{where}: [{label}] a custom camera needs position, focal_point and up together"
        )
    if custom:
        look = [f - p for f, p in zip(view["focal_point"], view["position"], strict=True)]
        n_look = math.sqrt(sum(x * x for x in look))
        n_up = math.sqrt(sum(x * x for x in view["up"]))
        if n_look < 1.0:
            raise SpineInputError(
                f"{where}: [{label}] position = {list(view['position'])}: the camera must "
                "stand at least 1 mm from its focal_point"
            )
        cross = [
            look[1] * view["up"][2] - look[2] * view["up"][1],
            look[2] * view["up"][0] - look[0] * view["up"][2],
            look[0] * view["up"][1] - look[1] * view["up"][0],
        ]
        if n_up == 0 or math.sqrt(sum(x * x for x in cross)) < 0.01 * n_look * n_up:
            raise SpineInputError(
                f"{where}: [{label}] up = {list(view['up'])}: expected a direction that is "
                "not zero and not along the line from position to focal_point"
            )
        if "azimuth_deg" in view or "distance_mm" in view:
            raise SpineInputError(
                f"{where}: [{label}] give position/focal_point/up or azimuth_deg/"
                "elevation_deg/distance_mm, not both"
            )


def parse_scene(data: dict, where: str, name: str = "scene") -> SceneSpec:
    """Validate a parsed scene table (see :func:`load_scene`)."""
    top_keys = list(SCHEMA[""]) + list(_SECTIONS) + ["panel", *_SCENE_TABLES]
    for k in data:
        if k not in top_keys:
            raise _unknown(where, "", k, top_keys)
    top = {k: _value(where, k, SCHEMA[""][k], data[k]) for k in SCHEMA[""] if k in data}
    sections = {s: _section(where, s, data.get(s, {}), s, SCHEMA[s]) for s in _SECTIONS}
    _camera_complete(where, "view", sections["view"])
    _load(where, "load", sections["load"])
    for k, v in sections["view"].items():
        if k == "background" and not _colour_ok(v):
            raise _fail(
                where, "[view] background", v, "a colour name (white, black, ...) or #rrggbb"
            )

    maneuver, at_ms = _maneuver(where, data.get("maneuver"), "maneuver")
    raw_panels = data.get("panel", [{}])
    if (
        not isinstance(raw_panels, list)
        or not raw_panels
        or not all(isinstance(p, dict) for p in raw_panels)
    ):
        raise SpineInputError(f"{where}: [[panel]] must be one or more tables")
    if len(raw_panels) > 4:
        raise SpineInputError(f"{where}: [[panel]] at most 4 panels, got {len(raw_panels)}")
    panels = []
    ribs_asked = []  # how each panel's rib cage was asked for, for a pack's message
    maneuver_labels = []  # where each panel's manoeuvre was given, for messages
    for i, raw in enumerate(raw_panels, start=1):
        label = f"panel {i}"
        allowed = list(SCHEMA["panel"]) + list(_SECTIONS) + ["maneuver"]
        for k in raw:
            if k in _SCENE_TABLES and k != "maneuver":
                raise SpineInputError(
                    f"{where}: [{label}] {k}: [{k}] is a table of the whole scene, not of a "
                    f"panel; give it once, at the top level"
                )
            if k not in allowed:
                raise _unknown(where, label, k, allowed)
        title = _value(where, f"[{label}] title", SCHEMA["panel"]["title"], raw.get("title", ""))
        panel_view_keys = {k: v for k, v in SCHEMA["view"].items() if k not in FIGURE_VIEW_KEYS}
        over = {
            "spine": _section(
                where, "spine", raw.get("spine", {}), f"{label}.spine", SCHEMA["spine"]
            ),
            "load": _section(where, "load", raw.get("load", {}), f"{label}.load", SCHEMA["load"]),
            "view": _section(where, "view", raw.get("view", {}), f"{label}.view", panel_view_keys),
        }
        spine = {**sections["spine"], **over["spine"]}
        raw_spine = {**data.get("spine", {}), **raw.get("spine", {})}
        ribs_asked.append(f"ribs = {_show(raw_spine['ribs'])}" if "ribs" in raw_spine else None)
        load = over["load"] or sections["load"]
        view = {**sections["view"], **over["view"]}
        _camera_complete(where, f"{label}.view", view)
        panel_maneuver, panel_at = (maneuver, at_ms)
        maneuver_labels.append("maneuver")
        if "maneuver" in raw:
            panel_maneuver, panel_at = _maneuver(where, raw["maneuver"], f"{label}.maneuver")
            maneuver_labels[-1] = f"{label}.maneuver"
        panels.append(
            PanelSpec(
                title=title,
                spine=SpineSpec(
                    levels=spine.get("levels", levels_between(SCHEMA["spine"]["levels"].default)),
                    mobility=spine.get("mobility", {}),
                    facets=spine.get("facets", {}),
                    ribs=spine.get("ribs"),
                    pelvis=spine.get("pelvis"),
                    bones=spine.get("bones"),
                ),
                load=_load(where, f"{label}.load", load),
                view=_view(view),
                maneuver=panel_maneuver,
                at_ms=panel_at,
            )
        )
    for i, (panel, asked) in enumerate(zip(panels, ribs_asked, strict=True), start=1):
        _pack_covers(
            f"{where}: [{'spine' if len(panels) == 1 else f'panel {i}.spine'}]",
            panel.spine,
            asked,
        )
        label = "load" if len(panels) == 1 else f"panel {i}.load"
        _reachable(where, label, panel, maneuver_labels[i - 1])
    schedule = None
    if "schedule" in data:
        if maneuver is None:
            raise SpineInputError(f"{where}: [schedule] needs a [maneuver] to repeat")
        sch = _section(where, "schedule", data["schedule"], "schedule", SCHEMA["schedule"])
        schedule = (
            sch.get("sessions", SCHEMA["schedule"]["sessions"].default),
            sch.get("interval_min", SCHEMA["schedule"]["interval_min"].default),
        )
    population = _population(where, data, panels, schedule)
    anim = _section(where, "animation", data.get("animation", {}), "animation", SCHEMA["animation"])
    animation = {k: anim.get(k, key.default) for k, key in SCHEMA["animation"].items()}
    if animation["kind"] == "maneuver" and all(p.maneuver is None for p in panels):
        raise SpineInputError(f'{where}: [animation] kind = "maneuver" needs a [maneuver]')
    view = sections["view"]
    get = lambda k: view.get(k, SCHEMA["view"][k].default)  # noqa: E731
    font_pt = top.get("font_pt", SCHEMA[""]["font_pt"].default)
    least = min_height_px(get("width"), font_pt)
    if get("height") < least:
        raise SpineInputError(
            f"{where}: [view] width = {get('width')}, height = {get('height')}: too flat to "
            f"hold its text at {font_pt:g} pt: at least {least} pixels high for that width"
        )
    return SceneSpec(
        name=name,
        source=where,
        title=top.get("title", ""),
        caption=top.get("caption", ""),
        panels=tuple(panels),
        width=get("width"),
        height=get("height"),
        transparent=get("transparent"),
        background=get("background") or THEMES[top.get("theme", "light")].background,
        maneuver=maneuver,
        at_ms=at_ms,
        schedule=schedule,
        population=population,
        animation=MappingProxyType(animation),
        theme=top.get("theme", SCHEMA[""]["theme"].default),
        language=top.get("language", SCHEMA[""]["language"].default),
        font_pt=top.get("font_pt", SCHEMA[""]["font_pt"].default),
    )


def _reachable(where: str, label: str, panel: PanelSpec, maneuver_label: str = "maneuver") -> None:
    """Refuse a load (static, or a self-twist's peak) the spine cannot reach.

    The static load is solved as every figure solves it: an accepted load is one the
    solver reaches before a segment's failure torque. A manoeuvre needs the whole
    column and, for a thrust, the process its contact pushes on
    (``maneuver_label`` names its table in messages).
    """
    model = spine_model(panel.spine.facets, panel.spine.bones, panel.spine.ribs)
    try:  # a segment the bones lack (an imported pack holds a few levels)
        mobility_factors(dict(panel.spine.mobility), model.segment_names)
    except SpineInputError as exc:
        raise SpineInputError(f"{where}: [{label.replace('load', 'spine')}] {exc}") from None
    if panel.maneuver is not None:
        _simulable(where, maneuver_label, panel.maneuver, model)
    loads = [(f"[{label}]", panel.load.solve_kwargs())]
    mv = panel.maneuver
    if mv is not None and mv.kind == "self_twist":
        loads.append(("[maneuver] peak", {"twist_deg": mv.twist_deg, "torque_nm": mv.torque_nm}))
    for k, (what, kwargs) in enumerate(loads):
        try:
            solve(model, mobility=dict(panel.spine.mobility), **kwargs)
        except UnreachableTwistError as exc:
            if k == 0 and panel.load.bending:
                raise _beyond(where, what, panel, model, exc) from None
            raise SpineInputError(f"{where}: {what} {exc}") from None


_COMPONENT_KEYS = {
    "flexion": ("flexion_deg", "moment_flexion_nm", "forward", "backward"),
    "lateral": ("lateral_deg", "moment_lateral_nm", "to the right", "to the left"),
}


def _beyond(where: str, what: str, panel: PanelSpec, model, exc) -> SpineInputError:
    """Say which bending load is out of reach, and how far this spine goes that way."""
    ld = panel.load
    names = [n for pair in _AXIS_PAIRS for n in pair if getattr(ld, n) is not None]
    given = ", ".join(f"{n} = {getattr(ld, n):g}" for n in names)
    limit = exc.max_torque_nm
    hint = f"at most ±{limit:g} N m, the failure moment of a segment"
    angles = [(c, keys) for c, keys in _COMPONENT_KEYS.items() if getattr(ld, keys[0]) is not None]
    if len(names) == 1 and angles:
        comp, (angle, _, ahead, back) = angles[0]
        value = getattr(ld, angle)
        try:
            reach = solve(
                model,
                moment_nm={comp: math.copysign(limit, value)},
                mobility=dict(panel.spine.mobility),
            ).top_rotation_deg[("flexion", "lateral").index(comp)]
            way = ahead if value > 0 else back
            hint = f"at most {abs(reach):.0f}° {way}, where a segment fails"
        except SpineInputError:
            pass
    return SpineInputError(f"{where}: {what} {given}: beyond what this spine can reach: {hint}")


def with_bones(scene: SceneSpec, pack: str | Path) -> SceneSpec:
    """Return ``scene`` with every panel on the bone pack ``pack`` (``--bones PACK``).

    Parameters
    ----------
    scene : SceneSpec
    pack : str or Path
        The pack's folder, relative to the working directory.

    Returns
    -------
    SceneSpec

    Raises
    ------
    SpineInputError
        One line naming ``--bones``, if ``pack`` is not a bone pack, lacks a level the
        scene shows or a context bone it asks for, or cannot reach the scene's load.
    """
    bones = check_pack(pack, f"--bones {pack}")
    return _every_spine(scene, f"--bones {pack}", bones=bones)


def with_ribs(scene: SceneSpec, ribs: str) -> SceneSpec:
    """Return ``scene`` with every panel's rib cage in the state ``ribs`` (``--ribs STATE``).

    Parameters
    ----------
    scene : SceneSpec
    ribs : str
        One of :data:`~spine3d.anatomy.RIB_STATES`.

    Returns
    -------
    SceneSpec

    Raises
    ------
    SpineInputError
        One line naming ``--ribs``, for an unknown state, a rib cage asked of a bone
        pack without one, or a scene load the spine cannot reach in that state.
    """
    check_rib_state(ribs, "--ribs")
    return _every_spine(scene, f"--ribs {ribs}", ribs=ribs)


def _every_spine(scene: SceneSpec, option: str, **change) -> SceneSpec:
    """Return ``scene`` with ``change`` made to every panel's spine, each checked again.

    Errors name ``option`` (``--bones PACK``, ``--ribs STATE``) before the scene.
    """
    panels = tuple(replace(p, spine=replace(p.spine, **change)) for p in scene.panels)
    where = f"{option}: {scene.source}"
    for i, panel in enumerate(panels, start=1):
        _pack_covers(
            f"{where}: [{'spine' if len(panels) == 1 else f'panel {i}.spine'}]", panel.spine
        )
        own = panel.maneuver is not None and panel.maneuver is not scene.maneuver
        _reachable(
            where,
            "load" if len(panels) == 1 else f"panel {i}.load",
            panel,
            f"panel {i}.maneuver" if own else "maneuver",
        )
    return replace(scene, panels=panels)


_SCENE_TABLES = ("maneuver", "schedule", "population", "animation")
"""Tables of the whole scene besides ``[spine]``, ``[load]`` and ``[view]``."""

_THRUST_KEYS = ("position", *THRUST_KEYS)
"""``[maneuver]`` keys of a thrust or mobilisation only (a self_twist may say standing)."""


def _maneuver(where: str, table: Any, label: str) -> tuple[Maneuver | None, float | None]:
    if table is None:
        return None, None
    if isinstance(table, dict) and "gap_side" in table:
        raise _gap_side(where, label, table["gap_side"])
    d = _section(where, "maneuver", table, label, SCHEMA["maneuver"])
    if "kind" not in d:
        kinds = ", ".join(SCHEMA["maneuver"]["kind"].choices)
        raise SpineInputError(f"{where}: [{label}] kind is required: one of {kinds}")
    kind = d["kind"]
    for k in d:
        v = table[k]  # as written, for the message
        if kind == "self_twist" and k in _THRUST_KEYS and not (k == "position" and v == "standing"):
            raise SpineInputError(
                f"{where}: [{label}] {k} = {_show(v)}: applies to a thrust or mobilisation, not "
                "a self_twist (the patient's own twist: twist_deg or torque_nm, duration_ms)"
            )
        if kind != "self_twist" and k in TWIST_KEYS:
            raise SpineInputError(
                f"{where}: [{label}] {k} = {_show(v)}: applies to a self_twist, not a {kind} "
                "(a force at a contact: target, thrust_n, preload_n, ...)"
            )
    if kind != "self_twist":
        _check_contact(where, label, kind, d)
    keys = {k: v for k, v in d.items() if k != "at_ms"}
    # The position and contact the defaults give, to judge lying_on and contact_side by.
    mv = _build_maneuver(
        where, label, {k: v for k, v in keys.items() if k not in ("lying_on", "contact_side")}
    )
    if mv.is_thrust and mv.position != "side_posture" and "lying_on" in d:
        why = ""
        if "position" not in d:
            why = f' (a thrust on {mv.target}, unless position = "side_posture")'
        raise SpineInputError(
            f"{where}: [{label}] lying_on = {_show(d['lying_on'])}: applies to side posture; "
            f"this {kind} is {mv.position}{why}"
        )
    if mv.is_thrust and mv.contact == "spinous" and "contact_side" in d:
        raise SpineInputError(
            f"{where}: [{label}] contact_side = {_show(d['contact_side'])}: applies to a "
            'mammillary or transverse contact, not contact = "spinous" (a push on the midline)'
        )
    return _build_maneuver(where, label, keys), d.get("at_ms")


def _build_maneuver(where: str, label: str, keys: dict) -> Maneuver:
    try:
        return Maneuver(**keys)
    except SpineInputError as exc:
        message = str(exc).replace("[maneuver]", f"[{label}]", 1)
        raise SpineInputError(f"{where}: {message}") from None


def _check_contact(where: str, label: str, kind: str, d: dict) -> None:
    """Refuse a thrust without a target, or a contact level or direction that cannot be."""
    if "target" not in d:
        raise SpineInputError(
            f"{where}: [{label}] target is required for a {kind}: "
            f"a segment {SEGMENTS[0]} ... {SEGMENTS[-1]}"
        )
    if d["target"] not in SEGMENTS:
        raise SpineInputError(
            f"{where}: [{label}] target = {_show(d['target'])}: expected a segment "
            f"{SEGMENTS[0]} ... {SEGMENTS[-1]} (adjacent levels, upper-lower)"
        )
    if d.get("position") == "standing":
        raise _fail(
            where,
            f"[{label}] position",
            "standing",
            f'"side_posture" or "prone" for a {kind} (standing is a self_twist\'s)',
        )
    upper, lower = d["target"].split("-")
    if "contact_level" in d and d["contact_level"] not in (upper, lower):
        raise SpineInputError(
            f"{where}: [{label}] contact_level = {_show(d['contact_level'])}: expected "
            f"{upper} or {lower} (the vertebrae of target = {_show(d['target'])})"
        )
    if "direction" in d and math.hypot(*d["direction"]) < 1e-6:
        raise _fail(
            where,
            f"[{label}] direction",
            _as_written(d["direction"]),
            SCHEMA["maneuver"]["direction"].allowed(),
        )


def _as_written(v: tuple[float, ...]) -> list[float | int]:
    """Return a vector as written in a scene (whole numbers without ``.0``), for messages."""
    return [int(x) if float(x).is_integer() else x for x in v]


def _gap_side(where: str, label: str, value: Any) -> SpineInputError:
    """Return the error for the retired ``gap_side``: the side lain on says which side gaps."""
    if value in ("left", "right"):
        other = "right" if value == "left" else "left"
        hint = (
            f'give lying_on = "{other}" (the side the patient lies on; the {value} side is then up)'
        )
    else:
        hint = 'give lying_on = "left" or "right" (the side the patient lies on; the other is up)'
    return SpineInputError(
        f"{where}: [{label}] gap_side = {_show(value)}: no longer a key: in side posture the "
        f"upper side gaps; {hint}"
    )


def _simulable(where: str, label: str, mv: Maneuver, model) -> None:
    """Refuse a manoeuvre the bones cannot run: not the whole column, or no contact point."""
    first, last = model.level_names[0], model.level_names[-1]
    if (first, last) != ("T1", "S1"):
        raise SpineInputError(
            f"{where}: [{label}] kind = {_show(mv.kind)}: a manoeuvre runs on the whole column, "
            f"the bones T1 to S1; these hold {first} to {last}"
        )
    if not mv.is_thrust:
        return
    have = model.vertebra(mv.contact_level).landmarks
    side = mv.contact_side
    if CONTACT_LANDMARKS[mv.contact].format(side=side) not in have:
        can = [c for c, k in CONTACT_LANDMARKS.items() if k.format(side=side) in have]
        where_on = mv.contact_level if mv.contact == "spinous" else f"{mv.contact_level}, {side}"
        raise SpineInputError(
            f"{where}: [{label}] contact = {_show(mv.contact)}: the bones mark no {mv.contact} "
            f"process on {where_on}; expected one of {', '.join(can) or 'none'}"
        )


def _population(
    where: str, data: dict, panels: list[PanelSpec], schedule: tuple[int, float] | None
) -> PopulationSpec | None:
    """Read ``[population]``: a cohort for the panels that have a thrust or mobilisation."""
    if "population" not in data:
        return None
    keys = SCHEMA["population"]
    d = _section(where, "population", data["population"], "population", keys)
    if "size" not in d:
        raise SpineInputError(f"{where}: [population] size is required: {keys['size'].allowed()}")
    kinds = {p.maneuver.kind for p in panels if p.maneuver is not None}
    if not kinds - {"self_twist"}:
        had = "a self_twist has none" if kinds else "the scene has no [maneuver]"
        raise SpineInputError(
            f"{where}: [population] size = {d['size']}: needs a [maneuver] with a thrust "
            f'(kind = "hvla" or "mobilisation"); {had}'
        )
    if schedule is not None:
        raise SpineInputError(
            f"{where}: [population] size = {d['size']}: not with a [schedule], which repeats "
            "one model's sessions; give one or the other"
        )
    return PopulationSpec(d["size"], d.get("seed", keys["seed"].default))


def load_scene(path: str | Path) -> SceneSpec:
    """Read and validate a scene file.

    Parameters
    ----------
    path : str or Path
        A ``.toml`` scene file.

    Returns
    -------
    SceneSpec

    Raises
    ------
    SpineInputError
        One line naming the file, the key and what is allowed.
    """
    p = resolve_scene(path)
    where = str(p)
    text = _read_scene(p, where)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpineInputError(f"{where}: TOML syntax error: {exc}") from None
    except RecursionError:
        raise SpineInputError(f"{where}: arrays or tables nested too deeply") from None
    except ValueError:  # Python refuses to read an integer of over 4300 digits
        raise SpineInputError(f"{where}: a number with thousands of digits") from None
    try:
        return parse_scene(data, where, name=p.stem)
    except RecursionError:
        raise SpineInputError(f"{where}: arrays or tables nested too deeply") from None


def _read_scene(p: Path, where: str) -> str:
    """Read a scene file's text: a regular file of at most :data:`MAX_SCENE_BYTES`.

    A FIFO or a device is refused before it is opened (opening a FIFO would wait for a
    writer; ``/dev/zero`` never ends).
    """
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        hint = ""
        if p.parent == Path("."):  # a bare name: perhaps a shipped scene, misspelt
            hint = f" (shipped scenes, by name: {', '.join(shipped_scenes())})"
        raise SpineInputError(f"{where}: no such scene file{hint}") from None
    except OSError as exc:
        raise SpineInputError(f"{where}: cannot read the scene file ({exc.strerror})") from None
    if stat.S_ISDIR(mode):
        raise SpineInputError(f"{where}: is a folder, expected a .toml scene file")
    if not stat.S_ISREG(mode):
        raise SpineInputError(
            f"{where}: not a regular file (a pipe, device or socket), expected a .toml scene file"
        )
    try:
        with open(p, "rb") as f:
            data = f.read(MAX_SCENE_BYTES + 1)
    except OSError as exc:
        raise SpineInputError(f"{where}: cannot read the scene file ({exc.strerror})") from None
    if len(data) > MAX_SCENE_BYTES:
        raise SpineInputError(
            f"{where}: larger than {MAX_SCENE_BYTES // 2**20} MiB, expected a .toml scene file"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpineInputError(f"{where}: not UTF-8 text (byte {exc.start})") from None
