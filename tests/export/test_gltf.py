"""``spine3d export-gltf``: read back with pygltflib (an independent reader) and trimesh."""

import numpy as np
import pytest

import spine3d
from spine3d._cli.main import main
from spine3d.export.gltf import MM_PER_M, _linear
from spine3d.scene import load_scene
from spine3d.scene.describe import describe

pygltflib = pytest.importorskip("pygltflib")


@pytest.fixture(scope="module")
def glb(tmp_path_factory):
    out = tmp_path_factory.mktemp("gltf") / "restricted.glb"
    assert (
        main(["export-gltf", "scenes/restricted_l4l5.toml", "--out", str(out), "--panel", "2"]) == 0
    )
    return out


def _matrix(node) -> np.ndarray:
    # glTF matrices are column-major; trimesh writes a node's pose as its matrix.
    return np.array(node.matrix, dtype=float).reshape(4, 4).T


def test_one_node_per_bone_named_by_level_in_the_solvers_pose(glb, model):
    g = pygltflib.GLTF2().load(str(glb))
    scene = load_scene("scenes/restricted_l4l5.toml")
    levels = list(scene.panels[1].spine.levels)
    named = [n for n in g.nodes if n.mesh is not None]
    assert [n.name for n in named] == levels
    state = spine3d.solve(model, 30.0, mobility={"L4-L5": "restricted"})
    for node in named:
        m = _matrix(node)
        pose = np.asarray(state.pose(node.name))
        np.testing.assert_allclose(m[:3, :3], pose[:3, :3], atol=1e-9)
        np.testing.assert_allclose(m[:3, 3] * MM_PER_M, pose[:3, 3], atol=1e-6)
    # The restricted segment's vertebra turns less than its neighbours; in the file too.
    r = {n.name: _matrix(n) for n in named}

    def turn(upper, lower):  # rotation of upper on lower, less the rest pose's
        rest = [np.asarray(model.vertebra(lv).rest_pose)[:3, :3] for lv in (upper, lower)]
        rel = np.linalg.solve(r[lower][:3, :3], r[upper][:3, :3]) @ (rest[1].T @ rest[0]).T
        return np.degrees(np.arccos(np.clip((np.trace(rel) - 1) / 2, -1, 1)))

    assert turn("L4", "L5") < 0.5 * turn("L3", "L4")


def test_colours_and_metres(glb):
    import trimesh

    g = pygltflib.GLTF2().load(str(glb))
    fig = describe(load_scene("scenes/restricted_l4l5.toml")).panels[1]
    colours = {m.level: m.color for m in fig.meshes if m.role == "bone"}
    for node in (n for n in g.nodes if n.mesh is not None):
        prim = g.meshes[node.mesh].primitives[0]
        material = g.materials[prim.material]
        np.testing.assert_allclose(
            material.pbrMetallicRoughness.baseColorFactor[:3],
            _linear(colours[node.name]),
            atol=0.005,
        )
    loaded = trimesh.load(str(glb), force="scene")
    height_m = loaded.bounds[1, 1] - loaded.bounds[0, 1]
    assert 0.15 < height_m < 0.4  # T10 to the sacrum, in metres


def test_text_gltf_and_bad_output(tmp_path, capsys):
    out = tmp_path / "spine.gltf"
    assert main(["export-gltf", "scenes/self_twist.toml", "--out", str(out)]) == 0
    g = pygltflib.GLTF2().load(str(out))
    names = [n.name for n in g.nodes if n.mesh is not None]
    assert names[:18] == list(load_scene("scenes/self_twist.toml").panels[0].spine.levels)
    assert {"rib_5_left", "sternum", "pelvis_left"} <= set(names[18:])  # the context bones
    assert all(b.uri.startswith("data:") for b in g.buffers)  # one file, nothing beside it
    assert main(["export-gltf", "scenes/self_twist.toml", "--out", str(tmp_path / "x.obj")]) == 2
    assert "expected a .glb or .gltf file" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spine.gltf"]
