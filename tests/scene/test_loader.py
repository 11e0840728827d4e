import re
import subprocess
import sys
from pathlib import Path

import pytest

from spine3d.scene import SCHEMA, all_keys, load_scene

ROOT = Path(__file__).resolve().parents[2]
SCENES = sorted((ROOT / "scenes").glob("*.toml"))


def test_shipped_scenes_load():
    assert len(SCENES) >= 5
    for path in SCENES:
        scene = load_scene(path)
        assert scene.panels and scene.title and scene.caption


def test_panel_overrides():
    scene = load_scene(ROOT / "scenes" / "restricted_l4l5.toml")
    normal, restricted = scene.panels
    assert dict(normal.spine.mobility) == {}
    assert dict(restricted.spine.mobility) == {"L4-L5": "restricted"}
    assert normal.spine.levels == restricted.spine.levels
    assert normal.load.twist_deg == restricted.load.twist_deg == 30


def test_docs_list_exactly_the_keys():
    text = (ROOT / "docs" / "scenes.md").read_text()
    documented = re.findall(r"^\| `([a-z_.]+)` \|", text, flags=re.M)
    assert sorted(documented) == sorted(all_keys())
    for section, keys in SCHEMA.items():
        for name, key in keys.items():
            full = f"{section}.{name}" if section else name
            row = next(ln for ln in text.splitlines() if ln.startswith(f"| `{full}` |"))
            if key.default_text:  # a default that depends on other keys, in words
                assert row.split(" | ")[1] == key.default_text, (full, row)
                continue
            default = "—" if key.default in (None, {}, "") else str(key.default).lower()
            if isinstance(key.default, float):
                default = f"{key.default:g}"
            assert f"`{default}`" in row or default == "—" and "—" in row, (full, row)


BAD = [
    ('titel = "x"\n', r"unknown key titel \(did you mean 'title'\?\)"),
    ('[view]\ncamra = "left"\n', r"unknown key \[view\] camra \(did you mean 'camera'\?\)"),
    ('[view]\ncamera = "top"\n', r'\[view\] camera = "top": expected one of posterior, anterior'),
    ('[spine]\nlevels = "T1-X3"\n', r"unknown level 'X3'"),
    ('[spine]\nmobility = { "L4-L6" = "restricted" }\n', r"unknown segment 'L4-L6'"),
    ('[spine.facets]\n"T6-T8" = { coronal_deg = 50 }\n', r"unknown joint 'T6-T8'"),
    ('[spine.facets]\n"T6-T7" = { coronal_deg = 200 }\n', r"coronal_deg = 200: out of range"),
    ('[load]\ntwist_deg = "lots"\n', r'\[load\] twist_deg = "lots": expected a number'),
    ("[load]\ntwist_deg = 1e9\n", r"twist_deg = 1000000000.0: expected a number from -180 to 180"),
    ("[load]\ntwist_deg = 181\n", r"expected a number from -180 to 180"),
    ("[view]\nwidth = 20000\n", r"\[view\] width = 20000: expected an integer from 160 to 7200"),
    ("[view]\nheight = -1\n", r"\[view\] height = -1: expected an integer"),
    ("[view]\nlabels = 1\n", r"\[view\] labels = 1: expected true or false"),
    ("[load]\ntwist_deg = 10\ntorque_nm = 2\n", r"give twist_deg or torque_nm, not both"),
    ("[[panel]]\nviw = {}\n", r"unknown key \[panel 1\] viw \(did you mean 'view'\?\)"),
    ("[[panel]]\n[panel.view]\nwidth = 100\n", r"unknown key \[panel 1.view\] width"),
    ('title = "x\n', r"TOML syntax error"),
    (
        "[load]\nflexion_deg = 10\nmoment_flexion_nm = 2\n",
        r"give flexion_deg or moment_flexion_nm, not both",
    ),
    (
        "[load]\nmoment_lateral_nm = 40\n",
        r"\[load\] moment_lateral_nm = 40: beyond what this spine can reach: at most ±\d+ N m",
    ),
    (
        "[load]\nlateral_deg = -89\n",
        r"\[load\] lateral_deg = -89: beyond what this spine can reach: at most \d+° to the left",
    ),
    ("[load]\nfollower_n = -5\n", r"\[load\] follower_n = -5: expected a number from 0 to 2000"),
    ('[view]\ncolor_by = "twist"\n', r"expected one of segment_rotation, flexion, lateral, axial"),
]


def render(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "spine3d._cli.main", "render", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


@pytest.mark.parametrize(("text", "pattern"), BAD)
def test_bad_scene_is_one_line_and_writes_nothing(tmp_path, text, pattern):
    scene = tmp_path / "bad.toml"
    scene.write_text(text)
    good = ROOT / "scenes" / "self_twist.toml"
    out = tmp_path / "out"
    r = render(str(good), str(scene), "--out", str(out), cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith(f"Error: {scene}: "), lines[0]
    assert re.search(pattern, lines[0]), lines[0]
    assert not out.exists() or not any(out.iterdir())


def test_missing_scene_file(tmp_path):
    r = render(str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip() == f"Error: {tmp_path / 'nope.toml'}: no such scene file"
    assert not (tmp_path / "o").exists()


def test_bad_command_line_sizes(tmp_path):
    good = str(ROOT / "scenes" / "self_twist.toml")
    r = render(good, "--width", "20000", "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert r.returncode == 2 and "--width 20000" in r.stderr
    r = render(
        good,
        "--width",
        "4000",
        "--height",
        "2250",
        "--scale",
        "2",
        "--out",
        str(tmp_path / "o"),
        cwd=tmp_path,
    )
    assert r.returncode == 2 and "8000x" in r.stderr and "7200" in r.stderr, r.stderr
    assert "framebuffer" in r.stderr
    assert not (tmp_path / "o").exists()
