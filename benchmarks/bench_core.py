"""Speed of the foundation and the mechanics, with each figure beside a bare baseline.

Run: ``python benchmarks/bench_core.py``. Targets (this machine, 2 cores):
loading all bones (vertebrae, ribs, pelvis) <= 0.2 s; one full-spine solve <= 0.2 ms;
a 1,000-value sweep <= 20 ms.
Ratios compare with the bare library cost of the same work in the same run.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import trimesh
from rich.console import Console
from rich.table import Table

import spine3d
from spine3d.geometry import build_meshes, default_mesh_dir, load_meshes


def best(fn, repeat=7, number=1):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t) / number)
    return min(times), statistics.median(times)


def main():
    model = spine3d.load_model()
    files = sorted(Path(default_mesh_dir()).glob("*.ply"))
    rows = []

    load, _ = best(lambda: load_meshes(), repeat=5)
    bare_load, _ = best(lambda: [trimesh.load(f, process=False) for f in files], repeat=5)
    rows.append(
        (
            f"load all {len(files)} bones (checksummed)",
            load * 1e3,
            "ms",
            "< 200 ms",
            f"{load / bare_load:.2f}x bare trimesh.load",
        )
    )

    import pyvista as pv

    bare_vtk, _ = best(lambda: [pv.read(f) for f in files], repeat=5)
    rows.append(("  bare pyvista.read of the same files", bare_vtk * 1e3, "ms", "", ""))

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        build, _ = best(lambda: build_meshes(Path(tmp)), repeat=1)
    rows.append(("build, measure and write every bone", build * 1e3, "ms", "", ""))

    spine3d.solve(model, twist_deg=1.0)
    solve, med = best(
        lambda: spine3d.solve(model, twist_deg=35.0, mobility={"L4-L5": "restricted"}),
        repeat=7,
        number=500,
    )
    bare = best(
        lambda: np.interp(0.5, [0.0, 1.0], [0.0, 1.0]) and np.eye(4) @ np.eye(4),
        repeat=7,
        number=500,
    )[0]
    rows.append(
        (
            "one full-spine solve",
            solve * 1e3,
            "ms",
            "<= 0.2 ms",
            f"{solve / bare:.0f}x one numpy interp+matmul",
        )
    )
    twists = np.linspace(-60, 60, 1000)
    spine3d.sweep(model, twists)
    sw, _ = best(lambda: spine3d.sweep(model, twists), repeat=7)
    rows.append(("sweep of 1,000 twists", sw * 1e3, "ms", "<= 20 ms", ""))
    cold, _ = best(lambda: spine3d.solve(spine3d.load_model(), twist_deg=35.0), repeat=3)
    rows.append(("cold solve (new model + tables)", cold * 1e3, "ms", "", ""))

    from spine3d.mechanics.timedomain import Maneuver, run_schedule, simulate

    slow = Maneuver("self_twist", torque_nm=6.0, duration_ms=1850.0)  # 2 s with the hold
    steps = len(slow.times_ms())
    t2s, _ = best(lambda: simulate(model, slow), repeat=5)
    rows.append(
        (
            f"2 s manoeuvre, {steps} steps of 1 ms",
            t2s * 1e3,
            "ms",
            "<= 50 ms",
            f"{t2s / steps * 1e6:.0f} us a step",
        )
    )
    jerk = Maneuver("self_twist", twist_deg=35.0, duration_ms=120.0)
    restricted = {"L4-L5": "restricted"}
    t8w, _ = best(lambda: run_schedule(model, jerk, 112, 720, restricted), repeat=2)
    rows.append(
        (
            "8-week schedule (112 sessions)",
            t8w * 1e3,
            "ms",
            "<= 2000 ms",
            f"{t8w / 112 * 1e3:.1f} ms a session",
        )
    )

    t = Table(title="spine3d core benchmarks")
    for c in ("work", "time", "unit", "target", "ratio"):
        t.add_column(c)
    for name, v, unit, target, ratio in rows:
        t.add_row(name, f"{v:.3f}", unit, target, ratio)
    Console(width=120).print(t)


if __name__ == "__main__":
    main()
