"""``spine3d validate`` and the 3D load options of ``spine3d solve``: parse and print."""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..errors import SpineInputError

__all__ = ["cmd_validate", "given_loads", "load_options", "parse_moment", "unreachable"]

_COMPONENTS = ("axial", "flexion", "lateral")


def parse_moment(text: str) -> dict[str, float]:
    """Parse ``axial=NM,flexion=NM,lateral=NM`` (any subset) into ``{component: N m}``."""
    out: dict[str, float] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in _COMPONENTS:
            raise SpineInputError(
                f"--moment {text!r}: expected COMPONENT=NM[,...] with components "
                f"{', '.join(_COMPONENTS)}, e.g. axial=5,flexion=-2"
            )
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise SpineInputError(f"--moment {text!r}: {key} = {value!r} is not a finite number")
        if key in out:
            raise SpineInputError(f"--moment {text!r}: {key} given twice")
        out[key] = number
    return out


_OPTION_KEYS = (
    ("twist", "twist_deg", "deg"),
    ("torque", "torque_nm", "N m"),
    ("flex", "flexion_deg", "deg"),
    ("bend", "lateral_deg", "deg"),
    ("follower", "follower_n", "N"),
)
"""Each load option of ``spine3d solve``, the scene key whose range it shares, its unit."""

_MOMENT_KEYS = {
    "axial": "torque_nm",
    "flexion": "moment_flexion_nm",
    "lateral": "moment_lateral_nm",
}
"""The scene key whose range each ``--moment`` component shares."""

_ANGLE_OPTIONS = {"axial": "--twist", "flexion": "--flex", "lateral": "--bend"}


def _check_ranges(args) -> None:
    """Refuse a load option outside the range the same scene key allows, naming the option.

    Raises
    ------
    SpineInputError
        One line naming the option, its value and the allowed range.
    """
    from spine3d.scene.schema import SCHEMA

    keys = SCHEMA["load"]
    for option, key, unit in _OPTION_KEYS:
        value = getattr(args, option)
        low, high = keys[key].low, keys[key].high
        if value is not None and not (math.isfinite(value) and low <= value <= high):
            raise SpineInputError(
                f"--{option} {value:g}: expected a number from {low:g} to {high:g} {unit}"
            )
    if args.moment is None:
        return
    for comp, nm in parse_moment(args.moment).items():
        low, high = keys[_MOMENT_KEYS[comp]].low, keys[_MOMENT_KEYS[comp]].high
        if not low <= nm <= high:
            raise SpineInputError(
                f"--moment {args.moment!r}: {comp} = {nm:g}: expected a number from {low:g} to "
                f"{high:g} N m"
            )
        angle = _ANGLE_OPTIONS[comp]
        if getattr(args, angle[2:]) is not None:
            raise SpineInputError(
                f"{angle} and --moment {comp}=...: an axis takes an angle or a moment, not both"
            )
        if comp == "axial" and args.torque is not None:
            raise SpineInputError(
                "--torque and --moment axial=...: the same moment given twice; give one"
            )


def given_loads(args) -> str:
    """Return the load and mobility options of a ``spine3d solve`` command line, or ``""``."""
    options = [(f"--{o}", getattr(args, o)) for o, _, _ in _OPTION_KEYS]
    words = [f"{flag} {value:g}" for flag, value in options if value is not None]
    if args.moment is not None:
        words.append(f"--moment {args.moment}")
    if getattr(args, "mobility", None):
        words.append(f"--mobility {' '.join(args.mobility)}")
    return " ".join(words)


def unreachable(exc, where: str) -> SpineInputError:
    """Reword a solver's out-of-reach error for the command line: ``where`` and the limits.

    Parameters
    ----------
    exc : UnreachableTwistError
        The solver's error, with the spine's limits.
    where : str
        What was asked, to start the line (the options, and the scene's panel if any).

    Returns
    -------
    SpineInputError
    """
    return SpineInputError(
        f"{where}: beyond what this spine can reach: a segment fails at "
        f"±{exc.max_torque_nm:g} N m (a twist alone reaches at most ±{exc.max_twist_deg:.1f} deg)"
    )


