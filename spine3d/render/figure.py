"""Turn a GL-free :class:`~spine3d.scene.describe.Figure` into pixels with pyvista.

Vertebra geometry is loaded once per process and placed with each actor's user
matrix, so a figure costs about what a bare pyvista render of the same meshes does.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import SpineInputError
from ..geometry import write_atomic
from ..scene.describe import ColorBar, Figure, PanelDrawing, meshes
from ..scene.theme import hex_to_rgb, min_height_px
from ._offscreen import prepare_offscreen, save_png
from .chart import _rc
from .compose import Layout, bone_mask, compose, figure_layout, to_array

__all__ = [
    "FORMATS",
    "MAX_FRAMEBUFFER_PX",
    "FigureRenderer",
    "PanelActors",
    "add_colorbar",
    "check_size",
    "render_figure",
    "render_image",
]


@lru_cache(maxsize=4)
def _polydata(bones: str | None = None) -> dict:
    """Name -> pyvista PolyData of a bone set's meshes (None: the shipped ones), loaded once."""
    import pyvista as pv

    return {
        lv: pv.PolyData.from_regular_faces(
            np.asarray(m.vertices), np.asarray(m.faces)
        ).compute_normals(split_vertices=False, auto_orient_normals=False)
        for lv, m in meshes(bones).items()
    }


def _lut(bar: ColorBar):
    import pyvista as pv

    lut = pv.LookupTable()
    rgba = np.ones((256, 4))
    rgba[:, :3] = bar.colors(np.linspace(bar.clim[0], bar.clim[1], 256))
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


class PanelActors:
    """The actors of one panel: made once, then moved and recoloured from each drawing.

    Vertebrae are placed by their actors' user matrices; facet and bubble balls are
    unit spheres scaled and placed the same way; lines, arrowheads and labels change
    their points in place. A new actor is made only for something not drawn before.
    """

    def __init__(
        self,
        pl,
        theme,
        panel: PanelDrawing,
        height: int,
        colorbar: bool = True,
        column: int = 0,
        labels: bool = True,
    ):
        import pyvista as pv

        self.pl, self.theme, self.height, self.column = pl, theme, height, column
        self.draw_labels = labels  # a figure sets its labels in 2D, off the bone
        pl.subplot(0, column)
        self._unit = pv.Sphere(radius=1.0, theta_resolution=24, phi_resolution=16)
        self.meshes: dict[tuple[str, str], object] = {}
        self.balls: dict[tuple, object] = {}
        self.lines: list = []
        self.cones: list = []
        self.labels: dict[tuple, tuple[list[str], object, object]] = {}
        self.slabs: list = []
        self.update(panel)
        if panel.colorbar is not None and colorbar:
            add_colorbar(pl, panel.colorbar, self.theme, height, (0.87, 0.5, 0.05, 0.38))
        cam = panel.view
        pl.camera.position = tuple(cam.position)
        pl.camera.focal_point = tuple(cam.focal_point)
        pl.camera.up = tuple(cam.up)
        pl.camera.view_angle = cam.view_angle_deg
        pl.reset_camera_clipping_range()

    def _add(self, mesh, pickable=False, **kw):
        # Only vertebrae are pickable: a ghost or a label in front must not take a click.
        return self.pl.add_mesh(mesh, reset_camera=False, render=False, pickable=pickable, **kw)

    def update(self, panel: PanelDrawing) -> None:
        """Show ``panel``: same actors, new places, colours and texts."""
        import pyvista as pv

        self.pl.subplot(0, self.column)  # the subplot this panel lives in
        seen = set()
        for item in panel.meshes:
            key = (item.role, item.level)
            seen.add(key)
            actor = self.meshes.get(key)
            polys = _polydata(item.bones)
            if actor is None:
                actor = self.meshes[key] = self._add(
                    polys[item.level],
                    smooth_shading=True,
                    diffuse=0.85,
                    ambient=0.12,
                    specular=0.25 if item.role == "bone" else 0.0,
                    pickable=item.role == "bone",
                )
            # A bone of its own shape (turned facets) gets its own copy of the mesh; back
            # to the shared one when the shape is the shipped one again.
            shared = polys[item.level]
            if item.vertices is None:
                if actor.mapper.dataset is not shared:
                    actor.mapper.dataset = shared
            elif actor.mapper.dataset is shared or not np.array_equal(
                actor.mapper.dataset.points, item.vertices
            ):
                poly = shared.copy()
                poly.points = item.vertices
                actor.mapper.dataset = poly.compute_normals(
                    split_vertices=False, auto_orient_normals=False
                )
            actor.user_matrix = item.transform
            actor.prop.color = item.color
            actor.prop.opacity = item.opacity
            actor.SetVisibility(True)
        for key, actor in self.meshes.items():
            if key not in seen:
                actor.SetVisibility(False)
        seen = set()
        for mk in panel.markers:
            # A ball at the joint: it shows past the articular processes from any side.
            key = (mk.joint, mk.side, mk.color)
            seen.add(key)
            ball = self.balls.get(key)
            if ball is None:
                ball = self.balls[key] = self._add(
                    self._unit, color=mk.color, smooth_shading=True, specular=0.3
                )
            m = np.eye(4)
            m[:3, :3] *= mk.radius_mm
            m[:3, 3] = mk.centre
            ball.user_matrix = m
            ball.SetVisibility(True)
        for key, ball in self.balls.items():
            if key not in seen:
                ball.SetVisibility(False)
        self._update_slabs(panel)
        if len(panel.lines) != len(self.lines) or len(panel.cones) != len(self.cones):
            for actor, _ in self.lines + self.cones:
                self.pl.remove_actor(actor, render=False)
            self.lines = []
            for ln in panel.lines:
                poly = pv.lines_from_points(ln.points)
                self.lines.append((self._add(poly, color=ln.color, line_width=ln.width), poly))
            self.cones = []
            for cn in panel.cones:
                poly = self._cone(cn)
                self.cones.append((self._add(poly, color=cn.color), poly))
        else:
            for (_, poly), ln in zip(self.lines, panel.lines, strict=True):
                poly.points = ln.points
            for (_, poly), cn in zip(self.cones, panel.cones, strict=True):
                poly.points = self._cone(cn).points
        self._update_labels(panel)

    def _update_slabs(self, panel: PanelDrawing) -> None:
        """Place the table under a lying patient: a unit cube, scaled, translucent."""
        import pyvista as pv

        while len(self.slabs) < len(panel.slabs):
            actor = self._add(pv.Cube(), smooth_shading=False, specular=0.0, ambient=0.3)
            self.slabs.append(actor)
        for k, actor in enumerate(self.slabs):
            if k >= len(panel.slabs):
                actor.SetVisibility(False)
                continue
            slab = panel.slabs[k]
            actor.user_matrix = slab.transform()
            actor.prop.color = slab.color
            actor.prop.opacity = slab.opacity
            actor.SetVisibility(True)

    @staticmethod
    def _cone(cn):
        import pyvista as pv

        return pv.Cone(
            center=cn.centre,
            direction=cn.direction,
            height=cn.height_mm,
            radius=cn.radius_mm,
            resolution=24,
        )

    def _update_labels(self, panel: PanelDrawing) -> None:
        import pyvista as pv

        groups: dict[tuple, list] = {}
        for lb in panel.labels if self.draw_labels else ():
            groups.setdefault(lb.color, []).append(lb)
        for color in list(self.labels):
            if color not in groups:
                self.pl.remove_actor(self.labels.pop(color)[2], render=False)
        for color, items in groups.items():
            texts = [lb.text for lb in items]
            points = np.array([lb.position for lb in items])
            held = self.labels.get(color)
            if held is not None and held[0] == texts:
                held[1].points = points
                continue
            if held is not None:
                self.pl.remove_actor(held[2], render=False)
            actor = self.pl.add_point_labels(
                points,
                texts,
                font_size=_px(self.theme.label_size, self.height),
                text_color=color,
                shape=None,
                show_points=False,
                always_visible=True,
                bold=True,
                font_family=self.theme.font,
                reset_camera=False,
                render=False,
                pickable=False,
            )
            # The label hierarchy reads this PolyData: moving its points moves the labels.
            poly = pv.wrap(actor.GetMapper().GetInputAlgorithm().GetInputDataObject(0, 0))
            self.labels[color] = (texts, poly, actor)


