"""Speed of the time-domain model, beside the bare cost of its steps.

Run: ``.venv/bin/python benchmarks/bench_timedomain.py [--no-cohort]``. Targets (this
machine, 2 shared cores): a manoeuvre of about 2 s at 1 ms steps on the full spine with
its rib cage (the default side-posture thrust on L4-L5: posture solve, positioning,
preload, thrust, hold and release) in <= 2 s, that is <= 1 s per simulated second; a
cohort of 50 such thrusts in <= 60 s on both cores. The bare cost of a step is one
evaluation of every segment's tissues with their tangent and one LU solve of the step's
linear system (108 unknowns): a step costs that plus the rib cage, the muscles, the
joints' fluid and the bookkeeping.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from rich.console import Console
from rich.table import Table

import spine3d
from spine3d.mechanics.cohort import run_cohort
from spine3d.mechanics.dynamics import _factor, _lu_solve, compile_chain
from spine3d.mechanics.inertia import body_inertia
from spine3d.mechanics.maneuver import Maneuver
from spine3d.mechanics.segment import compile_segments
from spine3d.mechanics.timedomain import run_schedule, simulate

R = {"L4-L5": "restricted"}


def bare_step_ms(model, repeat: int = 300) -> float:
    """Median cost of one tissue evaluation with its tangent and one LU solve, ms."""
    seg = compile_segments(model, (1.0,) * len(model.joints))
    chain = compile_chain(model, seg, body_inertia(model), 0.025)
    s = chain.at_rest()
    rng = np.random.default_rng(0)
    a = rng.standard_normal((108, 108)) + 108 * np.eye(108)
    b = rng.standard_normal(108)
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        chain.evaluate(s)
        _lu_solve(_factor(a.copy()), b)
        out.append(time.perf_counter() - t)
    return float(np.median(out) * 1e3)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--no-cohort", action="store_true", help="skip the cohort of 50")
    args = p.parse_args()
    model = spine3d.load_model()
    thrust = Maneuver("hvla", target="L4-L5")
    simulate(model, thrust, R)  # warm the caches (compiled rib cage, imports)
    walls = []
    for _ in range(3):
        t = time.perf_counter()
        run = simulate(model, thrust, R)
        walls.append(time.perf_counter() - t)
    wall = float(np.median(walls))
    simulated_s = (run.t_ms[-1] - run.t_ms[0]) / 1e3
    per_step = wall / len(run.t_ms) * 1e3
    bare = bare_step_ms(model)
    rows = [
        (
            f"side-posture thrust, {simulated_s:.2f} s simulated",
            f"{wall:.2f} s",
            f"<= {simulated_s:.2f} s",
            f"{wall / simulated_s:.2f} s per simulated s",
        ),
        ("per 1 ms step", f"{per_step:.3f} ms", "", f"{per_step / bare:.1f}x bare"),
        ("bare: tissues + tangent, one LU solve", f"{bare:.3f} ms", "", "1x"),
    ]
    quick = Maneuver("self_twist", twist_deg=35, duration_ms=120)
    t = time.perf_counter()
    run_schedule(model, quick, 112, 720.0, R)
    rows.append(("112 sessions of a quick self-twist", f"{time.perf_counter() - t:.1f} s", "", ""))
    if not args.no_cohort:
        t = time.perf_counter()
        run_cohort(model, thrust, R, 50, 0, workers=2, reference=run)
        rows.append(
            ("cohort of 50 thrusts, 2 workers", f"{time.perf_counter() - t:.1f} s", "<= 60 s", "")
        )
    table = Table(title="spine3d time domain")
    for col in ("measure", "value", "target", "ratio"):
        table.add_column(col)
    for r in rows:
        table.add_row(*r)
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
