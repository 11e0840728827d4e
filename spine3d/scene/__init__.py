"""Scene layer: scene files, their validation and a GL-free description of what to draw."""

from .loader import load_scene, parse_scene
from .schema import CAMERAS, COLOR_BY, SCHEMA, all_keys
from .spec import LoadSpec, PanelSpec, SceneSpec, SpineSpec, ViewSpec

__all__ = [
    "CAMERAS",
    "COLOR_BY",
    "SCHEMA",
    "LoadSpec",
    "PanelSpec",
    "SceneSpec",
    "SpineSpec",
    "ViewSpec",
    "all_keys",
    "load_scene",
    "parse_scene",
]
