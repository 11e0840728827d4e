"""The coupled tangent of a solve with the rib cage against central differences."""

import numpy as np
import pytest

import spine3d
from spine3d.mechanics.ribcage import compile_rib_cage_mechanics
from spine3d.mechanics.static import _AXES, _compiled, _poses, _tangent, _with_ribs


@pytest.fixture(scope="module")
def model():
    return spine3d.load_model(ribs="intact")


def _coupled(c, ribs, q, m_glob, top, bottom, follower_n):
    sl = slice(top, bottom)
    poses = _poses(c, q, bottom)
    g = poses[top + 1 : bottom + 1, :3, :3] @ c.pre[sl, :3, :3]
    m_local = np.einsum("kji,j->ki", g, m_glob)
    r, jac, _ = _tangent(c.seg, sl, q[sl], m_local, follower_n)
    return _with_ribs(c, ribs, q, poses, g, m_glob, top, bottom, r, jac)[:2]


@pytest.mark.parametrize(("levels", "follower_n"), [(None, 0.0), (None, 300.0), ("T3-L2", 0.0)])
def test_coupled_tangent_matches_finite_differences(model, levels, follower_n):
    # A small deformation of the thorax: the tangent leaves out the derivative of the
    # co-rotational measure, which is second order in it.
    top, bottom = model.level_span(levels)
    c = _compiled(model, (1.0,) * len(model.joints))
    ribs = compile_rib_cage_mechanics(model, top, bottom)
    rng = np.random.default_rng(5)
    k = bottom - top
    q = np.zeros((len(model.joints), 6))
    q[top:bottom, :3] = rng.normal(0, 0.01, (k, 3))
    q[top:bottom, 3:] = rng.normal(0, 0.1, (k, 3))
    m_glob = c.rest[top, :3, :3] @ _AXES.T @ rng.normal(0, 3e3, 3)
    r, jac = _coupled(c, ribs, q, m_glob, top, bottom, follower_n)
    jac = jac()
    fd = np.zeros_like(jac)
    for col in range(6 * k):
        h = 1e-7 if col % 6 < 3 else 1e-6
        up, down = q.copy(), q.copy()
        up[top + col // 6, col % 6] += h
        down[top + col // 6, col % 6] -= h
        fd[:, col] = (
            _coupled(c, ribs, up, m_glob, top, bottom, follower_n)[0]
            - _coupled(c, ribs, down, m_glob, top, bottom, follower_n)[0]
        ).reshape(-1) / (2 * h)
    assert np.abs(jac - fd).max() <= 1e-6 * np.abs(fd).max()
