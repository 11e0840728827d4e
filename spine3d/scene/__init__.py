"""Scene layer: scene files, their validation and a GL-free description of what to draw."""

from .loader import (
    DEFAULT_SCENE,
    check_pack,
    default_scene_path,
    load_scene,
    parse_scene,
    resolve_scene,
    shipped_scenes,
    with_bones,
    with_ribs,
)
from .schema import CAMERAS, COLOR_BY, SCHEMA, all_keys
from .spec import LoadSpec, PanelSpec, PopulationSpec, SceneSpec, SpineSpec, ViewSpec

__all__ = [
    "CAMERAS",
    "DEFAULT_SCENE",
    "COLOR_BY",
    "SCHEMA",
    "LoadSpec",
    "PanelSpec",
    "PopulationSpec",
    "SceneSpec",
    "SpineSpec",
    "ViewSpec",
    "all_keys",
    "check_pack",
    "default_scene_path",
    "load_scene",
    "parse_scene",
    "resolve_scene",
    "shipped_scenes",
    "with_bones",
    "with_ribs",
]
