"""Speed of the full-spine solve with the rib cage, beside the same solve without it.

Run: ``.venv/bin/python benchmarks/bench_ribs.py``. Targets (this machine, shared cores):
with the intact rib cage, a full-spine solve from rest, median <= 5 ms; a warm-started
solve 1 degree from the last (the next slider position), median <= 1.5 ms. The
baseline is the same solve of the spine without ribs, in the same run, alternated with
it: the ratio is what the rib cage costs.
"""

from __future__ import annotations

import time

import numpy as np
from rich.console import Console
from rich.table import Table

import spine3d
from spine3d.mechanics.ribcage import compile_rib_cage_mechanics
from spine3d.mechanics.static import Load, solve_load

ROUNDS = 5


def main() -> int:
    models = {s: spine3d.load_model(ribs=s) for s in ("intact", "none")}
    t = time.perf_counter()
    compile_rib_cage_mechanics(models["intact"], 0, 17)
    assemble = time.perf_counter() - t
    rng = np.random.default_rng(0)
    loads = [
        Load({}, dict(zip(("flexion", "lateral", "axial"), rng.uniform(-5, 5, 3), strict=True)))
        for _ in range(40)
    ]
    cold = {s: [] for s in models}
    warm = {s: [] for s in models}
    for _ in range(ROUNDS):  # alternate, so both see the same machine
        for s, model in models.items():
            for load in loads:
                t = time.perf_counter()
                solve_load(model, load, warm=False)
                cold[s].append(time.perf_counter() - t)
            solve_load(model, Load({"axial": -30.0}, {}))
            for i in range(61):
                t = time.perf_counter()
                solve_load(model, Load({"axial": float(i - 30)}, {}))
                warm[s].append(time.perf_counter() - t)

    def ms(a):
        return float(np.median(a) * 1e3)

    table = Table(title="spine3d solve with the rib cage")
    for col in ("measure", "with ribs", "target", "without ribs", "ratio"):
        table.add_column(col)
    for name, d, target in (
        ("cold solve (random moments, 3 planes), median", cold, "<= 5 ms"),
        ("warm solve 1 deg away, median", warm, "<= 1.5 ms"),
    ):
        a, b = ms(d["intact"]), ms(d["none"])
        table.add_row(name, f"{a:.2f} ms", target, f"{b:.2f} ms", f"{a / b:.1f}x")
    table.add_row(
        "assembling and condensing the rib cage (once)", f"{assemble * 1e3:.0f} ms", "", "", ""
    )
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
