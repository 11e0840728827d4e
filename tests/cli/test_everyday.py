"""Everyday use: --version, shipped scenes by name, `spine3d scenes`, `spine3d new`."""

import subprocess
import sys

import pytest

import spine3d
from spine3d.scene import SCHEMA, load_scene, shipped_scenes


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "spine3d._cli.main", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


def test_version():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"spine3d {spine3d.__version__}"


def test_python_dash_m_runs_the_command_line():
    r = subprocess.run(
        [sys.executable, "-m", "spine3d", "--version"], capture_output=True, text=True
    )
    assert r.returncode == 0 and r.stdout.strip() == f"spine3d {spine3d.__version__}"
    bad = subprocess.run(
        [sys.executable, "-m", "spine3d", "render", "no_such_scene"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "no_such_scene" in bad.stderr


def test_scenes_lists_every_shipped_scene_on_one_line():
    r = run("scenes")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    shipped = shipped_scenes()
    assert [line.split()[0] for line in lines] == list(shipped)
    for line, (name, path) in zip(lines, shipped.items(), strict=True):
        assert load_scene(path).title in line
        assert line.split()[1] == ("clip" if name.startswith("anim_") else "figure")


def test_shipped_scene_by_name(tmp_path):
    r = run("render", "facet_orientation", "--out", str(tmp_path), "--width", "480",
            "--height", "270")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "facet_orientation.png").read_bytes()[:4] == b"\x89PNG"
    # A file of that name here wins over the shipped scene.
    (tmp_path / "facet_orientation").write_text("[view]\ncamera = 'top'\n")
    r = run("render", "facet_orientation", "--out", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 2 and 'camera = "top"' in r.stderr


def test_new_writes_a_template_that_loads(tmp_path):
    out = tmp_path / "lecture.toml"
    r = run("new", str(out))
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    scene = load_scene(out)
    assert scene.title and scene.panels[0].spine.mobility == {"L4-L5": "restricted"}
    # Every key of the format is there, set or commented, with its help.
    for section, keys in SCHEMA.items():
        if section == "panel":
            continue
        if section:
            assert f"[{section}]" in text
        for name, key in keys.items():
            assert f"{name} = " in text and key.help in text, name
    # Uncommenting a default keeps it loadable.
    load_scene_text = text.replace("# zoom = 1", "zoom = 1")
    out.write_text(load_scene_text)
    assert load_scene(out).panels[0].view.zoom == 1.0
    # It does not overwrite, unless told to.
    r = run("new", str(out))
    assert r.returncode == 2 and "exists; give --force" in r.stderr
    assert out.read_text() == load_scene_text
    assert run("new", str(out), "--force").returncode == 0 and out.read_text() == text


@pytest.mark.parametrize("name", ["x.txt", "nofolder/x.toml"])
def test_new_bad_name(tmp_path, name):
    r = run("new", str(tmp_path / name))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())
