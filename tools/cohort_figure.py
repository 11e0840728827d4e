"""Write the cohort figure: pops per joint and side over a virtual cohort beside the model.

Run: ``python tools/cohort_figure.py [OUT.png] [--size N] [--seed S]`` (default
``docs/cohort.png``, 40 people, seed 1). The scene is ``hvla_vs_self_twist``'s thrust
panel alone; the cohort is :func:`spine3d.mechanics.cohort.run_cohort` of its
manoeuvre on its spine, and the figure is ``describe(scene, cohorts={0: cohort})``.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from spine3d.mechanics.cohort import run_cohort
from spine3d.render.figure import render_figure
from spine3d.scene import load_scene
from spine3d.scene.describe import describe, simulate_scene

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    """Run the cohort and write the figure."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", default=str(ROOT / "docs" / "cohort.png"))
    ap.add_argument("--size", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    scene = load_scene("hvla_vs_self_twist")
    panel = scene.panels[0]
    scene = replace(
        scene,
        title="Where an HVLA thrust on a restricted L4-L5 pops: one model, and a cohort",
        caption=(
            "Left: the pops per joint and side over a virtual cohort (people who differ in "
            "facet angles, lordosis, tissue stiffness, joint fluid, reflex latency and "
            "body mass), with the single model's pops marked. Right: the single model at "
            "the moment of its thrust."
        ),
        panels=(replace(panel, title=f"{panel.title}, side posture"),),
    )
    run = simulate_scene(scene, 0)
    cohort = run_cohort(
        run.model, panel.maneuver, dict(panel.spine.mobility), args.size, args.seed, reference=run
    )
    out = render_figure(describe(scene, cohorts={0: cohort}), Path(args.out))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
