"""Speed of the foundation: the bones and the model, each beside a bare baseline.

Run: ``python benchmarks/bench_core.py``. Target (this machine, 2 cores): loading all
bones (vertebrae, ribs, pelvis) <= 0.2 s. Ratios compare with the bare library cost of
the same work in the same run. The solves are measured by ``bench_mech3d.py`` and
``bench_ribs.py``, the time domain by ``bench_timedomain.py``.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

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

    cold, _ = best(lambda: spine3d.load_model(), repeat=3)
    rows.append(("load the model from the manifest", cold * 1e3, "ms", "", ""))

    t = Table(title="spine3d core benchmarks")
    for c in ("work", "time", "unit", "target", "ratio"):
        t.add_column(c)
    for name, v, unit, target, ratio in rows:
        t.add_row(name, f"{v:.3f}", unit, target, ratio)
    Console(width=120).print(t)


if __name__ == "__main__":
    main()
