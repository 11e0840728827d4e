import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from spine3d._cli.main import main

SEGMENT_KEYS = {
    "name",
    "upper",
    "lower",
    "region",
    "mobility",
    "rotation_deg",
    "facet_gap_mm",
    "facet_force_n",
}


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "spine3d._cli.main", *args], capture_output=True, text=True
    )


def test_solve_json_schema(capsys):
    assert main(["solve", "--twist", "30", "--mobility", "L4-L5=restricted", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["twist_deg"] == pytest.approx(30.0)
    assert d["torque_nm"] > 0
    names = [s["name"] for s in d["segments"]]
    assert names[0] == "T1-T2" and names[-1] == "L5-S1" and len(names) == 17
    for s in d["segments"]:
        assert SEGMENT_KEYS <= set(s)
        assert set(s["facet_gap_mm"]) == {"left", "right"}
    l45 = d["segments"][names.index("L4-L5")]
    assert l45["mobility"] == "restricted"
    assert set(l45["rotation_deg"]) == {"flexion", "lateral", "axial"}
    # Each segment turns about its own disc axis, and the free top flexes and bends as it
    # twists: the segments' axial angles add up to T1's only roughly.
    assert sum(s["rotation_deg"]["axial"] for s in d["segments"]) == pytest.approx(30.0, rel=0.3)


def test_solve_table(capsys):
    assert main(["solve", "--torque", "4", "--mobility", "L3-L4=hypermobile"]) == 0
    out = capsys.readouterr().out
    assert "L3-L4 !" in out and "hypermobile" in out and "T1-T2" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["solve", "--twist", "abc"], "invalid float value: 'abc'"),
        (["solve", "--mobility", "L4-L9=restricted"], "unknown segment 'L4-L9'"),
        (["solve", "--mobility", "L4-L5=stiff"], "expected one of restricted, normal"),
        (["solve", "--mobility", "L4-L5"], "expected SEGMENT=STATE"),
        (["solve", "--twist", "1e9"], "--twist 1e+09: expected a number from -180 to 180"),
        (["solve", "--twist", "170"], "at most"),
        (["solve", "--twist", "10", "--torque", "2"], "not allowed with"),
        (["meshes", "preview", "--out", "x.jpg"], "expected a .png file"),
    ],
)
def test_bad_arguments_are_one_line(args, needle):
    r = run(*args)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and needle in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_preview_renders(tmp_path):
    out = tmp_path / "preview.png"
    r = run("meshes", "preview", "--out", str(out), "--width", "960", "--height", "540")
    assert r.returncode == 0, r.stderr
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert img.shape == (540, 960, 3)
    # Not blank: bone, red facets and dark labels on white.
    assert (img.std(axis=(0, 1)) > 10).all()
    red = (img[..., 0] > 150) & (img[..., 1] < 90) & (img[..., 2] < 90)
    assert red.sum() > 50
    assert not list(tmp_path.glob(".preview.png.*"))


def test_preview_bad_folder_writes_nothing(tmp_path):
    r = run("meshes", "preview", "--out", str(tmp_path / "nope" / "p.png"))
    assert r.returncode == 2 and "does not exist" in r.stderr
    assert not (tmp_path / "nope").exists()
