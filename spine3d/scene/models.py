"""The spine models scenes solve on, built once per process for each combination."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from ..anatomy import SpineModel, load_model

__all__ = ["facets_key", "keyed_model", "spine_model"]


def facets_key(facets: Mapping) -> tuple:
    """Return facet overrides ``{joint: {key: value}}`` as a hashable key."""
    return tuple(sorted((j, tuple(sorted(kv.items()))) for j, kv in facets.items()))


def spine_model(facets: Mapping, bones: str | None = None, ribs: str | None = None) -> SpineModel:
    """Return the model of a panel's spine, shared by every figure and check that solves it.

    Parameters
    ----------
    facets : mapping
        Facet overrides (``[spine] facets``).
    bones : str, optional
        An imported pack's folder; None: the shipped bones.
    ribs : str, optional
        The rib cage's state; None: the bones' default.
    """
    return keyed_model(facets_key(facets), bones, ribs)


@lru_cache(maxsize=16)
def keyed_model(key: tuple, bones: str | None = None, ribs: str | None = None) -> SpineModel:
    """Return :func:`spine_model` of facet overrides given as :func:`facets_key`."""
    return load_model(facets={j: dict(kv) for j, kv in key}, bones=bones, ribs=ribs)
