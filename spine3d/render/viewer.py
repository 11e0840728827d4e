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
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import SpineInputError
from ..mechanics import reachable_twist_deg
from ..scene import PanelSpec, SceneSpec
from ..scene.describe import (
    PanelDrawing,
    clip_clock,
    describe,
    describe_panel,
    drawn_moment_ms,
    maneuver_moment,
    nice_ceiling,
    position_words,
    shown_peak,
    simulate_scene,
    slow_window_ms,
    solve_panel,
)
from ..scene.theme import DEFAULT_THEME, Theme, hex_to_rgb
from .export import render_scene
from .figure import PanelActors, add_colorbar

__all__ = ["HELP", "Viewer", "check_display"]

CYCLE = ("normal", "restricted", "hypermobile")
LOADS = ("axial", "flexion", "lateral")
"""The loads the slider drives, in the order ``b`` cycles them."""
LOAD_NAMES = {"axial": "twist", "flexion": "flexion", "lateral": "lateral bending"}
SLIDERS = {
    "axial": {
        "angle": (-60.0, 60.0, "twist of T1 on the sacrum (°)"),
        "torque": (-10.0, 10.0, "axial torque (N m)"),
    },
    "flexion": {
        "angle": (-60.0, 60.0, "flexion of T1 on the sacrum (°), + forward"),
        "torque": (-10.0, 10.0, "flexion moment (N m), + forward"),
    },
    "lateral": {
        "angle": (-40.0, 40.0, "lateral bending of T1 on the sacrum (°), + right"),
        "torque": (-10.0, 10.0, "lateral bending moment (N m), + right"),
    },
}
"""Per load, the slider's range and title under angle and under moment control."""
SLIDER = SLIDERS["axial"]
COLOURS = ("segment_rotation", "facet_gap", "flexion", "lateral", "axial")
"""What ``f`` colours the bones by, in turn (the signed components on the diverging map)."""
_FIELDS = {
    "axial": ("twist_deg", "torque_nm"),
    "flexion": ("flexion_deg", "moment_flexion_nm"),
    "lateral": ("lateral_deg", "moment_lateral_nm"),
}
_COMPONENT = {"flexion": 0, "lateral": 1, "axial": 2}
PLAY_TICK_MS = 40
"""Wall-clock milliseconds between frames while a manoeuvre plays."""
PLAY_STEP_MS = 2.0
"""Simulated milliseconds per frame around the thrust or twist while playing: 20 times
slowed down."""
PLAY_FRAMES = 300
"""A long manoeuvre plays in about this many frames (12 s): a slow twist of 2 s, or a
thrust's positioning and preload, faster."""
FLASH_MS = 2500
"""How long "saved: PATH" stays in the window, milliseconds."""
MANEUVER_NAMES = {"self_twist": "self-twist", "hvla": "HVLA thrust", "mobilisation": "mobilisation"}
CLICK_PX = 4
"""Largest mouse travel between press and release that still counts as a click, pixels."""
CAMERAS = {"1": "posterior", "2": "left", "3": "superior", "4": "posterior-oblique"}

