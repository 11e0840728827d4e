"""Figure rendering against bare pyvista, in the same run.

Run: ``python benchmarks/bench_render.py``. Target: a 1920x1080 scene render at most
1.3x a bare pyvista off-screen screenshot of the same meshes, placed the same way, at
the same size and anti-aliasing. Also times all shipped scenes together.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from spine3d.render._offscreen import prepare_offscreen
from spine3d.render.figure import _polydata, render_image
from spine3d.scene import load_scene
from spine3d.scene.describe import describe

ROOT = Path(__file__).resolve().parents[1]
SIZE = (1920, 1080)


def timed(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def bare(fig):
    import pyvista as pv

    polys = _polydata()
    pl = pv.Plotter(off_screen=True, window_size=SIZE)
    for item in fig.panels[0].meshes:
        actor = pl.add_mesh(
            polys[item.level], color=item.color, opacity=item.opacity, smooth_shading=True
        )
        actor.user_matrix = item.transform
    pl.enable_anti_aliasing("ssaa")
    cam = fig.panels[0].view
    pl.camera.position, pl.camera.focal_point, pl.camera.up = cam.position, cam.focal_point, cam.up
    img = pl.screenshot(None, return_img=True)
    pl.close()
    return img


def main():
    prepare_offscreen()
    scene = load_scene(ROOT / "scenes" / "self_twist.toml")
    fig = describe(scene, size=SIZE)
    bare(fig), render_image(fig)  # warm up: meshes loaded, GL contexts made once
    t_bare, _ = timed(lambda: bare(fig), 5)
    t_fig, _ = timed(lambda: render_image(describe(scene, size=SIZE)), 5)
    scenes = sorted((ROOT / "scenes").glob("*.toml"))
    t_all, _ = timed(lambda: [render_image(describe(load_scene(p))) for p in scenes], 2)

    t = Table(title=f"Rendering, {SIZE[0]}x{SIZE[1]}, SSAA")
    for c in ("work", "median s", "ratio", "target"):
        t.add_column(c)
    t.add_row("bare pyvista: same meshes, same place", f"{t_bare:.3f}", "1.00", "")
    t.add_row(
        "spine3d: self_twist scene (solve, labels, chart, text)",
        f"{t_fig:.3f}",
        f"{t_fig / t_bare:.2f}",
        "<= 1.3",
    )
    t.add_row(f"all {len(scenes)} shipped scenes", f"{t_all:.3f}", f"{t_all / t_bare:.2f}", "")
    Console(width=120).print(t)
    return np.array([t_bare, t_fig, t_all])


if __name__ == "__main__":
    main()
