"""Speed of the six-degree-of-freedom static solve, beside the bare cost of its parts.

Run: ``.venv/bin/python benchmarks/bench_mech3d.py``. Targets (this machine, shared
cores): a full-spine solve from rest, median <= 3 ms and 95th percentile <= 8 ms; a
warm-started solve 1 degree from the last (the next slider position), median <= 1 ms;
1,000 loads (a sweep, each warm-started from the last) <= 2 s. The bare baseline is one
evaluation of every segment's tissues with its exact tangent (17 segments): a solve
costs about that times its Newton iterations, plus the chain.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from rich.console import Console
from rich.table import Table

import spine3d
from spine3d.mechanics.static import Load, _compiled, solve_load


def timings(fn, repeat):
    out = []
    for i in range(repeat):
        t = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - t)
    return np.array(out)


def main() -> int:
    model = spine3d.load_model(ribs="none")  # the spine alone: bench_ribs.py adds the ribs
    rng = np.random.default_rng(0)
    twists = rng.uniform(-45, 45, 200)
    solve_load(model, Load({"axial": 10.0}, {}), warm=False)
    cold = timings(
        lambda i: solve_load(model, Load({"axial": float(twists[i])}, {}), warm=False), 200
    )
    solve_load(model, Load({"axial": 0.0}, {}))
    warm = timings(lambda i: solve_load(model, Load({"axial": float(i % 60 - 30) + 1.0}, {})), 200)
    c = _compiled(model, (1.0,) * 17)
    q = np.zeros((17, 6))
    bare = timings(lambda i: c.seg.tangent(q), 200)
    loads = np.linspace(-40, 40, 1000)
    t = time.perf_counter()
    for x in loads:
        solve_load(model, Load({"axial": float(x)}, {}))
    batch = time.perf_counter() - t

    def ms(a, p=50):
        return float(np.percentile(a, p) * 1e3)

    rows = [
        ("cold solve, median", f"{ms(cold):.2f} ms", "<= 3 ms", f"{ms(cold) / ms(bare):.0f}x bare"),
        ("cold solve, 95th percentile", f"{ms(cold, 95):.2f} ms", "<= 8 ms", ""),
        (
            "warm solve 1 deg away, median",
            f"{ms(warm):.2f} ms",
            "<= 1 ms",
            f"{ms(warm) / ms(bare):.0f}x bare",
        ),
        ("warm solve 1 deg away, 95th percentile", f"{ms(warm, 95):.2f} ms", "", ""),
        ("1,000 loads (a sweep, each warm)", f"{batch:.2f} s", "<= 2 s", ""),
        ("bare: tissues + tangent, 17 segments", f"{ms(bare):.3f} ms", "", "1x"),
    ]
    table = Table(title="spine3d 3D static solve")
    for col in ("measure", "value", "target", "ratio"):
        table.add_column(col)
    for r in rows:
        table.add_row(*r)
    Console().print(table)
    print(f"median of cold / warm: {statistics.median(cold) / statistics.median(warm):.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
