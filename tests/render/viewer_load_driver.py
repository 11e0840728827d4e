"""Drive the viewer's load choice (key b) in a real window, under Xvfb; print JSON."""

import json
import sys
from pathlib import Path

import numpy as np

from spine3d.errors import SpineInputError
from spine3d.render.viewer import HELP, Viewer, check_display
from spine3d.scene import default_scene_path, load_scene
from spine3d.scene.describe import solve_panel

ROOT = Path(__file__).resolve().parents[2]
out = Path(sys.argv[1])
check_display()
v = Viewer(load_scene(default_scene_path()), size=(960, 540), out_dir=out)
pl = v.plotter
pl.show(interactive_update=True, auto_close=False)
iren = pl.iren.interactor


def press(key):
    iren.SetKeySym(key)
    iren.SetKeyCode(key)
    iren.InvokeEvent("KeyPressEvent")
    iren.InvokeEvent("CharEvent")


r = {"help_has_b": any(ln.split()[:1] == ["b"] for ln in HELP.splitlines())}
st = v.last.state
r["start"] = [v.axis, v.control, v.value, float(st.top_rotation_deg[0])]
pose = v.last.state.pose("T1")
before = pl.screenshot(None, return_img=True)

press("b")  # the slider now drives flexion: under no moment, so nothing moves
r["flexion"] = [v.axis, v.control, v.value, v.slider.GetRepresentation().GetTitleText()]
r["no_jump"] = float(np.abs(v.last.state.pose("T1") - pose).max())
r["status"] = v.status.GetInput()
r["readout_last"] = v.readout.GetInput().splitlines()[-1]
r["readout_header"] = v.readout.GetInput().splitlines()[1]
v.set_value(2.0)  # a flexion moment on top of the scene's 30° twist (inside ±60°)
st = v.last.state
r["flex_moment"] = [float(st.reaction_nm[0]), float(st.top_rotation_deg[2])]
after = pl.screenshot(None, return_img=True)
r["frame_change"] = float(np.abs(after.astype(int) - before).mean())
press("t")  # angle control keeps the pose
r["angle_kept"] = [v.control, abs(v.value - float(st.top_rotation_deg[0]))]
v.set_value(-20.0)
r["extension"] = float(v.last.state.top_rotation_deg[0])

press("b")  # lateral bending: the flexion angle stays where it was left
r["lateral"] = [v.axis, v.control]
v.set_value(3.0)
st = v.last.state
r["lateral_moment"] = [float(st.reaction_nm[1]), float(st.top_rotation_deg[0])]
r["saved_load"] = v.scene_now().panels[0].load.solve_kwargs()
r["changed"] = v.changed()
r["caption"] = v.live_text(st)[1]

colours = []
for _ in range(5):  # f: rotation > facet gap > flexion > lateral > axial > rotation
    press("f")
    colours.append([v.color_by, v.last.colorbar.title if v.last.colorbar else None])
r["colours"] = colours

press("b")  # back to the twist, as it was
r["axial"] = [v.axis, v.control, v.value]
# A twist beyond what a stiff spine reaches: pulled back to the reachable.
v.mobility = {seg: "restricted" for seg in v.last.state.model.segment_names}
v.set_value(60.0)
r["twist_clamped"] = [
    v.axis,
    v.value,
    v.slider.GetRepresentation().GetValue(),
    float(v.last.state.top_rotation_deg[2]),
]
reached = v.value
v.value = reached + 0.05  # a little further: out of reach
try:
    solve_panel(v.panel())
    r["just_beyond_reachable"] = True
except SpineInputError:
    r["just_beyond_reachable"] = False
v.value = reached
v.reset()
r["reset"] = [v.axis, v.held, v.changed()]

# A scene that bends opens with the slider on flexion, under its moment.
w = Viewer(load_scene(ROOT / "scenes" / "flexion_extension.toml"), size=(960, 540), off_screen=True)
r["bending_scene"] = [w.axis, w.control, w.value, w.changed()]
w.set_value(80.0)  # out of the slider's range: held at its end
r["bending_clamped"] = [w.value, float(w.last.state.reaction_nm[0])]
print(json.dumps(r))
pl.close()
w.plotter.close()
