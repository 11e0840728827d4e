"""Fit the shared material constants of the 3D segment to the calibration data only.

Data (``/reference/calibration.md`` of the project; cited per row in
``spine3d/mechanics/validation.py``):

- Yamamoto et al. 1989 (Spine 14:1256): L1-S1 specimens, pure moments of 10 N m, no
  preload; flexion, extension, lateral bending and axial rotation of each segment;
- Liebsch & Wilke 2020 (Front Bioeng Biotechnol 8:46): T3-T4 and T7-T8 without ribs,
  +-5 N m, no preload, full range in three planes.

The fit minimises the squared log-ratios of model to published range of motion over
those 26 numbers (every level and plane weighted alike) by Nelder-Mead in log space,
and writes ``spine3d/mechanics/data/calibration.json`` (value, data, residuals).

Run: ``.venv/bin/python benchmarks/calibrate.py [--dry-run]``.
"""

from __future__ import annotations

import argparse
import json
import math
from importlib import resources
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

import spine3d
from spine3d.mechanics.validation import FITTED, calibration_rows, model_values

OUT = Path(resources.files("spine3d.mechanics").joinpath("data", "calibration.json"))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dry-run", action="store_true", help="print, do not write")
    p.add_argument("--maxiter", type=int, default=160)
    args = p.parse_args()
    model = spine3d.load_model(ribs="none")  # the data are of spines without ribs
    rows = calibration_rows()
    published = np.array([r["published"] for r in rows])
    start = json.loads(OUT.read_text())
    x0 = np.log([c["value"] for c in start["constants"]])

    def cost(x):
        values = dict(zip(FITTED, np.exp(x), strict=True))
        try:
            got = np.array(model_values(model, rows, values))
        except spine3d.SpineInputError:
            return 1e3
        return float(np.mean(np.log(np.abs(got) / published) ** 2))

    res = minimize(
        cost,
        x0,
        method="Nelder-Mead",
        options={"maxiter": args.maxiter, "xatol": 1e-3, "fatol": 1e-6},
    )
    values = dict(zip(FITTED, np.exp(res.x), strict=True))
    got = model_values(model, rows, values)
    data = (
        "Yamamoto et al. 1989 Spine 14:1256 (L1-S1, 10 N m, flexion/extension/lateral/axial per "
        "segment) and Liebsch & Wilke 2020 Front Bioeng Biotechnol 8:46 (T3-T4, T7-T8 without "
        "ribs, +-5 N m full range, three planes)"
    )
    out = {
        "script": "benchmarks/calibrate.py",
        "method": "Nelder-Mead on the log constants, mean squared log-ratio of range of motion",
        "rms_log_ratio": round(math.sqrt(res.fun), 4),
        "constants": [
            {
                "constant": k,
                "value": round(float(v), 5),
                "data": data,
                "fit": "benchmarks/calibrate.py",
            }
            for k, v in values.items()
        ],
        "residuals": [
            {"name": r["name"], "published": r["published"], "model": round(float(g), 3)}
            for r, g in zip(rows, got, strict=True)
        ],
    }
    print(json.dumps(out, indent=1))
    if not args.dry_run:
        OUT.write_text(json.dumps(out, indent=1) + "\n")
        print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
