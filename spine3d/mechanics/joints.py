"""Facet joint fluid and cavitation, and the stretch reflex: one law for every joint.

**Fluid and cavitation.** Each facet joint holds synovial fluid. As its surfaces
separate beyond their gap at rest, fluid flows in with a time constant
(``fluid_relax_ms``) but never makes up more than a share (``fluid_share``) of a
sustained separation: the rest, the *unrelieved separation*, holds the fluid in
tension, which pulls the surfaces together with a suction over the facet's area
(``cavitation_pressure_mpa`` at the threshold). When the unrelieved separation reaches
``cavitation_gap_mm`` a cavity forms (the "pop", tribonucleation): the suction is gone,
and the gas holds the joint ``cavity_gap_mm`` wider while it is there; its volume falls
linearly to nothing over ``refractory_min``, and until then the joint cannot cavitate
again. A fast separation is unrelieved and cavitates at a smaller opening; a slow one
cavitates only if it is large. Nothing in the law knows which joint it acts on.

**Stretch reflex.** A lumped muscle group is stimulated while its stretch from resting
length passes ``reflex_stretch`` or its rate of stretch passes
``reflex_stretch_rate_per_s`` (each stimulus lasts at least ``reflex_burst_ms``); its
activation follows the stimulus ``reflex_latency_ms`` later, rising with the time
constant ``reflex_rise_ms`` and falling with ``reflex_decay_ms``.

The inputs are in ``data/timedomain.csv``; arrays may have any shape (one entry per
joint or muscle group).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .params import timedomain

__all__ = ["FacetFluid", "StretchReflex", "bubble_radius_mm", "cavitation_times", "gas_left"]


def gas_left(minutes_since: np.ndarray | float) -> np.ndarray:
    """Share of a cavity's gas still there ``minutes_since`` it formed (0 before, after)."""
    p = timedomain()
    m = np.asarray(minutes_since, dtype=float)
    return np.where(m >= 0, np.clip(1.0 - m / p["refractory_min"], 0.0, 1.0), 0.0)


def bubble_radius_mm(minutes_since: np.ndarray | float) -> np.ndarray:
    """Return the radius of a cavity ``minutes_since`` it formed, mm.

    Its volume falls linearly to zero over the refractory period as the gas
    redissolves; 0 once gone, and before it formed (negative minutes).
    """
    return timedomain()["bubble_radius_mm"] * np.cbrt(gas_left(minutes_since))


@dataclass
class FacetFluid:
    """The fluid of a set of facet joints during a run (arrays of one shape).

    Attributes
    ----------
    relieved_mm : ndarray
        The part of each joint's separation that inflow has made up, mm.
    ready : ndarray of bool
        Whether each joint can cavitate (no gas in it).
    cavity_t_ms : ndarray
        When each joint cavitated in this run (NaN: it did not).
    gas : ndarray
        Share of gas left in each joint from cavities before this run.
    params : mapping
        The inputs (``data/timedomain.csv`` keys).
    last_pop_ms : float
        When the last cavity of this run formed (-inf: none yet).
    """

    relieved_mm: np.ndarray
    ready: np.ndarray
    cavity_t_ms: np.ndarray
    gas: np.ndarray
    params: Mapping[str, float]
    last_pop_ms: float = -np.inf

    @classmethod
    def fresh(
        cls,
        shape: tuple[int, ...],
        since_cavitation_min: np.ndarray | None = None,
        params: Mapping[str, float] | None = None,
    ) -> FacetFluid:
        """Return joints at rest, their last cavities ``since_cavitation_min`` ago (inf: never)."""
        p = {**timedomain(), **(params or {})}
        since = (
            np.full(shape, np.inf)
            if since_cavitation_min is None
            else np.broadcast_to(np.asarray(since_cavitation_min, float), shape).copy()
        )
        gas = gas_left(since)
        return cls(
            relieved_mm=np.zeros(shape),
            ready=(gas <= 0) & (since >= p["refractory_min"]),
            cavity_t_ms=np.full(shape, np.nan),
            gas=gas,
            params=p,
        )

    def step(self, separation_mm: np.ndarray, t_ms: float, dt_ms: float) -> np.ndarray:
        """Advance by ``dt_ms`` with each joint's separation beyond rest; return the pops.

        Parameters
        ----------
        separation_mm : ndarray
            Opening of each joint beyond its gap at rest (0 when closed), mm.
        t_ms, dt_ms : float
            The time at the end of the step and the step, ms.

        Returns
        -------
        ndarray of bool
            The joints that cavitate in this step.
        """
        p = self.params
        a = dt_ms / p["fluid_relax_ms"]
        self.relieved_mm = (self.relieved_mm + a * p["fluid_share"] * separation_mm) / (1.0 + a)
        popping = self.ready & (self.unrelieved_mm(separation_mm) >= p["cavitation_gap_mm"])
        if popping.any():
            self.ready = self.ready & ~popping
            self.cavity_t_ms = np.where(popping, t_ms, self.cavity_t_ms)
            self.last_pop_ms = t_ms
        return popping

    def unrelieved_mm(self, separation_mm: np.ndarray) -> np.ndarray:
        """Return the separation that holds the fluid in tension, mm."""
        return np.maximum(separation_mm - self.relieved_mm, 0.0)

    def suction_n(self, separation_mm: np.ndarray, area_mm2: np.ndarray) -> np.ndarray:
        """Return the pull (N) of the fluid's tension on each joint (0 once cavitated)."""
        p = self.params
        pressure = p["cavitation_pressure_mpa"] * self.unrelieved_mm(separation_mm)
        return np.where(self.ready, pressure * area_mm2 / p["cavitation_gap_mm"], 0.0)

    def spacer_mm(self, t_ms: float) -> np.ndarray:
        """How much wider each joint's gas holds it at ``t_ms``, mm."""
        p = self.params
        age = t_ms - np.nan_to_num(self.cavity_t_ms, nan=np.inf)
        growth = np.clip(age / p["bubble_growth_ms"], 0.0, 1.0)
        return p["cavity_gap_mm"] * np.cbrt(np.maximum(growth, self.gas))

    def growing(self, t_ms: float) -> bool:
        """Whether a cavity of this run is still growing at ``t_ms``."""
        return t_ms - self.last_pop_ms < self.params["bubble_growth_ms"]


