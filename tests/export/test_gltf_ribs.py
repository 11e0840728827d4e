"""``spine3d export-gltf``: the rib cage as the figure draws it, where the solve put it."""

from pathlib import Path

import numpy as np
import pytest

from spine3d._cli.main import main
from spine3d.export.gltf import MM_PER_M, gltf_scene
from spine3d.scene import load_scene, with_ribs
from spine3d.scene.describe import describe

ROOT = Path(__file__).resolve().parents[2]
RIB_CAGE = ROOT / "scenes" / "rib_cage.toml"


def test_each_rib_cage_part_is_a_node_in_the_solve_s_pose():
    scene = with_ribs(load_scene(RIB_CAGE), "no_anterior")
    s = gltf_scene(scene)
    state = describe(scene).panels[0].state
    parts = set(s.graph.nodes_geometry) - set(state.model.level_names)
    ribs = {n for n in parts if n.startswith("rib_")}
    assert ribs == {n for n in state.part_poses if n.startswith("rib_")}
    assert not {n for n in parts if n.startswith(("cartilage", "sternum"))}  # cut away
    for name in ("rib_1_left", "rib_9_right"):
        pose, _ = s.graph[name]
        expected = np.array(state.part_poses[name], dtype=float)
        np.testing.assert_allclose(pose[:3, :3], expected[:3, :3], atol=1e-9)
        np.testing.assert_allclose(pose[:3, 3] * MM_PER_M, expected[:3, 3], atol=1e-6)


def test_no_rib_cage_in_the_mechanics_writes_none(tmp_path, capsys):
    pygltflib = pytest.importorskip("pygltflib")
    out = tmp_path / "none.glb"
    assert main(["export-gltf", str(RIB_CAGE), "--panel", "2", "--out", str(out)]) == 0
    names = [n.name for n in pygltflib.GLTF2().load(str(out)).nodes if n.mesh is not None]
    assert not [n for n in names if n.startswith(("rib_", "cartilage_", "sternum"))]
    assert "pelvis_left" in names
    out = tmp_path / "intact.glb"
    assert main(["export-gltf", str(RIB_CAGE), "--out", str(out)]) == 0
    g = pygltflib.GLTF2().load(str(out))
    rib = next(n for n in g.nodes if n.name == "rib_5_left")
    material = g.materials[g.meshes[rib.mesh].primitives[0].material]
    assert material.alphaMode == "BLEND"  # translucent, as in the figure
