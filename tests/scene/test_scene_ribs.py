"""The rib cage's state in scene files, and its drawing from the solved state."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from spine3d.anatomy import RIB_STATES
from spine3d.errors import SpineInputError
from spine3d.scene import load_scene, parse_scene, with_ribs
from spine3d.scene.describe import (
    context_parts,
    describe,
    describe_panel,
    rotation_bar,
    solve_panel,
)
from spine3d.scene.theme import DEFAULT_THEME, hex_to_rgb

ROOT = Path(__file__).resolve().parents[2]
THORAX = {"levels": "T1-T12"}


def _scene(spine: dict, view: dict | None = None):
    return parse_scene({"spine": spine, "view": view or {}, "load": {"twist_deg": 10}}, "s.toml")


@pytest.mark.parametrize("state", RIB_STATES)
def test_every_state_parses_and_solves_with_it(state):
    scene = _scene({**THORAX, "ribs": state})
    assert scene.panels[0].spine.ribs == state
    assert solve_panel(scene.panels[0]).model.ribs == state


@pytest.mark.parametrize(("value", "state"), [(True, "intact"), (False, "none")])
def test_the_older_bool_means_the_default_or_none(value, state):
    assert _scene({"ribs": value}).panels[0].spine.ribs == state


def test_left_out_it_is_the_bones_default():
    panel = _scene(THORAX).panels[0]
    assert panel.spine.ribs is None
    assert solve_panel(panel).model.ribs == "intact"


@pytest.mark.parametrize("value", ["cut", "", 1, "Intact"])
def test_a_bad_state_names_the_file_key_and_states(value):
    with pytest.raises(SpineInputError) as err:
        _scene({"ribs": value})
    message = str(err.value)
    assert message.startswith("s.toml: [spine] ribs = ")
    assert "expected one of intact, no_intercostals, sternotomy, no_anterior, none" in message


def test_a_panel_overrides_the_figure_s_state():
    scene = parse_scene(
        {"spine": {"ribs": "none"}, "panel": [{}, {"spine": {"ribs": "sternotomy"}}]}, "s.toml"
    )
    assert [p.spine.ribs for p in scene.panels] == ["none", "sternotomy"]


def test_with_ribs_replaces_every_panel_s_state():
    scene = load_scene(ROOT / "scenes" / "rib_cage.toml")
    assert [p.spine.ribs for p in scene.panels] == ["intact", "none"]
    cut = with_ribs(scene, "no_anterior")
    assert [p.spine.ribs for p in cut.panels] == ["no_anterior", "no_anterior"]
    with pytest.raises(SpineInputError, match=r"--ribs = 'cut': expected one of intact"):
        with_ribs(scene, "cut")


def _context(drawing) -> dict:
    return {m.level: m for m in drawing.meshes if m.role == "context"}


def _turn_y(deg: float) -> np.ndarray:
    a = np.radians(deg)
    m = np.eye(4)
    m[0, 0] = m[2, 2] = np.cos(a)
    m[0, 2], m[2, 0] = np.sin(a), -np.sin(a)
    return m


def _posed(state, names, turn_deg):
    """The state with ``names`` posed, each turned ``turn_deg`` about its vertebra's Y."""
    parts = context_parts(None)
    poses = {n: state.pose(parts[n][1]) @ _turn_y(turn_deg[n]) for n in names}
    rotation = {n: np.array([0.0, 0.0, turn_deg[n]]) for n in names}
    return replace(state, part_poses=poses, part_rotation3_deg=rotation)


def test_the_rib_cage_is_drawn_from_the_state_s_part_poses():
    panel = _scene({**THORAX, "ribs": "no_anterior"}).panels[0]
    # A state without part poses (the one-degree-of-freedom law's): rigid with the vertebra.
    state = replace(solve_panel(panel), part_poses={}, part_rotation3_deg={})
    rigid = _context(describe_panel(panel, state, 5.0, None))
    assert {"rib_5_left", "cartilage_5_left", "sternum"} <= set(rigid)
    assert np.allclose(rigid["rib_5_left"].transform, state.pose("T5"))
    ribs = [n for n, (kind, _) in context_parts(None).items() if kind == "rib"]
    turned = _posed(state, ribs, dict.fromkeys(ribs, 0.0) | {"rib_5_left": 4.0})
    drawn = _context(describe_panel(panel, turned, 5.0, None))
    # Exactly the parts the state holds: no cartilage, no sternum after no_anterior.
    assert set(drawn) == set(ribs)
    assert np.allclose(drawn["rib_5_left"].transform, turned.part_poses["rib_5_left"])
    assert not np.allclose(drawn["rib_5_left"].transform, rigid["rib_5_left"].transform)
    assert np.allclose(drawn["rib_6_left"].transform, rigid["rib_6_left"].transform)


