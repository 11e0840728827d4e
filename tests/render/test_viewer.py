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
