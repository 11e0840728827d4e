"""Drive the viewer on a two-panel manoeuvre scene in a real window; print JSON.

Run under Xvfb by test_viewer.py. Ends by pressing `q` inside the event loop: the
script finishes only if `q` closes the window.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

from spine3d.render.viewer import HELP, Viewer
from spine3d.scene import load_scene
from spine3d.scene.describe import drawn_moment_ms, simulate_scene, slow_window_ms

out = Path(sys.argv[1])
scene = load_scene("hvla_vs_self_twist")
v = Viewer(scene, size=(960, 540), out_dir=out)
pl = v.plotter
pl.show(interactive_update=True, auto_close=False)
run = simulate_scene(scene, 0)
r = {
    "control": v.control,
    "t_ms": v.t_ms,
    "drawn": drawn_moment_ms(run),
    "slider": [
        v.slider.GetRepresentation().GetMinimumValue(),
        v.slider.GetRepresentation().GetMaximumValue(),
    ],  # fmt: skip
    "t_end": float(run.t_ms[-1]),
    "readout": v.readout.GetInput().splitlines(),
    "levels": list(scene.panels[0].spine.levels),
}
before = pl.screenshot(None, return_img=True)
# Space plays; each tick moves the clock and the bones.
v.set_value(100.0)
iren = pl.iren.interactor
iren.SetKeySym("space")
iren.InvokeEvent("KeyPressEvent")
r["playing"] = v.playing
# The window's own timer plays it: let the event loop run a moment.
t0 = time.monotonic()
while time.monotonic() - t0 < 1.0:
    pl.iren.process_events()
    time.sleep(0.01)
r["played_by_timer"] = v.t_ms - 100.0
v.set_value(100.0)
times = []
for _ in range(10):
    v.tick()
    times.append(v.t_ms)
r["after_ticks"] = v.t_ms
r["tick_times"] = times
r["play_times"] = v.play_times().tolist()
r["slow_window"] = list(slow_window_ms(run))
r["state_matches_run"] = float(
    np.abs(v.last.state.rotation_deg - run.rotation_deg[run.index(v.t_ms)]).max()
)
iren.SetKeySym("space")
iren.InvokeEvent("KeyPressEvent")
r["paused"] = not v.playing
r["frame_change"] = float(np.abs(pl.screenshot(None, return_img=True).astype(int) - before).mean())
# `]` shows the second panel, a self-twist, on its own time slider.
iren.SetKeySym("bracketright")
iren.InvokeEvent("KeyPressEvent")
r["panel2"] = [v.index, v.base.maneuver.kind, v.control, v.status.GetInput()]
iren.SetKeySym("bracketleft")
iren.InvokeEvent("KeyPressEvent")
r["panel1_again"] = [v.index, v.base.maneuver.kind]
# The help: a box behind it, and the mouse.
v.toggle_help()
prop = v.help.GetTextProperty()
r["help"] = [v.help.GetInput() == HELP, prop.GetBackgroundOpacity(), bool(prop.GetFrame())]
r["help_mouse"] = "left-drag" in HELP and "wheel" in HELP
pl.screenshot(str(out / "help.png"))
v.toggle_help()
pl.screenshot(str(out / "window.png"))
print(json.dumps(r), flush=True)

# `q` pressed inside the running event loop must end show().
pl.close()
v2 = Viewer(load_scene("self_twist"), size=(640, 360), out_dir=out)
i2 = v2.plotter.iren.interactor


def press_q(obj, _event):
    obj.SetKeySym("q")
    obj.InvokeEvent("KeyPressEvent")


v2.plotter.iren.add_observer("TimerEvent", press_q)
v2.plotter.iren.initialize()
i2.CreateOneShotTimer(1500)
v2.show()
print("QUIT", flush=True)
