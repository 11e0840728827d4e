"""Drive the viewer in a real window (run under Xvfb by test_viewer.py); print JSON."""

import json
import sys
import time
from pathlib import Path

import numpy as np

import spine3d
from spine3d.render.export import render_scene
from spine3d.render.viewer import HELP, Viewer, check_display
from spine3d.scene import default_scene_path, load_scene
from spine3d.scene.describe import nice_ceiling, shown_peak
from spine3d.scene.theme import DEFAULT_THEME, colormap

out = Path(sys.argv[1])
check_display()
scene = load_scene(default_scene_path())
v = Viewer(scene, size=(960, 540), out_dir=out)
pl = v.plotter
pl.show(interactive_update=True, auto_close=False)
result = {
    "window": type(pl.ren_win).__name__,
    "offscreen": bool(pl.ren_win.GetOffScreenRendering()),
}
before = pl.screenshot(None, return_img=True)

# Saved screenshot of the untouched scene == `spine3d render` of the scene.
shot = v.save_screenshot()
render_scene(scene, out / "reference.png")
from PIL import Image  # noqa: E402

a = np.asarray(Image.open(shot)).astype(int)
b = np.asarray(Image.open(out / "reference.png")).astype(int)
result["screenshot_size"] = list(a.shape)
result["screenshot_vs_render"] = float(np.abs(a - b).mean())

# Slider: the same callback the widget calls.
v.set_value(40.0)
model = spine3d.load_model()
state = spine3d.solve(model, twist_deg=40.0)
result["t1_pose_error"] = float(np.abs(v.bones["T1"].user_matrix - state.pose("T1")).max())
after = pl.screenshot(None, return_img=True)
result["frame_change"] = float(np.abs(after.astype(int) - before).mean())
result["slider_value"] = v.slider.GetRepresentation().GetValue()

# Click L4 with synthetic mouse events at its body centre: L4-L5 becomes restricted.
ren, iren = pl.renderer, pl.iren.interactor
ren.SetWorldPoint(*v.last.state.pose("L4")[:3, 3], 1.0)
ren.WorldToDisplay()
x, y = (int(round(c)) for c in ren.GetDisplayPoint()[:2])


def mouse(event, at):
    iren.SetEventInformation(*at)
    iren.InvokeEvent(event)


mouse("LeftButtonPressEvent", (x, y))
mouse("MouseMoveEvent", (x + 40, y + 30))  # a drag turns the camera, picks nothing
mouse("LeftButtonReleaseEvent", (x + 40, y + 30))
result["after_drag"] = dict(v.mobility)
v.set_camera("posterior-oblique")
mouse("LeftButtonPressEvent", (x, y))
mouse("LeftButtonReleaseEvent", (x, y))
restricted = spine3d.solve(model, twist_deg=40.0, mobility={"L4-L5": "restricted"})
result["mobility"] = dict(v.mobility)
result["readout_has_mark"] = "* restricted" in v.readout.GetInput()
i = model.segment_names.index("L4-L5")
clim = v.last.colorbar.clim[1]  # the rule `spine3d render` uses: the shown peak
expected = colormap(DEFAULT_THEME.rotation_cmap, abs(restricted.rotation_deg[i]) / clim)
result["l4_colour_error"] = float(
    np.abs(np.array(v.bones["L4"].GetProperty().GetColor()) - expected).max()
)
result["l4_rotation"] = float(v.last.state.rotation_deg[i])
result["l4_rotation_solver"] = float(restricted.rotation_deg[i])
result["badge_visible"] = bool(v.badges["L4"].GetVisibility())

# `s` after the drag and the click: the picture says 40° and L4-L5 restricted.
shot = v.save_screenshot()
saved = v.saved_scenes[-1]
result["saved_title"], result["saved_caption"] = saved.title, saved.caption
result["stale_title"] = scene.title
result["flash"] = [v.flash.GetInput(), bool(v.flash.GetVisibility())]
result["flash_path"] = str(shot)
t0 = time.monotonic()
while time.monotonic() - t0 < 3.5:  # the window's timer ends the flash
    pl.iren.process_events()
    time.sleep(0.02)
result["flash_after"] = bool(v.flash.GetVisibility())
a = np.asarray(Image.open(shot).convert("RGB")).astype(int)
band = slice(0, int(a.shape[0] * 0.08))  # the title's band at the top of the figure
result["title_band_change"] = float(np.abs(a[band] - b[band]).mean())
render_scene(saved, out / "live.png")
c = np.asarray(Image.open(out / "live.png").convert("RGB")).astype(int)
result["live_vs_render"] = float(np.abs(a - c).mean())

# The colour range holds still while the slider is dragged, and follows on release.
clim_before = v.last.colorbar.clim[1]
v.slider.InvokeEvent("StartInteractionEvent")
v.set_value(60.0)
result["clim_drag"] = [clim_before, v.last.colorbar.clim[1]]
v.slider.InvokeEvent("EndInteractionEvent")
result["clim_released"] = v.last.colorbar.clim[1]
result["clim_render_rule"] = nice_ceiling(shown_peak(v.panel(), v.last.state))
# Beyond reach (every segment restricted): the drawing clamps, and the slider says so.
kept = dict(v.mobility)
v.mobility = {seg: "restricted" for seg in model.segment_names}
v.set_value(60.0)
result["clamped"] = [v.value, v.slider.GetRepresentation().GetValue(), v.last.state.twist_deg]
v.mobility = kept
v.set_value(40.0)
v.pick(v.bones["L4"])
result["after_second_click"] = v.mobility.get("L4-L5")
v.pick(v.bones["L4"])
result["after_third_click"] = v.mobility.get("L4-L5", "normal")

# Torque control keeps the pose; keys.
twist = v.last.state.twist_deg
v.toggle_control()
result["torque_mode_twist_kept"] = abs(v.last.state.twist_deg - twist)
v.set_value(2.0)
result["torque_applied"] = v.last.state.torque_nm
v.toggle_labels()
result["labels_off"] = not v.actors.labels
v.toggle_ghost()
result["ghost_visible"] = bool(v.actors.meshes[("ghost", "T1")].GetVisibility())
v.toggle_facets()
result["balls_visible"] = any(
    bool(a.GetVisibility()) for (seg, side, _), a in v.actors.balls.items() if seg == "L4-L5"
)
result["bar_title"] = list(pl.scalar_bars.keys())
v.set_camera("superior")
result["camera_superior_up"] = list(pl.camera.up)
v.toggle_help()
result["help_visible"] = bool(v.help.GetVisibility()) and v.help.GetInput() == HELP
v.reset()
result["reset"] = [v.control, v.value, dict(v.mobility), v.labels, v.color_by]
print(json.dumps(result))
pl.close()
