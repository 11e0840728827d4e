"""Anatomy: levels, regions, morphometry and facet tables, and the frozen SpineModel."""

from .levels import LEVELS, REGIONS, SEGMENTS, level_index, levels_between, region_of, segment_index
from .model import FACET_KEYS, SIDES, Facet, Joint, SpineModel, Vertebra, facet_normal, load_model
from .ribs import RIB_STATES, Cartilage, Rib, RibCage, check_rib_state
from .tables import JOINT_FIELDS, MORPHOMETRY_FIELDS, joint_table, morphometry_table, tables_version

__all__ = [
    "FACET_KEYS",
    "JOINT_FIELDS",
    "MORPHOMETRY_FIELDS",
    "LEVELS",
    "REGIONS",
    "RIB_STATES",
    "SEGMENTS",
    "SIDES",
    "Cartilage",
    "Facet",
    "Joint",
    "Rib",
    "RibCage",
    "SpineModel",
    "Vertebra",
    "check_rib_state",
    "facet_normal",
    "joint_table",
    "level_index",
    "levels_between",
    "load_model",
    "morphometry_table",
    "region_of",
    "segment_index",
    "tables_version",
]
