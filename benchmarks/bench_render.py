"""Whole-process ``spine3d render`` against a bare pyvista script, alternated in one run.

Run: ``python benchmarks/bench_render.py [ROUNDS]``. Each round runs, as fresh
processes one after the other, (a) a bare pyvista script that reads the same vertebra
meshes, places them where the figure does, and writes a 1920x1080 screenshot with the
same supersampled anti-aliasing, and (b) ``spine3d render scenes/self_twist.toml --out
x.png`` (load and check the scene, solve, describe, lay out, render, compose the text and
chart, write the PNG). Target: median (b) / median (a) <= 1.3. Start-up (Python,
pyvista, VTK) is in both, as a user pays it.

Measured (shared 2-core machine, EGL, 7-11 rounds a run): ratio 1.13-1.31 over six
runs, median 1.27 (e.g. 1.30 s bare, 1.62 s spine3d); 1.55-1.66 before the render path
stopped importing trimesh and scipy to read the bones and fit the cameras. The machine's
load moves the ratio by about 0.1 from run to run: compare runs made together.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
SCENE = ROOT / "scenes" / "self_twist.toml"
SIZE = (1920, 1080)

BARE = """
import sys
import numpy as np
import pyvista as pv

d = np.load(sys.argv[1])
pl = pv.Plotter(off_screen=True, window_size=(1920, 1080), lighting="light kit")
for level, matrix, colour in zip(d["levels"], d["transforms"], d["colors"]):
    actor = pl.add_mesh(pv.read(f"{sys.argv[3]}/{level}.ply"), color=colour, smooth_shading=True)
    actor.user_matrix = matrix
pl.enable_anti_aliasing("ssaa")
pl.camera.position, pl.camera.focal_point, pl.camera.up = d["camera"]
pl.camera.view_angle = float(d["angle"])
pl.screenshot(sys.argv[2])
pl.close()
"""


def _env() -> dict:
    env = dict(os.environ)
    if not env.get("DISPLAY"):  # what spine3d does off-screen, for both
        env.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    return env


def _run(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=_env())
    return time.perf_counter() - t


def main(rounds: int = 5) -> np.ndarray:
    from spine3d.scene import load_scene
    from spine3d.scene.describe import describe

    fig = describe(load_scene(SCENE), size=SIZE)
    panel = fig.panels[0]
    bones = [m for m in panel.meshes if m.role == "bone"]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "scene.npz"
        np.savez(
            data,
            levels=np.array([m.level for m in bones]),
            transforms=np.array([m.transform for m in bones]),
            colors=np.array([m.color for m in bones]),
            camera=np.array([panel.view.position, panel.view.focal_point, panel.view.up]),
            angle=panel.view.view_angle_deg,
        )
        script = Path(tmp) / "bare.py"
        script.write_text(BARE)
        bare = [sys.executable, str(script), str(data), f"{tmp}/bare.png", str(ROOT / "meshes")]
        ours = [sys.executable, "-m", "spine3d._cli.main", "render", str(SCENE)]
        ours += ["--out", f"{tmp}/fig.png"]
        _run(bare), _run(ours)  # warm the file cache
        t_bare, t_ours = [], []
        for _ in range(rounds):  # alternated, so that drift hits both alike
            t_bare.append(_run(bare))
            t_ours.append(_run(ours))
    b, o = statistics.median(t_bare), statistics.median(t_ours)
    t = Table(title=f"Whole-process render, {SIZE[0]}x{SIZE[1]}, SSAA, {rounds} rounds alternated")
    for c in ("work", "median s", "min s", "ratio", "target"):
        t.add_column(c)
    t.add_row(
        "bare pyvista script: same meshes, place, size",
        f"{b:.3f}",
        f"{min(t_bare):.3f}",
        "1.00",
        "",
    )
    t.add_row(
        "spine3d render self_twist.toml",
        f"{o:.3f}",
        f"{min(t_ours):.3f}",
        f"{o / b:.2f}",
        "<= 1.3",
    )
    Console(width=120).print(t)
    return np.array([b, o])


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
