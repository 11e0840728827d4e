"""A commented scene file to start from (``spine3d new SCENE.toml``).

Written from the schema, so every key is listed with its default, what it allows and
what it does; the few keys set are those a first figure changes.
"""

from __future__ import annotations

from .schema import SCHEMA, Key

__all__ = ["template"]

_SET = {  # (section, key): value written uncommented, as TOML
    ("", "title"): '"Self-twist with a restricted L4-L5"',
    ("", "caption"): '"The same twist: the restricted segment stays cold."',
    ("spine", "levels"): '"T10-S1"',
    ("spine", "mobility"): '{ "L4-L5" = "restricted" }',
    ("load", "twist_deg"): "30",
    ("view", "camera"): '"posterior-oblique"',
    ("view", "color_by"): '"segment_rotation"',
}

_INTRO = {
    "spine": "Which vertebrae, their mobility and facet overrides.",
    "load": "The load on T1: per axis an angle or a moment, not both; a follower load.",
    "view": "How the figure looks.",
    "maneuver": "A manoeuvre over time, for `spine3d simulate` and clips (optional): "
    "a self_twist, or a thrust (hvla, mobilisation) from a posture at a contact.",
    "animation": "What `spine3d animate` shows.",
    "schedule": "Repeat the [maneuver] (needs one).",
    "population": "Run the thrust on a virtual cohort (needs a thrust, size required).",
}


def _toml(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _line(section: str, name: str, key: Key) -> str:
    if (section, name) in _SET:
        return f"{name} = {_SET[section, name]}"
    value = _toml(key.default) if key.default not in (None, {}) else "..."
    return f"# {name} = {value}"


def template(name: str = "scene") -> str:
    """Return a commented scene file; it loads as it is (see ``docs/scenes.md``).

    Parameters
    ----------
    name : str, default: "scene"
        The scene's name, for the first comment line.
    """
    out = [
        f"# {name}: a spine3d scene. Render it with `spine3d render {name}.toml`.",
        "# Lines starting with # are comments: remove the # to set a key.",
        "# Every key and what it allows: docs/scenes.md.",
        "",
    ]
    for section, keys in SCHEMA.items():
        if section == "panel":
            continue
        if section:
            out += ["", f"# ---- {_INTRO[section]}"]
            table = f"[{section}]"
            out.append(table if any((section, k) in _SET for k in keys) else f"# {table}")
        for k, key in keys.items():
            default = f" Default: {key.default_text}." if key.default_text else ""
            if key.default_text == "required":
                default = " Required."
            out += [f"# {key.help} Allowed: {key.allowed()}.{default}", _line(section, k, key)]
    out += [
        "",
        "# Panels side by side, each overriding the figure's [spine], [load], [view]:",
        "# [[panel]]",
        '# title = "Normal spine"',
        "# [[panel]]",
        '# title = "L4-L5 restricted"',
        '# spine = { mobility = { "L4-L5" = "restricted" } }',
    ]
    return "\n".join(out) + "\n"
