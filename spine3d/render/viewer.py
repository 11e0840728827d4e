"""``spine3d view``: the interactive viewer.

The viewer owns no mechanics. It holds what the user changed (twist or torque,
mobility per segment, toggles, camera preset), turns that into a scene panel, and asks
the scene layer for the same :func:`~spine3d.scene.describe.solve_panel` and
:func:`~spine3d.scene.describe.describe_panel` that ``spine3d render`` uses; then it
moves and recolours actors that were made once. A saved screenshot is rendered by the
export path itself, so it matches ``spine3d render`` of the same state.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import SpineInputError
from ..mechanics import reachable_twist_deg
from ..scene import PanelSpec, SceneSpec
from ..scene.describe import (
    PanelDrawing,
    describe_panel,
    nice_ceiling,
    shown_peak,
    solve_panel,
)
from ..scene.theme import DEFAULT_THEME, Theme, hex_to_rgb
from .export import render_scene
from .figure import PanelActors, add_colorbar

__all__ = ["HELP", "Viewer", "check_display"]

CYCLE = ("normal", "restricted", "hypermobile")
SLIDER = {
    "angle": (-60.0, 60.0, "twist of T1 on the sacrum (°)"),
    "torque": (-10.0, 10.0, "axial torque (N m)"),
}
CLICK_PX = 4
"""Largest mouse travel between press and release that still counts as a click, pixels."""
CAMERAS = {"1": "posterior", "2": "left", "3": "superior", "4": "posterior-oblique"}

HELP = (
    "drag the slider   twist (or torque), solved live\n"
    "click a vertebra  cycle the segment below it: normal > restricted > hypermobile\n"
    "1 2 3 4           camera: posterior, lateral, superior, oblique\n"
    "t                 switch angle / torque control\n"
    "l                 labels on / off\n"
    "f                 colour by segment rotation / facet gap\n"
    "g                 rest-pose ghost on / off\n"
    "r                 reset to the scene\n"
    "s                 save a screenshot at the scene's export size\n"
    "h                 this help\n"
    "q                 quit"
)
"""Every key of the viewer, as shown by its help overlay."""


def check_display() -> None:
    """Raise :class:`SpineInputError` unless a window can be opened on this machine."""
    if sys.platform.startswith("linux"):
        display = os.environ.get("DISPLAY")
        ok = False
        if display:
            lib = ctypes.util.find_library("X11")
            if lib:
                x11 = ctypes.cdll.LoadLibrary(lib)
                x11.XOpenDisplay.restype = ctypes.c_void_p
                x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
                handle = x11.XOpenDisplay(display.encode())
                if handle:
                    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
                    x11.XCloseDisplay(handle)
                    ok = True
        if not ok:
            where = f"DISPLAY={display!r} cannot be opened" if display else "no DISPLAY is set"
            raise SpineInputError(
                f"no display for a window ({where}): use `spine3d render SCENE` for pictures, "
                "or run the viewer under a virtual display, e.g. `xvfb-run spine3d view`"
            )


class Viewer:
    """An interactive window on the first panel of a scene.

    Parameters
    ----------
    scene : SceneSpec
    size : (int, int), default: (1280, 720)
        Window size, pixels.
    off_screen : bool, default: False
        Render without showing the window (for tests and benchmarks).
    out_dir : Path, optional
        Where ``s`` saves screenshots; default the current folder.
    theme : Theme, default: DEFAULT_THEME
    """

    def __init__(
        self,
        scene: SceneSpec,
        size: tuple[int, int] = (1280, 720),
        off_screen: bool = False,
        out_dir: Path | None = None,
        theme: Theme = DEFAULT_THEME,
    ):
        import pyvista as pv

        self.scene = scene
        self.base: PanelSpec = scene.panels[0]
        self.theme = theme
        self.size = size
        self.out_dir = Path(out_dir) if out_dir is not None else Path.cwd()
        self.saved: list[Path] = []
        self._reset_state()
        self.plotter = pv.Plotter(
            window_size=size, off_screen=off_screen, title=f"spine3d: {scene.title or scene.name}"
        )
        self._build()

    # --- state --------------------------------------------------------------------

    def _reset_state(self) -> None:
        load = self.base.load
        self.control = "angle" if load.twist_deg is not None else "torque"
        self.value = float(load.twist_deg if load.twist_deg is not None else load.torque_nm)
        lo, hi, _ = SLIDER[self.control]
        self.value = min(max(self.value, lo), hi)
        self.mobility: dict[str, str | float] = dict(self.base.spine.mobility)
        v = self.base.view
        self.labels, self.ghost, self.color_by, self.camera = (
            v.labels,
            v.ghost,
            v.color_by,
            v.camera,
        )
        self.help_visible = False
        self._preset_view = None

    def panel(self) -> PanelSpec:
        """Return the panel the window shows now, as a scene panel."""
        load = replace(
            self.base.load,
            twist_deg=self.value if self.control == "angle" else None,
            torque_nm=self.value if self.control == "torque" else None,
        )
        spine = replace(self.base.spine, mobility=dict(self.mobility))
        view = replace(
            self.base.view,
            labels=self.labels,
            ghost=True,  # ghost actors always exist; their visibility follows self.ghost
            color_by=self.color_by,
            camera=self.camera,
            chart=False,
            position=None,
            focal_point=None,
            up=None,
        )
        return replace(self.base, load=load, spine=spine, view=view)

    def scene_now(self) -> SceneSpec:
        """Return the scene that ``spine3d render`` would draw for what the window shows."""
        panel = self.panel()
        view = replace(panel.view, ghost=self.ghost, chart=self.base.view.chart)
        if self._camera_moved():
            cam = self.plotter.camera
            view = replace(
                view,
                position=tuple(cam.position),
                focal_point=tuple(cam.focal_point),
                up=tuple(cam.up),
            )
        return replace(self.scene, panels=(replace(panel, view=view),))

    def _aspect(self) -> float:
        w, h = self.plotter.window_size
        return w / h

    def _solve_at(self, **load):
        """Solve the shown spine, normal mobility, under ``twist_deg`` or ``torque_nm``."""
        panel = self.panel()
        full = {"twist_deg": None, "torque_nm": None, **load}
        return solve_panel(
            replace(
                panel, spine=replace(panel.spine, mobility={}), load=replace(panel.load, **full)
            )
        )

    def drawing(self) -> PanelDrawing:
        """Solve and describe what the window shows now."""
        panel = self.panel()
        try:
            state = solve_panel(panel)
        except SpineInputError:
            # Beyond what this mobility can reach: stay at the largest reachable twist.
            model = self._solve_at(twist_deg=0.0).model
            limit = reachable_twist_deg(model, self.mobility)
            if self.control == "torque":
                self.toggle_control_to("angle")
            self.value = math.copysign(0.999 * limit, self.value)
            panel = self.panel()
            state = solve_panel(panel)
        # The colour limit follows the state, as in `spine3d render`: the same colours.
        clim = nice_ceiling(shown_peak(panel, state))
        return describe_panel(panel, state, clim, self._aspect(), self.theme)

    # --- building and updating actors --------------------------------------------

    def _build(self) -> None:
        import pyvista as pv

        pl = self.plotter
        pl.set_background(self.scene.background)
        # VTK's own single-letter keys (stereo, wireframe, fly-to...) would fight ours.
        pl.iren.interactor.RemoveObservers("CharEvent")
        d = self.drawing()
        # The same actors as a figure's panel; the viewer adds picking, badges and toggles.
        self.actors = PanelActors(pl, self.theme, d, self.size[1] * 1.4, colorbar=False)
        self.bones = {lv: a for (role, lv), a in self.actors.meshes.items() if role == "bone"}
        self._level_of_actor = {a.__this__: lv for lv, a in self.bones.items()}
        self.badges = {
            lv: pl.add_mesh(
                pv.Sphere(radius=1.0),
                color="white",
                reset_camera=False,
                pickable=False,
                render=False,
            )
            for lv in self.bones
        }
        text = hex_to_rgb(self.theme.text)
        w, h = self.size
        self.readout = pl.add_text(
            "", position=(10, 10), font_size=8, color=text, font="courier", name="readout"
        )
        self.status = pl.add_text(
            "", position=(10, h - 28), font_size=10, color=text, name="status"
        )
        self.help = pl.add_text(
            HELP, position=(10, h - 260), font_size=9, color=text, font="courier", name="help"
        )
        self.help.SetVisibility(False)
        self._make_slider()
        # A click (press and release within a few pixels) picks; a drag turns the camera.
        # Observed on the interactor style: once pressed, it has the focus for the release.
        style = pl.iren.interactor.GetInteractorStyle()
        style.AddObserver("LeftButtonPressEvent", self._on_press, 10.0)
        style.AddObserver("LeftButtonReleaseEvent", self._on_release, 10.0)
        self._press = None
        for key, fn in {
            "t": self.toggle_control,
            "l": self.toggle_labels,
            "f": self.toggle_facets,
            "g": self.toggle_ghost,
            "r": self.reset,
            "s": self.save_screenshot,
            "h": self.toggle_help,
            **{k: (lambda p=p: self.set_camera(p)) for k, p in CAMERAS.items()},
        }.items():
            pl.add_key_event(key, fn)
        self.update(d)
        self.set_camera(self.camera, render=False)

    def _make_slider(self) -> None:
        lo, hi, title = SLIDER[self.control]
        pl = self.plotter
        pl.clear_slider_widgets()
        self.slider = pl.add_slider_widget(
            self.set_value,
            rng=(lo, hi),
            value=self.value,
            title=title,
            pointa=(0.58, 0.08),
            pointb=(0.95, 0.08),
            style="modern",
            interaction_event="always",
            fmt="%.1f",
        )

    def update(self, d: PanelDrawing | None = None, render: bool = True) -> PanelDrawing:
        """Re-solve and move/recolour every actor; return the drawing shown."""
        d = d or self.drawing()
        pl = self.plotter
        # The ghost and the facet balls always exist; the toggles show or hide them.
        self.actors.update(d if self.labels else replace(d, labels=()))
        for (role, _), actor in self.actors.meshes.items():
            if role == "ghost":
                actor.SetVisibility(self.ghost)
        facets = self.color_by == "facet_gap"
        for ball in self.actors.balls.values():
            ball.SetVisibility(bool(ball.GetVisibility()) and facets)
        seg_of = {j.upper: j.name for j in d.state.model.joints}
        for lv, badge in self.badges.items():
            state = self.mobility.get(seg_of.get(lv, ""), "normal")
            badge.SetVisibility(state in ("restricted", "hypermobile"))
            if state in ("restricted", "hypermobile"):
                colour = self.theme.restricted if state == "restricted" else self.theme.hypermobile
                badge.prop.color = hex_to_rgb(colour)
                pose = d.state.pose(lv)
                half_width = d.state.model.vertebra(lv).morphometry["body_width_mm"] / 2
                m = pose.copy()
                m[:3, :3] = m[:3, :3] * 6.0
                # Beside the body on the labelled (right) side, where the cameras look.
                m[:3, 3] = pose[:3, 3] + pose[:3, :3] @ [0.0, 0.0, half_width + 8.0]
                badge.user_matrix = m
        self._colorbar(d)
        self.readout.SetInput(self._readout(d))
        unit = "°" if self.control == "angle" else " N m"
        self.status.SetInput(
            f"{self.control} control: {self.value:+.1f}{unit}   twist {d.state.twist_deg:+.1f}°, "
            f"torque {d.state.torque_nm:+.2f} N m   (h: help)",
        )
        self.last = d
        if render:
            pl.render()
        return d

    def _colorbar(self, d: PanelDrawing) -> None:
        bar = d.colorbar
        key = (bar.title, bar.clim) if bar else None
        if getattr(self, "_bar_key", None) == key:
            return
        pl = self.plotter
        for title in list(pl.scalar_bars.keys()):
            pl.remove_scalar_bar(title, render=False)
        self._bar_key = key
        if bar is not None:
            add_colorbar(pl, bar, self.theme, self.size[1] * 1.4, (0.88, 0.3, 0.05, 0.45))

    def _readout(self, d: PanelDrawing) -> str:
        rows = ["segment   rotation"]
        for i, j in enumerate(d.state.model.joints):
            state = self.mobility.get(j.name, "normal")
            mark = {"restricted": "  * restricted", "hypermobile": "  ! hypermobile"}.get(
                state if isinstance(state, str) else "", ""
            )
            rows.append(f"{j.name:<8} {d.state.rotation_deg[i]:+6.2f}°{mark}")
        return "\n".join(rows)

    # --- what the widgets and keys call ------------------------------------------

    def set_value(self, value: float) -> None:
        """Slider callback: a new twist (angle control) or torque (torque control)."""
        lo, hi, _ = SLIDER[self.control]
        self.value = float(min(max(value, lo), hi))
        slider = getattr(self, "slider", None)  # absent while the widget is being made
        if slider is not None and slider.GetRepresentation().GetValue() != self.value:
            slider.GetRepresentation().SetValue(self.value)
        self.update()

    def _on_press(self, _style, _event) -> None:
        self._press = self.plotter.iren.interactor.GetEventPosition()

    def _on_release(self, _style, _event) -> None:
        if self._press is None:
            return
        (x0, y0), (x, y) = self._press, self.plotter.iren.interactor.GetEventPosition()
        self._press = None
        if abs(x - x0) + abs(y - y0) <= CLICK_PX:
            self.click(x, y)

    def click(self, x: int, y: int) -> str | None:
        """Pick the vertebra at display pixel (x, y) and cycle the segment below it."""
        from vtkmodules.vtkRenderingCore import vtkPropPicker

        picker = vtkPropPicker()
        picker.Pick(x, y, 0, self.plotter.renderer)
        actor = picker.GetActor()
        return self.pick(actor) if actor is not None else None

    def pick(self, actor) -> str | None:
        """Pick callback: cycle the segment below the picked vertebra; return its state."""
        level = self._level_of_actor.get(actor.__this__)
        return self.cycle(level) if level is not None else None

    def cycle(self, level: str) -> str | None:
        """Cycle the segment below ``level``: normal, restricted, hypermobile; return it."""
        model = self.last.state.model
        below = [j.name for j in model.joints if j.upper == level]
        if not below:
            return None
        seg = below[0]
        now = self.mobility.get(seg, "normal")
        nxt = CYCLE[(CYCLE.index(now) + 1) % len(CYCLE)] if now in CYCLE else "normal"
        if nxt == "normal":
            self.mobility.pop(seg, None)
        else:
            self.mobility[seg] = nxt
        self.update()
        return nxt

    def toggle_control(self) -> None:
        """Switch between angle and torque control, keeping the current pose."""
        self.toggle_control_to("torque" if self.control == "angle" else "angle")
        self.update()

    def toggle_control_to(self, control: str) -> None:
        """Switch to ``"angle"`` or ``"torque"`` control without redrawing."""
        state = self.last.state
        self.control = control
        lo, hi, _ = SLIDER[self.control]
        now = state.torque_nm if self.control == "torque" else state.twist_deg
        self.value = float(min(max(now, lo), hi))
        self._make_slider()

    def toggle_labels(self) -> None:
        """Show or hide the level labels."""
        self.labels = not self.labels
        self.update()

    def toggle_ghost(self) -> None:
        """Show or hide the rest-pose ghost."""
        self.ghost = not self.ghost
        self.update()

    def toggle_facets(self) -> None:
        """Colour by segment rotation or by facet gap."""
        self.color_by = "facet_gap" if self.color_by != "facet_gap" else "segment_rotation"
        self.update()

    def toggle_help(self) -> None:
        """Show or hide the key help."""
        self.help_visible = not self.help_visible
        self.help.SetVisibility(self.help_visible)
        self.readout.SetVisibility(not self.help_visible)
        self.plotter.render()

    def set_camera(self, preset: str, render: bool = True) -> None:
        """Move the camera to a preset (posterior, left, superior, posterior-oblique)."""
        self.camera = preset
        d = describe_panel(self.panel(), self.last.state, 1.0, self._aspect(), self.theme)
        cam = self.plotter.camera
        cam.position, cam.focal_point, cam.up = d.view.position, d.view.focal_point, d.view.up
        cam.view_angle = d.view.view_angle_deg
        self.plotter.reset_camera_clipping_range()
        self._preset_view = (tuple(cam.position), tuple(cam.focal_point), tuple(cam.up))
        if render:
            self.plotter.render()

    def _camera_moved(self) -> bool:
        cam = self.plotter.camera
        now = (tuple(cam.position), tuple(cam.focal_point), tuple(cam.up))
        return self._preset_view is None or not np.allclose(now, self._preset_view, atol=1e-6)

    def reset(self) -> None:
        """Return to the scene as loaded: load, mobility, toggles and camera."""
        self._reset_state()
        self._make_slider()
        self.update(render=False)
        self.set_camera(self.camera)

    def save_screenshot(self) -> Path:
        """Render what the window shows at the scene's export size; print and return the path."""
        n = len(self.saved) + 1
        path = self.out_dir / f"{self.scene.name}-view-{n:02d}.png"
        while path.exists():
            n += 1
            path = self.out_dir / f"{self.scene.name}-view-{n:02d}.png"
        render_scene(self.scene_now(), path, theme=self.theme)
        self.saved.append(path)
        print(f"saved {path}", flush=True)
        return path

    def show(self) -> None:
        """Open the window and run until it is closed."""
        self.plotter.show()