HELP = (
    "mouse\n"
    "  left-drag         turn the view\n"
    "  shift + left-drag pan;  right-drag or wheel: zoom\n"
    "  click a vertebra  cycle the segment below it: normal > restricted > hypermobile\n"
    "  drag the slider   the load it drives, solved live (a manoeuvre: its time)\n"
    "keys\n"
    "  space             play / pause a manoeuvre\n"
    "  [ ]               previous / next panel of the scene\n"
    "  1 2 3 4           camera: posterior, lateral, superior, oblique\n"
    "  b                 slider drives: twist > flexion > lateral bending\n"
    "  t                 switch angle / torque (moment) control\n"
    "  l                 labels on / off\n"
    "  f                 colour: rotation > facet gap > flexion > lateral > axial\n"
    "  g                 rest-pose ghost on / off\n"
    "  r                 reset to the scene\n"
    "  s                 save a screenshot at the scene's export size\n"
    "  h                 this help\n"
    "  q                 quit"
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
    """An interactive window on one panel of a scene at a time (``[``/``]`` switch).

    A panel with a ``[maneuver]`` opens on a time slider over its simulation (space
    plays and pauses); others on a twist or torque slider.

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
        self.index = 0
        self.base: PanelSpec = scene.panels[0]
        self.theme = theme
        self.size = size
        self.out_dir = Path(out_dir) if out_dir is not None else Path.cwd()
        self.saved: list[Path] = []
        self.saved_scenes: list[SceneSpec] = []
        self.playing = False
        self._timer = None
        self._tick_at = 0.0
        self._dragging = False
        self._held_clim: float | None = None
        self._reset_state()
        self.plotter = pv.Plotter(
            window_size=size, off_screen=off_screen, title=f"spine3d: {scene.title or scene.name}"
        )
        self._build()

    # --- state --------------------------------------------------------------------

    def _reset_state(self) -> None:
        load = self.base.load
        self.t_ms = 0.0
        self.axis = "axial"
        self.held: dict[str, tuple[str, float]] = {}
        if self.base.maneuver is not None:
            self.control = "time"
            self.mobility = dict(self.base.spine.mobility)
            self._reset_view()
            # Open at the moment `spine3d render` draws: the same picture, untouched.
            at = self.base.at_ms
            self.t_ms = at if at is not None else drawn_moment_ms(self._run())
            self.value = self.t_ms
            return
        # The slider opens on the first load the scene names: twist, flexion or lateral.
        named = [a for a in LOADS if any(getattr(load, f) is not None for f in _FIELDS[a])]
        self.axis = named[0] if named else "axial"
        self.control, self.value = self._entered(self.axis)
        self.mobility: dict[str, str | float] = dict(self.base.spine.mobility)
        self._reset_view()

    def _reset_view(self) -> None:
        v = self.base.view
        self.labels, self.ghost, self.color_by, self.camera = (
            v.labels,
            v.ghost,
            v.color_by,
            v.camera,
        )
        self.help_visible = False
        self._preset_view = None

    def _entered(self, axis: str) -> tuple[str, float]:
        """(control, value) the slider takes on ``axis``: the scene's, else no moment.

        An axis the scene leaves free opens under moment control at zero, so that
        nothing moves until the slider does.
        """
        angle, moment = _FIELDS[axis]
        load = self.base.load
        if getattr(load, angle) is not None:
            control, value = "angle", float(getattr(load, angle))
        else:
            control, value = "torque", float(getattr(load, moment) or 0.0)
        lo, hi, _ = SLIDERS[axis][control]
        return control, min(max(value, lo), hi)

    def panel(self) -> PanelSpec:
        """Return the panel the window shows now, as a scene panel."""
        load = self.base.load
        if self.control != "time":
            for axis, (control, value) in {
                **self.held,
                self.axis: (self.control, self.value),
            }.items():
                angle, moment = _FIELDS[axis]
                load = replace(
                    load,
                    **{
                        angle: value if control == "angle" else None,
                        moment: value if control == "torque" else None,
                    },
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
        at_ms = self.t_ms if self.control == "time" else self.base.at_ms
        return replace(self.base, load=load, spine=spine, view=view, at_ms=at_ms)

    def changed(self) -> bool:
        """Whether the window shows something other than the panel as the scene has it."""
        base = self.base
        if self.control == "time":
            at = base.at_ms if base.at_ms is not None else drawn_moment_ms(self._run())
            moved = abs(self.t_ms - at) > 0.5
        else:
            now = self.panel().load
            moved = False
            for angle, moment in _FIELDS.values():
                for name in (angle, moment):
                    a, b = getattr(now, name), getattr(base.load, name)
                    if (a is None) != (b is None) or (a is not None and abs(a - b) > 1e-9):
                        # an axis the scene leaves free, held at no moment, is unchanged
                        moved = moved or not (name == moment and b is None and a == 0.0)
        return moved or dict(self.mobility) != dict(base.spine.mobility)

    def live_text(self, state) -> tuple[str, str]:
        """Return a title and a caption that say what the window shows now.

        Built from the live state (twist, torque, mobility changes, the manoeuvre's
        clock), so that a screenshot never carries the scene's text for another state.
        """
        marked = [f"{seg} {m}" for seg, m in self.mobility.items() if m != "normal"]
        mob = ", ".join(marked)
        if self.control == "time":
            mv = self.base.maneuver
            title = f"{MANEUVER_NAMES[mv.kind]}"
            if mv.target:
                title += f" on {mv.target}, {position_words(mv.position, mv.lying_on)}"
            title += f", t = {self.t_ms:.0f} ms ({self._run().phase_at(self.t_ms)})"
        elif self.control == "angle":
            side = "left" if state.twist_deg >= 0 else "right"
            title = f"Self-twist of {abs(state.twist_deg):.0f}° (upper body turns {side})"
        else:
            title = f"Axial torque of {state.torque_nm:+.1f} N m"
        bends = self.control != "time" and self.panel().load.bending
        if bends:
            flex, lat = state.top_rotation_deg[:2]
            title += f", flexion {flex:+.0f}°, lateral bending {lat:+.0f}°"
        if mob:
            title += f", {mob}"
        bending = ""
        if bends:
            flex, lat = state.top_rotation_deg[:2]
            m_flex, m_lat = state.reaction_nm[:2]
            bending = (
                f", flexion {flex:+.1f}° ({m_flex:+.2f} N m), lateral bending {lat:+.1f}° "
                f"({m_lat:+.2f} N m)"
            )
        caption = (
            f"Twist {state.twist_deg:+.1f}° of T1 on the sacrum, torque "
            f"{state.torque_nm:+.2f} N m{bending}; "
            + (f"mobility: {mob}, the other segments normal." if mob else "every segment normal.")
        )
        return title, caption

    def scene_now(self) -> SceneSpec:
        """Return the scene that ``spine3d render`` would draw for what the window shows.

        Untouched, it is the scene's panel with its own title and caption; once the
        twist, the mobility or the clock has changed, title and caption describe the
        live state instead, and a panel title that no longer fits is dropped.
        """
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
        panel = replace(panel, view=view)
        if not self.changed():
            return replace(self.scene, panels=(panel,))
        title, caption = self.live_text(self.last.state)
        return replace(self.scene, title=title, caption=caption, panels=(replace(panel, title=""),))

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

    def _run(self):
        """Return the simulation the time slider moves through (a schedule's last session)."""
        result = simulate_scene(replace(self.scene, panels=(self.panel(),)), 0)
        return getattr(result, "last", result)

    def drawing(self) -> PanelDrawing:
        """Solve and describe what the window shows now."""
        panel = self.panel()
        if self.control == "time":
            # The render path itself: state, bubbles and clock text at this moment.
            run = self._run()
            clim = nice_ceiling(float(np.abs(run.rotation_deg).max()))
            fig = describe(
                replace(self.scene, panels=(panel,)),
                self.theme,
                tuple(self.plotter.window_size) if hasattr(self, "plotter") else self.size,
                clim,
                flash=True,
            )
            return fig.panels[0]
        try:
            state = solve_panel(panel)
        except SpineInputError:
            if self.axis == "axial":
                # Beyond what this mobility can reach: the largest reachable twist.
                model = self._solve_at(twist_deg=0.0).model
                limit = reachable_twist_deg(model, self.mobility)
                if self.control == "torque":
                    self.toggle_control_to("angle")
                self.value = math.copysign(0.999 * limit, self.value)
                try:
                    panel = self.panel()
                    return self._described(panel, solve_panel(panel))
                except SpineInputError:
                    pass  # bending loads on top reach less: find how far
            state = self._clamp()
            panel = self.panel()
        return self._described(panel, state)

    def _clamp(self):
        """Pull the slider's load back to the largest this spine reaches; return its state."""
        reached, beyond = 0.0, self.value
        for _ in range(20):
            self.value = 0.5 * (reached + beyond)
            try:
                solve_panel(self.panel())
                reached = self.value
            except SpineInputError:
                beyond = self.value
        self.value = reached
        return solve_panel(self.panel())

    def _described(self, panel: PanelSpec, state) -> PanelDrawing:
        # The colour limit follows the state, as in `spine3d render`: the same colours;
        # while the slider is dragged it holds still, so that colours compare.
        clim = nice_ceiling(shown_peak(panel, state))
        if self._dragging:
            if self._held_clim is None:
                self._held_clim = self.last.colorbar.clim[1] if self.last.colorbar else clim
            clim = self._held_clim
        return describe_panel(panel, state, clim, self._aspect(), self.theme)

    # --- building and updating actors --------------------------------------------

    def _build(self) -> None:
        import pyvista as pv
        from PIL import ImageColor

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
        # A faint box behind the readout, so that it reads over a table or bone behind it.
        prop = self.readout.GetTextProperty()
        prop.SetBackgroundColor(*(c / 255 for c in ImageColor.getrgb(self.scene.background)[:3]))
        prop.SetBackgroundOpacity(0.75)
        self.status = pl.add_text("", position=(10, h - 48), font_size=9, color=text, name="status")
        self.help = pl.add_text(
            HELP,
            position=(10, h - 18 * (HELP.count("\n") + 2)),  # its lines, about 18 px each
            font_size=9,
            color=text,
            font="courier",
            name="help",
        )
        # A box behind the help, so that it reads over bone and labels.
        prop = self.help.GetTextProperty()
        prop.SetBackgroundColor(*(c / 255 for c in ImageColor.getrgb(self.scene.background)[:3]))
        prop.SetBackgroundOpacity(0.92)
        prop.SetFrame(True)
        prop.SetFrameColor(text)
        self.help.SetVisibility(False)
        self.flash = pl.add_text("", position=(10, h - 56), font_size=10, color=text, name="flash")
        self.flash.GetTextProperty().SetBackgroundColor(1.0, 1.0, 0.85)
        self.flash.GetTextProperty().SetBackgroundOpacity(0.95)
        self.flash.SetVisibility(False)
        self._make_slider()
        # A click (press and release within a few pixels) picks; a drag turns the camera.
        # Observed on the interactor style: once pressed, it has the focus for the release.
        style = pl.iren.interactor.GetInteractorStyle()
        style.AddObserver("LeftButtonPressEvent", self._on_press, 10.0)
        style.AddObserver("LeftButtonReleaseEvent", self._on_release, 10.0)
        self._press = None
        self._flash_until = 0.0
        pl.iren.interactor.AddObserver("TimerEvent", self._on_timer)
        for key, fn in {
            "t": self.toggle_control,
            "b": self.cycle_load,
            "l": self.toggle_labels,
            "f": self.toggle_facets,
            "g": self.toggle_ghost,
            "r": self.reset,
            "s": self.save_screenshot,
            "h": self.toggle_help,
            "q": self.quit,
            "space": self.toggle_play,
            "bracketleft": lambda: self.show_panel(self.index - 1),
            "bracketright": lambda: self.show_panel(self.index + 1),
            **{k: (lambda p=p: self.set_camera(p)) for k, p in CAMERAS.items()},
        }.items():
            pl.add_key_event(key, fn)
        self.update(d)
        self.set_camera(self.camera, render=False)

    def _slider_range(self) -> tuple[float, float, str]:
        if self.control == "time":
            return 0.0, float(self._run().t_ms[-1]), "time (ms); space: play / pause"
        return SLIDERS[self.axis][self.control]

    def _make_slider(self) -> None:
        lo, hi, title = self._slider_range()
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
            fmt="%.0f" if self.control == "time" else "%.1f",
        )
        # While dragged, the colour range holds still; on release it follows the state.
        self.slider.AddObserver("StartInteractionEvent", self._drag_start)
        self.slider.AddObserver("EndInteractionEvent", self._drag_end)

    def _drag_start(self, *_) -> None:
        self._dragging = True
        self._held_clim = None

    def _drag_end(self, *_) -> None:
        self._dragging = False
        self._held_clim = None
        self.update()

    def update(self, d: PanelDrawing | None = None, render: bool = True) -> PanelDrawing:
        """Re-solve and move/recolour every actor; return the drawing shown."""
        d = d or self.drawing()
        pl = self.plotter
        # The ghost and the facet balls always exist; the toggles show or hide them.
        self.actors.update(d if self.labels else replace(d, labels=()))
        for (role, _), actor in self.actors.meshes.items():
            if role == "ghost":
                actor.SetVisibility(self.ghost)
        # Facet balls show when the gap colours; bubbles and holds always.
        facets = self.color_by == "facet_gap"
        kept = {hex_to_rgb(self.theme.bubble), hex_to_rgb(self.theme.flash)}
        for (joint, _, colour), ball in self.actors.balls.items():
            if joint != "hold" and tuple(colour) not in kept:
                ball.SetVisibility(bool(ball.GetVisibility()) and facets)
        seg_of = {j.upper: j.name for j in d.state.model.joints}
        for lv, badge in self.badges.items():
            state = self.mobility.get(seg_of.get(lv, ""), "normal")
            badge.SetVisibility(state in ("restricted", "hypermobile"))
            if state in ("restricted", "hypermobile"):
                colour = self.theme.restricted if state == "restricted" else self.theme.hypermobile
                badge.prop.color = hex_to_rgb(colour)
                pose = d.frame @ np.asarray(d.state.pose(lv))  # in the patient's position
                half_width = d.state.model.vertebra(lv).morphometry["body_width_mm"] / 2
                m = pose.copy()
                m[:3, :3] = m[:3, :3] * 6.0
                # Beside the body on the labelled (right) side, where the cameras look.
                m[:3, 3] = pose[:3, 3] + pose[:3, :3] @ [0.0, 0.0, half_width + 8.0]
                badge.user_matrix = m
        self._colorbar(d)
        self.readout.SetInput(self._readout(d))
        panel = f"panel {self.index + 1}/{len(self.scene.panels)}: " if self._many() else ""
        if self.control == "time":
            # A practitioner's readout runs long: wrapped to the window, the lines kept
            # below its top edge.
            w, h = self.size
            said = textwrap.fill(f"{panel}{d.twist_text}", max(40, int(w / 9.5)))
            said += "\n(space: play / pause, h: help)"
            self.status.SetInput(said)
            self.status.SetPosition(10, h - 16 * (said.count("\n") + 2))
        else:
            self.status.SetPosition(10, self.size[1] - 48)
            unit = "°" if self.control == "angle" else " N m"
            kind = "angle" if self.control == "angle" else "moment"
            bend = ""
            if self.panel().load.bending:
                bend = (
                    f", flexion {d.state.top_rotation_deg[0]:+.1f}°, lateral "
                    f"{d.state.top_rotation_deg[1]:+.1f}°"
                )
            self.status.SetInput(
                f"{panel}{LOAD_NAMES[self.axis]} {kind} control: {self.value:+.1f}{unit}   twist "
                f"{d.state.twist_deg:+.1f}°, torque {d.state.torque_nm:+.2f} N m{bend}   "
                "(b: load, h: help)",
            )
        self.last = d
        # The drawing may have clamped the value (a twist beyond reach): show that.
        slider = getattr(self, "slider", None)
        if slider is not None and slider.GetRepresentation().GetValue() != self.value:
            slider.GetRepresentation().SetValue(self.value)
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
        """Rows for the segments below the shown levels, headed by what colours the bones.

        The rotation column is the axial rotation, or the component of the bending
        the slider drives.
        """
        shown = set(d.levels)
        bending = self.control != "time" and self.axis != "axial"
        col = self.axis if bending else "rotation"
        turn = d.state.rotation3_deg[:, _COMPONENT[self.axis]] if bending else d.state.rotation_deg
        if self.color_by == "facet_gap":
            rows = ["colour: facet gap (mm)", f"segment   {col:<8}   gap L   gap R"]
        elif self.color_by == "segment_rotation":
            rows = ["colour: segment rotation (°)", f"segment   {col}"]
        elif d.colorbar is not None:  # a signed component: its value beside the other
            rows = [f"colour: {d.colorbar.title}", f"segment   {col:<8}   {self.color_by}"]
        else:
            rows = [f"segment   {col}"]
        for i, j in enumerate(d.state.model.joints):
            if j.upper not in shown:
                continue
            state = self.mobility.get(j.name, "normal")
            mark = {"restricted": "  * restricted", "hypermobile": "  ! hypermobile"}.get(
                state if isinstance(state, str) else "", ""
            )
            gaps = ""
            if self.color_by == "facet_gap":
                gap = d.state.facet_gap_mm[:, i]
                gaps = f"  {gap[0]:+6.2f}  {gap[1]:+6.2f}"
            elif self.color_by in _COMPONENT:
                gaps = f"   {d.state.rotation3_deg[i, _COMPONENT[self.color_by]]:+6.2f}°"
            rows.append(f"{j.name:<8} {turn[i]:+6.2f}°{gaps}{mark}")
        if self.control != "time":
            kind = "angle" if self.control == "angle" else "moment"
            rows.append(f"slider: {LOAD_NAMES[self.axis]} {kind} (b: next load)")
        return "\n".join(rows)

    # --- what the widgets and keys call ------------------------------------------

    def _many(self) -> bool:
        return len(self.scene.panels) > 1

    def set_value(self, value: float) -> None:
        """Slider callback: a new twist or torque, or a manoeuvre's time (ms)."""
        lo, hi, _ = self._slider_range()
        self.value = float(min(max(value, lo), hi))
        if self.control == "time":
            self.t_ms = self.value
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
        if self.control == "time":  # a manoeuvre's load is its own
            return
        self.toggle_control_to("torque" if self.control == "angle" else "angle")
        self.update()

    def toggle_control_to(self, control: str) -> None:
        """Switch to ``"angle"`` or ``"torque"`` control without redrawing."""
        state = self.last.state
        self.control = control
        lo, hi, _ = SLIDERS[self.axis][self.control]
        if self.axis == "axial":
            now = state.torque_nm if self.control == "torque" else state.twist_deg
        else:
            k = _COMPONENT[self.axis]
            now = state.reaction_nm[k] if control == "torque" else state.top_rotation_deg[k]
        self.value = float(min(max(now, lo), hi))
        self._make_slider()

    def cycle_load(self) -> str | None:
        """Make the slider drive the next load: twist, flexion, lateral bending; return it.

        The load left keeps its value; a load the slider has not driven yet starts at the
        scene's (or at no moment), so the pose does not jump. A manoeuvre's time slider
        stays as it is.
        """
        if self.control == "time":
            return None
        self.held[self.axis] = (self.control, self.value)
        self.axis = LOADS[(LOADS.index(self.axis) + 1) % len(LOADS)]
        held = self.held.pop(self.axis, None)
        self.control, self.value = held if held is not None else self._entered(self.axis)
        self._make_slider()
        self.update()
        return self.axis

    def toggle_labels(self) -> None:
        """Show or hide the level labels."""
        self.labels = not self.labels
        self.update()

    def toggle_ghost(self) -> None:
        """Show or hide the rest-pose ghost."""
        self.ghost = not self.ghost
        self.update()

    def toggle_facets(self) -> None:
        """Colour by the next of: segment rotation, facet gap, flexion, lateral, axial."""
        now = self.color_by if self.color_by in COLOURS else COLOURS[-1]
        self.color_by = COLOURS[(COLOURS.index(now) + 1) % len(COLOURS)]
        self.update()

    def toggle_help(self) -> None:
        """Show or hide the key help."""
        self.help_visible = not self.help_visible
        self.help.SetVisibility(self.help_visible)
        self.readout.SetVisibility(not self.help_visible)
        self.status.SetVisibility(not self.help_visible)
        self.plotter.render()

    def set_camera(self, preset: str, render: bool = True) -> None:
        """Move the camera to a preset (posterior, left, superior, posterior-oblique)."""
        self.camera = preset
        moment = None
        if self.control == "time":  # the patient's position and the arrow are framed too
            moment = maneuver_moment(self._run(), self.panel(), self.t_ms, self.theme, flash=True)
        d = describe_panel(
            self.panel(), self.last.state, 1.0, self._aspect(), self.theme, moment=moment
        )
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
        """Render what the window shows at the scene's export size; print and return the path.

        The picture is ``spine3d render`` of :meth:`scene_now`: the live state with a
        title and caption that describe it. "saved: PATH" shows in the window a moment.
        """
        n = len(self.saved) + 1
        path = self.out_dir / f"{self.scene.name}-view-{n:02d}.png"
        while path.exists():
            n += 1
            path = self.out_dir / f"{self.scene.name}-view-{n:02d}.png"
        scene = self.scene_now()
        render_scene(scene, path, theme=self.theme)
        self.saved.append(path)
        self.saved_scenes.append(scene)
        print(f"saved {path}", flush=True)
        self.flash.SetInput(f"saved: {path}")
        self.flash.SetVisibility(True)
        iren = self.plotter.iren
        self._flash_until = time.monotonic() + FLASH_MS / 1000.0
        if iren is not None and iren.interactor.GetInitialized():
            iren.interactor.CreateOneShotTimer(FLASH_MS + 50)
        self.plotter.render()
        return path

    def quit(self) -> None:
        """Close the window and leave :meth:`show`."""
        self.playing = False
        iren = self.plotter.iren
        if iren is not None:
            iren.interactor.TerminateApp()

    def toggle_play(self) -> None:
        """Play or pause a manoeuvre (from the start when it has reached its end)."""
        if self.control != "time":
            return
        self.playing = not self.playing
        if self.playing and self.t_ms >= self._slider_range()[1]:
            self.set_value(0.0)
        iren = self.plotter.iren
        if self.playing and self._timer is None and iren is not None:
            if iren.interactor.GetInitialized():
                self._tick_at = time.monotonic()
                self._timer = iren.interactor.CreateRepeatingTimer(PLAY_TICK_MS)

    def _on_timer(self, iren, _event) -> None:
        """Play on, and end the flash when its time is up: one observer for both timers.

        It goes by the clock, as VTK's Python observers do not see which timer fired.
        """
        now = time.monotonic()
        if self.playing and self._timer is not None:
            steps = max(1, round((now - self._tick_at) * 1000.0 / PLAY_TICK_MS))
            self._tick_at = now
            for _ in range(steps):
                self.tick(render=False)
            self.plotter.render()
        if self.flash.GetVisibility() and now >= self._flash_until:
            self.flash.SetVisibility(False)
            self.plotter.render()
        if not self.playing and self._timer is not None:
            iren.DestroyTimer(self._timer)
            self._timer = None

    def play_times(self) -> np.ndarray:
        """Return the moments playing shows, one per frame (T,), ms.

        The thrust (or the twist) and the reflex after it at :data:`PLAY_STEP_MS` per
        frame (20 times slowed down); the positioning before and the rest after faster,
        so that the whole plays in about :data:`PLAY_FRAMES` frames (12 s) or the slow
        part's length.
        """
        run = self._run()
        a, b = slow_window_ms(run)
        end = float(run.t_ms[-1])
        n_slow = min(int(math.ceil((b - a) / PLAY_STEP_MS)), PLAY_FRAMES)
        rest = end - (b - a)
        n_fast = min(int(math.ceil(rest / PLAY_STEP_MS)), max(PLAY_FRAMES - n_slow, 60))
        n = max(n_slow + n_fast, 2)
        return clip_clock([run], n, n_slow / n)[:, 0]

    def tick(self, render: bool = True) -> None:
        """Advance a playing manoeuvre by one frame; pause at its end."""
        if not self.playing:
            return
        times = self.play_times()
        later = times[times > self.t_ms + 1e-9]
        self.value = self.t_ms = float(later[0]) if len(later) else float(times[-1])
        self.slider.GetRepresentation().SetValue(self.value)
        self.update(render=render)
        if self.t_ms >= times[-1]:
            self.playing = False

    def show_panel(self, index: int) -> None:
        """Show panel ``index`` of the scene (wrapping round), as the scene has it."""
        self.playing = False
        self.index = index % len(self.scene.panels)
        self.base = self.scene.panels[self.index]
        self._reset_state()
        self._make_slider()
        self.update(render=False)
        self.set_camera(self.camera)

    def show(self) -> None:
        """Open the window and run until it is closed (``q`` or the window's close box)."""
        self.plotter.show()
