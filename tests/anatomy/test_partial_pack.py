"""A pack of fewer levels than T1-S1 gives a model of just those levels."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import spine3d
from spine3d._cli.main import main
from spine3d.anatomy.frames import invert
from spine3d.errors import SpineInputError
from spine3d.geometry.store import default_mesh_dir


def _small_pack(tmp: Path, keep: tuple[str, ...]) -> Path:
    """Copy the shipped bones of ``keep`` with their part of the manifest."""
    src = default_mesh_dir()
    manifest = json.loads((src / "manifest.json").read_text(encoding="utf-8"))
    manifest["levels"] = {k: v for k, v in manifest["levels"].items() if k in keep}
    manifest["joints"] = {
        k: v for k, v in manifest["joints"].items() if set(k.split("-")) <= set(keep)
    }
    manifest["parts"] = {}
    out = tmp / "pack"
    out.mkdir()
    for lv in keep:
        shutil.copy(src / f"{lv}.ply", out / f"{lv}.ply")
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def lumbar(tmp_path_factory) -> Path:
    return _small_pack(tmp_path_factory.mktemp("l3s1"), ("L3", "L4", "L5", "S1"))


def test_model_of_the_pack_levels(lumbar):
    model = spine3d.load_model(bones=str(lumbar))
    full = spine3d.load_model()
    assert model.level_names == ("L3", "L4", "L5", "S1")
    assert model.segment_names == ("L3-L4", "L4-L5", "L5-S1")
    # The same bones stand as they do in the whole column, relative to the sacrum.
    for lv in model.level_names:
        rel = invert(model.vertebra("S1").rest_pose) @ model.vertebra(lv).rest_pose
        ref = invert(full.vertebra("S1").rest_pose) @ full.vertebra(lv).rest_pose
        assert np.allclose(rel, ref, atol=1e-6), lv
    j, ref = model.joint("L4-L5"), full.joint("L4-L5")
    assert np.allclose(j.facet("left").normal, ref.facet("left").normal)
    with pytest.raises(SpineInputError, match=r"level L1: not in the bones \(they hold L3 to S1"):
        model.vertebra("L1")
    with pytest.raises(SpineInputError, match="segment T6-T7: not in the bones"):
        model.joint("T6-T7")
    with pytest.raises(SpineInputError, match="unknown level 'L9'"):
        model.vertebra("L9")
    with pytest.raises(SpineInputError, match="unknown segment 'L4-L6'"):
        model.joint("L4-L6")


def test_solve_on_the_pack_range(lumbar):
    model = spine3d.load_model(bones=str(lumbar))
    state = spine3d.solve(model, twist_deg=6.0)
    assert state.levels == "L3-S1"
    rot = np.asarray(state.rotation_deg)
    assert rot.shape == (3,) and np.all(rot > 0.0)
    assert state.twist_deg == pytest.approx(6.0, abs=1e-3) and rot.sum() > 3.0
    # A specimen inside the pack: the levels above it stay at rest on their lower one.
    part = spine3d.solve(model, twist_deg=4.0, levels="L4-S1")
    assert part.levels == "L4-S1"
    assert abs(part.rotation_deg[0]) < 1e-6 < abs(part.rotation_deg[1])
    # A restricted segment of the pack takes less than when normal.
    stiff = spine3d.solve(model, twist_deg=6.0, mobility={"L4-L5": "restricted"})
    assert stiff.rotation_deg[1] < 0.8 * rot[1]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"levels": "L1-S1"}, r"levels = 'L1-S1': the bones lack L1, L2 \(they hold L3 to S1\)"),
        ({"levels": "T12-L4"}, "the bones lack T12, L1, L2"),
        ({"mobility": {"T6-T7": "restricted"}}, "mobility T6-T7: not in the bones"),
    ],
)
def test_levels_the_pack_lacks_are_named(lumbar, kwargs, match):
    model = spine3d.load_model(bones=str(lumbar))
    with pytest.raises(SpineInputError, match=match):
        spine3d.solve(model, twist_deg=5.0, **kwargs)


def test_overrides_of_joints_the_pack_lacks(lumbar):
    with pytest.raises(SpineInputError, match=r"facets: T6-T7: not in the bones"):
        spine3d.load_model(facets={"T6-T7": {"coronal_deg": 40.0}}, bones=str(lumbar))
    model = spine3d.load_model(facets={"L4-L5": {"coronal_deg": 40.0}}, bones=str(lumbar))
    assert model.joint("L4-L5").facet("right").coronal_deg == 40.0


def test_a_pack_with_a_gap_is_refused(tmp_path):
    pack = _small_pack(tmp_path, ("L3", "L5", "S1"))
    with pytest.raises(SpineInputError, match="lack L4, L3-L4, L4-L5; a model needs every level"):
        spine3d.load_model(bones=str(pack))


def test_cli_solve_on_a_small_pack(lumbar, capsys):
    assert main(["solve", "--bones", str(lumbar), "--twist", "6", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["levels"] == "L3-S1"
    assert [s["name"] for s in out["segments"]] == ["L3-L4", "L4-L5", "L5-S1"]
    assert main(["solve", "--bones", str(lumbar), "--twist", "4", "--levels", "L4-S1"]) == 0
    capsys.readouterr()
    assert main(["solve", "--bones", str(lumbar), "--twist", "6", "--levels", "T12-S1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "the bones lack T12, L1, L2 (they hold L3 to S1)" in err


def test_validate_skips_the_checks_on_levels_the_pack_lacks(lumbar, capsys):
    from spine3d.mechanics.validation import validate

    rows = {r["name"]: r for r in validate(spine3d.load_model(bones=str(lumbar)))}
    skipped = rows["T3-T4 axial rotation ROM (full range)"]
    assert skipped["model"] is None and skipped["pass"] is None
    assert skipped["skipped"] == "the bones lack T3, T4"
    assert rows["L1-L2 flexion ROM"]["skipped"] == "the bones lack L1, L2"
    # The lumbar counterfactuals run on the pack's own bones, and hold.
    for name in ("L3-L4 with thoracic facets", "L4-L5 bilateral facetectomy"):
        row = next(r for n, r in rows.items() if n.startswith(name))
        assert row["skipped"] is None and row["pass"] is True, row
    assert main(["validate", "--bones", str(lumbar), "--json"]) == 0
    checks = json.loads(capsys.readouterr().out)["checks"]
    assert {r["name"] for r in checks} == set(rows)


def test_time_domain_names_the_levels_it_needs(lumbar):
    from spine3d.mechanics.maneuver import Maneuver
    from spine3d.mechanics.timedomain import simulate

    model = spine3d.load_model(bones=str(lumbar))
    with pytest.raises(SpineInputError, match="needs the bones T1 to S1; these hold L3 to S1"):
        simulate(model, Maneuver("self_twist", twist_deg=5.0))
