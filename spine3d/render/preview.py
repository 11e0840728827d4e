"""``spine3d meshes preview``: the column and two vertebrae seen from above, on one image."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..anatomy import SpineModel
from ..anatomy.frames import apply
from ..geometry import facet_mask, load_manifest, load_meshes
from ..scene.describe import facet_trace
from ._offscreen import prepare_offscreen, save_png
from .figure import _polydata

__all__ = ["render_preview"]

BONE = "#e9dcc3"
FACET = "#c0392b"
BACKGROUND = "white"
CONTEXT = {"rib": "#e3d3b4", "cartilage": "#b7d3e6", "sternum": "#b7d3e6"}
"""Rib cage colours: bone for the ribs, a cartilage blue for cartilage and sternum."""
CONTEXT_OPACITY = 0.45


def _add_vertebra(pl, model, level, mesh, pose, bones=None):
    # The shared PolyData loaded once for figures; a copy takes this figure's facet mask.
    poly = _polydata()[level].copy()
    poly.cell_data["facet"] = facet_mask(level, mesh, bones).astype(float)
    actor = pl.add_mesh(
        poly,
        scalars="facet",
        cmap=[BONE, FACET],
        clim=(0, 1),
        show_scalar_bar=False,
        smooth_shading=True,
        specular=0.2,
    )
    actor.user_matrix = pose


def _add_facet_traces(pl, model: SpineModel, level: str) -> None:
    """Draw each superior facet's trace seen from above, labelled with its coronal angle."""
    import pyvista as pv

    for j in model.joints:
        if j.lower != level:
            continue
        for f in j.facets:
            line, label = facet_trace(model, j, f, np.eye(4))
            pl.add_mesh(pv.lines_from_points(line.points), color=line.color, line_width=6)
            pl.add_point_labels(
                [label.position],
                [label.text],
                font_size=16,
                shape=None,
                show_points=False,
                always_visible=True,
                text_color=label.color,
                bold=True,
            )


def render_preview(
    model: SpineModel,
    out: Path,
    size: tuple[int, int] = (2400, 1350),
    top_levels: tuple[str, str] = ("T6", "L3"),
    bones: str | None = None,
) -> Path:
    """Render the preview figure and write it as PNG.

    Parameters
    ----------
    model : SpineModel
    out : path
        PNG file; written atomically.
    size : (int, int), default: (2400, 1350)
        Width and height in pixels.
    top_levels : (str, str), default: ("T6", "L3")
        The thoracic and lumbar vertebrae shown from above.
    bones : str, optional
        An imported bone pack's folder (the one ``model`` was compiled from); default:
        the shipped bones.
    """
    prepare_offscreen()
    import pyvista as pv

    loaded = load_meshes(mesh_dir=bones)
    parts = load_manifest(bones).get("parts", {})
    meshes = {lv: m for lv, m in loaded.items() if lv not in parts}
    pl = pv.Plotter(
        off_screen=True,
        shape=(2, 3),
        groups=[(np.s_[:], 0), (np.s_[:], 1)],
        window_size=size,
        border=False,
    )
    pl.set_background(BACKGROUND)
    poses = {v.name: np.asarray(v.rest_pose) for v in model.vertebrae}
    centre = np.mean([p[:3, 3] for p in poses.values()], axis=0)
    # (title, camera offset from the column centre, label offset in each local frame)
    views = [
        (
            "Posterior-oblique",
            (-800, 80, 560),
            lambda m: [0.0, 0.0, 0.5 * m["transverse_span_mm"] + 8],
        ),
        (
            "Lateral, from the left",
            (0, 0, -900),
            lambda m: [0.5 * m["body_depth_mm"] + 14, 0.0, 0.0],
        ),
    ]
    for i, (title, offset, label_at) in enumerate(views):
        pl.subplot(0, i)
        for lv, mesh in meshes.items():
            _add_vertebra(pl, model, lv, mesh, poses[lv], bones)
        for name, entry in parts.items():
            actor = pl.add_mesh(
                _polydata()[name],
                color=CONTEXT.get(entry["kind"], BONE),
                opacity=1.0 if entry["kind"] == "pelvis" else CONTEXT_OPACITY,
                smooth_shading=True,
                specular=0.2,
            )
            actor.user_matrix = poses[entry["moves_with"]]
        labels = [apply(poses[lv], label_at(model.vertebra(lv).morphometry)) for lv in meshes]
        pl.add_point_labels(
            np.array(labels),
            list(meshes),
            font_size=18,
            point_size=1,
            shape=None,
            show_points=False,
            always_visible=True,
            text_color="black",
            bold=True,
        )
        pl.add_text(title, font_size=14, color="black")
        pl.camera_position = [tuple(centre + offset), tuple(centre), (0, 1, 0)]
        pl.reset_camera()
        pl.camera.zoom(1.5)
    for k, lv in enumerate(top_levels):
        pl.subplot(k, 2)
        _add_vertebra(pl, model, lv, meshes[lv], np.eye(4), bones)
        _add_facet_traces(pl, model, lv)
        region = model.vertebra(lv).region
        pl.add_text(
            f"{lv} from above ({region}), anterior down: "
            "facets and their angle to the coronal plane",
            font_size=11,
            color="black",
        )
        pl.camera_position = [(0, 400, 0), (-12, 0, 0), (-1, 0, 0)]
        pl.reset_camera()
        pl.camera.zoom(1.3)
    img = pl.screenshot(None, return_img=True)
    pl.close()
    save_png(img, Path(out))
    return Path(out)
