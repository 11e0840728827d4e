import hashlib
import io
import shutil

import manifold3d as mf
import numpy as np
import pytest
import trimesh

import spine3d
from spine3d.anatomy import LEVELS, SIDES, joint_table
from spine3d.anatomy.frames import apply, invert
from spine3d.anatomy.model import facet_angles
from spine3d.errors import MeshFileError
from spine3d.geometry import (
    build_meshes,
    default_mesh_dir,
    facet_mask,
    load_manifest,
    load_meshes,
    read_meshes,
    turned_facet_vertices,
)
from spine3d.geometry.bones import fit_surface, warp_surface
from spine3d.geometry.column import CARTILAGE_MM
from spine3d.geometry.ply import read_ply

OVERLAP_TOL_MM3 = 0.01
"""Float32 round-off on surfaces that touch, mm³."""


@pytest.fixture(scope="module")
def manifest():
    return load_manifest()


@pytest.fixture(scope="module")
def meshes():
    return load_meshes()


def _processed(name):
    """The shipped file as trimesh's default processing (vertex merging) reads it."""
    path = default_mesh_dir() / f"{name}.ply"
    return trimesh.load(io.BytesIO(path.read_bytes()), file_type="ply")


def test_every_vertebra_is_a_closed_bone_with_a_canal():
    for level in LEVELS:
        mesh = _processed(level)
        assert mesh.is_watertight, level
        assert mesh.is_winding_consistent, level
        assert mesh.volume > 0, level
        assert mesh.body_count == 1, level
        assert 5000 <= len(mesh.faces) <= 30000, (level, len(mesh.faces))
        genus = (2 - mesh.euler_number) // 2
        if level != "S1":
            assert genus >= 1, level  # the vertebral canal goes through


def test_rib_cage_and_pelvis_parts(manifest):
    parts = manifest["parts"]
    kinds = [p["kind"] for p in parts.values()]
    assert kinds.count("rib") == 24 and kinds.count("sternum") == 1
    assert kinds.count("cartilage") == 20 and kinds.count("pelvis") == 2
    for name, entry in parts.items():
        mesh = _processed(name)
        assert mesh.body_count == 1, name
        if entry["kind"] != "pelvis":  # the package's hip bones are open surfaces
            assert mesh.is_watertight and mesh.is_winding_consistent, name
        if entry["kind"] in ("rib", "cartilage"):
            k = int(name.split("_")[1])
            assert entry["moves_with"] == f"T{k}", name


def test_loading_all_bones(manifest, meshes):
    assert set(meshes) == set(manifest["levels"]) | set(manifest["parts"])
    assert len(meshes) == 18 + 24 + 20 + 1 + 2


def _in_range(value, lo, hi):
    return lo <= value <= hi or lo <= value + 180.0 <= hi or lo <= value - 180.0 <= hi


def test_measured_facet_angles_lie_in_the_published_ranges(manifest):
    table = joint_table()
    for seg, entry in manifest["joints"].items():
        row = table[seg]
        for side in SIDES:
            f = entry["facets"][side]
            cor, tra = facet_angles(np.asarray(f["normal"]), side)
            assert abs(cor - f["coronal_deg"]) < 0.01 and abs(tra - f["transverse_deg"]) < 0.01
            assert _in_range(cor, row["coronal_min_deg"], row["coronal_max_deg"]), (seg, cor)
            assert row["transverse_min_deg"] <= tra <= row["transverse_max_deg"], (seg, tra)


def test_the_thoracolumbar_transition_comes_from_the_bones(model):
    # Thoracic superior facets face backward and out, lumbar ones backward and in.
    for j in model.joints:
        n = j.facets[SIDES.index("right")].normal
        assert n[0] < 0, j.name
        if j.region == "thoracic":
            assert n[2] >= -0.05, j.name
        if j.region == "lumbar":
            assert n[2] < -0.5, j.name


def test_drawn_facets_are_the_model_facets(model, manifest, meshes):
    """Refit each articular surface on the drawn triangles: within 1 deg of the model."""
    for j in model.joints:
        for side, facet in zip(SIDES, j.facets, strict=True):
            for level, frame, key, sign in (
                (j.lower, j.disc_frame_in_lower, f"superior_{side}", 1.0),
                (j.upper, j.disc_frame_in_upper, f"inferior_{side}", -1.0),
            ):
                mesh = meshes[level]
                faces = manifest["levels"][level]["facets"][key]["faces"]
                fit = fit_surface(np.asarray(mesh.vertices), np.asarray(mesh.faces), faces)
                want = sign * (frame[:3, :3] @ facet.normal)
                angle = np.degrees(np.arccos(np.clip(fit.normal @ want, -1, 1)))
                assert angle < 1.0, (j.name, key, angle)
            # and the mask the figures colour is the same triangles
            mask = facet_mask(j.lower, meshes[j.lower])
            assert mask[manifest["levels"][j.lower]["facets"][f"superior_{side}"]["faces"]].all()


