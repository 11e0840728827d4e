"""Rich tables for the command line."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

__all__ = [
    "print_bone_info",
    "print_population",
    "print_run",
    "print_schedule",
    "print_solve_table",
]


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


def _maneuver_line(run) -> str:
    """Say in one line what the manoeuvre is: its kind, posture, contact and forces."""
    mv = run.maneuver
    if not mv.is_thrust:
        peak = f"{mv.twist_deg:g}°" if mv.twist_deg is not None else f"{mv.torque_nm:g} N m"
        return f"self_twist, standing: {peak} in {mv.duration_ms:g} ms, then held"
    where = mv.position.replace("_", " ")
    if mv.position == "side_posture":
        where += f", lying on the {mv.lying_on} ({mv.upside} side up)"
    process = f"{mv.contact} process of {mv.contact_level}"
    if mv.contact != "spinous":
        process = f"{mv.contact_side} {process}"
    push = ", ".join(f"{x:.2g}" for x in mv.direction)
    force = f"preload {mv.preload_n:g} N over {mv.preload_ms:g} ms"
    if mv.thrust_n:
        force += f", thrust {mv.thrust_n:g} N in {mv.duration_ms:g} ms"
    else:
        force += ", no thrust"
    return f"{mv.kind} on {mv.target}, {where}; {process}, pushed along ({push}); {force}"


def print_run(run) -> None:
    """Print a simulated manoeuvre: what it is, its posture, events and per-segment peaks.

    Events are cavitations and reflexes, each with the phase it fell in; the peaks are
    each segment's three rotations, its facets' opening beyond rest per side and the
    sides that popped; a side posture gives the side up, the locking moment and the
    locked segments.
    """
    d = run.to_dict()
    console = _console()
    console.print(_maneuver_line(run), soft_wrap=True)
    if "posture" in d:
        moment = ", ".join(f"{c} {v:+.1f}" for c, v in d["posture"]["moment_nm"].items())
        locked = ", ".join(d["posture"]["locked"]) or "none"
        console.print(
            f"Side posture, {d['upside']} side up: locking moment {moment} N m; locked: {locked}",
            soft_wrap=True,
        )
    events = Table(title=f"Events: {d['maneuver']}")
    for col in ("t (ms)", "event", "segment", "side", "phase", "reflex"):
        events.add_column(col, justify="right" if col == "t (ms)" else "left")
    for e in d["events"]:
        reflex = f"{e['group']}, {e['duration_ms']:.0f} ms" if e["type"] == "reflex" else ""
        events.add_row(
            f"{e['t_ms']:.0f}",
            e["type"],
            e.get("segment") or "",
            e.get("side") or "",
            e.get("phase") or "",
            reflex,
            style="bold" if e["type"] == "cavitation" else None,
        )
    if not d["events"]:
        events.add_row("", "none", "", "", "", "")
    console.print(events)
    peaks = Table(
        title="Peaks per segment",
        caption="rotations: largest size of each Cardan angle; gapping: largest opening of "
        "each facet beyond its gap at rest",
    )
    for col in (
        "segment",
        "mobility",
        "flex °",
        "lat °",
        "axial °",
        "gapping L mm",
        "gapping R mm",
        "popped",
    ):
        peaks.add_column(
            col, justify="left" if col in ("segment", "mobility", "popped") else "right"
        )
    for s in d["segments"]:
        rot, gap = s["peak_rotation_deg"], s["peak_gapping_mm"]
        peaks.add_row(
            s["name"],
            s["mobility"],
            f"{rot['flexion']:.2f}",
            f"{rot['lateral']:.2f}",
            f"{rot['axial']:.2f}",
            f"{gap['left']:.2f}",
            f"{gap['right']:.2f}",
            ", ".join(s["cavitated"]),
            style="bold" if s["cavitated"] else None,
        )
    console.print(peaks)
    if "target" in d:
        spec = d["specificity"]
        pops = "no cavitation" if spec is None else f"{100 * spec:.0f}% of the cavitations"
        console.print(
            f"Specificity: {pops} at the target {d['target']}; "
            f"{100 * d['target_gap_share']:.0f}% of the gapping at its facets; "
            f"peak force {d['peak_force_n']:.0f} N",
            soft_wrap=True,
        )


def _percent(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


def print_population(cohort) -> None:
    """Print a virtual cohort: its summary, then its cavitations by joint and side."""
    d = cohort.to_dict()["population"]
    console = _console()
    mv = cohort.maneuver
    t = Table(
        title=f"Population: {d['size']} models (seed {d['seed']}), {mv.kind} on {mv.target}",
        caption="shares of all the cohort's cavitations, except the positioning share (of "
        "the models)",
    )
    t.add_column("measure")
    t.add_column("value", justify="right")
    if mv.position == "side_posture":
        t.add_row(f"on the upper side ({mv.upside})", _percent(d["upside_share"]))
    zone = ", ".join(d["target_zone"])
    t.add_row(f"in the target zone ({zone})", _percent(d["target_zone_share"]))
    t.add_row(f"at the target {mv.target} (specificity)", _percent(d["specificity"]))
    t.add_row("pops per thrust", f"{d['pops_per_thrust']:.2f}")
    t.add_row("models popping before the thrust", _percent(d["positioning_only_share"]))
    console.print(t)
    pops = Table(title=f"Pops by joint and side over {d['size']} models")
    for col in ("segment", "left", "right", "models popped", "share"):
        pops.add_column(col, justify="left" if col == "segment" else "right")
    total = sum(c["left"] + c["right"] for c in d["pops"].values())
    popped = cohort.cavitated.any(axis=1).sum(axis=0)  # members with a pop at each segment
    for i, (seg, c) in enumerate(d["pops"].items()):
        n = c["left"] + c["right"]
        if not n:
            continue
        pops.add_row(
            seg,
            str(c["left"]),
            str(c["right"]),
            str(int(popped[i])),
            f"{100 * n / total:.0f}%",
            style="bold" if seg == mv.target else None,
        )
    if not total:
        pops.add_row("none", "", "", "", "")
    console.print(pops)


def print_schedule(schedule) -> None:
    """Print repeated sessions: every cavitation, then laxity and pops per segment."""
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
    t = Table(
        title=f"{d['sessions']} sessions over {d['day'][-1]:.1f} days",
        caption="laxity: the segment's axial rotation range under a low moment each way",
    )
    for col in ("segment", "laxity first °", "last °", "change", "cavitations"):
        t.add_column(col, justify="left" if col == "segment" else "right")
    for seg, lax in d["laxity_deg"].items():
        change = (lax[-1] / lax[0] - 1) if lax[0] else 0.0
        t.add_row(
            seg,
            f"{lax[0]:.2f}",
            f"{lax[-1]:.2f}",
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