def _link(fig: Figure) -> bool:
    """Link cameras when every panel shows the same levels from the same place."""
    views = {
        (
            p.levels,
            tuple(np.round(p.view.position, 3)),
            tuple(np.round(p.view.focal_point, 3)),
            round(p.view.view_angle_deg, 6),  # a close-up is not linked to the whole
        )
        for p in fig.panels
    }
    return len(fig.panels) > 1 and len(views) == 1


MAX_FRAMEBUFFER_PX = 7200
"""Largest side of the GL window the renderer is asked for, pixels: the software
renderer's framebuffer stops near 7,300 (a larger one renders black)."""


def check_size(fig: Figure, scale: int = 1) -> None:
    """Refuse a figure whose 3D areas need a larger framebuffer than the renderer has.

    Raises
    ------
    SpineInputError
        Naming the size and the limit.
    """
    least = min_height_px(fig.width, fig.theme.font_pt)
    if fig.height < least:
        raise SpineInputError(
            f"{fig.name}: image {fig.width}x{fig.height}: too flat to hold its text at "
            f"{fig.theme.font_pt:g} pt: at least {least} pixels high for that width"
        )
    lay = figure_layout(fig, scale)
    w, h = _window(lay)
    if max(w, h, fig.width * scale, fig.height * scale) > MAX_FRAMEBUFFER_PX:
        raise SpineInputError(
            f"{fig.name}: image {fig.width * scale}x{fig.height * scale}: at most "
            f"{MAX_FRAMEBUFFER_PX} pixels a side (the renderer's largest framebuffer); "
            "use a smaller --scale or size"
        )


