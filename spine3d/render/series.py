"""Time series of simulated manoeuvres as files: CSV, and OpenSim's motion format (.mot).

One row per simulated millisecond. A scene with several panels (or a schedule's first
and last session) gives one group of columns each, prefixed ``p1_``, ``p2_`` (and
``s1_``, ``s112_`` for sessions); runs of different length share the longest clock.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..geometry import write_atomic

__all__ = ["series_table", "write_csv", "write_mot"]


def series_table(runs: list[tuple[str, object]]) -> tuple[list[str], np.ndarray]:
    """Join runs into one table on the longest clock.

    Parameters
    ----------
    runs : list of (str, Run)
        Column prefix and run; each run's :meth:`~spine3d.mechanics.timedomain.Run.series`.

    Returns
    -------
    names : list of str
        ``t_ms``, then each run's columns with its prefix.
    table : (T, k) float
        NaN where a run has already ended.
    """
    parts = [(prefix, *run.series()) for prefix, run in runs]
    t = max((tab[:, 0] for _, _, tab in parts), key=len)
    names = ["t_ms"]
    cols = [t[:, None]]
    for prefix, run_names, tab in parts:
        block = np.full((len(t), tab.shape[1] - 1), np.nan)
        block[: len(tab)] = tab[:, 1:]
        names += [prefix + n for n in run_names[1:]]
        cols.append(block)
    return names, np.hstack(cols)


def write_csv(path: Path, runs: list[tuple[str, object]]) -> Path:
    """Write the runs' time series as CSV (comma-separated, a header row), atomically.

    Cells after a shorter run has ended are left empty.
    """
    names, table = series_table(runs)
    buf = io.StringIO()
    buf.write(",".join(names) + "\n")
    for row in table:
        buf.write(",".join("" if np.isnan(x) else f"{round(x, 9) + 0.0:.6g}" for x in row) + "\n")
    write_atomic(Path(path), buf.getvalue().encode())
    return Path(path)


def write_mot(path: Path, runs: list[tuple[str, object]]) -> Path:
    """Write time (s) and every segment's axial rotation (degrees) as an OpenSim .mot file.

    The header is OpenSim's storage header (``nRows``, ``nColumns``, ``inDegrees=yes``,
    ``endheader``); columns are tab-separated, named ``<prefix><upper>_<lower>_rotation``.
    A run that ended before the longest holds its last pose (a motion has no gaps).
    """
    names, table = series_table(runs)
    keep = [i for i, n in enumerate(names) if n.endswith("_rotation_deg")]
    data = table[:, keep]
    # Hold each run's last pose: forward-fill the NaNs after it ended.
    for c in range(data.shape[1]):
        col = data[:, c]
        ok = np.flatnonzero(~np.isnan(col))
        if len(ok) and ok[-1] < len(col) - 1:
            col[ok[-1] + 1 :] = col[ok[-1]]
    labels = ["time"] + [
        names[i].removesuffix("_deg").replace("-", "_").replace(" ", "_") for i in keep
    ]
    time_s = table[:, 0] / 1000.0
    buf = io.StringIO()
    buf.write(f"{Path(path).stem}\nversion=1\nnRows={len(time_s)}\nnColumns={len(labels)}\n")
    buf.write("inDegrees=yes\nendheader\n")
    buf.write("\t".join(labels) + "\n")
    for t, row in zip(time_s, data, strict=True):
        buf.write(f"{t:.4f}\t" + "\t".join(f"{x:.6f}" for x in row) + "\n")
    write_atomic(Path(path), buf.getvalue().encode())
    return Path(path)
