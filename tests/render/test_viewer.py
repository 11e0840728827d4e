import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

DRIVER = Path(__file__).with_name("viewer_driver.py")


@pytest.fixture(scope="module")
def xvfb():
    exe = shutil.which("Xvfb")
    if exe is None:
        pytest.skip("Xvfb is not installed (.ci/setup installs it)")
    for n in range(90, 110):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            break
    proc = subprocess.Popen(
        [exe, f":{n}", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(50):
        if Path(f"/tmp/.X11-unix/X{n}").exists():
            break
        time.sleep(0.1)
    yield f":{n}"
    proc.terminate()
    proc.wait(10)


def window_env(display):
    env = {k: v for k, v in os.environ.items() if k != "VTK_DEFAULT_OPENGL_WINDOW"}
    env["DISPLAY"] = display
    return env


def test_viewer_in_a_real_window(xvfb, tmp_path):
    r = subprocess.run(
        [sys.executable, str(DRIVER), str(tmp_path)],
        capture_output=True,
        text=True,
        env=window_env(xvfb),
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    d = json.loads(r.stdout.strip().splitlines()[-1])
    assert d["window"] != "vtkEGLRenderWindow" and not d["offscreen"]
    assert d["screenshot_size"] == [1080, 1920, 3]  # the scene's export size, not the window's
    assert d["screenshot_vs_render"] < 0.5
    assert d["t1_pose_error"] < 1e-9
    assert d["frame_change"] > 1.0 and d["slider_value"] == 40.0
    assert d["after_drag"] == {}
    assert d["mobility"] == {"L4-L5": "restricted"} and d["readout_has_mark"]
    assert d["l4_colour_error"] <= 1 / 255 and d["badge_visible"]  # colours are 8-bit
    # The screenshot after a drag and a click tells the live state, not the scene's text.
    assert "40°" in d["saved_title"] and "L4-L5 restricted" in d["saved_title"]
    assert d["saved_title"] != d["stale_title"] and "+40.0°" in d["saved_caption"]
    assert "L4-L5 restricted" in d["saved_caption"]
    assert d["flash"] == [f"saved: {d['flash_path']}", True]
    assert not d["flash_after"]
    assert d["title_band_change"] > 0.5 and d["live_vs_render"] < 0.5
    # Dragging holds the colour range; releasing gives the render's rule again.
    assert d["clim_drag"][0] == d["clim_drag"][1]
    assert d["clim_released"] == d["clim_render_rule"] > d["clim_drag"][0]
    value, shown, drawn = d["clamped"]
    assert value < 60.0 and shown == value and abs(drawn - value) < 1e-6
    assert abs(d["l4_rotation"] - d["l4_rotation_solver"]) < 1e-9 and d["l4_rotation"] < 0.5
    assert d["after_second_click"] == "hypermobile" and d["after_third_click"] == "normal"
    assert d["torque_mode_twist_kept"] < 1e-6 and abs(d["torque_applied"] - 2.0) < 1e-9
    assert d["labels_off"] and not d["ghost_visible"] and d["balls_visible"]
    assert d["bar_title"] == ["facet gap (mm)"]
    assert d["help_visible"]
    assert d["reset"] == ["angle", 30.0, {}, True, "segment_rotation"]


@pytest.mark.parametrize("display", [None, ":4321"])
def test_no_display_is_one_line(display):
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    if display:
        env["DISPLAY"] = display
    r = subprocess.run(
        [sys.executable, "-m", "spine3d._cli.main", "view"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "no display" in lines[0] and "spine3d render" in lines[0]


MANEUVER_DRIVER = Path(__file__).with_name("viewer_maneuver_driver.py")


def test_viewer_plays_a_maneuver_and_q_quits(xvfb, tmp_path):
    r = subprocess.run(
        [sys.executable, str(MANEUVER_DRIVER), str(tmp_path)],
        capture_output=True,
        text=True,
        env=window_env(xvfb),
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.strip().splitlines()
    assert lines[-1] == "QUIT"  # `q` closed the window and show() returned
    d = json.loads(lines[-2])
    # Opens on a time slider at the moment `spine3d render` draws.
    assert d["control"] == "time" and d["t_ms"] == d["drawn"]
    assert d["slider"] == [0.0, d["t_end"]]
    # The readout: what colours the bones, and only the shown levels' segments.
    assert d["readout"][0] == "colour: facet gap (mm)"
    segs = [row.split()[0] for row in d["readout"][2:]]
    assert segs == [f"{a}-{b}" for a, b in zip(d["levels"], d["levels"][1:], strict=False)]
    assert d["played_by_timer"] >= 10 * 2.0  # at least ten 40 ms frames in a second
    # Each tick shows the next moment of the play clock: positioning fast, the thrust
    # and what follows it 20 times slowed down (2 ms a frame).
    times = d["play_times"]
    later = [t for t in times if t > 100.0]
    assert d["tick_times"] == later[:10] and d["after_ticks"] == later[9]
    a, b = d["slow_window"]
    steps = [y - x for x, y in zip(times, times[1:], strict=False) if a + 1 < x < b - 1]
    assert steps and max(steps) < 2.05
    assert min(y - x for x, y in zip(times, times[1:], strict=False) if y < a) > 4.0
    assert times[0] == 0.0 and times[-1] == d["t_end"]
    assert d["playing"] and d["state_matches_run"] < 1e-9
    assert d["paused"] and d["frame_change"] > 0.5
    assert d["panel2"][:3] == [1, "self_twist", "time"] and "panel 2/2" in d["panel2"][3]
    assert d["panel1_again"] == [0, "hvla"]
    assert d["help"] == [True, 0.92, True] and d["help_mouse"]


LOAD_DRIVER = Path(__file__).with_name("viewer_load_driver.py")


def test_key_b_chooses_the_load_the_slider_drives(xvfb, tmp_path):
    r = subprocess.run(
        [sys.executable, str(LOAD_DRIVER), str(tmp_path)],
        capture_output=True,
        text=True,
        env=window_env(xvfb),
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    d = json.loads(r.stdout.strip().splitlines()[-1])
    assert d["help_has_b"]
    assert d["start"][:3] == ["axial", "angle", 30.0]
    # b: the slider drives flexion, starting at no moment, so nothing jumps.
    assert d["flexion"][:3] == ["flexion", "torque", 0.0] and "flexion" in d["flexion"][3]
    assert d["no_jump"] < 1e-6
    assert "flexion moment control" in d["status"] and "b: load" in d["status"]
    assert d["readout_last"] == "slider: flexion moment (b: next load)"
    assert d["readout_header"].split() == ["segment", "flexion"]
    moment, twist = d["flex_moment"]
    assert abs(moment - 2.0) < 1e-6 and abs(twist - 30.0) < 1e-6 and d["frame_change"] > 0.5
    assert d["angle_kept"][0] == "angle" and d["angle_kept"][1] < 1e-6
    assert abs(d["extension"] + 20.0) < 1e-6
    # Lateral bending on top; the flexion angle held where it was left.
    assert d["lateral"] == ["lateral", "torque"]
    moment, flexion = d["lateral_moment"]
    assert abs(moment - 3.0) < 1e-6 and abs(flexion + 20.0) < 1e-6
    assert d["saved_load"] == {
        "twist_deg": 30.0,
        "flexion_deg": -20.0,
        "moment_nm": {"lateral": 3.0},
    }
    assert d["changed"] and "flexion -20.0°" in d["caption"]
    assert [c for c, _ in d["colours"]] == [
        "facet_gap",
        "flexion",
        "lateral",
        "axial",
        "segment_rotation",
    ]
    assert [t for _, t in d["colours"]][1:4] == [
        "flexion (°), + forward",
        "lateral bending (°), + right",
        "axial rotation (°), + left",
    ]
    assert d["axial"] == ["axial", "angle", 30.0]
    axis, value, shown, drawn = d["twist_clamped"]
    assert axis == "axial" and 30.0 < value < 60.0 and shown == value
    assert abs(drawn - value) < 1e-6 and not d["just_beyond_reachable"]
    assert d["reset"] == ["axial", {}, False]
    assert d["bending_scene"] == ["flexion", "torque", 7.5, False]
    assert d["bending_clamped"][0] == 10.0 and abs(d["bending_clamped"][1] - 10.0) < 1e-6
