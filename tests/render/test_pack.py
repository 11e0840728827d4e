"""Figures, clips and commands on an imported bone pack (``[spine] bones``, ``--bones``)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from spine3d._cli.main import main
from spine3d.anatomy import LEVELS
from spine3d.errors import SpineInputError
from spine3d.geometry import default_mesh_dir, read_meshes
from spine3d.geometry.importer import import_pack
from spine3d.render.compose import bone_mask
from spine3d.render.figure import FigureRenderer
from spine3d.scene import load_scene, with_bones
from spine3d.scene.describe import describe, project

SHIFT_MM = 70.0
"""How far the moved pack's L3 stands to the right of where the bones put it."""


@pytest.fixture(scope="module")
def pack(tmp_path_factory) -> Path:
    """A pack imported from the shipped vertebrae (no rib cage, no pelvis)."""
    tmp = tmp_path_factory.mktemp("pack")
    src = tmp / "src"
    src.mkdir()
    for lv in LEVELS:
        (src / f"{lv}.ply").symlink_to(default_mesh_dir() / f"{lv}.ply")
    return import_pack(src, tmp / "pack", name="Test bones", licence="CC0-1.0").pack


def _rewrite(pack: Path, out: Path, level: str, change) -> Path:
    """Copy ``pack`` with ``level``'s vertices changed, its checksum updated."""
    import trimesh

    shutil.copytree(pack, out)
    bone = read_meshes([level], out)[level]
    mesh = trimesh.Trimesh(change(bone.vertices.copy()), bone.faces.copy(), process=False)
    data = trimesh.exchange.ply.export_ply(mesh, encoding="binary", include_attributes=False)
    (out / f"{level}.ply").write_bytes(data)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["levels"][level]["sha256"] = hashlib.sha256(data).hexdigest()
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


@pytest.fixture(scope="module")
def moved(pack, tmp_path_factory) -> Path:
    """The pack with L3's mesh moved right (+Z) in its local frame."""
    out = tmp_path_factory.mktemp("moved") / "pack"
    return _rewrite(pack, out, "L3", lambda v: v + [0.0, 0.0, SHIFT_MM])


def _scene(folder: Path, bones: str, extra: str = "") -> Path:
    # A fixed camera behind L3: the bones, not the camera fit, decide what moves.
    path = folder / "scene.toml"
    path.write_text(
        'title = "On a pack"\n'
        f'[spine]\nlevels = "L1-L5"\nbones = "{bones}"\n{extra}'
        "[view]\ncamera = 'posterior'\nposition = [-600, 105, 0]\n"
        "focal_point = [0, 105, 0]\nup = [0, 1, 0]\nwidth = 480\nheight = 270\n"
        "chart = false\nlabels = false\ntwist_axis = false\n",
        encoding="utf-8",
    )
    return path


