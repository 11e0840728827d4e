"""Rich tables for the command line."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

__all__ = ["print_solve_table"]


def print_solve_table(state) -> None:
    """Print the per-segment rotation, share, facet gaps and forces of a solve."""
    d = state.to_dict()
    t = Table(
        title=f"Twist {d['twist_deg']:.1f} deg (T1 on sacrum), torque {d['torque_nm']:.2f} N m",
        caption="gap > 0 opens, < 0 compresses cartilage; * restricted, ! hypermobile",
    )
    for col in (
        "segment",
        "region",
        "mobility",
        "rotation °",
        "share",
        "gap L mm",
        "gap R mm",
        "force L N",
        "force R N",
    ):
        t.add_column(col, justify="left" if col in ("segment", "region", "mobility") else "right")
    for s in d["segments"]:
        mark = {"restricted": " *", "hypermobile": " !"}.get(s["mobility"], "")
        style = {"restricted": "cyan", "hypermobile": "magenta"}.get(s["mobility"])
        t.add_row(
            s["name"] + mark,
            s["region"],
            s["mobility"],
            f"{s['rotation_deg']:.2f}",
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