def _window(lay: Layout) -> tuple[int, int]:
    """GL window size: the panels' 3D areas side by side."""
    sizes = [lay.area_px(i)[2:] for i in range(len(lay.panels))]
    return sum(w for w, _ in sizes), max(h for _, h in sizes)


class FigureRenderer:
    """One off-screen plotter for a figure's 3D areas, re-used frame after frame.

    ``image(fig)`` updates every panel from ``fig`` (same panels, same levels) and
    returns the composed picture; :func:`render_image` is its single-frame use.
    """

    def __init__(self, fig: Figure, scale: int = 1):
        prepare_offscreen()
        import pyvista as pv

        check_size(fig, scale)
        n = len(fig.panels)
        self.scale = scale
        self.layout = figure_layout(fig, scale)
        win = _window(self.layout)
        pl = self.plotter = pv.Plotter(
            off_screen=True, shape=(1, n), window_size=win, border=False, lighting="light kit"
        )
        pl.set_background(hex_to_rgb(fig.background), all_renderers=True)
        # Each renderer draws exactly its panel's 3D area, bottom-aligned, side by side.
        x = 0
        self.viewports = []
        for i in range(n):
            w, h = self.layout.area_px(i)[2:]
            pl.renderers[i].SetViewport(x / win[0], 0.0, (x + w) / win[0], h / win[1])
            self.viewports.append((x, win[1] - h, w, h))
            x += w
        self.panels = []
        for i, panel in enumerate(fig.panels):
            self.panels.append(
                PanelActors(
                    pl,
                    fig.theme,
                    panel,
                    fig.height * scale,
                    colorbar=False,
                    column=i,
                    labels=False,
                )
            )
        if _link(fig):
            pl.link_views()
        # No depth peeling: under EGL it drops translucent actors, and a ghost of one
        # colour needs no sorting. Off-screen EGL/OSMesa contexts have no multisample
        # buffers, so anti-aliasing is supersampled.
        if fig.theme.anti_aliasing:
            pl.enable_anti_aliasing("ssaa")
        self.fig = fig

    def areas(self, fig: Figure | None = None) -> list[np.ndarray]:
        """Render ``fig``'s 3D areas; return one (h, w, 3 or 4) uint8 image per panel.

        Raises
        ------
        SpineInputError
            When a panel drew nothing in its 3D area (a camera looking away).
        """
        if fig is not None and fig is not self.fig:
            for actors, panel in zip(self.panels, fig.panels, strict=True):
                actors.update(panel)
            self.fig = fig
            # A plotter never shown renders on its first screenshot only: render the
            # window after an update, or this frame would repeat the last.
            self.plotter.ren_win.Render()
        # Always with alpha: the figure's own background shows around the bone, and
        # text that reaches into a 3D area stays visible.
        img = self.plotter.screenshot(None, transparent_background=True, return_img=True)
        out = [np.ascontiguousarray(img[y : y + h, x : x + w]) for x, y, w, h in self.viewports]
        for i, area in enumerate(out):
            if bone_mask(area).mean() < 0.002:
                raise SpineInputError(
                    f"{self.fig.name}: panel {i + 1} drew no bone in its 3D area: check its "
                    "camera (position, focal_point, azimuth_deg, distance_mm, zoom)"
                )
        return out

    def compose(self, fig: Figure | None = None):
        """Render and compose ``fig``; return (matplotlib figure, placed labels)."""
        areas = self.areas(fig)
        return compose(self.fig, self.layout, areas)

    def image(self, fig: Figure | None = None) -> np.ndarray:
        """Render ``fig`` (default: the one it was made with); return (H, W, 3 or 4) uint8."""
        mfig, _ = self.compose(fig)
        return to_array(mfig, self.fig.transparent)

    def close(self) -> None:
        """Release the GL context."""
        self.plotter.close()


def render_image(fig: Figure, scale: int = 1) -> np.ndarray:
    """Render ``fig`` off-screen; return (H, W, 3) or, when transparent, (H, W, 4) uint8."""
    r = FigureRenderer(fig, scale)
    try:
        return r.image()
    finally:
        r.close()


FORMATS = (".png", ".svg", ".pdf")
"""Figure files: PNG (pixels), SVG and PDF (vector text and charts, 3D as a raster)."""


def render_figure(fig: Figure, out: Path, scale: int = 1) -> Path:
    """Render ``fig`` and write it to ``out`` (.png, .svg or .pdf), atomically."""
    out = Path(out)
    fmt = out.suffix.lower()
    if fmt not in FORMATS:
        raise SpineInputError(f"{out}: expected a {', '.join(FORMATS)} file")
    r = FigureRenderer(fig, scale)
    try:
        mfig, _ = r.compose()
    finally:
        r.close()
    if fmt == ".png":
        save_png(to_array(mfig, fig.transparent), out)
        return out
    with _rc(fig.theme, halo=fig.transparent):
        buf = io.BytesIO()
        mfig.savefig(buf, format=fmt[1:], dpi=mfig.dpi, transparent=fig.transparent)
    write_atomic(out, buf.getvalue())
    return out
