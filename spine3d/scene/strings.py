"""Every built-in string a figure draws, in each shipped language (GL-free).

A scene's ``language`` picks the table; the scene's own title, caption and panel
titles are the author's and are drawn as written. Numbers follow the language too
(a decimal comma in German).
"""

from __future__ import annotations

__all__ = ["LANGUAGES", "STRINGS", "number", "text"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "colorbar_rotation": "segment rotation (°)",
        "colorbar_gap": "facet gap (mm)",
        "chart_title": "rotation of the segment below each level (°)",
        "bones_credit": "Bones: {name} ({licence})",
        "licence_unknown": "licence not stated",
        "twist_load": "twist {twist}° (T1 on sacrum), {torque}\u00a0N\u00a0m",
        "torque_load": "torque {torque}\u00a0N\u00a0m, twist {twist}°",
        "turns_left": "upper body turns left",
        "turns_right": "upper body turns right",
        "restricted": "restricted",
        "hypermobile": "hypermobile",
        "self_twist": "self-twist",
        "hvla": "HVLA thrust",
        "mobilisation": "mobilisation",
        "left": "left",
        "right": "right",
        "moment": "{name}, t = {t} ms: {torque}\u00a0N\u00a0m, guarding {guarding}%, "
        "popped: {popped}",
        "none_yet": "none yet",
        "and_more": "{first} and {n} more",
        "specificity": "specificity {value}%",
        "session": "session {n} (day {day})",
        "over_time": "over time",
        "time_ms": "time (ms)",
        "twist_of_t1": "twist of T1 on the sacrum (°)",
        "segment_rotation": "{segment} rotation (°)",
        "guarding": "guarding",
        "shaded": "shaded: {label}",
        "pop": "pop: {label}",
        "neutral_zone_over": "neutral zone over {n} sessions",
        "day": "day",
        "neutral_zone": "neutral zone (°)",
        "segment_restricted": "{segment} (restricted)",
        "colorbar_flexion": "flexion (°), + forward",
        "colorbar_lateral": "lateral bending (°), + right",
        "colorbar_axial": "axial rotation (°), + left",
        "chart_flexion": "flexion of the segment below each level (°)",
        "chart_lateral": "lateral bending of the segment below each level (°)",
        "chart_axial": "axial rotation of the segment below each level (°)",
        "flexion_load": "flexion {angle}° (T1 on sacrum), {moment}\u00a0N\u00a0m",
        "lateral_load": "lateral bending {angle}° (T1 on sacrum), {moment}\u00a0N\u00a0m",
        "follower_load": "follower load {force}\u00a0N",
        "force_scale": "force arrows: 10\u00a0mm = {n}\u00a0N",
        "rotation_axis": "axis of rotation",
    },
    "de": {
        "colorbar_rotation": "Segmentrotation (°)",
        "colorbar_gap": "Facettenspalt (mm)",
        "chart_title": "Rotation des Segments unter jedem Wirbel (°)",
        "bones_credit": "Knochen: {name} ({licence})",
        "licence_unknown": "Lizenz nicht angegeben",
        "twist_load": "Verdrehung {twist}° (T1 gegen Sakrum), {torque}\u00a0N\u00a0m",
        "torque_load": "Drehmoment {torque}\u00a0N\u00a0m, Verdrehung {twist}°",
        "turns_left": "Oberkörper dreht nach links",
        "turns_right": "Oberkörper dreht nach rechts",
        "restricted": "eingeschränkt",
        "hypermobile": "hypermobil",
        "self_twist": "Selbstdrehung",
        "hvla": "HVLA-Impuls",
        "mobilisation": "Mobilisation",
        "left": "links",
        "right": "rechts",
        "moment": "{name}, t = {t} ms: {torque}\u00a0N\u00a0m, Schutzspannung {guarding}\u00a0%, "
        "Kavitation: {popped}",
        "none_yet": "noch keine",
        "and_more": "{first} und {n} weitere",
        "specificity": "Spezifität {value}\u00a0%",
        "session": "Sitzung {n} (Tag {day})",
        "over_time": "im Zeitverlauf",
        "time_ms": "Zeit (ms)",
        "twist_of_t1": "Verdrehung T1 gegen Sakrum (°)",
        "segment_rotation": "Rotation {segment} (°)",
        "guarding": "Schutz\u00adspannung",
        "shaded": "schattiert: {label}",
        "pop": "Kavitation: {label}",
        "neutral_zone_over": "Neutrale Zone über {n} Sitzungen",
        "day": "Tag",
        "neutral_zone": "Neutrale Zone (°)",
        "segment_restricted": "{segment} (eingeschränkt)",
        "colorbar_flexion": "Flexion (°), + vorwärts",
        "colorbar_lateral": "Seitneigung (°), + rechts",
        "colorbar_axial": "Axiale Rotation (°), + links",
        "chart_flexion": "Flexion des Segments unter jedem Wirbel (°)",
        "chart_lateral": "Seitneigung des Segments unter jedem Wirbel (°)",
        "chart_axial": "Axiale Rotation des Segments unter jedem Wirbel (°)",
        "flexion_load": "Flexion {angle}° (T1 gegen Sakrum), {moment}\u00a0N\u00a0m",
        "lateral_load": "Seitneigung {angle}° (T1 gegen Sakrum), {moment}\u00a0N\u00a0m",
        "follower_load": "Folgelast {force}\u00a0N",
        "force_scale": "Kraftpfeile: 10\u00a0mm = {n}\u00a0N",
        "rotation_axis": "Drehachse",
    },
}
"""Language -> key -> text; ``{name}`` fields are filled by :func:`text`."""

LANGUAGES = tuple(STRINGS)


def number(value: float, fmt: str, language: str) -> str:
    """Format ``value`` with ``fmt`` (e.g. ``"+.1f"``), with the language's decimal mark."""
    s = format(value, fmt)
    return s.replace(".", ",") if language == "de" else s


def text(language: str, key: str, **fields: object) -> str:
    """Return the string ``key`` in ``language`` with ``fields`` filled in."""
    return STRINGS[language][key].format(**fields)