def test_articular_surfaces_face_their_partners_across_the_cartilage(manifest):
    table = joint_table()
    for seg, entry in manifest["joints"].items():
        want = 2 * CARTILAGE_MM + table[seg]["clearance_mm"]
        for side in SIDES:
            assert entry["facets"][side]["bone_gap_mm"] == pytest.approx(want, abs=0.05)


def test_bone_contacts_are_measured_on_the_bones(model, manifest, meshes):
    """Each contact joins a point of the upper bone to the lower bone's surface."""
    from trimesh.triangles import closest_point

    for j in model.joints:
        entry = manifest["joints"][j.name]["contacts"]
        up = apply(invert(j.disc_frame_in_upper), np.asarray(meshes[j.upper].vertices))
        lo = apply(invert(j.disc_frame_in_lower), np.asarray(meshes[j.lower].vertices))
        tri = lo[np.asarray(meshes[j.lower].faces)]
        for c in j.contacts:
            assert np.linalg.norm(up - c.point_mm, axis=1).min() < 1e-3, (j.name, c.site)
            on = closest_point(tri, np.repeat(c.plane_mm[None], len(tri), axis=0))
            assert np.linalg.norm(on - c.plane_mm, axis=1).min() < 1e-3, (j.name, c.site)
            assert c.gap_mm == pytest.approx(entry[c.site]["gap_mm"], abs=1e-3)
            # nothing of the lower bone lies between the point and where it would meet it
            along = (
                (lo - c.point_mm)
                @ (c.plane_mm - c.point_mm)
                / np.sum((c.plane_mm - c.point_mm) ** 2)
            )
            off = np.linalg.norm(
                lo - c.point_mm - along[:, None] * (c.plane_mm - c.point_mm), axis=1
            )
            assert not ((along > 0.05) & (along < 0.95) & (off < 0.05)).any(), j.name


def test_template_sets_name_the_same_anatomy_on_every_level(manifest):
    """Superior surfaces above the pedicles and behind the body, on their own side."""
    for level, entry in manifest["levels"].items():
        depth = abs(entry["endplates"]["superior"]["centre_mm"][0]) + 8.0
        for key, s in entry["facets"].items():
            process, side = key.split("_")
            c, n = np.asarray(s["centre_mm"]), np.asarray(s["normal"])
            sz = 1.0 if side == "right" else -1.0
            assert c[0] < -depth, (level, key)  # behind the body
            assert sz * c[2] > 5.0, (level, key)  # on its own side
            if process == "superior":
                assert c[1] > -2.0 and n[0] < 0, (level, key)  # up, facing back
            else:
                assert c[1] < 2.0 and n[0] > 0, (level, key)  # down, facing forward


def _manifold(mesh, pose):
    v = apply(pose, np.asarray(mesh.vertices))
    return mf.Manifold(mf.Mesh(v.astype(np.float32), np.asarray(mesh.faces, np.uint32)))


def test_rest_pose_is_free_of_interpenetration(model, manifest, meshes):
    bones = {lv: _manifold(meshes[lv], model.vertebra(lv).rest_pose) for lv in LEVELS}
    for upper, lower in zip(LEVELS[:-1], LEVELS[1:], strict=True):
        assert (bones[upper] ^ bones[lower]).volume() < OVERLAP_TOL_MM3, (upper, lower)
    for name, entry in manifest["parts"].items():
        if entry["kind"] != "rib":
            continue
        rib = _manifold(meshes[name], model.vertebra(entry["moves_with"]).rest_pose)
        k = LEVELS.index(entry["moves_with"])
        for lv in LEVELS[max(k - 1, 0) : k + 2]:
            assert (rib ^ bones[lv]).volume() < OVERLAP_TOL_MM3, (name, lv)


def test_model_is_compiled_from_the_measurements(model, manifest):
    for j in model.joints:
        m = manifest["joints"][j.name]
        assert j.disc_width_mm == pytest.approx(m["disc_width_mm"])
        for side, f in zip(SIDES, j.facets, strict=True):
            assert np.allclose(f.centre_mm, m["facets"][side]["centre_mm"])
            assert f.coronal_deg == pytest.approx(m["facets"][side]["coronal_deg"])


