import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spine3d.render.figure import render_image
from spine3d.scene import load_scene
from spine3d.scene.describe import describe
from spine3d.scene.theme import TEST_THEME

ROOT = Path(__file__).resolve().parents[2]
SCENES = sorted((ROOT / "scenes").glob("*.toml"))
BASELINE = Path(__file__).parent / "baseline"
REGRESSION = ["self_twist", "restricted_l4l5", "facet_orientation"]


def cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "spine3d._cli.main", *args], capture_output=True, text=True
    )


def test_every_shipped_scene_renders(tmp_path):
    r = cli(
        "render", *map(str, SCENES), "--out", str(tmp_path), "--width", "480", "--height", "270"
    )
    assert r.returncode == 0, r.stderr
    for scene in SCENES:
        img = np.asarray(Image.open(tmp_path / f"{scene.stem}.png"))
        assert img.shape == (270, 480, 3)
        assert img.std() > 10, scene.stem  # not blank
        assert (img < 200).any(-1).mean() > 0.02, scene.stem  # something drawn
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_scale_doubles_the_image(tmp_path):
    scene = ROOT / "scenes" / "self_twist.toml"
    r = cli(
        "render",
        str(scene),
        "--out",
        str(tmp_path),
        "--width",
        "320",
        "--height",
        "180",
        "--scale",
        "2",
    )
    assert r.returncode == 0, r.stderr
    assert Image.open(tmp_path / "self_twist.png").size == (640, 360)


def test_restricted_vertebra_is_cold_in_the_picture():
    fig = describe(load_scene(ROOT / "scenes" / "restricted_l4l5.toml"), size=(960, 540))
    fig = replace(fig, panels=tuple(replace(p, labels=()) for p in fig.panels))
    img = render_image(fig).astype(float)
    l4 = np.array(next(m.color for m in fig.panels[1].meshes if m.level == "L4")) * 255
    near = np.linalg.norm(img - l4, axis=-1) < 40
    left, right = near[:, :480].sum(), near[:, 480:].sum()
    assert right > 150 and left < 0.1 * right, (left, right)


def test_transparent_background_has_alpha():
    scene = load_scene(ROOT / "scenes" / "self_twist.toml")
    fig = replace(describe(scene, size=(480, 270)), transparent=True)
    img = render_image(fig)
    assert img.shape[2] == 4
    alpha = img[..., 3]
    assert alpha[0, 0] == 0 and alpha[-1, -1] == 0
    assert (alpha == 255).mean() > 0.02
    no_ghost = replace(
        fig,
        panels=tuple(
            replace(p, meshes=tuple(m for m in p.meshes if m.role != "ghost")) for p in fig.panels
        ),
    )
    partial = ((alpha > 0) & (alpha < 255)).sum()
    a2 = render_image(no_ghost)[..., 3]
    assert partial > ((a2 > 0) & (a2 < 255)).sum()  # the ghost is partly transparent


@pytest.mark.parametrize("name", REGRESSION)
def test_image_regression(name):
    fig = describe(load_scene(ROOT / "scenes" / f"{name}.toml"), theme=TEST_THEME, size=(400, 300))
    img = render_image(fig)[..., :3].astype(int)
    ref_path = BASELINE / f"{name}.png"
    if os.environ.get("SPINE3D_UPDATE_BASELINE"):
        Image.fromarray(img.astype(np.uint8)).save(ref_path)
        pytest.skip(f"wrote baseline {ref_path.name}")
    assert ref_path.exists(), f"no baseline; run with SPINE3D_UPDATE_BASELINE=1 to write {ref_path}"
    ref = np.asarray(Image.open(ref_path).convert("RGB")).astype(int)
    diff = np.abs(img - ref).max(-1)
    assert diff.mean() < 3.0, diff.mean()
    assert (diff > 60).mean() < 0.02
