"""spine3d validate: calibration and predictions kept apart; the manifest and README agree."""

import json
from importlib import resources
from pathlib import Path

import pytest

import spine3d
from spine3d._cli.main import main
from spine3d.mechanics.segment import constants
from spine3d.mechanics.validation import (
    FITTED,
    calibration_rows,
    model_values,
    readme_block,
    resection_block,
)

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = json.loads(
    resources.files("spine3d.mechanics").joinpath("data", "calibration.json").read_text()
)


@pytest.fixture(scope="module")
def checks():
    from spine3d.mechanics.validation import validate

    return validate()


def test_manifest_lists_every_fitted_constant_with_data_and_script():
    names = [c["constant"] for c in MANIFEST["constants"]]
    assert names == list(FITTED)
    for c in MANIFEST["constants"]:
        assert c["value"] > 0 and "Yamamoto" in c["data"] and "Liebsch" in c["data"]
        assert (ROOT / c["fit"]).exists()
        assert constants()[c["constant"]] == c["value"]
    # Nothing fitted hides among the tissue inputs.
    inputs = resources.files("spine3d.mechanics").joinpath("data", "tissue3d.csv").read_text()
    assert not any(f"\n{name}," in inputs for name in FITTED)


def test_manifest_residuals_are_what_the_model_gives():
    rows = calibration_rows()
    got = model_values(spine3d.load_model(ribs="none"), rows)  # as fitted: no ribs
    stored = {r["name"]: r["model"] for r in MANIFEST["residuals"]}
    for r, g in zip(rows, got, strict=True):
        assert g == pytest.approx(stored[r["name"]], abs=0.01), r["name"]


def test_calibration_and_predictions_are_apart(checks):
    kinds = [c["kind"] for c in checks]
    assert set(kinds) == {"calibration", "prediction"}
    # Calibration rows first, then predictions: never interleaved.
    assert kinds == sorted(kinds)
    cal = {c["name"] for c in checks if c["kind"] == "calibration"}
    spine = {r["name"] for r in calibration_rows()}
    # The spine's fitted rows, and the rib cage's joint test (its two fitted constants).
    assert cal > spine
    assert all(name.startswith("costovertebral joint") for name in cal - spine)
    for c in checks:
        assert set(c) == {
            "name",
            "kind",
            "source",
            "unit",
            "published",
            "tolerance",
            "model",
            "pass",
            "skipped",
        }
        assert c["skipped"] is None  # the shipped bones hold every level
        if c["kind"] == "prediction":
            assert "Yamamoto" not in c["source"] and "Liebsch" not in c["source"]


def test_counterfactual_predictions_hold(checks):
    cf = [c for c in checks if c["source"].startswith("counterfactual")]
    assert len(cf) == 3 and all(c["pass"] for c in cf)


def test_readme_tables_are_generated(checks):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- validate:begin -->\n", 1)[1].split("<!-- validate:end -->", 1)[0]
    assert block == readme_block(checks), "run benchmarks/update_readme.py"
    ribs = text.split("<!-- ribs:begin -->\n", 1)[1].split("<!-- ribs:end -->", 1)[0]
    assert ribs == resection_block(), "run benchmarks/update_readme.py"


def test_validate_cli_json_and_plot(capsys, tmp_path):
    png = tmp_path / "v.png"
    assert main(["validate", "--json", "--plot", str(png)]) == 0
    d = json.loads(capsys.readouterr().out)
    assert {c["kind"] for c in d["checks"]} == {"calibration", "prediction"}
    assert png.stat().st_size > 10_000
    assert main(["validate", "--plot", str(tmp_path / "v.jpg")]) == 2
    assert "expected a .png file" in capsys.readouterr().err
    assert not (tmp_path / "v.jpg").exists()


def test_solve_3d_options(capsys):
    assert main(["solve", "--flex", "10", "--bend", "-5", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["flexion_deg"] == pytest.approx(10.0) and d["lateral_deg"] == pytest.approx(-5.0)
    # Axial rotation is free: no axial moment, only what the bending couples.
    assert d["reaction"]["moment_nm"]["axial"] == 0.0 and abs(d["twist_deg"]) < 2.0
    seg = d["segments"][-2]
    assert set(seg) >= {"rotation_deg", "translation_mm", "facet_gap_mm", "facet_force_n", "axis"}
    assert (
        main(["solve", "--moment", "axial=5,lateral=1", "--follower", "400", "--levels", "L1-S1"])
        == 0
    )
    out = capsys.readouterr().out
    assert "L1-S1" in out and "axial" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--moment", "twist=5"], "expected COMPONENT=NM"),
        (["--moment", "axial=x"], "not a finite number"),
        (["--moment", "axial=1,axial=2"], "given twice"),
        (["--follower", "-3"], "--follower -3: expected a number from 0 to 2000"),
        (["--levels", "L5-L1", "--torque", "2"], "upper level must come first"),
        (["--levels", "X1-S1", "--torque", "2"], "unknown level"),
        (["--twist", "10", "--moment", "axial=2"], "--twist and --moment axial"),
    ],
)
def test_solve_bad_input_is_one_line(capsys, args, needle):
    assert main(["solve", *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_unreachable_names_the_maximum():
    with pytest.raises(spine3d.UnreachableTwistError, match="at most"):
        spine3d.solve3d(spine3d.load_model(), moment_nm={"axial": 40.0})
