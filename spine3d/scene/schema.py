"""The keys a scene file may hold: type, default, allowed values and a line of help.

This table is the single description of the scene format: the loader validates
against it and ``docs/scenes.md`` documents exactly these keys (a test compares them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..anatomy import RIB_STATES

__all__ = [
    "CAMERAS",
    "CAMERA_ALIASES",
    "COLOR_BY",
    "FIGURE_VIEW_KEYS",
    "CONTACTS",
    "MANEUVERS",
    "POSITIONS",
    "ROTATION_COMPONENTS",
    "Key",
    "SCHEMA",
    "all_keys",
]

CAMERAS = (
    "posterior",
    "anterior",
    "left",
    "right",
    "superior",
    "posterior-oblique",
    "posterior-superior",
    "lateral",
)
"""Camera presets: where the camera stands, looking at the shown levels."""

CAMERA_ALIASES = {"lateral": "left"}
"""Other names of a preset (the viewer's key 2 says "lateral")."""

COLOR_BY = ("segment_rotation", "flexion", "lateral", "axial", "facet_gap", "none")
"""What colours the drawing: the magnitude of each segment's rotation, one signed
component of it (Cardan angles, ISB order), the facet gap, or nothing."""

ROTATION_COMPONENTS = ("flexion", "lateral", "axial")
"""The signed components of a segment's rotation ``color_by`` may take, in the order of
:attr:`~spine3d.mechanics.SpineState.rotation3_deg`."""

MANEUVERS = ("self_twist", "hvla", "mobilisation")
"""Kinds of ``[maneuver]``: :data:`spine3d.mechanics.maneuver.KINDS`, kept here so that
the schema loads without the mechanics (a test holds them equal)."""

POSITIONS = ("standing", "side_posture", "prone")
"""The patient's postures: :data:`spine3d.mechanics.maneuver.POSITIONS`."""

CONTACTS = ("spinous", "mammillary", "transverse")
"""Where a practitioner's hand pushes: :data:`spine3d.mechanics.maneuver.CONTACTS`."""

SEED_MAX = 2**32 - 1
"""Largest ``[population] seed``."""


@dataclass(frozen=True)
class Key:
    """One key of a scene file.

    Attributes
    ----------
    type : str
        ``"str"``, ``"bool"``, ``"int"``, ``"float"``, ``"vec3"`` (three numbers),
        ``"choice"``, ``"ribs"`` (a choice, or true for the default and false for
        ``"none"``), ``"levels"``, ``"mobility"`` or ``"facets"`` (tables), or
        ``"pack"`` (a bone pack's folder).
    default : object
        Value when the key is absent (``None``: not set).
    help : str
        One line for the documentation.
    choices : tuple of str, optional
    low, high : float, optional
        Closed range of a number.
    default_text : str, optional
        The default in words, where it depends on other keys (``default`` is then None).
    allowed_text : str, optional
        The allowed values in words, where the type alone does not say them.
    """

    type: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    default_text: str = ""
    allowed_text: str = ""

    def allowed(self) -> str:
        """Describe the allowed values in a few words."""
        if self.allowed_text:
            return self.allowed_text
        if self.type == "ribs":
            return "one of " + ", ".join(self.choices) + " (or true, false)"
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.type == "str" and self.high is not None:
            return f"a string of at most {self.high:g} characters"
        if self.type == "int" and self.low is not None:
            return f"an integer from {int(self.low)} to {int(self.high)}"
        if self.type == "float" and self.low is not None:
            return f"a number from {self.low:g} to {self.high:g}"
        return {
            "str": "a string",
            "bool": "true or false",
            "vec3": "three numbers, e.g. [0, 0, 1]",
            "levels": "a level or range such as 'T1-S1' or 'L3-L5'",
            "mobility": "a table of segment = restricted | normal | hypermobile | factor",
            "facets": "a table of joint = { coronal_deg = ..., transverse_deg = ... }",
            "pack": "a folder written by `spine3d import`, relative to the scene file",
        }.get(self.type, self.type)


SCHEMA: dict[str, dict[str, Key]] = {
    "": {
        "title": Key("str", "", "Title at the top of the figure.", high=200),
        "caption": Key("str", "", "Caption under the figure.", high=600),
        "theme": Key(
            "choice",
            "light",
            "Light or dark slides: on dark, every text, axis, tick and arrow is light.",
            choices=("light", "dark"),
        ),
        "language": Key(
            "choice",
            "en",
            "Language of every built-in string (axis titles, labels, readouts).",
            choices=("en", "de"),
        ),
        "font_pt": Key(
            "float",
            14.0,
            "Smallest text, points, on a figure as wide as a 16:9 slide (33.9 cm); "
            "titles are larger.",
            low=8,
            high=40,
        ),
    },
    "spine": {
        "levels": Key("levels", "T1-S1", "Which vertebrae are shown, e.g. 'T1-S1', 'L3-L5', 'T6'."),
        "mobility": Key(
            "mobility", {}, "Mobility per segment: restricted, normal, hypermobile or a factor."
        ),
        "facets": Key(
            "facets",
            {},
            "Per-joint facet overrides (coronal_deg, transverse_deg, clearance_mm, "
            "facet_width_mm, facet_height_mm; left_/right_ prefixes for one side), "
            "removed = true for a facetectomy (left_removed, right_removed: one side), "
            "and lordosis_deg, the rest angle between the two vertebrae.",
        ),
        "ribs": Key(
            "ribs",
            None,
            "The rib cage in the mechanics: intact, cut step by step (no_intercostals: the "
            "intercostal tissue; sternotomy: also the sternum split; no_anterior: also the "
            "costal cartilages from the sternum) or none; true means intact, false none. "
            "Default: intact for the shipped bones, none for a pack. Drawn translucent where "
            "six or more thoracic vertebrae are shown.",
            choices=RIB_STATES,
        ),
        "pelvis": Key(
            "bool",
            None,
            "Draw the hip bones beside the sacrum; default: when twelve or more levels, L5 and "
            "S1 among them, are shown.",
        ),
        "bones": Key(
            "pack",
            None,
            "Draw and solve an imported bone pack instead of the shipped bones (no rib cage "
            "or pelvis); figures credit its name and licence.",
        ),
    },
    "load": {
        "twist_deg": Key(
            "float", 30.0, "Twist of T1 on the sacrum, degrees (+ turns left).", low=-180, high=180
        ),
        "torque_nm": Key(
            "float", None, "Axial torque instead of a twist, N m.", low=-100, high=100
        ),
        "flexion_deg": Key(
            "float",
            None,
            "Flexion of T1 on the sacrum, degrees (+ forward, - extension); combines with "
            "a twist or lateral bending.",
            low=-90,
            high=90,
        ),
        "lateral_deg": Key(
            "float",
            None,
            "Lateral bending of T1 on the sacrum, degrees (+ to the right).",
            low=-90,
            high=90,
        ),
        "moment_flexion_nm": Key(
            "float",
            None,
            "Flexion moment on T1 instead of a flexion angle, N m (+ forward).",
            low=-100,
            high=100,
        ),
        "moment_lateral_nm": Key(
            "float",
            None,
            "Lateral bending moment on T1 instead of a lateral angle, N m (+ to the right).",
            low=-100,
            high=100,
        ),
        "follower_n": Key(
            "float",
            0.0,
            "Compressive follower load through every disc centre, N (body weight above).",
            low=0,
            high=2000,
        ),
    },
    "view": {
        "camera": Key("choice", "posterior-oblique", "Camera preset.", choices=CAMERAS),
        "azimuth_deg": Key(
            "float",
            None,
            "Custom camera direction around the shown levels: 0 from behind, 90 from the "
            "right, -90 from the left, 180 from the front.",
            low=-360,
            high=360,
        ),
        "elevation_deg": Key(
            "float", 0.0, "Custom camera height: 90 looks straight down.", low=-89, high=89
        ),
        "distance_mm": Key(
            "float",
            None,
            "Camera distance from the centre of the shown levels, mm (default: fit them).",
            low=50,
            high=20000,
        ),
        "position": Key("vec3", None, "Custom camera position, mm (with focal_point and up)."),
        "focal_point": Key("vec3", None, "Custom camera focal point, mm."),
        "up": Key("vec3", None, "Custom camera up direction."),
        "zoom": Key(
            "float",
            1.0,
            "Zoom of the camera: 1 fits the shown levels, 2 a close-up twice as large.",
            low=0.1,
            high=10,
        ),
        "color_by": Key(
            "choice",
            "segment_rotation",
            "Colour vertebrae by the rotation of the segment below (its size, or one "
            "signed component: flexion, lateral, axial), or facets by their gap.",
            choices=COLOR_BY,
        ),
        "labels": Key("bool", True, "Label each level."),
        "facets": Key(
            "bool", True, "Draw the facet joints (coloured by gap when color_by = facet_gap)."
        ),
        "facet_planes": Key(
            "bool", False, "Draw each facet plane's trace and its angle, seen from above."
        ),
        "ghost": Key("bool", False, "Draw the rest pose as a translucent ghost."),
        "twist_axis": Key("bool", True, "Draw the twist axis and the direction of the twist."),
        "axes": Key(
            "bool",
            False,
            "Draw each shown segment's instantaneous axis of rotation as an arrow.",
        ),
        "forces": Key(
            "bool",
            False,
            "Draw each facet's contact force as an arrow at the joint, length in proportion.",
        ),
        "chart": Key("bool", True, "Inset bar chart of rotation per segment."),
        "width": Key("int", 1920, "Image width, pixels (figure only).", low=160, high=7200),
        "height": Key("int", 1080, "Image height, pixels (figure only).", low=160, high=7200),
        "transparent": Key("bool", False, "Transparent background (figure only)."),
        "background": Key(
            "str",
            None,
            "Background colour name or #rrggbb (figure only; default: the theme's).",
            high=40,
        ),
    },
    "panel": {
        "title": Key("str", "", "Title of the panel.", high=120),
    },
    "maneuver": {
        "kind": Key(
            "choice",
            None,
            "What is done over time (spine3d simulate): the patient's own twist, a "
            "practitioner's thrust, or a slow mobilisation.",
            choices=MANEUVERS,
            default_text="required",
        ),
        "twist_deg": Key(
            "float",
            None,
            "Peak twist of a self_twist, degrees (+ upper body turns left); or torque_nm.",
            low=-60,
            high=60,
        ),
        "torque_nm": Key(
            "float", None, "Peak torque of a self_twist instead of a twist, N m.", low=-30, high=30
        ),
        "duration_ms": Key(
            "float",
            None,
            "Rise time of a self_twist, length of a thrust or of a mobilisation, ms.",
            low=10,
            high=10000,
            default_text="150 self_twist, 120 hvla, 2000 mobilisation",
        ),
        "target": Key(
            "str",
            None,
            "Segment a thrust or mobilisation aims at, e.g. 'L4-L5' (required for them).",
            high=20,
            allowed_text="a segment T1-T2 ... L5-S1",
        ),
        "position": Key(
            "choice",
            None,
            "The patient's posture: standing (a self_twist), side posture or prone.",
            choices=POSITIONS,
            default_text="self_twist: standing; target T12-L1 or below: side_posture; above: prone",
        ),
        "lying_on": Key(
            "choice",
            "left",
            "Side posture: the side the patient lies on; the other side is up, and its facets gap.",
            choices=("left", "right"),
        ),
        "contact": Key(
            "choice",
            None,
            "Where the practitioner's hand pushes: the spinous process, or a mammillary or "
            "transverse process (of contact_side).",
            choices=CONTACTS,
            default_text="side posture: spinous; prone: transverse",
        ),
        "contact_level": Key(
            "str",
            None,
            "The vertebra pushed: one of the target's two.",
            high=20,
            allowed_text="the target's upper or lower vertebra (L4 or L5 for L4-L5)",
            default_text="the target's upper vertebra",
        ),
        "contact_side": Key(
            "choice",
            None,
            "Side of a mammillary or transverse contact.",
            choices=("left", "right"),
            default_text="side posture: the upper side; prone: left",
        ),
        "direction": Key(
            "vec3",
            None,
            "Direction of the push in the contact vertebra's frame as the patient lies "
            "(+X anterior, +Y superior, +Z right); its length does not matter.",
            allowed_text="three numbers [anterior, superior, right], not all 0, none beyond ±1e6",
            default_text="side posture: toward the table (the side lain on); prone: anterior",
        ),
        "preload_n": Key(
            "float",
            None,
            "Force held before the thrust, N (at most thrust_n).",
            low=0,
            high=2000,
            default_text="70 side posture, 100 prone (at most thrust_n)",
        ),
        "thrust_n": Key(
            "float",
            400.0,
            "Peak force of a thrust or mobilisation, N; 0: positioning and preload only.",
            low=0,
            high=2000,
        ),
        "preload_ms": Key(
            "float",
            600.0,
            "Time over which the preload rises, ms (0: a step).",
            low=0,
            high=5000,
        ),
        "position_ms": Key(
            "float",
            1000.0,
            "Time over which the patient is brought into the posture, ms.",
            low=100,
            high=5000,
        ),
        "at_ms": Key(
            "float",
            None,
            "Time drawn by spine3d render (default: once the first cavity from the thrust's "
            "start on has grown, else the thrust's peak; a self-twist: once its first cavity "
            "has grown, else the end of the twist).",
            low=0,
            high=20000,
        ),
    },
    "animation": {
        "kind": Key(
            "choice",
            "auto",
            "What spine3d animate shows: a twist sweep 0 > twist > 0, the manoeuvre slowed "
            "down, or a camera orbit; auto: the manoeuvre if there is one, else the sweep.",
            choices=("auto", "sweep", "maneuver", "orbit"),
        ),
        "fps": Key("int", 24, "Frames per second.", low=1, high=60),
        "duration_s": Key("float", 6.0, "Length of the clip, seconds.", low=0.5, high=120),
        "orbit_deg": Key(
            "float", 360.0, "Turn of the camera in an orbit, degrees.", low=-720, high=720
        ),
    },
    "schedule": {
        "sessions": Key("int", 1, "Number of repeated sessions.", low=1, high=2000),
        "interval_min": Key("float", 720.0, "Minutes between sessions.", low=1, high=86400),
    },
    "population": {
        "size": Key(
            "int",
            None,
            "Members of a virtual cohort that each run the thrust or mobilisation.",
            low=1,
            high=500,
            default_text="required",
        ),
        "seed": Key(
            "int",
            0,
            "Random seed of the cohort's draws: the same seed, the same cohort.",
            low=0,
            high=SEED_MAX,
        ),
    },
}
"""Sections (``""`` is the top level) and their keys. ``[[panel]]`` tables take
``title`` and ``[panel.spine]``, ``[panel.load]``, ``[panel.view]`` tables that
override the figure's keys for that panel."""

FIGURE_VIEW_KEYS = ("width", "height", "transparent", "background")
"""View keys that belong to the whole figure, not to a panel."""


def all_keys() -> list[str]:
    """Return every documented key as ``section.key`` (``key`` at the top level)."""
    return [f"{s}.{k}" if s else k for s, keys in SCHEMA.items() for k in keys]
