"""The viewer draws the rib cage from each new state: parts follow the slider's solves."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import spine3d.scene.describe as describe_module
from spine3d.scene import load_scene
from spine3d.scene.describe import context_parts

ROOT = Path(__file__).resolve().parents[2]
RIBS = ("rib_5_left", "rib_7_right")


def _turn_y(deg: float) -> np.ndarray:
    a = np.radians(deg)
    m = np.eye(4)
    m[0, 0] = m[2, 2] = np.cos(a)
    m[0, 2], m[2, 0] = np.sin(a), -np.sin(a)
    return m


@pytest.fixture
def ribs_follow_the_twist(monkeypatch):
    """Solves whose two ribs turn a fifth of the twist on their vertebra (none without ribs)."""
    solve, parts = describe_module.solve, context_parts(None)

    def wrapped(model, *a, **k):
        state = solve(model, *a, **k)
        if model.ribs == "none":
            return state
        turn = state.twist_deg / 5
        return replace(
            state,
            part_poses={n: state.pose(parts[n][1]) @ _turn_y(turn) for n in RIBS},
            part_rotation3_deg={n: np.array([0.0, 0.0, turn]) for n in RIBS},
        )

    monkeypatch.setattr(describe_module, "solve", wrapped)


def test_rib_cage_parts_follow_each_new_state(ribs_follow_the_twist):
    from spine3d.render.viewer import Viewer

    v = Viewer(load_scene(ROOT / "scenes" / "rib_cage.toml"), size=(640, 360), off_screen=True)
    try:
        actors = v.actors.meshes
        matrices = []
        for value in (4.0, -2.0):
            v.set_value(value)
            state = v.last.state
            assert abs(state.torque_nm - value) < 1e-6
            for name in RIBS:
                actor = actors[("context", name)]
                assert actor.GetVisibility()
                assert np.allclose(actor.user_matrix, state.part_poses[name], atol=1e-9)
                drawn = next(m for m in v.last.meshes if m.level == name)
                assert np.allclose(actor.prop.color.float_rgb, drawn.color, atol=1e-6)
            matrices.append(np.array(actors[("context", RIBS[0])].user_matrix))
        assert not np.allclose(*matrices)  # it moved with the slider
        # Parts the state does not hold are not drawn (no cartilage, no sternum here).
        hidden = [k for k, a in actors.items() if k[0] == "context" and not a.GetVisibility()]
        assert ("context", "sternum") in hidden or ("context", "sternum") not in actors
        v.show_panel(1)  # no rib cage in the mechanics: none drawn
        assert v.last.state.model.ribs == "none"
        shown = [k[1] for k, a in actors.items() if k[0] == "context" and a.GetVisibility()]
        assert shown and all(name.startswith("pelvis") for name in shown)
    finally:
        v.plotter.close()
