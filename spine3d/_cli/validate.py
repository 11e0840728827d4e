"""``spine3d validate`` and the 3D load options of ``spine3d solve``: parse and print."""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..errors import SpineInputError

__all__ = ["cmd_validate", "load_options", "parse_moment"]

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


def load_options(args, default_twist: bool = True) -> dict:
    """Return the keyword arguments of :func:`spine3d.solve` from ``spine3d solve`` args.

    With ``default_twist`` a command line that names no load gets a 30° twist; without
    it (``--scene``: the scene's load stands) only what the command line names.
    """
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
        if not math.isfinite(args.follower) or args.follower < 0:
            raise SpineInputError(f"--follower {args.follower:g}: expected a load >= 0 N")
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
