import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def simulate(*args):
    return subprocess.run(
        [sys.executable, "-m", "spine3d._cli.main", "simulate", *args],
        capture_output=True,
        text=True,
    )


def test_simulate_json():
    r = simulate(str(ROOT / "scenes" / "hvla_vs_self_twist.toml"), "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["maneuver"] == "hvla" and 0 < d["specificity"] < 1
    assert {
        "t_ms": d["events"][0]["t_ms"],
        "type": "cavitation",
        "segment": "L4-L5",
        "side": "left",
        "session": 0,
    } == d["events"][0]


def test_simulate_tables():
    r = simulate(str(ROOT / "scenes" / "hvla_vs_self_twist.toml"))
    assert r.returncode == 0, r.stderr
    assert "cavitation" in r.stdout and "Specificity" in r.stdout


@pytest.mark.parametrize(
    ("maneuver", "needle"),
    [
        ('kind = "hvla"\ntarget = "L4-L9"', 'target = "L4-L9": expected a segment'),
        ('kind = "self_twist"\ntwist_deg = 30\nduration_ms = -5', "duration_ms = -5"),
        ('kind = "hvla"\ntarget = "L4-L5"\nthrust_n = 1e6', "thrust_n = 1000000.0: expected"),
        ('kind = "hvla"\ntarget = "L4-L5"\nforce = 3', "unknown key [maneuver] force"),
        ('target = "L4-L5"', "kind is required"),
    ],
)
def test_bad_maneuver_is_one_line(tmp_path, maneuver, needle):
    scene = tmp_path / "bad.toml"
    scene.write_text(f"[maneuver]\n{maneuver}\n")
    r = simulate(str(scene))
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {scene}: ") and needle in lines[0]


def test_no_maneuver(tmp_path):
    scene = tmp_path / "still.toml"
    scene.write_text('title = "x"\n')
    r = simulate(str(scene))
    assert r.returncode == 2 and "no [maneuver] table" in r.stderr
