"""The frozen :class:`SpineModel`, compiled once from the anatomy tables.

Each joint has a *disc frame*: origin at the centre of the disc mid-plane, +Y along
the bisector of the two endplate normals, +X anterior, +Z right. Facet centres and
normals and the axis of axial rotation are expressed in it, and the same numbers
place the articular surfaces of the meshes and drive the mechanics.

The facet normal ``n`` is the outward normal of the lower vertebra's superior
articular surface, pointing at the upper vertebra's inferior articular surface: the
joint closes when the upper surface moves against ``n``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from ..errors import SpineInputError
from .frames import invert
from .levels import LEVELS, SEGMENTS, level_index, levels_between, region_of, segment_index
from .measured import MEASURED_PATH, measured_geometry
from .ribs import RibCage, check_rib_state, compile_rib_cage
from .tables import joint_table, morphometry_table, tables_version

__all__ = [
    "CONTACT_SITES",
    "FACET_FLAGS",
    "FACET_KEYS",
    "JOINT_KEYS",
    "SIDES",
    "BoneContact",
    "Facet",
    "Joint",
    "SpineModel",
    "Vertebra",
    "facet_angles",
    "facet_normal",
    "load_model",
]

SIDES = ("left", "right")
"""The two sides, in the order of every per-side array: left first."""
_SIDE_Z = {"left": -1.0, "right": 1.0}

FACET_KEYS: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "coronal_deg": (0.0, 180.0),
        "transverse_deg": (0.0, 180.0),
        "clearance_mm": (0.0, 5.0),
        "facet_width_mm": (2.0, 40.0),
        "facet_height_mm": (2.0, 40.0),
    }
)
"""Per-joint override keys and their allowed closed ranges; each may carry a
``left_`` or ``right_`` prefix to change one side only."""

FACET_FLAGS: tuple[str, ...] = ("removed",)
"""Per-joint true/false override keys, with the same side prefixes (``left_removed =
true``: a facetectomy of that side, no contact and no capsule)."""

JOINT_KEYS: Mapping[str, tuple[float, float]] = MappingProxyType({"lordosis_deg": (-30.0, 40.0)})
"""Per-joint keys without sides: ``lordosis_deg`` sets the rest angle between the two
vertebrae (+ lordosis), turning the upper vertebra and all above it about the disc centre."""


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float)
    a.flags.writeable = False
    return a


def facet_normal(coronal_deg: float, transverse_deg: float, side: str) -> np.ndarray:
    """Return the unit normal of a superior articular facet in the disc frame.

    Parameters
    ----------
    coronal_deg : float
        Angle of the facet plane to the coronal plane seen from above, 0-180 deg,
        measured from the lateral end (below 90: faces posteromedially, lumbar; above
        90: faces posterolaterally, thoracic; 0 and 180: coronal, faces posteriorly).
    transverse_deg : float
        Inclination of the facet plane to the transverse plane, 0-180 deg (90: vertical).
    side : {"left", "right"}

    Returns
    -------
    (3,) float
        Unit normal, pointing from the lower vertebra's facet to the upper one's.
    """
    phi, beta = math.radians(coronal_deg), math.radians(transverse_deg)
    sz = _SIDE_Z[side]
    # Below 90 deg the normal turns medially from posterior, above 90 laterally.
    flip = 1.0 if coronal_deg <= 90.0 else -1.0
    nx = flip * -math.cos(phi)
    nz = flip * -sz * math.sin(phi)
    return np.array([nx * math.sin(beta), math.cos(beta), nz * math.sin(beta)])


def facet_angles(normal: np.ndarray, side: str) -> tuple[float, float]:
    """Return ``(coronal_deg, transverse_deg)`` of a superior facet's unit normal.

    The inverse of :func:`facet_normal`: a normal turned medially from posterior gives
    a coronal angle below 90, one turned laterally an angle above 90.

    Parameters
    ----------
    normal : (3,) float
        Unit normal in the disc frame, pointing from the lower facet to the upper.
    side : {"left", "right"}

    Returns
    -------
    coronal_deg, transverse_deg : float
    """
    n = np.asarray(normal, dtype=float)
    sz = _SIDE_Z[side]
    transverse = math.degrees(math.acos(max(-1.0, min(1.0, float(n[1])))))
    medial = -sz * float(n[2])
    if medial >= 0.0:
        coronal = math.degrees(math.atan2(medial, -float(n[0])))
    else:
        coronal = math.degrees(math.atan2(-medial, float(n[0])))
    return coronal % 180.0, transverse


@dataclass(frozen=True)
class Facet:
    """One side of a facet joint, in the joint's disc frame.

    Attributes
    ----------
    side : str
        ``"left"`` or ``"right"``.
    coronal_deg, transverse_deg : float
        Orientation of the facet plane (see :func:`facet_normal`), degrees.
    centre_mm : (3,) float
        Centre of the articular surface, mm, disc frame.
    normal : (3,) float
        Unit normal of the lower (superior) articular surface, disc frame.
    width_mm, height_mm : float
        Extent of the elliptical articular surface, mm.
    clearance_mm : float
        Cartilage clearance at rest, mm.
    removed : bool
        The facet was removed (facetectomy): no contact and no capsule.
    """

    side: str
    coronal_deg: float
    transverse_deg: float
    centre_mm: np.ndarray
    normal: np.ndarray
    width_mm: float
    height_mm: float
    clearance_mm: float
    removed: bool = False

    @property
    def area_mm2(self) -> float:
        """Area of the elliptical articular surface, mm²."""
        return math.pi / 4.0 * self.width_mm * self.height_mm


CONTACT_SITES = ("left", "middle", "right")
"""Where the posterior elements of a joint's upper vertebra may meet the lower bone: the
arch left of the mid-sagittal plane (articular process, lamina), on it (spinous
process, lamina) and right of it."""


@dataclass(frozen=True)
class BoneContact:
    """Where a posterior element of a joint's upper vertebra would meet the lower bone.

    Measured on the bones by ``spine3d meshes build`` (see
    :func:`spine3d.geometry.column.joint_contacts`).

    Attributes
    ----------
    site : str
        One of :data:`CONTACT_SITES`.
    point_mm : (3,) float
        The upper bone's point at rest, mm, disc frame.
    plane_mm : (3,) float
        The point of the lower bone's surface it would meet, mm, disc frame.
    normal : (3,) float
        Unit normal of the lower bone's surface there, toward the upper point.
    """

    site: str
    point_mm: np.ndarray
    plane_mm: np.ndarray
    normal: np.ndarray

    @property
    def gap_mm(self) -> float:
        """Bone-to-bone distance along the normal at rest, mm."""
        return float((self.point_mm - self.plane_mm) @ self.normal)


@dataclass(frozen=True)
class Joint:
    """A motion segment: disc, two facets and an axis of axial rotation.

    Attributes
    ----------
    name, upper, lower, region : str
    facets : tuple of Facet
        ``(left, right)``.
    axis_point_mm : (3,) float
        A point on the axis of axial rotation, disc frame (the axis is the frame's +Y).
    disc_height_mm, disc_width_mm, disc_depth_mm : float
        Mid-disc height and the mean endplate width and depth of the two vertebrae.
    sagittal_deg : float
        Rest angle between the vertebrae (+ lordosis), degrees.
    disc_frame_in_lower, disc_frame_in_upper : (4, 4) float
        Transforms from disc-frame to lower- and upper-vertebra coordinates.
    source : str
    contacts : tuple of BoneContact
        Where the posterior elements would meet bone on bone, by site (none for bones
        measured before they were recorded).
    """

    name: str
    upper: str
    lower: str
    region: str
    facets: tuple[Facet, Facet]
    axis_point_mm: np.ndarray
    disc_height_mm: float
    disc_width_mm: float
    disc_depth_mm: float
    sagittal_deg: float
    disc_frame_in_lower: np.ndarray
    disc_frame_in_upper: np.ndarray
    source: str
    contacts: tuple[BoneContact, ...] = ()

    def facet(self, side: str) -> Facet:
        """Return the facet on ``side`` (``"left"`` or ``"right"``)."""
        return self.facets[SIDES.index(side)]


@dataclass(frozen=True)
class Vertebra:
    """One vertebra: morphometry, rest pose and region.

    Attributes
    ----------
    name, region : str
    morphometry : mapping of str to float
        The level's row of the morphometry table (mm, degrees).
    rest_pose : (4, 4) float
        Local-to-global transform in the rest pose; the origin is the body centre.
    body_wedge_deg : float
        Angle between the endplates from the anterior/posterior height difference
        (+ anterior taller), degrees.
    source : str
    landmarks : mapping of str to (3,) float
        Points measured on the bone (``anterior_body``, ``posterior_body``,
        ``spinous_base``, ``spinous_tip``, ``transverse_tip_left``/``_right``,
        ``mammillary_left``/``_right``), local mm.
    bone_inertia : tuple or None
        The bone as a uniform solid, measured on its mesh: volume (mm^3), centroid (3,)
        local mm, and inertia per unit mass about the centroid (3, 3) mm^2; None when
        the bones' manifest does not hold it.
    """

    name: str
    region: str
    morphometry: Mapping[str, float]
    rest_pose: np.ndarray
    body_wedge_deg: float
    source: str
    landmarks: Mapping[str, np.ndarray] = field(default_factory=dict)
    bone_inertia: tuple[float, np.ndarray, np.ndarray] | None = None

    @property
    def body_height_mm(self) -> float:
        """Mean of the anterior and posterior body heights, mm."""
        m = self.morphometry
        return 0.5 * (m["body_height_post_mm"] + m["body_height_ant_mm"])

    def endplate_centre(self, which: str) -> np.ndarray:
        """Return the centre of the ``"superior"`` or ``"inferior"`` endplate, local mm."""
        sign = {"superior": 1.0, "inferior": -1.0}[which]
        return np.array([0.0, sign * 0.5 * self.body_height_mm, 0.0])


@dataclass(frozen=True, eq=False)
class SpineModel:
    """The spine, built once and never changed (see :func:`load_model`).

    T1 to S1 with the shipped bones; a pack of fewer levels (say L1-S1) gives a model
    of just those levels.

    Attributes
    ----------
    vertebrae : tuple of Vertebra
        A run of adjacent levels, top to bottom (T1 ... S1 with the shipped bones).
    joints : tuple of Joint
        The segments between them, top to bottom.
    overrides : mapping
        The facet overrides the model was compiled with.
    tables_version : str
        Content hash of the anatomy data files.
    bones : str or None
        The pack the model was compiled from; None for the shipped bones.
    ribs : str
        The rib cage's resection state (:data:`~spine3d.anatomy.ribs.RIB_STATES`).
    rib_cage : RibCage or None
        Its parts at rest; None when ``ribs == "none"``.
    """

    vertebrae: tuple[Vertebra, ...]
    joints: tuple[Joint, ...]
    overrides: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    tables_version: str = ""
    bones: str | None = None
    ribs: str = "none"
    rib_cage: RibCage | None = None

    def vertebra(self, name: str) -> Vertebra:
        """Return the vertebra called ``name`` (e.g. ``"L4"``).

        Raises
        ------
        SpineInputError
            On an unknown level, or one the model's bones lack.
        """
        for v in self.vertebrae:
            if v.name == name:
                return v
        level_index(name)  # an unknown name is its own error
        raise SpineInputError(f"level {name}: not in the bones ({self._holds()})")

    def joint(self, name: str) -> Joint:
        """Return the joint (motion segment) called ``name`` (e.g. ``"L4-L5"``).

        Raises
        ------
        SpineInputError
            On an unknown segment, or one the model's bones lack.
        """
        for j in self.joints:
            if j.name == name:
                return j
        segment_index(name)
        raise SpineInputError(f"segment {name}: not in the bones ({self._holds()})")

    def _holds(self) -> str:
        return f"they hold {self.vertebrae[0].name} to {self.vertebrae[-1].name}"

    def lacking(self, levels: str) -> tuple[str, ...]:
        """Return the levels of a range or segment that the model lacks.

        Parameters
        ----------
        levels : str
            A range or segment, e.g. ``"T4-T8"`` or ``"L4-L5"``.

        Returns
        -------
        tuple of str
            The levels of ``levels`` not in :attr:`vertebrae`, top to bottom (empty when
            the model holds them all).
        """
        return tuple(lv for lv in levels_between(levels) if lv not in self.level_names)

    def level_span(self, levels: str | None = None) -> tuple[int, int]:
        """Return the positions of a specimen's top and bottom levels in :attr:`vertebrae`.

        Parameters
        ----------
        levels : str, optional
            A range such as ``"L1-S1"``; by default every level of the model.

        Returns
        -------
        top, bottom : int
            Indices into :attr:`vertebrae` (and :attr:`level_names`).

        Raises
        ------
        SpineInputError
            On a bad range, one of fewer than two levels, or one that names levels the
            model lacks (the message names them and what the bones hold).
        """
        names = self.level_names
        if levels is None:
            return 0, len(names) - 1
        if not isinstance(levels, str):
            raise SpineInputError(f"levels = {levels!r}: expected a range such as 'L1-S1'")
        wanted = levels_between(levels)
        if len(wanted) < 2:
            raise SpineInputError(
                f"levels = {levels!r}: a specimen needs at least two levels, e.g. 'T7-T8'"
            )
        lacking = self.lacking(levels)
        if lacking:
            raise SpineInputError(
                f"levels = {levels!r}: the bones lack {', '.join(lacking)} ({self._holds()})"
            )
        return names.index(wanted[0]), names.index(wanted[-1])

    @property
    def level_names(self) -> tuple[str, ...]:
        """Level names, top to bottom."""
        return tuple(v.name for v in self.vertebrae)

    @property
    def segment_names(self) -> tuple[str, ...]:
        """Segment names, top to bottom."""
        return tuple(j.name for j in self.joints)


def _check_overrides(
    facets: Mapping[str, Mapping[str, float]] | None,
) -> dict[str, dict[str, dict[str, float]]]:
    """Validate overrides; return ``{segment: {side: {key: value}}}``."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    if not facets:
        return out
    if not isinstance(facets, Mapping):
        raise SpineInputError("facets: expected a mapping of joint name to overrides")
    allowed = ", ".join(
        [f"{p}{k}" for k in (*FACET_KEYS, *FACET_FLAGS) for p in ("", "left_", "right_")]
        + list(JOINT_KEYS)
    )
    for seg, keys in facets.items():
        if seg not in SEGMENTS:
            raise SpineInputError(
                f"facets: unknown joint {seg!r}: expected one of {SEGMENTS[0]} ... "
                f"{SEGMENTS[-1]} (adjacent levels, upper-lower)"
            )
        if not isinstance(keys, Mapping):
            raise SpineInputError(f"facets.{seg}: expected a table of keys, got {keys!r}")
        sides: dict[str, dict[str, float]] = {"left": {}, "right": {}}
        # Plain keys first, so a one-sided key overrides them whatever the order.
        for key, value in sorted(keys.items(), key=lambda kv: kv[0].startswith(SIDES)):
            base, targets = key, SIDES
            for side in SIDES:
                if key.startswith(side + "_"):
                    base, targets = key[len(side) + 1 :], (side,)
            if base in FACET_FLAGS:
                if not isinstance(value, bool):
                    raise SpineInputError(
                        f"facets.{seg}.{key}: expected true or false, got {value!r}"
                    )
                for side in targets:
                    sides[side][base] = bool(value)
                continue
            if key in JOINT_KEYS:
                base = key
            elif base not in FACET_KEYS:
                raise SpineInputError(
                    f"facets.{seg}: unknown key {key!r}: expected one of {allowed}"
                )
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SpineInputError(f"facets.{seg}.{key}: expected a number, got {value!r}")
            lo, hi = {**FACET_KEYS, **JOINT_KEYS}[base]
            if not (lo <= float(value) <= hi):
                raise SpineInputError(
                    f"facets.{seg}.{key} = {value}: out of range, expected {lo:g} to {hi:g}"
                )
            for side in targets:
                sides[side][base] = float(value)
        out[seg] = sides
    return out


def _body_wedge_deg(m: Mapping[str, float]) -> float:
    return math.degrees(
        math.atan2(m["body_height_ant_mm"] - m["body_height_post_mm"], m["body_depth_mm"])
    )


def _bone_inertia(mass: Mapping | None) -> tuple[float, np.ndarray, np.ndarray] | None:
    """Return the manifest's ``mass`` entry of a bone as :attr:`Vertebra.bone_inertia`."""
    if not mass:
        return None
    return (
        float(mass["volume_mm3"]),
        _frozen(mass["centroid_mm"]),
        _frozen(mass["gyration_mm2"]),
    )


def _manifest_path(bones: str | None) -> str:
    """Return the manifest of a set of bones as a user names it."""
    return MEASURED_PATH if bones is None else f"{bones}/manifest.json"


def _measured(bones: str | None) -> Mapping:
    """Return the manifest of a set of bones (the measured geometry).

    Raises
    ------
    SpineInputError
        Naming the manifest, if it is missing, was not written by ``meshes build`` or
        ``import``, or lacks a level.
    """
    where = _manifest_path(bones)
    try:
        data = measured_geometry(bones)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        hint = "rebuild with `spine3d meshes build`" if bones is None else "import it again"
        raise SpineInputError(
            f"{where}: cannot read the measured bone geometry ({exc}); {hint}"
        ) from None
    names = [lv for lv in LEVELS if lv in data["levels"]]
    if len(names) < 2:
        raise SpineInputError(
            f"{where}: the bones hold {', '.join(names) or 'no level'}; a model needs at "
            "least two adjacent levels"
        )
    run = LEVELS[LEVELS.index(names[0]) : LEVELS.index(names[-1]) + 1]
    missing = [lv for lv in run if lv not in data["levels"]]
    missing += [s for s in _segments(run) if s not in data["joints"]]
    if missing:
        raise SpineInputError(
            f"{where}: the bones lack {', '.join(missing)}; a model needs every level and "
            f"joint from {run[0]} to {run[-1]}"
        )
    return data


def _contacts(entry: Mapping, seg: str, bones: str | None) -> tuple[BoneContact, ...]:
    """Return a joint's bone contacts from its manifest entry (none when not recorded).

    Raises
    ------
    SpineInputError
        Naming the manifest, when an entry is not three finite coordinates per point
        and a unit normal, or names an unknown site.
    """
    raw = entry.get("contacts", {})
    where = f"{_manifest_path(bones)}: joints.{seg}.contacts"
    hint = "rebuild with `spine3d meshes build`" if bones is None else "import it again"
    if not isinstance(raw, Mapping):
        raise SpineInputError(f"{where}: expected an object of sites; {hint}")
    unknown = [site for site in raw if site not in CONTACT_SITES]
    if unknown:
        raise SpineInputError(
            f"{where}: unknown site {unknown[0]!r}: expected one of {', '.join(CONTACT_SITES)}"
        )
    out = []
    for site in (x for x in CONTACT_SITES if x in raw):
        c = raw[site]
        try:
            p, q, n = (np.asarray(c[k], dtype=float) for k in ("point_mm", "plane_mm", "normal"))
        except (KeyError, TypeError, ValueError):
            p = q = n = np.empty(0)
        ok = all(a.shape == (3,) and np.isfinite(a).all() for a in (p, q, n))
        if not ok or abs(float(np.linalg.norm(n)) - 1.0) > 1e-3:
            raise SpineInputError(
                f"{where}.{site}: expected point_mm, plane_mm (3 numbers each, mm) and a "
                f"unit normal; {hint}"
            )
        out.append(BoneContact(site, _frozen(p), _frozen(q), _frozen(n / np.linalg.norm(n))))
    return tuple(out)


def _segments(names) -> list[str]:
    """Return the segments between adjacent ``names`` (a run of levels), top to bottom."""
    return [f"{a}-{b}" for a, b in zip(names[:-1], names[1:], strict=True)]


def load_model(
    facets: Mapping[str, Mapping[str, float]] | None = None,
    bones: str | None = None,
    ribs: str | None = None,
) -> SpineModel:
    """Compile the spine model from the geometry measured on the bones, with overrides.

    Every joint's disc frame, disc size and articular surfaces (centre, normal, extent)
    and every vertebra's rest pose come from the mesh manifest, which ``spine3d meshes
    build`` measures on the bones; the tables add what bones do not show (cartilage
    clearance, the axis of axial rotation, disc heights already used for the pose).

    Parameters
    ----------
    facets : mapping, optional
        ``{joint: {key: value}}`` with keys from :data:`FACET_KEYS`, each optionally
        prefixed ``left_`` or ``right_`` for one side (facet tropism), e.g.
        ``{"T6-T7": {"coronal_deg": 50.0, "transverse_deg": 90.0}}``. An angle
        override turns the facet about its measured centre.
    bones : str, optional
        A folder of measured bones (an imported pack); by default the shipped bones. A
        pack of a run of fewer levels (say L1-S1) gives a model of just those levels.
    ribs : str, optional
        The rib cage in the mechanics, one of :data:`~spine3d.anatomy.ribs.RIB_STATES`
        (``"intact"``, ``"no_intercostals"``, ``"sternotomy"``, ``"no_anterior"``,
        ``"none"``); by default ``"intact"`` when the bones hold a rib cage (the shipped
        bones do), ``"none"`` when they do not (imported packs).

    Returns
    -------
    SpineModel

    Raises
    ------
    SpineInputError
        On an unknown joint or key, a non-numeric value or one out of its range, a
        joint the bones lack, bones that are not a run of adjacent levels, an unknown
        rib cage state, or a rib cage asked of bones without one.
    """
    if ribs is not None:
        check_rib_state(ribs)
    overrides = _check_overrides(facets)
    morph = morphometry_table()
    jt = joint_table()
    measured = _measured(None if bones is None else str(bones))
    names = [lv for lv in LEVELS if lv in measured["levels"]]
    segments = _segments(names)
    absent = [seg for seg in overrides if seg not in segments]
    if absent:
        raise SpineInputError(
            f"facets: {', '.join(absent)}: not in the bones (they hold {names[0]} to "
            f"{names[-1]}; joints {segments[0]} ... {segments[-1]})"
        )

    joints: list[Joint] = []
    for seg in segments:
        upper, lower = seg.split("-")
        row = jt[seg]
        m = measured["joints"][seg]
        sides = overrides.get(seg, {"left": {}, "right": {}})
        facet_objs = []
        for side in SIDES:
            f = m["facets"][side]
            p = {
                "coronal_deg": f["coronal_deg"],
                "transverse_deg": f["transverse_deg"],
                "clearance_mm": row["clearance_mm"],
                "facet_width_mm": f["width_mm"],
                "facet_height_mm": f["height_mm"],
                **sides[side],
            }
            turned = "coronal_deg" in sides[side] or "transverse_deg" in sides[side]
            normal = (
                facet_normal(p["coronal_deg"], p["transverse_deg"], side)
                if turned
                else np.asarray(f["normal"], dtype=float)
            )
            facet_objs.append(
                Facet(
                    side=side,
                    coronal_deg=float(p["coronal_deg"]),
                    transverse_deg=float(p["transverse_deg"]),
                    centre_mm=_frozen(f["centre_mm"]),
                    normal=_frozen(normal / np.linalg.norm(normal)),
                    width_mm=float(p["facet_width_mm"]),
                    height_mm=float(p["facet_height_mm"]),
                    clearance_mm=float(p["clearance_mm"]),
                    removed=bool(p.get("removed", False)),
                )
            )
        depth = float(m["disc_depth_mm"])
        frame_in_upper = np.asarray(m["disc_frame_in_upper"], dtype=float)
        sagittal = float(row["sagittal_deg"])
        if "lordosis_deg" in sides["left"]:
            # Turn the upper vertebra about the disc centre (+Z turns it backward).
            turn = math.radians(sides["left"]["lordosis_deg"] - sagittal)
            c, s_ = math.cos(-turn), math.sin(-turn)
            rz = np.array([[c, -s_, 0, 0], [s_, c, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]])
            frame_in_upper = frame_in_upper @ rz
            sagittal = sides["left"]["lordosis_deg"]
        joints.append(
            Joint(
                name=seg,
                upper=upper,
                lower=lower,
                region=region_of(seg),
                facets=(facet_objs[0], facet_objs[1]),
                axis_point_mm=_frozen([-depth / 2 + row["axis_anterior_mm"], 0.0, 0.0]),
                disc_height_mm=float(m["disc_height_mm"]),
                disc_width_mm=float(m["disc_width_mm"]),
                disc_depth_mm=depth,
                sagittal_deg=sagittal,
                disc_frame_in_lower=_frozen(m["disc_frame_in_lower"]),
                disc_frame_in_upper=_frozen(frame_in_upper),
                source=f"measured on the bones ({measured['source']['package']}); "
                + str(row["source"]),
                contacts=_contacts(m, seg, bones),
            )
        )

    # Rest poses from the lowest level up, so that they agree with the disc frames exactly.
    poses = {names[-1]: np.asarray(measured["levels"][names[-1]]["local_frame"], dtype=float)}
    for j in reversed(joints):
        poses[j.upper] = poses[j.lower] @ j.disc_frame_in_lower @ invert(j.disc_frame_in_upper)

    vertebrae = tuple(
        Vertebra(
            name=lv,
            region=region_of(lv),
            morphometry=MappingProxyType(
                {k: float(v) for k, v in morph[lv].items() if k != "source"}
            ),
            rest_pose=_frozen(poses[lv]),
            body_wedge_deg=_body_wedge_deg(morph[lv]),
            source=str(morph[lv]["source"]),
            landmarks=MappingProxyType(
                {k: _frozen(v) for k, v in measured["levels"][lv].get("landmarks_mm", {}).items()}
            ),
            bone_inertia=_bone_inertia(measured["levels"][lv].get("mass")),
        )
        for lv in names
    )
    frozen_over = MappingProxyType(
        {s: MappingProxyType(dict(v)) for s, v in (facets or {}).items()}
    )
    parts = measured.get("parts", {})
    has_cage = any(isinstance(p, Mapping) and p.get("kind") == "rib" for p in parts.values())
    state = ribs if ribs is not None else ("intact" if has_cage else "none")
    cage = compile_rib_cage(
        parts,
        poses,
        {lv: measured["levels"][lv].get("landmarks_mm", {}) for lv in names},
        state,
        _manifest_path(bones),
    )
    return SpineModel(
        vertebrae=vertebrae,
        joints=tuple(joints),
        overrides=frozen_over,
        tables_version=tables_version(),
        bones=None if bones is None else str(bones),
        ribs=state,
        rib_cage=cage,
    )
