"""Print what ``spine3d import`` wrote and found."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from ..anatomy import joint_table

__all__ = ["print_import"]


def print_import(result) -> None:
    """Print an import's levels, units, measured facet angles and doubtful joints.

    Parameters
    ----------
    result : spine3d.geometry.importer.ImportResult
    """
    console = Console()
    console.width = max(console.width, 110)
    pose = "the source's own (assembled)" if result.assembled else "the project's sagittal curve"
    console.print(
        f"imported {', '.join(result.levels)} into {result.pack}; units: {result.units}; "
        f"rest pose: {pose}"
    )
    if not result.angles:
        console.print("no joints: a single level has no facet joint to measure")
        return
    jt = joint_table()
    t = Table(title="Facet joints found on the imported bones (left / right)")
    for col in ("joint", "coronal °", "published", "transverse °", "published", "check"):
        t.add_column(col, justify="left" if col in ("joint", "check") else "right")
    for seg, sides in result.angles.items():
        row = jt[seg]
        doubt = result.doubtful.get(seg)
        t.add_row(
            seg,
            " / ".join(f"{sides[s]['coronal_deg']:.0f}" for s in ("left", "right")),
            f"{row['coronal_min_deg']:.0f}-{row['coronal_max_deg']:.0f}",
            " / ".join(f"{sides[s]['transverse_deg']:.0f}" for s in ("left", "right")),
            f"{row['transverse_min_deg']:.0f}-{row['transverse_max_deg']:.0f}",
            "doubtful: " + "; ".join(doubt) if doubt else "ok",
            style="yellow" if doubt else None,
        )
    console.print(t)
    if result.doubtful:
        console.print(
            "check the doubtful joints (--report FILE.png draws them); correct a surface "
            "with --landmarks FILE.toml"
        )
