"""The rib cage as elastic elements between bodies, condensed onto the thoracic vertebrae.

Bodies and elements, all placed from the bones (:class:`~spine3d.anatomy.RibCage`):

- every **rib** is a short chain of four nodes along its centreline (head end, two
  between, anterior end) joined by beams of cortical bone with the rib's measured
  cross-section;
- its **head** meets its own vertebra and, for ribs 2-9, the one above (costovertebral
  joints); its **tubercle** meets its vertebra's transverse process (costotransverse
  joint, ribs 1-10). Each joint is a spring at the joint's point with the same
  translational and rotational stiffness (fitted once to a joint-level test, see
  :func:`joint_constants`);
- every **costal cartilage** is a chain of beams of cartilage through its centreline,
  from its rib's anterior end to the sternum (1-7) or to the cartilage above (8-10);
- the **sternum** is two columns of nodes, left and right, at the costal notches, joined
  down each side by beams of bone (half its section each) and across by beams of bone
  (its thickness over the height between notches); a sternotomy removes the beams across;
- **intercostal tissue** joins each rib to the next below it: a strip at each point of
  the upper rib's centreline to the nearest point of the lower rib, a spring at the
  strip's middle with stiffness ``E A / L`` along the strip and ``G A / L`` across it
  (``A``: the strip's width along the rib times the tissue's thickness).

Every element is linear and has the rigid motions in its null space. The rib cage is
nearly linear, so its stiffness is condensed once (static condensation, exact for a
linear system) onto the six degrees of freedom of each thoracic vertebra; the solver
adds the condensed wrench to the thoracic segments' equilibrium, measured in a frame
that moves with the thorax (co-rotational), so a rigid turn of the whole thorax costs
nothing.

Screws and wrenches here are about the global origin: a body's small motion ``s =
(w, v0)`` moves a point ``p`` by ``v0 + w x p``; a wrench is ``(moment about the
origin, force)``. Millimetres, radians, newtons.
"""

from __future__ import annotations

import csv
import json
import math
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from types import MappingProxyType

import numpy as np

from ..anatomy import RibCage, SpineModel
from .segment import cross, left_jacobian, rodrigues, skew

__all__ = [
    "CompiledRibCage",
    "one_blas_thread",
    "Element",
    "compile_rib_cage_mechanics",
    "joint_constants",
    "rib_tissue",
]

_ROUND_OFF = 1e-11
"""Screw components (rad, mm) below this are round-off of the chain's poses."""
RIB_NODES = (0, 2, 4, 7)
"""Centreline points of a rib that are nodes of its chain (head end ... anterior end)."""
CARTILAGE_NODES = (2, 5)
"""Centreline points of a cartilage that are free nodes (its ends sit on other bodies)."""


@cache
def rib_tissue() -> Mapping[str, float]:
    """Return the rib cage's tissue inputs ``{key: value}`` (units in the keys)."""
    text = resources.files(__package__).joinpath("data", "ribcage.csv").read_text("utf-8")
    rows = csv.DictReader(ln for ln in text.splitlines() if ln and not ln.startswith("#"))
    return MappingProxyType({r["key"]: float(r["value"]) for r in rows})


@cache
def joint_constants() -> Mapping[str, float]:
    """Return the fitted costovertebral joint constants ``{key: value}``.

    ``joint_translation_n_per_mm`` and ``joint_rotation_nmm_per_rad``: each
    costovertebral and costotransverse joint's spring, fitted by
    ``benchmarks/calibrate_ribs.py`` to a joint-level test (see ``calibration_ribs.json``).
    """
    text = resources.files(__package__).joinpath("data", "calibration_ribs.json").read_text("utf-8")
    return MappingProxyType(
        {c["constant"]: float(c["value"]) for c in json.loads(text)["constants"]}
    )


def point_map(p: np.ndarray) -> np.ndarray:
    """(6, 6) map from a body's origin screw to its (rotation, displacement) at ``p``."""
    h = np.eye(6)
    h[3:, :3] = -skew(p)
    return h