def cavitation_times(
    separation_mm: np.ndarray,
    dt_ms: float = 1.0,
    since_cavitation_min: np.ndarray | None = None,
    params: Mapping[str, float] | None = None,
) -> np.ndarray:
    """When each joint of a separation history cavitates (NaN: it does not), ms.

    Parameters
    ----------
    separation_mm : (T, ...) float
        Each joint's opening beyond its gap at rest at each step.
    dt_ms : float
    since_cavitation_min : ndarray, optional
        Minutes since each joint last cavitated.
    params : mapping, optional
        Inputs instead of ``data/timedomain.csv``'s.

    Returns
    -------
    (...) float
    """
    sep = np.asarray(separation_mm, dtype=float)
    fluid = FacetFluid.fresh(sep.shape[1:], since_cavitation_min, params)
    for k in range(sep.shape[0]):
        fluid.step(sep[k], k * dt_ms, dt_ms)
    return fluid.cavity_t_ms


@dataclass
class StretchReflex:
    """The reflex of a set of muscle groups during a run (arrays of shape (u,)).

    Attributes
    ----------
    activation : (u,) float
        0 to 1.
    onset_ms : (u,) float
        When the current burst's activation passed ``onset`` (NaN: none under way).
    params : mapping
    """

    activation: np.ndarray
    onset_ms: np.ndarray
    params: Mapping[str, float]
    _until: np.ndarray
    _history: np.ndarray
    onset: float = 0.05

    @classmethod
    def fresh(
        cls, u: int, dt_ms: float, params: Mapping[str, float] | None = None
    ) -> StretchReflex:
        """Return ``u`` relaxed muscle groups stepped at ``dt_ms``."""
        p = {**timedomain(), **(params or {})}
        lag = max(int(round(p["reflex_latency_ms"] / dt_ms)), 1)
        return cls(
            activation=np.zeros(u),
            onset_ms=np.full(u, np.nan),
            params=p,
            _until=np.full(u, -np.inf),
            _history=np.zeros((lag, u), dtype=bool),
        )

    def step(
        self, strain: np.ndarray, strain_rate: np.ndarray, k: int, t_ms: float, dt_ms: float
    ) -> list[tuple[int, float, float]]:
        """Advance one step (the ``k``-th); return the bursts that ended ``(group, onset, end)``.

        Parameters
        ----------
        strain : (u,) float
            Each group's stretch from its resting length.
        strain_rate : (u,) float
            Its rate, per second.
        """
        p = self.params
        trigger = (strain >= p["reflex_stretch"]) | (strain_rate >= p["reflex_stretch_rate_per_s"])
        self._until = np.where(
            trigger, np.maximum(self._until, t_ms + p["reflex_burst_ms"]), self._until
        )
        lag = self._history.shape[0]
        delayed = self._history[k % lag].copy()
        self._history[k % lag] = t_ms <= self._until
        tau = np.where(delayed > self.activation, p["reflex_rise_ms"], p["reflex_decay_ms"])
        self.activation = self.activation + (delayed - self.activation) * (dt_ms / (tau + dt_ms))
        started = (self.activation >= self.onset) & np.isnan(self.onset_ms)
        self.onset_ms[started] = t_ms
        ended = (self.activation < self.onset) & np.isfinite(self.onset_ms)
        out = [(int(i), float(self.onset_ms[i]), float(t_ms)) for i in np.nonzero(ended)[0]]
        self.onset_ms[ended] = np.nan
        return out

    def under_way(self, t_ms: float) -> list[tuple[int, float, float]]:
        """Return the bursts still under way at ``t_ms`` as ``(group, onset, t_ms)``."""
        return [
            (int(i), float(self.onset_ms[i]), t_ms)
            for i in np.nonzero(np.isfinite(self.onset_ms))[0]
        ]
