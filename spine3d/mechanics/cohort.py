"""A virtual cohort: one manoeuvre on many models that differ as people do.

Each member's geometry (facet orientation, each side alone; the lumbar lordosis) and
tissue constants (disc, ligaments, cartilage contact, the joint fluid, the reflex
latency, body mass) are drawn from the distributions in ``data/cohort.csv``, each within
a published spread that the file names. Every member then runs the same manoeuvre
(:func:`~.timedomain.simulate`), in parallel processes, and the cohort reports where the
cavitations fall: on the upper side in side posture, in a target zone (the target and
the segments next to it), at the target itself (the specificity), how many per thrust,
and in how many members the positioning and preload alone made a joint cavitate.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import numpy as np

from ..anatomy import SIDES, SpineModel, load_model
from ..anatomy.tables import joint_table
from ..errors import SpineInputError
from .maneuver import Maneuver
from .params import Mobility, timedomain
from .segment import constants as segment_constants
from .timedomain import Event, Run, simulate

__all__ = ["Cohort", "Member", "cohort_inputs", "draw_members", "run_cohort"]

MAX_SIZE = 500
"""Largest cohort."""


@cache
def cohort_inputs() -> Mapping[str, Mapping[str, Any]]:
    """Return ``{key: {"distribution", "a", "b", "source"}}`` from ``data/cohort.csv``."""
    text = resources.files(__package__).joinpath("data", "cohort.csv").read_text("utf-8")
    rows = csv.DictReader(ln for ln in text.splitlines() if ln and not ln.startswith("#"))
    out = {}
    for r in rows:
        out[r["key"]] = MappingProxyType(
            {
                "distribution": r["distribution"],
                "a": float(r["a"]),
                "b": float(r["b"]),
                "source": r["source"],
            }
        )
    return MappingProxyType(out)


@dataclass(frozen=True)
class Member:
    """One member of a cohort: what differs from the model.

    Attributes
    ----------
    index : int
    facets : mapping
        Facet and lordosis overrides, as :func:`spine3d.load_model` takes them.
    constants : mapping
        Segment constants (:func:`~.segment.constants` keys).
    inputs : mapping
        Time-domain inputs (``data/timedomain.csv`` keys).
    draws : mapping
        The drawn factors and offsets themselves, by ``data/cohort.csv`` key.
    """

    index: int
    facets: Mapping[str, Mapping[str, float]]
    constants: Mapping[str, float]
    inputs: Mapping[str, float]
    draws: Mapping[str, Any]


def _draw(rng: np.random.Generator, key: str, size: Any = None) -> Any:
    d = cohort_inputs()[key]
    a, b = d["a"], d["b"]
    if d["distribution"] == "uniform":
        return rng.uniform(a, b, size)
    z = np.clip(rng.standard_normal(size), -2.0, 2.0)
    if d["distribution"] == "normal":
        return a + b * z
    return a * np.exp(b * z)


def draw_members(
    model: SpineModel, size: int, seed: int, base_facets: Mapping | None = None
) -> tuple[Member, ...]:
    """Draw ``size`` members about ``model`` with the random seed ``seed``.

    Parameters
    ----------
    model : SpineModel
    size : int
    seed : int
    base_facets : mapping, optional
        The facet overrides the cohort's model already has (a scene's); the members'
        draws are made about them.
    """
    if not (isinstance(size, int) and not isinstance(size, bool) and 1 <= size <= MAX_SIZE):
        raise SpineInputError(f"population size = {size!r}: expected 1 to {MAX_SIZE}")
    if not (isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2**32):
        raise SpineInputError(f"population seed = {seed!r}: expected 0 to {2**32 - 1}")
    rng = np.random.default_rng(seed)
    table = joint_table()
    seg_c = segment_constants()
    td = timedomain()
    members = []
    lumbar = [j for j in model.joints if j.region == "lumbar"]
    for index in range(size):
        facets: dict[str, dict[str, float]] = {k: dict(v) for k, v in (base_facets or {}).items()}
        offsets = {}
        for j in model.joints:
            row = table[j.name]
            lo, hi = float(row["coronal_min_deg"]), float(row["coronal_max_deg"])
            over = facets.setdefault(j.name, {})
            for f in j.facets:
                if f.removed:
                    continue
                delta = float(_draw(rng, "facet_sagittal_deg"))
                # To the sagittal plane is 90 - coronal: a lumbar facet turned toward
                # the sagittal plane has a larger coronal angle.
                angle = min(max(f.coronal_deg - delta, lo), hi)
                over[f"{f.side}_coronal_deg"] = round(angle, 6)
                offsets[f"{j.name} {f.side}"] = round(f.coronal_deg - angle, 6)
        lordosis = float(_draw(rng, "lordosis_scale"))
        for j in lumbar:
            facets[j.name]["lordosis_deg"] = round(
                min(max(j.sagittal_deg * lordosis, -30.0), 40.0), 6
            )
        disc = float(_draw(rng, "disc_scale"))
        lig = float(_draw(rng, "ligament_scale"))
        contact = float(_draw(rng, "contact_scale"))
        constants = {
            "disc_compression_modulus_mpa": seg_c["disc_compression_modulus_mpa"] * disc,
            "disc_bending_modulus_mpa": seg_c["disc_bending_modulus_mpa"] * disc,
            "disc_shear_modulus_mpa": seg_c["disc_shear_modulus_mpa"] * disc,
            "ligament_stiffness_scale": seg_c["ligament_stiffness_scale"] * lig,
            "contact_stiffness_n_per_mm15": seg_c["contact_stiffness_n_per_mm15"] * contact,
        }
        cav = float(_draw(rng, "cavitation_gap_scale"))
        relax = float(_draw(rng, "fluid_relax_scale"))
        latency = float(_draw(rng, "reflex_latency_ms"))
        mass = float(_draw(rng, "body_mass_kg"))
        inputs = {
            "cavitation_gap_mm": td["cavitation_gap_mm"] * cav,
            "fluid_relax_ms": td["fluid_relax_ms"] * relax,
            "reflex_latency_ms": latency,
            "body_mass_kg": mass,
        }
        draws = {
            "facet_sagittal_deg": offsets,
            "lordosis_scale": lordosis,
            "disc_scale": disc,
            "ligament_scale": lig,
            "contact_scale": contact,
            "cavitation_gap_scale": cav,
            "fluid_relax_scale": relax,
            "reflex_latency_ms": latency,
            "body_mass_kg": mass,
        }
        members.append(
            Member(index, {k: v for k, v in facets.items() if v}, constants, inputs, draws)
        )
    return tuple(members)


@dataclass(frozen=True)
class _Outcome:
    """What a cohort keeps of one member's run."""

    cavitated: np.ndarray  # (2, n) bool
    cavitation_t_ms: np.ndarray  # (2, n)
    peak_gapping_mm: np.ndarray  # (2, n)
    events: tuple[Event, ...]