def beam_stiffness(
    a: np.ndarray, b: np.ndarray, e_mpa: float, nu: float, area_mm2: float
) -> np.ndarray:
    """Stiffness (12, 12) of a straight beam from ``a`` to ``b`` (global, mm).

    Euler-Bernoulli frame element of a solid round section of ``area_mm2``; the rows
    and columns are ``(rotation, displacement)`` at ``a`` then at ``b``, global axes;
    N mm/rad, N/mm.
    """
    axis = b - a
    length = math.sqrt(float(axis @ axis))
    x = axis / length
    helper = np.array([0.0, 1.0, 0.0]) if abs(x[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    y = cross(helper, x)
    y /= math.sqrt(float(y @ y))
    rot = np.array([x, y, cross(x, y)])  # rows: local axes
    g = e_mpa / (2.0 * (1.0 + nu))
    inertia = area_mm2**2 / (4.0 * math.pi)
    ea, gj, ei, el = e_mpa * area_mm2 / length, g * 2 * inertia / length, e_mpa * inertia, length
    k = np.zeros((12, 12))  # local order: u1 (3), r1 (3), u2 (3), r2 (3)
    k[0, 0] = k[6, 6] = ea
    k[0, 6] = k[6, 0] = -ea
    k[3, 3] = k[9, 9] = gj
    k[3, 9] = k[9, 3] = -gj
    for v, r, s in ((1, 5, 1.0), (2, 4, -1.0)):  # (v, theta_z) and (w, theta_y)
        c1, c2, c3, c4 = 12 * ei / el**3, 6 * ei / el**2, 4 * ei / el, 2 * ei / el
        k[v, v] = k[v + 6, v + 6] = c1
        k[v, v + 6] = k[v + 6, v] = -c1
        k[v, r] = k[r, v] = k[v, r + 6] = k[r + 6, v] = s * c2
        k[r, v + 6] = k[v + 6, r] = k[v + 6, r + 6] = k[r + 6, v + 6] = -s * c2
        k[r, r] = k[r + 6, r + 6] = c3
        k[r, r + 6] = k[r + 6, r] = c4
    t = np.zeros((12, 12))
    for i in range(4):
        t[3 * i : 3 * i + 3, 3 * i : 3 * i + 3] = rot
    kg = t.T @ k @ t
    order = [3, 4, 5, 0, 1, 2, 9, 10, 11, 6, 7, 8]  # to (rotation, displacement) per end
    return kg[np.ix_(order, order)]


@dataclass(frozen=True)
class Element:
    """One elastic element of the rib cage.

    Attributes
    ----------
    name : str
        ``costovertebral rib_5_left T4``, ``cartilage_5_left 1``, ``sternum across 3``,
        ``intercostal rib_5_left 2``, ...
    kind : str
        ``joint``, ``rib``, ``cartilage``, ``sternum`` or ``intercostal``.
    bodies : (2,) int
        The two bodies it joins (see :attr:`CompiledRibCage.bodies`).
    stiffness : (12, 12) float
        On the two bodies' origin screws, N mm/rad, N/mm.
    """

    name: str
    kind: str
    bodies: tuple[int, int]
    stiffness: np.ndarray


def _spring(p: np.ndarray, k_rot: np.ndarray, k_lin: np.ndarray) -> np.ndarray:
    """(12, 12) stiffness of a spring at ``p`` joining two bodies (origin screws)."""
    kp = np.zeros((6, 6))
    kp[:3, :3], kp[3:, 3:] = k_rot, k_lin
    h = point_map(p)
    k6 = h.T @ kp @ h
    out = np.empty((12, 12))
    out[:6, :6] = out[6:, 6:] = k6
    out[:6, 6:] = out[6:, :6] = -k6
    return out


def _beam(pa: np.ndarray, pb: np.ndarray, e: float, nu: float, area: float) -> np.ndarray:
    h = np.zeros((12, 12))
    h[:6, :6], h[6:, 6:] = point_map(pa), point_map(pb)
    return h.T @ beam_stiffness(pa, pb, e, nu, area) @ h


@dataclass(frozen=True, eq=False)
class CompiledRibCage:
    """The rib cage of a specimen, assembled and condensed.

    Attributes
    ----------
    vertebrae : (m,) int
        Positions (in the model's levels) of the vertebrae it joins, top to bottom.
    stiffness : (6m, 6m) float
        Condensed stiffness on their origin screws at rest: the wrench the rib cage puts
        on the vertebrae is ``-stiffness @ s``.
    bodies : tuple of str
        Every body: the vertebrae first, then rib nodes (``rib_5_left:0``), cartilage
        nodes and sternum nodes.
    points : (b, 3) float
        Each body's reference point at rest (a vertebra's origin), global mm.
    recover : (6(b - m), 6m) float
        The other bodies' screws from the vertebrae's (they are in equilibrium).
    elements : tuple of Element
    parts : mapping of str to (k,) int
        The bodies whose motion places each drawn part (``rib_5_left``,
        ``cartilage_5_left``, ``sternum``).
    part_levels : mapping of str to int
        The position of the vertebra each part's mesh moves with.
    """

    vertebrae: np.ndarray
    stiffness: np.ndarray
    bodies: tuple[str, ...]
    points: np.ndarray
    recover: np.ndarray
    elements: tuple[Element, ...]
    parts: Mapping[str, np.ndarray]
    part_levels: Mapping[str, int]

    @cached_property
    def part_average(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Averaging matrix (p, b) over each part's nodes, their centres (p, 3), levels (p,)."""
        avg = np.zeros((len(self.parts), len(self.bodies)))
        for i, nodes in enumerate(self.parts.values()):
            avg[i, nodes] = 1.0 / len(nodes)
        level = np.array([self.part_levels[p] for p in self.parts])
        return avg, avg @ self.points, level

    @cached_property
    def part_screw_map(self) -> np.ndarray:
        """Map (p, 6, 6m) from the vertebrae's screws to each part's motion on its vertebra.

        Row block ``i``: the part's mean rotation and the mean displacement of its nodes'
        points, less the motion its vertebra gives its centre (see :func:`part_motion`).
        """
        avg, centre, level = self.part_average
        n_body, m = len(self.bodies), len(self.vertebrae)
        eye = np.eye(3)
        # Each body's (rotation, displacement of its point) from its origin screw.
        at_point = np.zeros((n_body, 6, 6))
        at_point[:, :3, :3] = at_point[:, 3:, 3:] = eye
        at_point[:, 3:, :3] = -skew(self.points)
        per = avg[:, :, None, None] * at_point[None]  # (p, b, 6, 6)
        own = np.searchsorted(self.vertebrae, level)
        on_vertebra = np.zeros((len(level), 6, 6))
        on_vertebra[:, :3, :3] = on_vertebra[:, 3:, 3:] = eye
        on_vertebra[:, 3:, :3] = -skew(centre)
        per[np.arange(len(level)), own] -= on_vertebra
        every = np.concatenate([np.eye(6 * m), self.recover])  # (6b, 6m) all screws
        out = (per.transpose(0, 2, 1, 3).reshape(-1, 6 * n_body) @ every).reshape(-1, 6, 6 * m)
        out.flags.writeable = False
        return out

    def body_screws(self, s_vert: np.ndarray) -> np.ndarray:
        """Return every body's origin screw (b, 6) from the vertebrae's (m, 6)."""
        rest = (self.recover @ s_vert.reshape(-1)).reshape(-1, 6)
        return np.concatenate([s_vert, rest])

    def element_wrenches(self, s_vert: np.ndarray) -> dict[str, np.ndarray]:
        """Return each element's wrench (6,) on its second body (about the origin).

        Its wrench on the first body is the opposite.
        """
        s = self.body_screws(s_vert)
        out = {}
        for e in self.elements:
            a, b = e.bodies
            out[e.name] = -(e.stiffness[6:] @ np.concatenate([s[a], s[b]]))
        return out


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


_BLAS_LIMITED: list = []


def one_blas_thread() -> None:
    """Limit BLAS to one thread for the process (once).

    A solve with a rib cage factors a matrix of at most 102 x 102 per Newton step;
    at that size BLAS threads only wait for each other, and on a busy machine (a
    renderer beside the solver) they cost up to tenfold. One thread also sums in one
    order: two condensations of the same rib cage then agree to the last bit, and so
    do their solutions.
    """
    if not _BLAS_LIMITED:
        from threadpoolctl import threadpool_limits

        _BLAS_LIMITED.append(threadpool_limits(limits=1, user_api="blas"))


def compile_rib_cage_mechanics(
    model: SpineModel, top: int, bottom: int, constants: Mapping[str, float] | None = None
) -> CompiledRibCage | None:
    """Assemble and condense the rib cage of the specimen ``top``..``bottom``.

    A specimen keeps the ribs of its vertebrae, their joints with the vertebrae it holds,
    their cartilages and the part of the sternum between them.

    Parameters
    ----------
    model : SpineModel
    top, bottom : int
        The specimen's levels (positions in ``model.vertebrae``); ``bottom`` is fixed.
    constants : mapping, optional
        Trial values of :func:`joint_constants` (calibration); not cached.

    Returns
    -------
    CompiledRibCage or None
        None when the model has no rib cage or the specimen holds no rib.
    """
    cage = model.rib_cage
    if cage is None:
        return None
    one_blas_thread()  # before condensing: one summation order, the same result every time
    per = _CACHE.setdefault(model, {})
    key = (top, bottom)
    if constants is None and key in per:
        return per[key]
    out = _assemble(model, cage, top, bottom, {**joint_constants(), **(constants or {})})
    if constants is None:
        per[key] = out
    return out


def _assemble(model, cage: RibCage, top, bottom, jc) -> CompiledRibCage | None:
    names = model.level_names
    inside = set(names[top : bottom + 1])
    tissue = rib_tissue()
    ribs = [r for r in cage.ribs if r.level in inside]
    if not ribs:
        return None
    levels = sorted(
        {names.index(lv) for r in ribs for lv in (*r.head_levels, r.level) if lv in inside}
    )
    bodies: list[str] = [names[i] for i in levels]
    points: list[np.ndarray] = [model.vertebrae[i].rest_pose[:3, 3] for i in levels]
    index = {b: i for i, b in enumerate(bodies)}

    def body(name: str, p: np.ndarray) -> int:
        index[name] = len(bodies)
        bodies.append(name)
        points.append(np.asarray(p, float))
        return index[name]

    elements: list[Element] = []
    parts: dict[str, list[int]] = {}
    k_lin = jc["joint_translation_n_per_mm"] * np.eye(3)
    k_rot = jc["joint_rotation_nmm_per_rad"] * np.eye(3)
    e_bone, nu_bone = tissue["bone_modulus_mpa"], tissue["bone_poisson"]
    for r in ribs:
        line = r.centreline_mm
        nodes = [body(f"{r.name}:{i}", line[i]) for i in RIB_NODES]
        parts[r.name] = nodes
        for i in range(len(nodes) - 1):
            elements.append(
                Element(
                    f"rib {r.name} {i}",
                    "rib",
                    (nodes[i], nodes[i + 1]),
                    _beam(
                        line[RIB_NODES[i]], line[RIB_NODES[i + 1]], e_bone, nu_bone, r.section_mm2
                    ),
                )
            )
        for lv in r.head_levels:
            if lv in inside:
                elements.append(
                    Element(
                        f"costovertebral {r.name} {lv}",
                        "joint",
                        (index[lv], nodes[0]),
                        _spring(r.head_mm, k_rot, k_lin),
                    )
                )
        if r.tubercle_mm is not None:
            elements.append(
                Element(
                    f"costotransverse {r.name} {r.level}",
                    "joint",
                    (index[r.level], nodes[0]),
                    _spring(r.tubercle_mm, k_rot, k_lin),
                )
            )
    if cage.intercostals:
        _intercostals(ribs, index, elements, tissue)
    if cage.anterior:
        _anterior(cage, ribs, index, body, elements, parts, tissue)
    n = len(bodies)
    m = len(levels)
    k = np.zeros((n, 6, n, 6))
    for e in elements:
        a, b = e.bodies
        ke = e.stiffness.reshape(2, 6, 2, 6)
        k[a, :, a] += ke[0, :, 0]
        k[a, :, b] += ke[0, :, 1]
        k[b, :, a] += ke[1, :, 0]
        k[b, :, b] += ke[1, :, 1]
    k = k.reshape(6 * n, 6 * n)
    kvv, kvr, krr = k[: 6 * m, : 6 * m], k[: 6 * m, 6 * m :], k[6 * m :, 6 * m :]
    recover = -np.linalg.solve(krr, kvr.T)
    cond = kvv + kvr @ recover
    cond = 0.5 * (cond + cond.T)
    for a in (cond, recover):
        a.flags.writeable = False
    part_levels = {name: names.index(cage.part_levels[name]) for name in parts}
    return CompiledRibCage(
        vertebrae=np.array(levels),
        stiffness=cond,
        bodies=tuple(bodies),
        points=np.array(points),
        recover=recover,
        elements=tuple(elements),
        parts=MappingProxyType({p: np.array(v) for p, v in parts.items()}),
        part_levels=MappingProxyType(part_levels),
    )


def _nearest(nodes: list[int], points: np.ndarray, p: np.ndarray) -> int:
    return nodes[int(np.argmin(np.linalg.norm(points - p, axis=1)))]


def _intercostals(ribs, index, elements, tissue) -> None:
    e = tissue["intercostal_modulus_mpa"]
    g = e / (2.0 * (1.0 + tissue["intercostal_poisson"]))
    thick = tissue["intercostal_thickness_mm"]
    by = {(r.number, r.side): r for r in ribs}
    for r in ribs:
        below = by.get((r.number + 1, r.side))
        if below is None:
            continue
        up, low = r.centreline_mm, below.centreline_mm
        step = float(np.mean(np.linalg.norm(np.diff(up, axis=0), axis=1)))
        up_nodes = [index[f"{r.name}:{i}"] for i in RIB_NODES]
        low_nodes = [index[f"{below.name}:{i}"] for i in RIB_NODES]
        for i in range(1, len(up) - 1):
            j = int(np.argmin(np.linalg.norm(low - up[i], axis=1)))
            d = low[j] - up[i]
            length = float(np.linalg.norm(d))
            n = d / length
            area = step * thick
            kn, ks = e * area / length, g * area / length
            k_lin = ks * np.eye(3) + (kn - ks) * np.outer(n, n)
            a = _nearest(up_nodes, up[list(RIB_NODES)], up[i])
            b = _nearest(low_nodes, low[list(RIB_NODES)], low[j])
            elements.append(
                Element(
                    f"intercostal {r.name} {i}",
                    "intercostal",
                    (a, b),
                    _spring(0.5 * (up[i] + low[j]), np.zeros((3, 3)), k_lin),
                )
            )


def _anterior(cage: RibCage, ribs, index, body, elements, parts, tissue) -> None:
    e_c, nu_c = tissue["cartilage_modulus_mpa"], tissue["cartilage_poisson"]
    e_b, nu_b = tissue["bone_modulus_mpa"], tissue["bone_poisson"]
    present = {r.name for r in ribs}
    carts = [c for c in cage.cartilages if f"rib_{c.number}_{c.side}" in present]
    # Sternum: a node per costal notch and side, where the cartilages reach it.
    notches = {(c.number, c.side): c.centreline_mm[-1] for c in carts if c.joins == "sternum"}
    sternum_nodes: dict[tuple[int, str], int] = {
        key: body(f"sternum:{key[0]}{key[1][0]}", p) for key, p in sorted(notches.items())
    }
    if sternum_nodes:
        parts["sternum"] = list(sternum_nodes.values())
    thick = cage.sternum_section_mm2 / cage.sternum_width_mm
    levels = sorted({k for k, _ in notches})
    for side in ("left", "right"):
        col = [(k, sternum_nodes[(k, side)]) for k in levels if (k, side) in sternum_nodes]
        for (ka, a), (kb, b) in zip(col[:-1], col[1:], strict=True):
            elements.append(
                Element(
                    f"sternum {side} {ka}-{kb}",
                    "sternum",
                    (a, b),
                    _beam(
                        notches[(ka, side)],
                        notches[(kb, side)],
                        e_b,
                        nu_b,
                        0.5 * cage.sternum_section_mm2,
                    ),
                )
            )
    if cage.sternum_whole:
        for k in levels:
            if (k, "left") not in sternum_nodes or (k, "right") not in sternum_nodes:
                continue
            pl, pr = notches[(k, "left")], notches[(k, "right")]
            heights = [
                abs(notches[(j, "left")][1] - pl[1])
                for j in (k - 1, k + 1)
                if (j, "left") in notches
            ]
            height = float(np.mean(heights)) if heights else 10.0
            elements.append(
                Element(
                    f"sternum across {k}",
                    "sternum",
                    (sternum_nodes[(k, "left")], sternum_nodes[(k, "right")]),
                    _beam(pl, pr, e_b, nu_b, thick * height),
                )
            )
    # Cartilages: rib end -> free nodes -> sternum notch or the cartilage above.
    free: dict[str, list[int]] = {}
    for c in carts:
        line = c.centreline_mm
        rib_end = index[f"rib_{c.number}_{c.side}:{RIB_NODES[-1]}"]
        if c.joins == "sternum":
            far = sternum_nodes[(c.number, c.side)]
        elif c.joins in free:
            above = next(x for x in carts if x.name == c.joins)
            pts = above.centreline_mm[list(CARTILAGE_NODES)]
            far = free[c.joins][int(np.argmin(np.linalg.norm(pts - line[-1], axis=1)))]
        else:
            continue  # the cartilage it joins is outside the specimen: it hangs free
        nodes = [body(f"{c.name}:{i}", line[i]) for i in CARTILAGE_NODES]
        free[c.name] = nodes
        parts[c.name] = nodes
        chain = [
            (rib_end, line[0]),
            *zip(nodes, line[list(CARTILAGE_NODES)], strict=True),
            (far, line[-1]),
        ]
        for i, ((a, pa), (b, pb)) in enumerate(zip(chain[:-1], chain[1:], strict=True)):
            elements.append(
                Element(
                    f"cartilage {c.name} {i}",
                    "cartilage",
                    (a, b),
                    _beam(pa, pb, e_c, nu_c, c.section_mm2),
                )
            )


def rotation_log(rot: np.ndarray) -> np.ndarray:
    """Rotation vectors (..., 3) of rotation matrices (..., 3, 3), radians (angles < pi)."""
    trace = rot[..., 0, 0] + rot[..., 1, 1] + rot[..., 2, 2]
    cos = np.minimum(np.maximum(0.5 * (trace - 1.0), -1.0), 1.0)
    angle = np.arccos(cos)
    vec = np.stack(
        [
            rot[..., 2, 1] - rot[..., 1, 2],
            rot[..., 0, 2] - rot[..., 2, 0],
            rot[..., 1, 0] - rot[..., 0, 1],
        ],
        axis=-1,
    )
    small = angle < 1e-6
    scale = np.where(small, 0.5, angle / (2.0 * np.sin(np.where(small, 1.0, angle))))
    return vec * scale[..., None]


def _adjoint(t: np.ndarray) -> np.ndarray:
    """(6, 6) map of origin screws under the rigid transform ``t`` (4, 4)."""
    ad = np.zeros((6, 6))
    r = t[:3, :3]
    ad[:3, :3] = ad[3:, 3:] = r
    ad[3:, :3] = skew(t[:3, 3]) @ r
    return ad


@dataclass(frozen=True)
class RibLoad:
    """The rib cage's action on the vertebrae at one configuration.

    Attributes
    ----------
    wrench : (m, 6) float
        On each of :attr:`CompiledRibCage.vertebrae`: moment about the global origin
        (N mm) and force (N), global frame. They sum to zero.
    screws : (m, 6) float
        The vertebrae's motion relative to the thorax's frame, in that frame at rest.
    to_rest : (4, 4) float
        The rigid transform that takes the thorax back to its rest place.
    rest_stiffness : (6m, 6m) float
        :attr:`CompiledRibCage.stiffness`.
    moved, rest_points : (m, 3) float
        The vertebrae's origins moved back to the thorax's rest place, and at rest, mm.
    """

    wrench: np.ndarray
    screws: np.ndarray
    to_rest: np.ndarray
    rest_stiffness: np.ndarray
    moved: np.ndarray
    rest_points: np.ndarray

    def motion_maps(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the maps (6, 6) and (m, 6, 6) that :attr:`stiffness` is made of.

        ``stiffness`` is ``A^T K L`` with ``A`` the block-diagonal of the first (the
        frame's move back to rest, the same for every vertebra), ``K``
        :attr:`rest_stiffness` and ``L`` the block-diagonal of the second (each
        vertebra's small motion to the change of its screw at rest).
        """
        ad = _adjoint(self.to_rest)
        m = self.screws.shape[0]
        # d(screws) per small motion (w, v0) of a vertebra, in the frame at rest.
        jinv = np.linalg.inv(left_jacobian(self.screws[:, :3]))
        lmap = np.zeros((m, 6, 6))
        lmap[:, :3, :3] = jinv
        lmap[:, 3:, :3] = -skew(self.moved) + skew(self.rest_points) @ jinv
        lmap[:, 3:, 3:] = np.eye(3)
        return ad, lmap @ ad

    @property
    def stiffness(self) -> np.ndarray:
        """d(wrench) / d(motion) (6m, 6m), both as origin screws in the current frame.

        The motion of each vertebra is taken relative to the thorax's frame; the
        wrench's turn with that frame is not in it.
        """
        ad, right = self.motion_maps()
        m = right.shape[0]
        k = self.rest_stiffness.reshape(m, 6, m, 6)
        out = np.einsum("ba,vbwc,wcd->vawd", ad, k, right, optimize=True)
        return out.reshape(6 * m, 6 * m)


def rib_load(c: CompiledRibCage, poses: np.ndarray, rest: np.ndarray) -> RibLoad:
    """Return the rib cage's action on its vertebrae at the vertebra ``poses`` (L, 4, 4).

    The thorax's frame is the middle rib-bearing vertebra's: the whole configuration is
    moved back by the rigid transform that returns that vertebra to its rest pose, the
    vertebrae's remaining motion is measured there (rotation vector and displacement of
    the origin), and the wrench ``-K s`` is moved forward again.
    """
    v = c.vertebrae
    ref = v[len(v) // 2]
    to_rest = rest[ref] @ _inverse(poses[ref])
    back = to_rest @ poses[v]
    p0 = rest[v]
    w = rotation_log(back[:, :3, :3] @ np.swapaxes(p0[:, :3, :3], 1, 2))
    s = np.concatenate([w, back[:, :3, 3] - p0[:, :3, 3] - cross(w, p0[:, :3, 3])], axis=1)
    if np.abs(s).max() < _ROUND_OFF:  # at rest, exactly: round-off of the poses is no load
        s[:] = 0.0
    w_rest = -(c.stiffness @ s.reshape(-1)).reshape(-1, 6)
    wrench = w_rest @ _adjoint(to_rest)  # ad.T @ w for each row
    return RibLoad(
        wrench=wrench,
        screws=s,
        to_rest=to_rest,
        rest_stiffness=c.stiffness,
        moved=back[:, :3, 3],
        rest_points=p0[:, :3, 3],
    )


def _inverse(t: np.ndarray) -> np.ndarray:
    """Inverse of an affine transform (4, 4), exact to round-off.

    A true inverse, not a transpose: the stored rest frames are orthonormal to 1e-10
    only, which a transpose would turn into a strain of the thorax at rest. Worked in
    Python floats (the adjugate of the 3 x 3 part): a 4 x 4 LAPACK call costs more.
    """
    (a, b, c), (d, e, f), (g, h, i) = t[:3, :3].tolist()
    co = [e * i - f * h, c * h - b * i, b * f - c * e]
    det = a * co[0] + d * co[1] + g * co[2]
    rinv = (
        np.array(
            [
                co,
                [f * g - d * i, a * i - c * g, c * d - a * f],
                [d * h - e * g, b * g - a * h, a * e - b * d],
            ]
        )
        / det
    )
    out = np.eye(4)
    out[:3, :3] = rinv
    out[:3, 3] = -rinv @ t[:3, 3]
    return out


def part_motion(
    c: CompiledRibCage, load: RibLoad, poses: np.ndarray, rest: np.ndarray
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Return the parts' names, poses (p, 4, 4) and turns on their vertebra.

    A part's motion is the rigid motion that best fits its nodes' (their mean rotation
    and the mean displacement of their points), taken relative to the vertebra its mesh
    moves with and applied to that vertebra's pose, so a part that does not move on its
    vertebra is drawn exactly with it. The turns are rotation matrices (p, 3, 3) in the
    vertebra's rest frame.
    """
    names = tuple(c.parts)
    _, centre, level = c.part_average
    rel_screw = c.part_screw_map @ load.screws.reshape(-1)
    w_rel, u_rel = rel_screw[:, :3], rel_screw[:, 3:]
    rel = np.zeros((len(names), 4, 4))
    rel[:, :3, :3] = rodrigues(w_rel)
    rel[:, :3, 3] = centre + u_rel - np.einsum("pij,pj->pi", rel[:, :3, :3], centre)
    rel[:, 3, 3] = 1.0
    out = _inverse(load.to_rest) @ rel @ load.to_rest @ poses[level]
    frame = rest[level][:, :3, :3]
    turns = np.swapaxes(frame, 1, 2) @ rel[:, :3, :3] @ frame
    return names, out, turns


JOINT_TEST_RIBS = ("rib_4_left", "rib_5_left", "rib_6_left", "rib_7_left")
"""The ribs of the virtual joint test (mid-thoracic: the published test used four rib
levels of two donors without naming them)."""
JOINT_TEST_MOMENT_NMM = 100.0
JOINT_TEST_FORCE_N = 28.0


def joint_test(
    model: SpineModel, rib: str, constants: Mapping[str, float] | None = None
) -> tuple[float, np.ndarray]:
    """Test one rib's joints as a costovertebral joint test does, vertebrae held fixed.

    Parameters
    ----------
    model : SpineModel
        With a rib cage.
    rib : str
        ``rib_5_left``.
    constants : mapping, optional
        Trial values of :func:`joint_constants`.

    Returns
    -------
    rom_deg : float
        Range of rotation of the rib between -0.1 and +0.1 N m about the horizontal axis
        that lifts and lowers its front (cranial-caudal), degrees.
    translation_mm : (3,) float
        The head's displacement under 28 N along X (sagittal), Y (longitudinal) and Z
        (transverse), each alone, the rib free to turn, mm.
    """
    if model.rib_cage is None:
        raise ValueError("the model has no rib cage")
    r = next(x for x in model.rib_cage.ribs if x.name == rib)
    jc = {**joint_constants(), **(constants or {})}
    k_lin = jc["joint_translation_n_per_mm"] * np.eye(3)
    k_rot = jc["joint_rotation_nmm_per_rad"] * np.eye(3)
    k = np.zeros((6, 6))
    points = [r.head_mm] * len(r.head_levels)
    if r.tubercle_mm is not None:
        points.append(r.tubercle_mm)
    for p in points:  # the vertebrae are fixed: only the rib's block counts
        k += _spring(p, k_rot, k_lin)[6:, 6:]
    along = r.centreline_mm[-1] - r.head_mm
    along[1] = 0.0
    axis = np.cross([0.0, 1.0, 0.0], along / np.linalg.norm(along))
    load = np.zeros(6)
    load[:3] = JOINT_TEST_MOMENT_NMM * axis
    s = np.linalg.solve(k, load)
    rom = 2.0 * math.degrees(float(s[:3] @ axis))
    trans = np.zeros(3)
    for i in range(3):
        f = np.zeros(3)
        f[i] = JOINT_TEST_FORCE_N
        load = np.concatenate([np.cross(r.head_mm, f), f])
        s = np.linalg.solve(k, load)
        trans[i] = float(np.linalg.norm(s[3:] + np.cross(s[:3], r.head_mm)))
    return rom, trans
