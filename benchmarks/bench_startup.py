"""Start-up of ``import spine3d`` and ``spine3d --help`` against a bare interpreter.

Run: ``python benchmarks/bench_startup.py``. Each command is a fresh process, timed
alternately with ``python -c pass`` in the same run; the ratio of medians is reported.
Target: both under 0.3 s on the machine, i.e. a few times the bare interpreter
(~0.02-0.05 s); a ratio that jumps means something heavy (NumPy, pyvista) is imported
at start again.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

SPINE3D = str(Path(sys.executable).with_name("spine3d"))
COMMANDS = {
    "python -c pass (bare)": [sys.executable, "-c", "pass"],
    "python -c 'import spine3d'": [sys.executable, "-c", "import spine3d"],
    "spine3d --help": [SPINE3D, "--help"],
    "python -c 'import numpy' (for scale)": [sys.executable, "-c", "import numpy"],
}
REPEAT = 15


def once(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    times: dict[str, list[float]] = {k: [] for k in COMMANDS}
    for _ in range(REPEAT):  # alternate, so that load on the machine hits all alike
        for name, cmd in COMMANDS.items():
            times[name].append(once(cmd))
    bare = statistics.median(times["python -c pass (bare)"])
    table = Table(title=f"Start-up, median of {REPEAT} fresh processes")
    for col in ("command", "median s", "min s", "x bare"):
        table.add_column(col, justify="left" if col == "command" else "right")
    for name, ts in times.items():
        med = statistics.median(ts)
        table.add_row(name, f"{med:.3f}", f"{min(ts):.3f}", f"{med / bare:.1f}")
    Console().print(table)


if __name__ == "__main__":
    main()
