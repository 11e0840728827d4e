"""Turn a GL-free :class:`~spine3d.scene.describe.Figure` into pixels with pyvista.

Vertebra geometry is loaded once per process and placed with each actor's user
matrix, so a figure costs about what a bare pyvista render of the same meshes does.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from ..geometry import load_meshes
from ..scene.describe import ColorBar, Figure, PanelDrawing
from ..scene.theme import colormap, hex_to_rgb
from ._offscreen import prepare_offscreen, save_png
from .compose import compose

__all__ = ["add_colorbar", "body_size", "build_plotter", "render_figure", "render_image"]


@lru_cache(maxsize=1)
def _polydata() -> dict:
    """Level -> pyvista PolyData of the shipped meshes, loaded once."""
    import pyvista as pv

    return {
        lv: pv.PolyData.from_regular_faces(
            np.asarray(m.vertices), np.asarray(m.faces)
        ).compute_normals(split_vertices=False, auto_orient_normals=False)
        for lv, m in load_meshes().items()
    }


def _lut(bar: ColorBar):
    import pyvista as pv

    lut = pv.LookupTable()
    rgba = np.ones((256, 4))
    rgba[:, :3] = colormap(bar.stops, np.linspace(0, 1, 256))
    lut.values = (rgba * 255).astype(np.uint8)
    lut.scalar_range = bar.clim
    return lut


def add_colorbar(pl, bar: ColorBar, theme, height: int, box: tuple[float, float, float, float]):
    """Add a vertical colour bar for ``bar`` with ticks at its round values.

    ``box`` is (x, y, width, height) as fractions of the renderer's viewport.
    """
    import pyvista as pv
    from vtkmodules.util.numpy_support import numpy_to_vtk

    mapper = pv.DataSetMapper(pv.PolyData(np.zeros((1, 3))))
    mapper.lookup_table = _lut(bar)
    mapper.scalar_range = bar.clim
    x, y, w, h = box
    actor = pl.add_scalar_bar(
        title=bar.title,
        mapper=mapper,
        vertical=True,
        position_x=x,
        position_y=y,
        width=w,
        height=h,
        fmt="%g",
        color=hex_to_rgb(theme.text),
        title_font_size=_px(theme.label_size, height),
        label_font_size=_px(theme.label_size * 0.9, height),
        font_family=theme.font,
        render=False,
    )
    # Exact round ticks: evenly spaced labels would print 0 as -2.8e-17.
    ticks = np.round(np.linspace(bar.clim[0], bar.clim[1], bar.n_labels), 10) + 0.0
    actor.SetUseCustomLabels(True)
    actor.SetCustomLabels(numpy_to_vtk(ticks, deep=True))
    return actor


def _px(fraction: float, height: int) -> int:
    """Font size for labels and bars: ``fraction`` of the image height, in pixels."""
    return max(6, int(round(fraction * height)))


def _add_panel(pl, fig: Figure, panel: PanelDrawing, height: int, last: bool) -> None:
    import pyvista as pv

    theme = fig.theme
    polys = _polydata()
    for item in panel.meshes:
        actor = pl.add_mesh(
            polys[item.level],
            color=item.color,
            opacity=item.opacity,
            smooth_shading=True,
            specular=0.25 if item.role == "bone" else 0.0,
            diffuse=0.85,
            ambient=0.12,
            reset_camera=False,
            name=f"{item.role}-{item.level}",
        )
        actor.user_matrix = item.transform
    for mk in panel.markers:
        # A ball at the joint: it shows past the articular processes from any side.
        ball = pv.Sphere(
            radius=mk.radius_mm, center=mk.centre, theta_resolution=24, phi_resolution=16
        )
        pl.add_mesh(
            ball,
            color=mk.color,
            smooth_shading=True,
            specular=0.3,
            reset_camera=False,
            name=f"facet-{mk.joint}-{mk.side}",
        )
    for ln in panel.lines:
        pl.add_mesh(
            pv.lines_from_points(ln.points),
            color=ln.color,
            line_width=ln.width,
            reset_camera=False,
            render_lines_as_tubes=False,
        )
    for cn in panel.cones:
        pl.add_mesh(
            pv.Cone(
                center=cn.centre,
                direction=cn.direction,
                height=cn.height_mm,
                radius=cn.radius_mm,
                resolution=24,
            ),
            color=cn.color,
            reset_camera=False,
        )
    if panel.labels:
        groups: dict[tuple, list] = {}
        for lb in panel.labels:
            groups.setdefault(lb.color, []).append(lb)
        for color, items in groups.items():
            pl.add_point_labels(
                np.array([lb.position for lb in items]),
                [lb.text for lb in items],
                font_size=_px(theme.label_size, height),
                text_color=color,
                shape=None,
                show_points=False,
                always_visible=True,
                bold=True,
                font_family=theme.font,
                reset_camera=False,
            )
    if panel.colorbar is not None and last:
        add_colorbar(pl, panel.colorbar, theme, height, (0.87, 0.5, 0.05, 0.38))
    cam = panel.view
    pl.camera.position = tuple(cam.position)
    pl.camera.focal_point = tuple(cam.focal_point)
    pl.camera.up = tuple(cam.up)
    pl.camera.view_angle = cam.view_angle_deg
    pl.reset_camera_clipping_range()


def _link(fig: Figure) -> bool:
    """Link cameras when every panel shows the same levels from the same place."""
    views = {
        (p.levels, tuple(np.round(p.view.position, 3)), tuple(np.round(p.view.focal_point, 3)))
        for p in fig.panels
    }
    return len(fig.panels) > 1 and len(views) == 1


def body_size(fig: Figure, scale: int = 1) -> tuple[int, int]:
    """Return the (width, height) in pixels of the GL window: the figure less its text rows."""
    height = fig.height * scale
    rows = fig.theme.title_row + fig.theme.caption_row
    return fig.width * scale, int(round(height * (1.0 - rows)))


def build_plotter(fig: Figure, scale: int = 1, off_screen: bool = True):
    """Return a pyvista Plotter that draws the panels of ``fig`` side by side (not rendered).

    Title, caption, panel titles and charts are not in it: :func:`compose` adds them.
    """
    prepare_offscreen()
    import pyvista as pv

    theme = fig.theme
    n = len(fig.panels)
    pl = pv.Plotter(
        off_screen=off_screen,
        shape=(1, n),
        window_size=body_size(fig, scale),
        border=False,
        lighting="light kit",
    )
    background = hex_to_rgb(fig.background) if fig.background.startswith("#") else fig.background
    pl.set_background(background, all_renderers=True)
    for i, panel in enumerate(fig.panels):
        pl.subplot(0, i)
        _add_panel(pl, fig, panel, fig.height * scale, last=i == n - 1)
    if _link(fig):
        pl.link_views()
    # No depth peeling: under EGL it drops translucent actors, and a ghost of one colour
    # needs no sorting. Off-screen EGL/OSMesa contexts have no multisample buffers, so
    # anti-aliasing is supersampled.
    if theme.anti_aliasing:
        pl.enable_anti_aliasing("ssaa")
    return pl


def render_image(fig: Figure, scale: int = 1) -> np.ndarray:
    """Render ``fig`` off-screen; return (H, W, 3) or, when transparent, (H, W, 4) uint8."""
    pl = build_plotter(fig, scale)
    try:
        panels = pl.screenshot(None, transparent_background=fig.transparent, return_img=True)
    finally:
        pl.close()
    return compose(fig, panels, fig.height * scale)


def render_figure(fig: Figure, out: Path, scale: int = 1) -> Path:
    """Render ``fig`` and write it to ``out`` as PNG, atomically."""
    img = render_image(fig, scale)
    save_png(img, Path(out))
    return Path(out)
