import os

import pytest

import spine3d

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")


@pytest.fixture(scope="session")
def model():
    return spine3d.load_model()


@pytest.fixture(scope="session")
def made_up_cohort():
    """Return a maker of a cohort around a run whose members' pops are drawn at random.

    ``made_up_cohort(run, size, seed, share)``: each facet of each member popped with
    probability ``share`` (at 1750 ms), for tests of what is drawn from a cohort.
    """
    import numpy as np

    from spine3d.mechanics.cohort import Cohort

    def make(run, size: int, seed: int, share: float) -> Cohort:
        n = len(run.model.segment_names)
        cavitated = np.random.default_rng(seed).random((size, 2, n)) < share
        return Cohort(
            maneuver=run.maneuver,
            size=size,
            seed=seed,
            members=(),
            segments=run.model.segment_names,
            cavitated=cavitated,
            cavitation_t_ms=np.where(cavitated, 1750.0, np.nan),
            peak_gapping_mm=np.zeros((size, 2, n)),
            events=(),
            reference=run,
        )

    return make