def _run_member(args) -> _Outcome:
    member, maneuver, mobility, bones, ribs, dt_ms = args
    model = load_model(facets=dict(member.facets), bones=bones, ribs=ribs)
    run = simulate(
        model,
        maneuver,
        mobility,
        dt_ms=dt_ms,
        constants=dict(member.constants),
        inputs=dict(member.inputs),
        keep_poses=False,
        member=member.index,
    )
    return _Outcome(run.cavitated, run.cavitation_t_ms, run.peak_gapping_mm, run.events)


@dataclass(frozen=True, eq=False)
class Cohort:
    """A manoeuvre run on every member of a virtual cohort.

    Attributes
    ----------
    maneuver : Maneuver
    size, seed : int
    members : tuple of Member
    segments : tuple of str
    cavitated : (N, 2, n) bool
        Which facets cavitated in each member.
    cavitation_t_ms : (N, 2, n) float
    peak_gapping_mm : (N, 2, n) float
    events : tuple of Event
        Every member's events, each with its ``model``.
    reference : Run
        The same manoeuvre on the model itself (not a member).
    """

    maneuver: Maneuver
    size: int
    seed: int
    members: tuple[Member, ...]
    segments: tuple[str, ...]
    cavitated: np.ndarray
    cavitation_t_ms: np.ndarray
    peak_gapping_mm: np.ndarray
    events: tuple[Event, ...]
    reference: Run

    @property
    def target_zone(self) -> tuple[str, ...]:
        """The target and the segments next to it."""
        t = self.segments.index(self.maneuver.target)
        return self.segments[max(0, t - 1) : t + 2]

    @property
    def pops(self) -> int:
        """Cavitations in all members."""
        return int(self.cavitated.sum())

    def _share(self, mask: np.ndarray) -> float | None:
        return None if self.pops == 0 else float(self.cavitated[mask].sum()) / self.pops

    @property
    def upside_share(self) -> float | None:
        """Share of the cavitations on the upper side (side posture; else None)."""
        if self.maneuver.position != "side_posture":
            return None
        s = SIDES.index(self.maneuver.upside)
        if self.pops == 0:
            return None
        return float(self.cavitated[:, s].sum()) / self.pops

    @property
    def target_zone_share(self) -> float | None:
        """Share of the cavitations in :attr:`target_zone`."""
        if self.pops == 0:
            return None
        zone = [self.segments.index(s) for s in self.target_zone]
        return float(self.cavitated[:, :, zone].sum()) / self.pops

    @property
    def specificity(self) -> float | None:
        """Share of the cavitations at the target segment."""
        if self.pops == 0:
            return None
        t = self.segments.index(self.maneuver.target)
        return float(self.cavitated[:, :, t].sum()) / self.pops

    @property
    def pops_per_thrust(self) -> float:
        """Mean cavitations per member."""
        return self.pops / self.size

    @property
    def positioning_only(self) -> np.ndarray:
        """Whether each member cavitated before the thrust began (N,) bool."""
        start = self.maneuver.phases_ms()["thrust"][0]
        return (np.nan_to_num(self.cavitation_t_ms, nan=np.inf) < start).any(axis=(1, 2))

    @property
    def positioning_only_share(self) -> float:
        """Share of members in which positioning and preload alone cavitated a joint."""
        return float(self.positioning_only.mean())

    def pops_by_joint(self) -> np.ndarray:
        """Cavitations per facet over the cohort (2, n) int."""
        return self.cavitated.sum(axis=0)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON summary (see the docs: ``population`` and the events)."""

        def r(x):
            return None if x is None else round(float(x), 4)

        counts = self.pops_by_joint()
        return {
            "population": {
                "size": self.size,
                "seed": self.seed,
                "upside_share": r(self.upside_share),
                "target_zone_share": r(self.target_zone_share),
                "target_zone": list(self.target_zone),
                "pops_per_thrust": r(self.pops_per_thrust),
                "positioning_only_share": r(self.positioning_only_share),
                "specificity": r(self.specificity),
                "pops": {
                    seg: {s: int(counts[k, i]) for k, s in enumerate(SIDES)}
                    for i, seg in enumerate(self.segments)
                },
                "distributions": {
                    k: {x: v[x] for x in ("distribution", "a", "b", "source")}
                    for k, v in cohort_inputs().items()
                },
            },
            "events": [e.to_dict() for e in self.events],
        }


def run_cohort(
    model: SpineModel,
    maneuver: Maneuver,
    mobility: Mobility | None,
    size: int,
    seed: int,
    *,
    workers: int | None = None,
    dt_ms: float = 1.0,
    progress: Callable[[int, int], None] | None = None,
    reference: Run | None = None,
) -> Cohort:
    """Run ``maneuver`` on a cohort of ``size`` members drawn about ``model``.

    Parameters
    ----------
    model : SpineModel
        The model the members are drawn about (its facet overrides, bones and rib
        cage state are kept).
    maneuver : Maneuver
        A thrust (a cohort of self-twists is not defined).
    mobility : mapping, optional
    size, seed : int
    workers : int, optional
        Processes to use (default: the machine's cores, at most ``size``).
    progress : callable, optional
        Called with (members done, members in all).
    reference : Run, optional
        The manoeuvre already run on ``model`` (else it is run here).
    """
    if not maneuver.is_thrust:
        raise SpineInputError("[population] needs a thrust or mobilisation: a self_twist has none")
    members = draw_members(model, size, seed, model.overrides)
    args = [(m, maneuver, mobility, model.bones, model.ribs, dt_ms) for m in members]
    workers = min(workers or os.cpu_count() or 1, size)
    outcomes: list[_Outcome] = []
    if workers > 1:
        import multiprocessing as mp

        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            for out in pool.map(_run_member, args, chunksize=1):
                outcomes.append(out)
                if progress is not None:
                    progress(len(outcomes), size)
    else:
        for a in args:
            outcomes.append(_run_member(a))
            if progress is not None:
                progress(len(outcomes), size)
    ref = reference if reference is not None else simulate(model, maneuver, mobility, dt_ms=dt_ms)
    events = tuple(e for o in outcomes for e in o.events)
    return Cohort(
        maneuver=maneuver,
        size=size,
        seed=seed,
        members=members,
        segments=model.segment_names,
        cavitated=np.array([o.cavitated for o in outcomes]),
        cavitation_t_ms=np.array([o.cavitation_t_ms for o in outcomes]),
        peak_gapping_mm=np.array([o.peak_gapping_mm for o in outcomes]),
        events=events,
        reference=ref,
    )