def test_no_rib_cage_in_the_mechanics_draws_none():
    scene = load_scene(ROOT / "scenes" / "rib_cage.toml")
    intact, none = describe(scene).panels
    assert any(k.startswith("rib_") for k in _context(intact))
    assert not [k for k in _context(none) if not k.startswith("pelvis")]
    assert any(k.startswith("pelvis") for k in _context(none))  # the hip bones stay


def test_too_few_thoracic_levels_draw_no_rib_cage():
    panel = _scene({"levels": "T6-T9", "ribs": "intact"}).panels[0]
    assert not _context(describe_panel(panel, solve_panel(panel), 5.0, None))


@pytest.mark.parametrize("color_by", ["axial", "segment_rotation"])
def test_each_rib_is_coloured_by_its_own_rotation(color_by):
    panel = _scene({**THORAX, "ribs": "intact"}, {"color_by": color_by}).panels[0]
    state = solve_panel(panel)
    names = ["rib_5_left", "rib_5_right", "cartilage_5_left"]
    turned = _posed(
        state,
        names + ["sternum"],
        {"rib_5_left": 3.0, "rib_5_right": -1.5}
        | {
            "cartilage_5_left": 3.0,
            "sternum": 3.0,
        },
    )
    drawn = _context(describe_panel(panel, turned, 4.0, None))
    bar = rotation_bar(color_by, 4.0)
    for name, value in (("rib_5_left", 3.0), ("rib_5_right", -1.5)):
        if color_by == "segment_rotation":
            value = abs(value)
        assert drawn[name].value == pytest.approx(value)
        assert np.allclose(drawn[name].color, bar.colors(np.array(value)))
        assert drawn[name].opacity == DEFAULT_THEME.rib_opacity
    assert not np.allclose(drawn["rib_5_left"].color, drawn["rib_5_right"].color)
    # Cartilages and the sternum keep their colours.
    assert drawn["cartilage_5_left"].color == hex_to_rgb(DEFAULT_THEME.cartilage)
    assert drawn["sternum"].color == hex_to_rgb(DEFAULT_THEME.cartilage)
    assert drawn["cartilage_5_left"].value is None


def test_ribs_keep_their_colour_when_the_figure_is_not_coloured_by_rotation():
    panel = _scene({**THORAX, "ribs": "intact"}, {"color_by": "facet_gap"}).panels[0]
    state = solve_panel(panel)
    turned = _posed(state, ["rib_5_left"], {"rib_5_left": 3.0})
    drawn = _context(describe_panel(panel, turned, 4.0, None))
    assert drawn["rib_5_left"].color == hex_to_rgb(DEFAULT_THEME.rib)


def test_the_rib_cage_figure_shows_what_its_caption_says():
    scene = load_scene(ROOT / "scenes" / "rib_cage.toml")
    intact, none = describe(scene).panels
    assert (intact.state.model.ribs, none.state.model.ribs) == ("intact", "none")
    # The same moment; with the ribs the thorax turns less.
    assert intact.state.torque_nm == pytest.approx(none.state.torque_nm)
    assert intact.state.twist_deg < none.state.twist_deg
    names = intact.state.model.segment_names
    upper = [names.index(f"T{k}-T{k + 1}") for k in range(1, 6)]
    axial = [np.asarray(p.state.rotation3_deg)[upper, 2] for p in (intact, none)]
    assert (axial[0] < axial[1]).all()
    # One colour scale for both panels.
    assert intact.colorbar == none.colorbar
    # The cage turns almost as one piece: upper ribs lag (red), lower ones run ahead (blue).
    ribs = _context(intact)
    for k in (1, 2, 3):
        for side in ("left", "right"):
            rib = ribs[f"rib_{k}_{side}"]
            assert rib.value < 0 and rib.color[0] > rib.color[2], rib.level
    for k in (8, 9, 10):
        for side in ("left", "right"):
            rib = ribs[f"rib_{k}_{side}"]
            assert rib.value > 0 and rib.color[2] > rib.color[0], rib.level
    turned = intact.state.part_rotation3_deg
    assert np.allclose(
        [ribs[n].value for n in ("rib_2_left", "rib_9_right")],
        [
            turned["rib_2_left"][2],
            turned["rib_9_right"][2],
        ],
    )


@pytest.mark.parametrize("state", ["no_anterior", "sternotomy"])
def test_the_solve_decides_which_parts_are_drawn(state):
    scene = with_ribs(load_scene(ROOT / "scenes" / "rib_cage.toml"), state)
    drawing = describe(scene).panels[0]
    drawn = {k for k in _context(drawing) if not k.startswith("pelvis")}
    assert drawn == set(drawing.state.part_poses)
    kinds = {context_parts(None)[n][0] for n in drawn}
    assert kinds == ({"rib"} if state == "no_anterior" else {"rib", "cartilage", "sternum"})