def _right_half_bone(fig) -> float:
    r = FigureRenderer(fig)
    try:
        (area,) = r.areas()
    finally:
        r.close()
    mask = bone_mask(area)
    return float(mask[:, mask.shape[1] // 2 + 25 :].mean())


def test_a_scene_on_a_pack_draws_the_pack_s_bones(pack, moved, tmp_path):
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.mkdir(), b.mkdir()
    plain = load_scene(_scene(a, str(pack)))
    shifted = load_scene(_scene(b, f"../../{moved.parent.name}/pack"))  # relative path
    assert plain.panels[0].spine.bones == str(pack.resolve())
    assert shifted.panels[0].spine.bones == str(moved.resolve())
    fa, fb = describe(plain), describe(shifted)
    items = [m for m in fa.panels[0].meshes if m.role == "bone"]
    assert {m.bones for m in items} == {str(pack.resolve())}
    assert not [m for m in fa.panels[0].meshes if m.role == "context"]  # no ribs, no pelvis
    assert fa.credit == "Bones: Test bones (CC0-1.0)"
    # Numbers first: the camera fit's points of L3 sit SHIFT_MM further right.
    view = fa.panels[0].view
    size = (480, 270)
    xa = project(view, fa.panels[0].fit_points, size)[:, 0].max()
    xb = project(view, fb.panels[0].fit_points, size)[:, 0].max()
    assert xb > xa + 20
    # Then pixels: the drawn silhouette has bone where only the moved L3 can be.
    assert _right_half_bone(fa) < 0.002
    assert _right_half_bone(fb) > 0.01


def test_shipped_default_is_unchanged():
    fig = describe(load_scene("self_twist"))
    assert fig.credit == ""
    assert {m.bones for p in fig.panels for m in p.meshes} == {None}
    assert any(m.role == "context" for m in fig.panels[0].meshes)  # ribs and pelvis drawn


def test_render_with_bones_option_credits_the_pack(pack, tmp_path, capsys):
    out = tmp_path / "fig.png"
    assert main(["render", "restricted_l4l5", "--bones", str(pack), "--out", str(out)]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"
    scene = with_bones(load_scene("restricted_l4l5"), pack)
    assert {p.spine.bones for p in scene.panels} == {str(pack.resolve())}
    assert describe(scene).credit.startswith("Bones: Test bones")


def _one_line_error(capsys, argv, *needles) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err


def test_a_level_the_pack_lacks_is_named(pack, tmp_path, capsys):
    short = tmp_path / "short"
    shutil.copytree(pack, short)
    manifest = json.loads((short / "manifest.json").read_text())
    del manifest["levels"]["T1"], manifest["levels"]["T2"]
    (short / "manifest.json").write_text(json.dumps(manifest))
    out = tmp_path / "x.png"
    _one_line_error(
        capsys,
        ["render", "self_twist", "--bones", str(short), "--out", str(out)],
        "--bones",
        "has no T1, T2 (it has T3",
    )
    folder = tmp_path / "scene"
    folder.mkdir()
    scene = _scene(folder, str(short)).read_text().replace("L1-L5", "T1-L5")
    (folder / "scene.toml").write_text(scene)
    _one_line_error(
        capsys,
        ["render", str(folder / "scene.toml"), "--out", str(out)],
        "[spine] levels = T1-L5",
        "has no T1, T2",
    )
    assert not out.exists()


def test_context_bones_asked_for_by_name_are_refused_in_one_line(pack, tmp_path, capsys):
    scene = _scene(tmp_path, str(pack), "ribs = true\n")
    _one_line_error(
        capsys,
        ["render", str(scene), "--out", str(tmp_path / "x.png")],
        "[spine] ribs = true",
        "has no rib cage",
    )
    with pytest.raises(SpineInputError, match=r"\[spine\] bones = \"nowhere\": no such folder"):
        load_scene(_scene(tmp_path, "nowhere"))
    with pytest.raises(SpineInputError, match="has no readable manifest.json"):
        load_scene(_scene(tmp_path, "."))


def test_simulate_and_preview_take_the_pack(pack, tmp_path, capsys):
    assert load_scene("hvla_vs_self_twist").panels[0].maneuver is not None
    assert main(["simulate", "hvla_vs_self_twist", "--bones", str(pack)]) == 0
    capsys.readouterr()
    out = tmp_path / "preview.png"
    assert main(["meshes", "preview", "--bones", str(pack), "--out", str(out)]) == 0
    assert out.stat().st_size > 10_000
    _one_line_error(
        capsys,
        ["meshes", "preview", "--bones", str(tmp_path), "--out", str(out)],
        "--bones",
        "no readable manifest.json",
    )


def test_exports_take_the_pack_s_bones_and_credit(moved):
    from spine3d.export.gltf import gltf_scene
    from spine3d.export.webpage import _bone_credit

    scene = with_bones(load_scene("restricted_l4l5"), moved)
    glb = gltf_scene(scene, panel=1)
    l3 = glb.geometry[next(k for k in glb.geometry if "L3" in k)]
    # The moved pack's L3 stands SHIFT_MM right of its own frame's origin, in metres.
    assert l3.vertices[:, 2].mean() * 1000 > SHIFT_MM - 20
    shipped = gltf_scene(load_scene("restricted_l4l5"), panel=1)
    l3_shipped = shipped.geometry[next(k for k in shipped.geometry if "L3" in k)]
    assert abs(l3_shipped.vertices[:, 2].mean() * 1000) < 20
    # The web page's credit line (solving its slider grid would take a minute here).
    assert _bone_credit(scene.panels[0].spine.bones) == "Bones: Test bones (CC0-1.0)."
    assert "myo-sim" in _bone_credit(None)


def test_a_facet_override_turns_the_pack_s_own_bones(pack, tmp_path):
    extra = '[spine.facets]\n"L3-L4" = { coronal_deg = 10, transverse_deg = 90 }\n'
    fig = describe(load_scene(_scene(tmp_path, str(pack), extra)))
    bones = read_meshes(["L3", "L4"], pack)
    turned = {m.level: m.vertices for m in fig.panels[0].meshes if m.vertices is not None}
    assert set(turned) == {"L3", "L4"}
    for lv, v in turned.items():
        assert v.shape == bones[lv].vertices.shape
        moved_mm = np.linalg.norm(v - bones[lv].vertices, axis=1)
        assert moved_mm.max() > 1.0 and np.median(moved_mm) < 0.1  # the process, not the bone
