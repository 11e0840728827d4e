"""Fit the two costovertebral joint constants of the rib cage to a joint-level test only.

Data (``/reference/tissue.md`` of the project, section 4):

- costovertebral joint tests, J Biomech 163:111923 (2024): range of motion of the rib,
  cranial-caudal, between -0.1 and +0.1 N m, median 13.2 deg (6.4-20.9); translations at
  28 N of 1.41 mm (longitudinal), 1.55 mm (sagittal) and 1.08 mm (transverse); 2 donors,
  4 rib levels.

Every costovertebral and costotransverse joint is a spring with one translational and
one rotational stiffness (the same at every joint). The virtual test
(:func:`spine3d.mechanics.ribcage.joint_test`) holds the vertebrae of ribs 4-7 (left)
fixed and loads each rib as the test did; the fit makes the mean range of motion and the
mean translation over those ribs and directions equal the published ones (two numbers,
two constants, solved exactly in log space), and writes
``spine3d/mechanics/data/calibration_ribs.json``.

Run: ``.venv/bin/python benchmarks/calibrate_ribs.py [--dry-run]``.
"""

from __future__ import annotations

import argparse
import json
from importlib import resources
from pathlib import Path

import numpy as np
from scipy.optimize import fsolve

import spine3d
from spine3d.mechanics.ribcage import JOINT_TEST_RIBS, joint_test

OUT = Path(resources.files("spine3d.mechanics").joinpath("data", "calibration_ribs.json"))
DATA = (
    "J Biomech 163:111923 (2024): costovertebral joint, rib cranial-caudal range of motion "
    "at +-0.1 N m, median 13.2 deg; translation at 28 N 1.41 / 1.55 / 1.08 mm "
    "(longitudinal / sagittal / transverse)"
)
ROM_DEG = 13.2
TRANSLATION_MM = float(np.mean([1.41, 1.55, 1.08]))
NAMES = ("joint_translation_n_per_mm", "joint_rotation_nmm_per_rad")


def measured(model, values: dict) -> tuple[float, float]:
    """Mean range of motion (deg) and mean translation (mm) of the virtual test."""
    out = [joint_test(model, rib, values) for rib in JOINT_TEST_RIBS]
    return float(np.mean([o[0] for o in out])), float(np.mean([o[1] for o in out]))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dry-run", action="store_true", help="print, do not write")
    args = p.parse_args()
    model = spine3d.load_model(ribs="intact")
    x0 = np.log([c["value"] for c in json.loads(OUT.read_text())["constants"]])

    def residual(x):
        rom, trans = measured(model, dict(zip(NAMES, np.exp(x), strict=True)))
        return [np.log(rom / ROM_DEG), np.log(trans / TRANSLATION_MM)]

    x = fsolve(residual, x0, xtol=1e-12)
    values = dict(zip(NAMES, np.exp(x), strict=True))
    rom, trans = measured(model, values)
    out = {
        "script": "benchmarks/calibrate_ribs.py",
        "method": "two constants solved for two published means (log space)",
        "test_ribs": list(JOINT_TEST_RIBS),
        "constants": [
            {
                "constant": k,
                "value": round(float(v), 5),
                "data": DATA,
                "fit": "benchmarks/calibrate_ribs.py",
            }
            for k, v in values.items()
        ],
        "fitted_to": {"rom_deg": ROM_DEG, "translation_mm": round(TRANSLATION_MM, 4)},
        "model": {"rom_deg": round(rom, 4), "translation_mm": round(trans, 4)},
    }
    print(json.dumps(out, indent=1))
    if not args.dry_run:
        OUT.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