def load_options(args, default_twist: bool = True) -> dict:
    """Return the keyword arguments of :func:`spine3d.solve` from ``spine3d solve`` args.

    With ``default_twist`` a command line that names no load gets a 30° twist; without
    it (``--scene``: the scene's load stands) only what the command line names.

    Raises
    ------
    SpineInputError
        One line naming the option, for a value out of the range a scene allows, or an
        axis given both an angle and a moment.
    """
    _check_ranges(args)
    kwargs: dict = {}
    if args.torque is not None:
        kwargs["torque_nm"] = args.torque
    if args.flex is not None:
        kwargs["flexion_deg"] = args.flex
    if args.bend is not None:
        kwargs["lateral_deg"] = args.bend
    if args.moment is not None:
        kwargs["moment_nm"] = parse_moment(args.moment)
    if args.follower is not None:
        kwargs["follower_n"] = args.follower
    if args.levels is not None:
        kwargs["levels"] = args.levels
    if args.twist is not None:
        kwargs["twist_deg"] = args.twist
    elif default_twist and not {"torque_nm", "flexion_deg", "lateral_deg", "moment_nm"} & set(
        kwargs
    ):
        kwargs["twist_deg"] = 30.0
    return kwargs


def _plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = [
        ("calibration", "Calibration (fitted), range of motion, deg", 0.3),
        ("prediction", "Independent predictions, stiffness N m/deg and ratios", 0.5),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(13, 7), constrained_layout=True)
    for ax, (kind, title, band) in zip(axes, kinds, strict=True):
        sel = [
            r
            for r in rows
            if r["kind"] == kind
            and isinstance(r["published"], int | float)
            and r["model"] is not None
        ]
        pub = [r["published"] for r in sel]
        mod = [r["model"] for r in sel]
        colour = ["#1b9e77" if r["pass"] else "#d95f02" for r in sel]
        ax.scatter(pub, mod, c=colour, s=28, zorder=3)
        hi = max(pub + mod + [1.0]) * 1.1
        ax.plot([0, hi], [0, hi], color="0.4", lw=1)
        ax.fill_between([0, hi], [0, (1 - band) * hi], [0, (1 + band) * hi], color="0.9", zorder=0)
        ax.set_xlim(0, hi)
        ax.set_ylim(0, hi)
        ax.set_xlabel("published")
        ax.set_ylabel("model")
        passed = sum(bool(r["pass"]) for r in sel)
        ax.set_title(f"{title}\n{passed} of {len(sel)} within tolerance (band ±{band:.0%})")
    fig.suptitle(
        "spine3d validate: green within tolerance, orange outside "
        "(checks without a number, e.g. the facet counterfactuals, are in the table)"
    )
    fig.savefig(path, dpi=120)
    plt.close(fig)


def cmd_validate(args) -> int:
    """Run every comparison with published data; print a table or JSON, plot if asked."""
    from rich.console import Console
    from rich.table import Table

    from spine3d.mechanics.validation import validate

    if args.plot is not None and Path(args.plot).suffix.lower() != ".png":
        raise SpineInputError(f"--plot {args.plot}: expected a .png file")
    model = None
    if getattr(args, "bones", None) is not None:
        from spine3d.anatomy import load_model
        from spine3d.scene import check_pack

        model = load_model(bones=check_pack(args.bones, f"--bones {args.bones}"))
    rows = validate(model)
    if args.plot is not None:
        _plot(rows, Path(args.plot))
    if args.json:
        print(json.dumps({"checks": rows}, indent=1))
        return 0
    console = Console()
    console.width = max(console.width, 140)
    for kind, title in (
        ("calibration", "Calibration: the data the constants were fitted to"),
        ("prediction", "Independent predictions: not fitted"),
    ):
        t = Table(title=title)
        for col in ("check", "unit", "published", "tolerance", "model", "pass", "source"):
            t.add_column(col, justify="right" if col in ("published", "model") else "left")
        for r in rows:
            if r["kind"] != kind:
                continue
            ok = {True: "yes", False: "NO", None: "-"}[r["pass"]]
            t.add_row(
                r["name"],
                r["unit"],
                str(r["published"] if r["published"] is not None else "-"),
                str(r["tolerance"] or "-"),
                f"{r['model']:.3g}"
                if r["model"] is not None
                else f"skipped: {r['skipped']}"
                if r.get("skipped")
                else "-",
                ok,
                r["source"],
                style=None if r["pass"] is not False else "red",
            )
        console.print(t)
    return 0
