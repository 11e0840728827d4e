"""The picture ``spine3d import --report`` draws for the user to confirm a pack.

Every level from above and from the left, in its own frame, with the articular
surfaces the import found coloured by side, their normals as arrows and the joints'
measured angles beside the published ranges; doubtful joints in red. Drawn with
matplotlib (no GL needed), which pyvista already brings.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..geometry import load_manifest, load_meshes
from ..geometry.store import atomic_path

__all__ = ["render_import_report"]

_COLOURS = {"left": "#0072B2", "right": "#D55E00"}
"""Okabe-Ito blue and vermilion: colour-blind safe."""
_ARROW_MM = 10.0


def _views(ax_top, ax_side, mesh, facets: dict, level: str) -> None:
    from matplotlib.collections import PolyCollection

    v = np.asarray(mesh.vertices)
    f = np.asarray(mesh.faces)
    # (horizontal, vertical) axes of each view in the local frame: from above, right
    # to the right and anterior up; from the left, anterior to the left, superior up.
    for ax, (h, s_h), (k, s_k), title in (
        (ax_top, (2, 1.0), (0, 1.0), f"{level} from above"),
        (ax_side, (0, -1.0), (1, 1.0), f"{level} from the left"),
    ):
        depth_axis = 3 - h - k
        tri = v[f]
        order = np.argsort(tri[:, :, depth_axis].mean(axis=1))
        if ax is ax_side:
            order = order[::-1]
        poly = np.stack([s_h * tri[order][:, :, h], s_k * tri[order][:, :, k]], axis=2)
        ax.add_collection(
            PolyCollection(poly, facecolors="#d9d9d9", edgecolors="#bdbdbd", linewidths=0.1)
        )
        # From the left, the right side's surfaces lie behind the bone: draw them first
        # and faint.
        names = sorted(facets, key=lambda n: n.endswith("_left"))
        for name in names:
            surf = facets[name]
            side = name.split("_")[1]
            hidden = ax is ax_side and side == "right"
            fi = np.asarray(surf["faces"], dtype=int)
            t = v[f[fi]]
            ax.add_collection(
                PolyCollection(
                    np.stack([s_h * t[:, :, h], s_k * t[:, :, k]], axis=2),
                    facecolors=_COLOURS[side],
                    edgecolors="none",
                    alpha=(0.9 if name.startswith("superior") else 0.55) * (0.35 if hidden else 1),
                )
            )
            c, n = np.asarray(surf["centre_mm"]), np.asarray(surf["normal"])
            ax.annotate(
                "",
                xy=(s_h * (c[h] + _ARROW_MM * n[h]), s_k * (c[k] + _ARROW_MM * n[k])),
                xytext=(s_h * c[h], s_k * c[k]),
                arrowprops={"arrowstyle": "->", "color": "black", "lw": 0.8},
            )
        ax.set_title(title, fontsize=8)
        ax.set_aspect("equal")
        ax.autoscale_view()
        ax.axis("off")


def _caption(level: str, manifest: dict) -> tuple[str, bool]:
    lines, doubtful = [], False
    for seg, joint in manifest["joints"].items():
        if level not in seg.split("-"):
            continue
        pub = joint.get("published", {})
        f = joint["facets"]
        lines.append(
            f"{seg} coronal {f['left']['coronal_deg']:.0f}/{f['right']['coronal_deg']:.0f}"
            + (f" ({pub['coronal_min_deg']:.0f}-{pub['coronal_max_deg']:.0f})" if pub else "")
            + f", transverse {f['left']['transverse_deg']:.0f}/"
            f"{f['right']['transverse_deg']:.0f}"
            + (f" ({pub['transverse_min_deg']:.0f}-{pub['transverse_max_deg']:.0f})" if pub else "")
        )
        if joint.get("doubtful"):
            doubtful = True
            lines.append("  doubtful: " + "; ".join(joint["doubtful"]))
    return "\n".join(lines), doubtful


def render_import_report(pack: Path, out: Path, columns: int = 3) -> Path:
    """Draw every level of ``pack`` from above and from the side with its found surfaces.

    Parameters
    ----------
    pack : path
        A pack written by ``spine3d import``.
    out : path
        The PNG to write (atomically).
    columns : int, default: 3
        Levels per row.

    Returns
    -------
    Path
        ``out``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    manifest = load_manifest(pack)
    meshes = load_meshes(mesh_dir=pack)
    levels = list(manifest["levels"])
    cols = min(columns, len(levels))
    rows = math.ceil(len(levels) / cols)
    fig = plt.figure(figsize=(5.2 * cols, 3.4 * rows), dpi=110)
    grid = fig.add_gridspec(rows, 2 * cols, hspace=0.6)
    for i, lv in enumerate(levels):
        r, c = divmod(i, cols)
        ax_top = fig.add_subplot(grid[r, 2 * c])
        ax_side = fig.add_subplot(grid[r, 2 * c + 1])
        _views(ax_top, ax_side, meshes[lv], manifest["levels"][lv]["facets"], lv)
        text, doubtful = _caption(lv, manifest)
        ax_top.text(
            0.0,
            -0.08,
            text,
            transform=ax_top.transAxes,
            fontsize=6,
            va="top",
            color="#b2182b" if doubtful else "black",
        )
    src = manifest["source"]
    fig.suptitle(
        f"{src.get('name', '')}: articular surfaces found (blue left, vermilion right; "
        "solid superior, pale inferior; arrows: normals)   licence: "
        f"{src.get('licence', '')}",
        fontsize=9,
    )
    out = Path(out)
    with atomic_path(out, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return out
