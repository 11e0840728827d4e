"""``[spine] ribs`` and ``--ribs STATE`` on the command line: states, errors, packs."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from spine3d._cli.bones import RIB_STATES as CLI_STATES
from spine3d._cli.bones import load_scene_with_bones
from spine3d._cli.main import build_parser, main
from spine3d.anatomy import RIB_STATES
from spine3d.geometry import default_mesh_dir
from spine3d.geometry.importer import import_pack

ROOT = Path(__file__).resolve().parents[2]
RIB_CAGE = str(ROOT / "scenes" / "rib_cage.toml")
SCENE_COMMANDS = {
    "render": ["render", RIB_CAGE],
    "animate": ["animate", RIB_CAGE, "--out", "x.mp4"],
    "view": ["view", RIB_CAGE],
    "simulate": ["simulate", RIB_CAGE],
    "solve": ["solve"],
    "export-html": ["export-html", RIB_CAGE, "--out", "x.html"],
    "export-gltf": ["export-gltf", RIB_CAGE, "--out", "x.glb"],
    "slides": ["slides", RIB_CAGE, "--out", "x.pptx"],
}


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "spine3d._cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


def one_line(r) -> str:
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), r.stderr
    assert "Traceback" not in r.stderr
    return lines[0]


def test_the_command_line_offers_the_model_s_states():
    assert CLI_STATES == RIB_STATES


@pytest.mark.parametrize("command", sorted(SCENE_COMMANDS))
def test_every_command_that_solves_a_scene_takes_ribs(command):
    args = build_parser().parse_args([*SCENE_COMMANDS[command], "--ribs", "no_anterior"])
    assert args.ribs == "no_anterior"


def test_a_bad_state_in_a_scene_is_one_line_and_writes_nothing(tmp_path):
    scene = tmp_path / "bad.toml"
    scene.write_text('[spine]\nribs = "cut"\n')
    out = tmp_path / "out"
    line = one_line(run("render", ROOT / "scenes" / "self_twist.toml", scene, "--out", out))
    assert line == (
        f'Error: {scene}: [spine] ribs = "cut": expected one of intact, no_intercostals, '
        "sternotomy, no_anterior, none (or true, false)"
    )
    assert not out.exists()
    scene.write_text("[[panel]]\n[[panel]]\nspine = { ribs = 2 }\n")
    assert "[panel 2.spine] ribs = 2: expected one of intact" in one_line(
        run("render", scene, "--out", out)
    )


def test_a_bad_ribs_option_is_one_line(tmp_path):
    line = one_line(run("solve", "--ribs", "cut", "--twist", "30"))
    assert "argument --ribs: invalid choice: 'cut'" in line and "'no_anterior'" in line
    out = tmp_path / "x.png"
    line = one_line(run("render", RIB_CAGE, "--ribs", "Intact", "--out", out))
    assert "spine3d render: argument --ribs: invalid choice: 'Intact'" in line
    assert not out.exists()


def test_solve_takes_ribs(capsys):
    assert main(["solve", "--ribs", "none", "--twist", "30", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ribs"] == "none"
    assert main(["solve", "--scene", RIB_CAGE, "--json"]) == 0
    panels = json.loads(capsys.readouterr().out)["panels"]
    assert [p["ribs"] for p in panels] == ["intact", "none"]
    assert main(["solve", "--ribs", "sternotomy", "--twist", "5"]) == 0
    assert "ribs sternotomy" in " ".join(capsys.readouterr().out.split())  # however it wraps
    assert main(["solve", "--scene", RIB_CAGE, "--ribs", "no_anterior"]) == 0
    assert " ".join(capsys.readouterr().out.split()).count("ribs no_anterior") == 2


def test_ribs_replaces_every_panel_s_state():
    ns = argparse.Namespace(ribs="sternotomy", bones=None)
    scene = load_scene_with_bones(RIB_CAGE, ns)
    assert [p.spine.ribs for p in scene.panels] == ["sternotomy", "sternotomy"]
    plain = load_scene_with_bones(RIB_CAGE, argparse.Namespace())
    assert [p.spine.ribs for p in plain.panels] == ["intact", "none"]


@pytest.fixture(scope="module")
def pack(tmp_path_factory) -> Path:
    """A pack of lumbar vertebrae: no rib cage."""
    tmp = tmp_path_factory.mktemp("pack")
    src = tmp / "src"
    src.mkdir()
    for lv in ("L3", "L4", "L5", "S1"):
        (src / f"{lv}.ply").symlink_to(default_mesh_dir() / f"{lv}.ply")
    return import_pack(src, tmp / "pack", name="Lumbar", licence="CC0-1.0").pack


def test_a_rib_cage_asked_of_a_pack_without_one_is_one_line(pack, tmp_path, capsys):
    assert main(["solve", "--bones", str(pack), "--ribs", "intact"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("Error: --ribs intact: "), err
    assert main(["solve", "--bones", str(pack), "--ribs", "none", "--twist", "5"]) == 0
    capsys.readouterr()
    scene = tmp_path / "scene.toml"
    scene.write_text(f'[spine]\nlevels = "L3-L5"\nbones = "{pack}"\nribs = "sternotomy"\n')
    out = tmp_path / "x.png"
    assert main(["render", str(scene), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert f'{scene}: [spine] ribs = "sternotomy": the bone pack' in err
    assert "has no rib cage" in err and 'set it "none"' in err
    assert main(["render", RIB_CAGE, "--ribs", "none", "--bones", str(pack), "--out", str(out)])
    assert "levels = T1-S1" in capsys.readouterr().err  # the pack's levels, not its ribs
    assert not out.exists()
