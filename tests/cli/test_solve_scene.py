"""``spine3d solve --scene``: the numbers behind every panel of a figure."""

import json
from pathlib import Path

import numpy as np
import pytest

from spine3d._cli.main import main
from spine3d.scene import load_scene
from spine3d.scene.describe import solve_panel

ROOT = Path(__file__).resolve().parents[2]
FACETECTOMY = str(ROOT / "scenes" / "facetectomy_l4l5.toml")


def solve_json(capsys, *args):
    assert main(["solve", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def axial(d, segment):
    """The size of a segment's axial rotation, degrees."""
    return abs(next(s for s in d["segments"] if s["name"] == segment)["rotation_deg"]["axial"])


def test_every_panel_is_the_figure_s_solve(capsys):
    d = solve_json(capsys, "--scene", FACETECTOMY)
    assert d["scene"] == "facetectomy_l4l5" and [p["panel"] for p in d["panels"]] == [1, 2]
    scene = load_scene(FACETECTOMY)
    for p, spec in zip(d["panels"], scene.panels, strict=True):
        state = solve_panel(spec)
        assert p["title"] == spec.title
        assert p["torque_nm"] == pytest.approx(-5.0)
        assert np.allclose(
            [s["rotation_deg"]["axial"] for s in p["segments"]],
            state.rotation3_deg[:, 2],
            atol=1e-5,
        )
        assert p["shown_segments"] == ["L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1"]
    intact, cut = d["panels"]
    # The facetectomy panel's own facets: the removed joint carries no force.
    assert (
        max(next(s for s in cut["segments"] if s["name"] == "L4-L5")["facet_force_n"].values()) == 0
    )
    assert axial(cut, "L4-L5") > axial(intact, "L4-L5")


def test_one_panel_and_the_command_line_load_on_top(capsys):
    one = solve_json(capsys, "--scene", FACETECTOMY, "--panel", "2")
    assert one["panel"] == 2 and one["torque_nm"] == pytest.approx(-5.0)
    # --twist replaces the scene's axial load; --follower adds to it; the facets stay.
    over = solve_json(capsys, "--scene", FACETECTOMY, "--panel", "2", "--twist", "10")
    assert over["twist_deg"] == pytest.approx(10.0) and 0 < over["torque_nm"] < 5.0
    assert axial(over, "L4-L5") < axial(one, "L4-L5")
    bent = solve_json(capsys, "--scene", FACETECTOMY, "--panel", "1", "--flex", "20")
    assert bent["flexion_deg"] == pytest.approx(20.0) and bent["torque_nm"] == pytest.approx(-5.0)
    stiff = solve_json(
        capsys, "--scene", FACETECTOMY, "--panel", "1", "--mobility", "L4-L5=restricted"
    )
    intact = solve_json(capsys, "--scene", FACETECTOMY, "--panel", "1")
    assert axial(stiff, "L4-L5") < 0.5 * axial(intact, "L4-L5")


def test_the_table_names_each_panel_and_shows_its_levels(capsys):
    assert main(["solve", "--scene", FACETECTOMY]) == 0
    out = capsys.readouterr().out
    assert "Panel 1: Intact: L1-S1 shown" in out
    assert "Panel 2: Facetectomy at L4-L5 (both sides)" in out
    assert "L4-L5" in out and "T6-T7" not in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--panel", "3"], "--panel 3: "),
        (["--levels", "L1-S1"], "--levels L1-S1: a scene's figures solve the whole column"),
        (["--twist", "400"], "--twist 400: expected a number from -180 to 180 deg"),
        (["--twist", "170"], "Panel 1: Intact: its [load] with --twist 170: beyond what"),
    ],
)
def test_bad_scene_options_are_one_line(capsys, args, needle):
    assert main(["solve", "--scene", FACETECTOMY, *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err


def test_panel_needs_a_scene(capsys):
    assert main(["solve", "--panel", "1"]) == 2
    assert "--panel: needs --scene" in capsys.readouterr().err


def test_a_maneuver_panel_points_to_simulate(capsys):
    scene = str(ROOT / "scenes" / "hvla_vs_self_twist.toml")
    assert main(["solve", "--scene", scene]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has a [maneuver]" in err[0] and "spine3d simulate" in err[0]
