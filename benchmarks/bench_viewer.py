"""Viewer latency: a slider move to the finished frame, against a bare render.

Run: ``python benchmarks/bench_viewer.py`` (starts Xvfb itself when there is no
display). Both are measured in the same 1280x720 window in the same run: the bare
figure re-renders the same actors with nothing changed; a slider move solves, moves
and recolours every actor, and renders. Target: p95 <= 1.25 x bare p95 + 5 ms. The
same for a manoeuvre's time slider moved over its thrust (the run simulated once).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import numpy as np
from rich.console import Console
from rich.table import Table


def _xvfb():
    exe = shutil.which("Xvfb")
    if exe is None:
        sys.exit("Error: no display and no Xvfb to make one")
    proc = subprocess.Popen(
        [exe, ":97", "-screen", "0", "1600x1000x24"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.5)
    os.environ["DISPLAY"] = ":97"
    return proc


def _measure(n: int, scene: str | None = None) -> tuple[list[float], list[float]]:
    from spine3d.render.viewer import Viewer
    from spine3d.scene import default_scene_path, load_scene

    v = Viewer(load_scene(scene or default_scene_path()), size=(1280, 720))
    pl = v.plotter
    pl.show(interactive_update=True, auto_close=False)
    gl = pl.ren_win

    def frame():
        pl.render()
        gl.WaitForCompletion()

    for _ in range(3):
        frame()
    bare = []
    for _ in range(n):
        t = time.perf_counter()
        frame()
        bare.append(time.perf_counter() - t)
    moves = []
    # The twist slider, or a manoeuvre's time slider over its thrust and what follows.
    lo, hi = -55.0, 55.0
    if v.control == "time":
        from spine3d.scene.describe import slow_window_ms

        lo, hi = slow_window_ms(v._run())
    for x in np.linspace(lo, hi, n):
        t = time.perf_counter()
        v.set_value(float(x))  # what the slider widget calls
        gl.WaitForCompletion()
        moves.append(time.perf_counter() - t)
    pl.close()
    return bare, moves


def main(n: int = 60) -> None:
    import gc

    proc = None if os.environ.get("DISPLAY") else _xvfb()
    try:
        runs = [
            ("slider move to finished frame", _measure(n)),
            ("time slider over an HVLA thrust", _measure(n, "hvla_vs_self_twist")),
        ]
        gc.collect()  # release the X window before the server goes
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
    t = Table(title="Viewer, 1280x720 window (Xvfb, software OpenGL)")
    for c in ("work", "p50 ms", "p95 ms", "target p95 ms"):
        t.add_column(c)
    for name, (bare, moves) in runs:
        b50, b95 = np.percentile(bare, [50, 95]) * 1e3
        m50, m95 = np.percentile(moves, [50, 95]) * 1e3
        target = 1.25 * b95 + 5
        t.add_row("bare render of the same actors", f"{b50:.1f}", f"{b95:.1f}", "")
        t.add_row(
            name,
            f"{m50:.1f}",
            f"{m95:.1f}",
            f"{target:.1f} ({'met' if m95 <= target else 'missed'})",
        )
    Console(width=110).print(t)


if __name__ == "__main__":
    main()
