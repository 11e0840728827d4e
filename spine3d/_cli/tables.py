"""Rich tables for the command line."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

__all__ = ["print_bone_info", "print_run", "print_schedule", "print_solve_table"]


def print_solve_table(state, segments: list[str] | None = None) -> None:
    """Print the per-segment rotation, share, facet gaps and forces of a solve.

    ``segments``, if given, are the rows printed (a scene's shown segments).
    """
    d = state.to_dict()
    t = Table(
        title=f"{d['levels']}: twist {d['twist_deg']:.1f}, flexion {d['flexion_deg']:.1f}, "
        f"lateral {d['lateral_deg']:.1f} deg (top on bottom), "
        f"axial moment {d['torque_nm']:.2f} N m; ribs {state.model.ribs}",
        caption="gap > 0 opens, < 0 compresses cartilage; * restricted, ! hypermobile",
    )
    for col in (
        "segment",
        "region",
        "mobility",
        "flex °",
        "lat °",
        "axial °",
        "share",
        "gap L mm",
        "gap R mm",
        "force L N",
        "force R N",
    ):
        t.add_column(col, justify="left" if col in ("segment", "region", "mobility") else "right")
    for s in d["segments"]:
        if segments is not None and s["name"] not in segments:
            continue
        mark = {"restricted": " *", "hypermobile": " !"}.get(s["mobility"], "")
        style = {"restricted": "cyan", "hypermobile": "magenta"}.get(s["mobility"])
        t.add_row(
            s["name"] + mark,
            s["region"],
            s["mobility"],
            f"{s['rotation_deg']['flexion']:.2f}",
            f"{s['rotation_deg']['lateral']:.2f}",
            f"{s['rotation_deg']['axial']:.2f}",
            f"{100 * s['share']:.0f}%",
            f"{s['facet_gap_mm']['left']:.2f}",
            f"{s['facet_gap_mm']['right']:.2f}",
            f"{s['facet_force_n']['left']:.0f}",
            f"{s['facet_force_n']['right']:.0f}",
            style=style,
        )
    console = Console()
    console.width = max(console.width, 110)
    console.print(t)


def _console() -> Console:
    console = Console()
    console.width = max(console.width, 110)
    return console


def print_run(run) -> None:
    """Print a simulated manoeuvre: its event log and per-segment peaks."""
    d = run.to_dict()
    console = _console()
    events = Table(title=f"Events: {d['maneuver']}")
    for col in ("t (ms)", "event", "segment", "side"):
        events.add_column(col)
    for e in d["events"]:
        events.add_row(f"{e['t_ms']:.0f}", e["type"], e.get("segment", ""), e.get("side", ""))
    if not d["events"]:
        events.add_row("", "none", "", "")
    console.print(events)
    peaks = Table(title="Peaks per segment")
    for col in (
        "segment",
        "mobility",
        "rotation °",
        "gap L mm",
        "gap R mm",
        "popped",
        "neutral zone °",
    ):
        peaks.add_column(
            col, justify="left" if col in ("segment", "mobility", "popped") else "right"
        )
    for s in d["segments"]:
        peaks.add_row(
            s["name"],
            s["mobility"],
            f"{s['peak_rotation_deg']:.2f}",
            f"{s['peak_gap_mm']['left']:.2f}",
            f"{s['peak_gap_mm']['right']:.2f}",
            ", ".join(s["cavitated"]),
            f"{s['neutral_zone_deg']:.2f}",
            style="bold" if s["cavitated"] else None,
        )
    console.print(peaks)
    if d["specificity"] is not None:
        console.print(f"Specificity: {100 * d['specificity']:.0f}% of the gapping at the target")


def print_schedule(schedule) -> None:
    """Print repeated sessions: every cavitation, then neutral zone and pops per segment."""
    d = schedule.to_dict()
    events = Table(title=f"Cavitations in {d['sessions']} sessions")
    for col in ("session", "day", "t (ms)", "joint", "side"):
        events.add_column(col, justify="right" if col in ("session", "day", "t (ms)") else "left")
    for e in d["events"]:
        events.add_row(
            str(e["session"] + 1),
            f"{d['day'][e['session']]:.1f}",
            f"{e['t_ms']:.0f}",
            e["segment"],
            e["side"],
        )
    if not d["events"]:
        events.add_row("", "", "", "none", "")
    console = _console()
    console.print(events)
    t = Table(title=f"{d['sessions']} sessions over {d['day'][-1]:.1f} days")
    for col in ("segment", "neutral zone first °", "last °", "change", "cavitations"):
        t.add_column(col, justify="left" if col == "segment" else "right")
    for seg, nz in d["neutral_zone_deg"].items():
        change = (nz[-1] / nz[0] - 1) if nz[0] else 0.0
        t.add_row(
            seg,
            f"{nz[0]:.2f}",
            f"{nz[-1]:.2f}",
            f"{100 * change:+.0f}%",
            str(d["cavitations"][seg]),
            style="bold" if change > 0.1 else None,
        )
    _console().print(t)


def print_bone_info(manifest: dict, table: dict) -> None:
    """Print every joint's facet angles measured on the bones beside the published ones.

    Parameters
    ----------
    manifest : dict
        The mesh manifest (format 2).
    table : mapping
        :func:`spine3d.anatomy.joint_table`.
    """
    src = manifest["source"]
    t = Table(
        title="Facet joints measured on the bones (left / right)",
        caption=(
            f"bones: {src['package']} {src['version']} ({src['licence']}); coronal: angle "
            "to the coronal plane seen from above, < 90 facing posteromedially, > 90 "
            "posterolaterally; transverse: inclination to the transverse plane"
        ),
    )
    for col in (
        "joint",
        "coronal °",
        "published",
        "transverse °",
        "published",
        "area mm²",
        "bone gap mm",
    ):
        t.add_column(col, justify="left" if col == "joint" else "right")
    for seg, entry in manifest["joints"].items():
        f = entry["facets"]
        row = table[seg]

        def pair(key: str, fmt: str = "{:.0f}", f: dict = f) -> str:
            return " / ".join(fmt.format(f[s][key]) for s in ("left", "right"))

        t.add_row(
            seg,
            pair("coronal_deg"),
            f"{row['coronal_deg']:.0f} ({row['coronal_min_deg']:.0f}-{row['coronal_max_deg']:.0f})",
            pair("transverse_deg"),
            f"{row['transverse_deg']:.0f} ({row['transverse_min_deg']:.0f}-"
            f"{row['transverse_max_deg']:.0f})",
            pair("area_mm2"),
            pair("bone_gap_mm", "{:.1f}"),
        )
    console = Console()
    console.width = max(console.width, 110)
    console.print(t)
    console.print(src["credit"])
