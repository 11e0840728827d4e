import hashlib
import shutil

import numpy as np
import pytest

from spine3d.errors import MeshFileError
from spine3d.geometry import (
    articular_surfaces,
    build_meshes,
    build_vertebra,
    default_mesh_dir,
    facet_mask,
    load_manifest,
    load_meshes,
    to_manifold,
)
from spine3d.geometry.builder import INTERSECTION_TOL_MM3


@pytest.fixture(scope="module")
def meshes():
    return load_meshes()


def test_every_level_is_a_clean_solid(model, meshes):
    assert list(meshes) == list(model.level_names)
    for level, mesh in meshes.items():
        assert mesh.is_watertight, level
        assert mesh.is_winding_consistent, level
        assert mesh.volume > 0, level
        assert len(mesh.split(only_watertight=False)) == 1, level
        assert 5000 <= len(mesh.faces) <= 30000, (level, len(mesh.faces))
        genus = (2 - mesh.euler_number) // 2
        if level != "S1":
            assert genus >= 1, level  # the vertebral canal goes through


def test_levels_of_detail(model):
    coarse = build_vertebra(model, "L3", "coarse")
    fine = build_vertebra(model, "L3", "fine")
    assert len(coarse.faces) < 5000 < 30000 < len(fine.faces)
    assert coarse.is_watertight and fine.is_watertight


def test_facet_normals_match_the_table(model, meshes):
    for level, mesh in meshes.items():
        mask = facet_mask(model, level, mesh)
        for s in articular_surfaces(model, level):
            d = mesh.triangles_center - s["centre_mm"]
            near = mask & (np.linalg.norm(d, axis=1) < 0.3 * min(s["width_mm"], s["height_mm"]))
            assert near.sum() > 10, (level, s["joint"], s["side"])
            n = (mesh.face_normals[near] * mesh.area_faces[near, None]).sum(0)
            n /= np.linalg.norm(n)
            angle = np.degrees(np.arccos(np.clip(n @ s["normal"], -1, 1)))
            assert angle < 1.0, (level, s["joint"], s["process"], s["side"], angle)


def test_manifest_matches_model(model):
    manifest = load_manifest()
    assert manifest["tables_version"] == model.tables_version
    for level in model.level_names:
        entry = manifest["levels"][level]
        assert np.allclose(entry["local_frame"], model.vertebra(level).rest_pose, atol=1e-3)
        for f, s in zip(entry["facets"], articular_surfaces(model, level), strict=True):
            assert np.allclose(f["normal"], s["normal"], atol=1e-5)
            assert f["area_mm2"] == pytest.approx(s["area_mm2"], abs=0.01)


def test_rest_pose_is_coherent(model, meshes):
    solids = {
        lv: to_manifold(m).transform(model.vertebra(lv).rest_pose[:3].tolist())
        for lv, m in meshes.items()
    }
    for j in model.joints:
        upper, lower = solids[j.upper], solids[j.lower]
        assert (upper ^ lower).volume() < INTERSECTION_TOL_MM3, j.name
        # Each inferior articular surface faces the superior one across the clearance.
        inferior = [s for s in articular_surfaces(model, j.upper) if s["joint"] == j.name]
        superior = [s for s in articular_surfaces(model, j.lower) if s["joint"] == j.name]
        for a, b in zip(inferior, superior, strict=True):
            pa = model.vertebra(j.upper).rest_pose
            pb = model.vertebra(j.lower).rest_pose
            ca = pa[:3, :3] @ a["centre_mm"] + pa[:3, 3]
            cb = pb[:3, :3] @ b["centre_mm"] + pb[:3, 3]
            na, nb = pa[:3, :3] @ a["normal"], pb[:3, :3] @ b["normal"]
            assert na @ nb == pytest.approx(-1.0, abs=1e-9)
            assert (ca - cb) @ nb == pytest.approx(a["clearance_mm"], abs=1e-9)
        # Bodies are separated by the disc.
        gap = np.linalg.norm(
            model.vertebra(j.upper).rest_pose[:3, 3] - model.vertebra(j.lower).rest_pose[:3, 3]
        )
        hu, hl = model.vertebra(j.upper).body_height_mm, model.vertebra(j.lower).body_height_mm
        assert gap == pytest.approx(0.5 * (hu + hl) + j.disc_height_mm, rel=0.05)


def test_build_is_deterministic_and_matches_shipped(model, tmp_path):
    levels = ["T6", "L4", "S1"]
    build_meshes(model, tmp_path / "a", levels=levels)
    build_meshes(model, tmp_path / "b", levels=levels)
    for lv in levels:
        a = (tmp_path / "a" / f"{lv}.ply").read_bytes()
        assert a == (tmp_path / "b" / f"{lv}.ply").read_bytes()
        shipped = load_manifest()["levels"][lv]["sha256"]
        assert hashlib.sha256(a).hexdigest() == shipped, f"meshes/{lv}.ply is out of date"


def test_missing_and_corrupt_files(tmp_path):
    d = tmp_path / "m"
    shutil.copytree(default_mesh_dir(), d, ignore=shutil.ignore_patterns("__*"))
    (d / "L3.ply").unlink()
    with pytest.raises(MeshFileError, match=r"L3\.ply: missing mesh file; rebuild with"):
        load_meshes(["L3"], mesh_dir=d)
    (d / "L4.ply").write_bytes(b"ply\nformat binary_little_endian 1.0\nend_header\n\x00")
    with pytest.raises(MeshFileError, match=r"L4\.ply: corrupt mesh file"):
        load_meshes(["L4"], mesh_dir=d)
    with pytest.raises(MeshFileError, match=r"L4\.ply: corrupt mesh file"):
        load_meshes(["L4"], mesh_dir=d, verify=False)
    (d / "manifest.json").write_text("{not json")
    with pytest.raises(MeshFileError, match=r"manifest\.json: corrupt mesh manifest"):
        load_meshes(mesh_dir=d)
    with pytest.raises(MeshFileError, match="missing mesh manifest"):
        load_meshes(mesh_dir=tmp_path / "empty")