def test_facet_override_turns_the_drawn_bone(manifest, meshes):
    assert turned_facet_vertices(spine3d.load_model()) == {}
    model = spine3d.load_model(facets={"T6-T7": {"coronal_deg": 50.0, "transverse_deg": 90.0}})
    turned = turned_facet_vertices(model)
    assert set(turned) == {"T6", "T7"}
    j = model.joint("T6-T7")
    for side, facet in zip(SIDES, j.facets, strict=True):
        faces = manifest["levels"]["T7"]["facets"][f"superior_{side}"]["faces"]
        fit = fit_surface(turned["T7"], np.asarray(meshes["T7"].faces), faces)
        want = j.disc_frame_in_lower[:3, :3] @ facet.normal
        assert np.degrees(np.arccos(np.clip(fit.normal @ want, -1, 1))) < 1.0
    # The vertebral bodies stay where they were.
    body = np.asarray(meshes["T7"].vertices)[:, 0] > 0
    assert np.allclose(turned["T7"][body], np.asarray(meshes["T7"].vertices)[body])


def test_warp_is_smooth_and_local():
    rng = np.random.default_rng(0)
    pts = rng.uniform(-30, 30, (2000, 3))
    n0, n1 = np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0])
    out = warp_surface(pts, np.zeros(3), n0, n1)
    far = np.linalg.norm(pts, axis=1) > 11.0
    assert np.allclose(out[far], pts[far])
    near = np.linalg.norm(pts, axis=1) < 4.0
    assert np.allclose(out[near] @ n1, pts[near] @ n0)  # turned rigidly
    # displacement is continuous: nearby points move alike
    step = warp_surface(pts + 1e-3, np.zeros(3), n0, n1) - out
    assert np.abs(step).max() < 0.01


def test_build_is_deterministic_and_matches_shipped(tmp_path):
    build_meshes(tmp_path / "a")
    shipped = load_manifest()
    built = load_manifest(tmp_path / "a")
    assert built == shipped, "meshes/ is out of date: rebuild with `spine3d meshes build`"
    for entry in [*shipped["levels"].values(), *shipped["parts"].values()]:
        data = (tmp_path / "a" / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["file"]


def test_numpy_reader_reads_what_trimesh_reads(manifest):
    from scipy.spatial import ConvexHull

    bones = read_meshes()
    assert set(bones) == {*manifest["levels"], *manifest["parts"]}
    for name in ("T1", "L3", "S1", "rib_5_left", "sternum", "pelvis_left"):
        data = (default_mesh_dir() / f"{name}.ply").read_bytes()
        ref = trimesh.load(io.BytesIO(data), file_type="ply", process=False)
        assert np.array_equal(bones[name].vertices, ref.vertices), name
        assert np.array_equal(bones[name].faces, ref.faces), name
        hull = ConvexHull(np.asarray(ref.vertices)).vertices
        assert np.array_equal(bones[name].hull, np.sort(hull)), name
        assert not bones[name].vertices.flags.writeable
    # Another property order, double precision and big-endian read alike.
    v, f = bones["L3"].vertices, bones["L3"].faces
    header = (
        f"ply\nformat binary_big_endian 1.0\nelement vertex {len(v)}\nproperty double z\n"
        f"property uchar flag\nproperty double x\nproperty double y\nelement face {len(f)}\n"
        "property list uchar int vertex_indices\nend_header\n"
    )
    verts = np.zeros(len(v), [("z", ">f8"), ("flag", "u1"), ("x", ">f8"), ("y", ">f8")])
    verts["x"], verts["y"], verts["z"] = v.T
    tris = np.zeros(len(f), [("n", "u1"), ("i", ">i4", (3,))])
    tris["n"], tris["i"] = 3, f
    got_v, got_f = read_ply(header.encode() + verts.tobytes() + tris.tobytes())
    assert np.array_equal(got_v, v) and np.array_equal(got_f, f)
    quads = tris.copy()
    quads["n"] = 4
    with pytest.raises(ValueError, match="triangles"):
        read_ply(header.encode() + verts.tobytes() + quads.tobytes())
    with pytest.raises(ValueError, match="ends inside the faces"):
        read_ply(header.encode() + verts.tobytes() + tris.tobytes()[:-1])
    with pytest.raises(ValueError, match="binary"):
        read_ply(b"ply\nformat ascii 1.0\nend_header\n")


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


def test_landmarks_lie_where_their_names_say(manifest):
    for level, entry in manifest["levels"].items():
        mark = {k: np.asarray(v) for k, v in entry["landmarks_mm"].items()}
        assert mark["anterior_body"][0] > 0 > mark["posterior_body"][0], level
        if level == "S1":
            continue
        assert mark["spinous_tip"][0] < mark["spinous_base"][0] < mark["posterior_body"][0]
        assert mark["transverse_tip_left"][2] < -20 and mark["transverse_tip_right"][2] > 20
