"""``spine3d import``: real bones from other projects become measured packs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import trimesh

import spine3d
from spine3d._cli.main import main
from spine3d.anatomy import SIDES
from spine3d.errors import SpineInputError
from spine3d.geometry.importer import import_pack, level_from_name, parse_levels

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "meshes"
needs_reference = pytest.mark.skipif(
    not REFERENCE.is_dir(),
    reason=f"reference meshes not found at {REFERENCE} (they live beside the project, "
    "not in a user's clone)",
)

BP3D = {
    "T1": "FJ3158",
    "T2": "FJ3160",
    "T3": "FJ3163",
    "T4": "FJ3166",
    "T5": "FJ3169",
    "T6": "FJ3171",
    "T7": "FJ3173",
    "T8": "FJ3174",
    "T9": "FJ3175",
    "T10": "FJ3154",
    "T11": "FJ3155",
    "T12": "FJ3156",
    "L1": "FJ3157",
    "L2": "FJ3159",
    "L3": "FJ3162",
    "L4": "FJ3165",
    "L5": "FJ3168",
    "S1": "FJ3393",
}
REMUS_FACETS = {
    "L1": "L12FacL1",
    "L2": "L23FacL2",
    "L3": "L34FacL3",
    "L4": "L45FacL4",
    "L5": "L51FacL5",
}


def _remus_folder(tmp: Path, levels=("L1", "L2", "L3", "L4", "L5", "S1")) -> Path:
    src = tmp / "remus"
    src.mkdir()
    for lv in levels:
        (src / f"{lv}_Schrumpfverpacken.obj").symlink_to(
            REFERENCE / "remus_lss" / f"{lv}_Schrumpfverpacken.obj"
        )
    return src


def _angle_deg(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    c = abs(float(a @ b)) / (np.linalg.norm(a) * np.linalg.norm(b))
    return math.degrees(math.acos(min(1.0, c)))


# --- names and levels ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("L3.stl", "L3"),
        ("lumbar3.obj", "L3"),
        ("vertebrae_L3.stl", "L3"),
        ("vertebrae_T12.nii.gz", "T12"),
        ("thoracic_7.ply", "T7"),
        ("sacrum.stl", "S1"),
        ("S1_Schrumpfverpacken.obj", "S1"),
        ("sub-verse004_0000_vertebra_21_seg.nii.gz", "L2"),
        ("FJ3162.obj", None),
        ("L12FacL1l_i.obj", None),
        ("C5.stl", None),
    ],
)
def test_level_from_name(name, level):
    assert level_from_name(name) == level


def test_parse_levels():
    assert parse_levels("T11-L2") == ("T11", "T12", "L1", "L2")
    assert parse_levels("L5,L4") == ("L4", "L5")
    with pytest.raises(SpineInputError, match="L6"):
        parse_levels("L3-L6")
    with pytest.raises(SpineInputError, match="top to bottom"):
        parse_levels("L5-L1")


# --- Remus L1-S1: assembled, metres, triangle soup -----------------------------------


@pytest.fixture(scope="module")
def remus(tmp_path_factory):
    if not REFERENCE.is_dir():
        pytest.skip(f"reference meshes not found at {REFERENCE}")
    tmp = tmp_path_factory.mktemp("remus")
    result = import_pack(_remus_folder(tmp), tmp / "pack", name="Remus", licence="BSD-3-Clause")
    return result, json.loads((tmp / "pack" / "manifest.json").read_text())


@needs_reference
def test_remus_imports_assembled_in_metres(remus):
    result, manifest = remus
    assert result.levels == ("L1", "L2", "L3", "L4", "L5", "S1")
    assert result.units.startswith("m ")
    assert result.assembled
    assert set(manifest["joints"]) == {"L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1"}
    for lv, entry in manifest["levels"].items():
        s2p = np.asarray(entry["source_to_pack"])
        assert s2p.shape == (4, 4)
        # metres to millimetres, a rotation times 1000
        assert np.allclose(np.linalg.norm(s2p[:3, :3], axis=0), 1000.0, rtol=1e-6)
        assert entry["source"]["sha256"] and entry["mesh"] == f"{lv}.ply"
        assert entry["triangles"] <= 8000
    assert manifest["source"]["licence"] == "BSD-3-Clause"
    # Lumbar facets stand near the sagittal plane: coronal angles of 40-80 deg.
    for seg, joint in manifest["joints"].items():
        for side in SIDES:
            assert 35.0 < joint["facets"][side]["coronal_deg"] < 85.0, (seg, side)
        assert "published" in joint and "doubtful" in joint


@needs_reference
def test_remus_frames_follow_the_anatomy(remus):
    """Remus's file axes are +X anterior, +Y left, +Z superior: the pack finds them."""
    _, manifest = remus
    for lv, entry in manifest["levels"].items():
        rot = np.asarray(entry["source_to_pack"])[:3, :3] / 1000.0
        # source axes in the pack frame: X -> +X (anterior), Z -> +Y (superior), Y -> -Z
        assert rot[:, 0] @ [1, 0, 0] > 0.7, lv
        assert rot[:, 2] @ [0, 1, 0] > 0.7, lv
        assert rot[:, 1] @ [0, 0, -1] > 0.9, lv


def _patch(stem: str, s2p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return a Remus facet patch's area-weighted centre and normal in the pack's frame."""
    patch = trimesh.load(REFERENCE / "remus_lss" / f"{stem}_i.obj", force="mesh", process=False)
    patch.apply_transform(s2p)
    w = patch.area_faces[:, None]
    centre = (patch.triangles_center * w).sum(0) / w.sum()
    return centre, (patch.face_normals * w).sum(0)


@needs_reference
def test_remus_inferior_surfaces_match_the_explicit_patches(remus):
    """The found inferior articular surfaces lie on Remus's own facet patches.

    Centres within 3 mm at every joint (the issue's bound; measured 0.5-2.9 mm).
    Normals: the median of the ten surfaces within 10 deg (measured 9.4), each within
    20 deg (measured 7-12 deg, but 16-17 deg at L2). Remus's patches are 6-9 mm discs in
    the joint space; at L2-L3 and L3-L4 the patch lies parallel to the lower bone's
    superior facet (within 4 deg), while the upper bone's own surface under it stands
    13-20 deg off, at every radius from 3 to 13 mm: a surface measured on the upper bone
    cannot come nearer there (see docs/import.md).
    """
    _, manifest = remus
    normal_errors = []
    for lv, stem in REMUS_FACETS.items():
        s2p = np.asarray(manifest["levels"][lv]["source_to_pack"])
        for side, ch in (("left", "l"), ("right", "r")):
            centre, normal = _patch(f"{stem}{ch}", s2p)
            found = manifest["levels"][lv]["facets"][f"inferior_{side}"]
            assert np.linalg.norm(np.asarray(found["centre_mm"]) - centre) < 3.0, (lv, side)
            normal_errors.append(_angle_deg(found["normal"], normal))
            assert normal_errors[-1] < 20.0, (lv, side)
    assert np.median(normal_errors) < 10.0, np.round(normal_errors, 1)


@needs_reference
def test_remus_pack_gives_a_model_of_l1_to_s1(remus, capsys):
    result, _ = remus
    model = spine3d.load_model(bones=str(result.pack))
    assert model.level_names == result.levels
    assert model.segment_names == ("L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1")
    state = spine3d.solve(model, twist_deg=10.0, levels="L1-S1")
    assert state.levels == "L1-S1" and np.all(np.asarray(state.rotation_deg) > 0.0)
    assert spine3d.solve(model, twist_deg=10.0).levels == "L1-S1"  # the pack's own range
    assert main(["solve", "--bones", str(result.pack), "--twist", "10", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["levels"] == "L1-S1"
    assert main(["solve", "--bones", str(result.pack), "--levels", "T11-S1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "Error: levels = 'T11-S1': the bones lack T11, T12 (they hold L1 to S1)", err


# --- BodyParts3D: T1-S1, arbitrary units, whole-body frame, not watertight -----------


@needs_reference
def test_bodyparts3d_imports_the_whole_column_and_solves(tmp_path, capsys):
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        "[levels]\n" + "".join(f'{lv} = "{f}.obj"\n' for lv, f in BP3D.items()), encoding="utf-8"
    )
    pack = tmp_path / "bp3d"
    rc = main(
        [
            "import",
            str(REFERENCE / "bp3d_decimated"),
            "--out",
            str(pack),
            "--map",
            str(mapping),
            "--licence",
            "CC BY-SA 2.1 JP",
        ]
    )
    assert rc == 0
    manifest = json.loads((pack / "manifest.json").read_text())
    assert list(manifest["levels"]) == list(BP3D)
    assert manifest["source"]["units"].startswith("arbitrary")
    assert manifest["source"]["assembled"]  # one whole-body frame
    model = spine3d.load_model(bones=str(pack))
    state = spine3d.solve(model, twist_deg=30.0)
    rot = np.asarray(state.rotation_deg)
    assert rot.shape == (17,)
    # The thoracic segments, whose facets slide, turn more than the lumbar ones.
    assert rot[:10].mean() > 1.3 * rot[12:].mean()
    # Lumbar facets near the sagittal plane, mid-thoracic ones near the coronal plane.
    for seg in ("L2-L3", "L3-L4", "L4-L5"):
        for side in SIDES:
            assert 30 < manifest["joints"][seg]["facets"][side]["coronal_deg"] < 75
    for seg in ("T4-T5", "T5-T6", "T6-T7", "T7-T8"):
        for side in SIDES:
            assert manifest["joints"][seg]["facets"][side]["coronal_deg"] > 130
    capsys.readouterr()
    assert main(["solve", "--bones", str(pack), "--twist", "30", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["segments"]) == 17


# --- invariance: units, pose, names, order --------------------------------------------


def _turn(deg_x, deg_y, deg_z, shift) -> np.ndarray:
    m = trimesh.transformations.euler_matrix(*np.radians([deg_x, deg_y, deg_z]))
    m[:3, 3] = shift
    return m


@needs_reference
def test_same_bones_in_mm_rotated_renamed_give_the_same_pack(tmp_path):
    levels = ("L3", "L4", "L5")
    a = import_pack(_remus_folder(tmp_path, levels), tmp_path / "a")
    src = tmp_path / "moved"
    src.mkdir()
    move = _turn(30.0, -50.0, 110.0, [120.0, -40.0, 900.0])
    names = {"L3": "lumbar3.stl", "L4": "vertebrae_L4.ply", "L5": "L5.obj"}
    for lv in reversed(levels):
        m = trimesh.load(
            REFERENCE / "remus_lss" / f"{lv}_Schrumpfverpacken.obj", force="mesh", process=False
        )
        m.apply_scale(1000.0)
        m.apply_transform(move)
        m.export(src / names[lv])
    b = import_pack(src, tmp_path / "b")
    ma = json.loads((a.pack / "manifest.json").read_text())
    mb = json.loads((b.pack / "manifest.json").read_text())
    assert a.units.startswith("m ") and b.units.startswith("mm")
    for lv in levels:
        # b's sources are a's times 1000, then moved: b's source_to_pack after the move
        # must be a's in millimetres, i.e. the same frame on the bone.
        ra = np.asarray(ma["levels"][lv]["source_to_pack"])[:3, :3] / 1000.0
        rb = (np.asarray(mb["levels"][lv]["source_to_pack"]) @ move)[:3, :3]
        cos = (np.trace(ra.T @ rb) - 1.0) / 2.0
        assert math.degrees(math.acos(min(1.0, cos))) < 1.0, lv
    for seg in ("L3-L4", "L4-L5"):
        for side in SIDES:
            fa, fb = ma["joints"][seg]["facets"][side], mb["joints"][seg]["facets"][side]
            assert abs(fa["coronal_deg"] - fb["coronal_deg"]) < 1.0, (seg, side)
            assert abs(fa["transverse_deg"] - fb["transverse_deg"]) < 1.0, (seg, side)


# --- CT label maps --------------------------------------------------------------------


@needs_reference
@pytest.mark.parametrize("mirror", [False, True])
def test_verse_label_map_imports_as_l2_the_right_way_up(tmp_path, mirror):
    """The VerSe L2 lands with its arch posterior and its superior endplate up.

    Mirrored front to back in the voxels (as a wrong header would), the arch still
    comes out posterior: the frame follows the bone, not the header.
    """
    nibabel = pytest.importorskip("nibabel")
    path = REFERENCE / "verse_sub-verse004_L2" / "sub-verse004_0000_vertebra_21_seg.nii.gz"
    img = nibabel.load(str(path))
    data = np.asarray(img.dataobj)
    if mirror:
        data = data[:, ::-1, :].copy()  # the file's second axis runs front to back
        path = tmp_path / "sub-verse004_vertebra_21_seg.nii.gz"
        nibabel.save(nibabel.Nifti1Image(data, img.affine), str(path))
    result = import_pack(path, tmp_path / "pack")
    assert result.levels == ("L2",)
    manifest = json.loads((tmp_path / "pack" / "manifest.json").read_text())
    s2p = np.asarray(manifest["levels"]["L2"]["source_to_pack"])

    def centre(labels):
        ijk = np.argwhere(np.isin(data, labels)).astype(float)
        world = ijk @ img.affine[:3, :3].T + img.affine[:3, 3]
        return (world @ s2p[:3, :3].T + s2p[:3, 3]).mean(axis=0)

    body, arch = centre([1, 2]), centre([3, 4])
    assert arch[0] < body[0] - 15.0  # posterior elements behind the body
    top, bottom = centre([6]), centre([5])  # the endplate labels: 6 lies at the scan's top
    if not mirror:
        assert top[1] > bottom[1] + 15.0
    assert abs(top[1] - bottom[1]) > 15.0


# --- errors: one line, exit 2, no pack left --------------------------------------------


def _one_line_error(capsys, argv, match: str, out: Path) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("Error: ") and match in err, err
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]


def test_not_a_mesh(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    (src / "L3.stl").write_text("this is not a mesh\n")
    out = tmp_path / "pack"
    _one_line_error(capsys, ["import", str(src), "--out", str(out)], "L3.stl: not a mesh", out)


def test_not_a_vertebra(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    trimesh.creation.icosphere(subdivisions=3, radius=25.0).export(src / "L3.stl")
    trimesh.creation.box((40, 30, 60)).export(src / "L4.stl")
    out = tmp_path / "pack"
    _one_line_error(capsys, ["import", str(src), "--out", str(out)], "L3.stl", out)


def test_two_files_claiming_one_level(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    trimesh.creation.box((1, 1, 1)).export(src / "L3.stl")
    trimesh.creation.box((1, 1, 1)).export(src / "lumbar3.obj")
    out = tmp_path / "pack"
    _one_line_error(capsys, ["import", str(src), "--out", str(out)], "claims level L3", out)


def test_unnamed_file(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    trimesh.creation.box((1, 1, 1)).export(src / "bone.stl")
    out = tmp_path / "pack"
    _one_line_error(capsys, ["import", str(src), "--out", str(out)], "cannot tell the level", out)


def test_label_map_without_vertebra_labels(tmp_path, capsys):
    nibabel = pytest.importorskip("nibabel")
    data = np.zeros((30, 30, 30), dtype=np.uint8)
    data[5:25, 5:25, 5:25] = 3  # C3: not a level of the model
    path = tmp_path / "seg.nii.gz"
    nibabel.save(nibabel.Nifti1Image(data, np.eye(4)), str(path))
    out = tmp_path / "pack"
    _one_line_error(capsys, ["import", str(path), "--out", str(out)], "no vertebra labels", out)


def test_existing_pack_is_kept(tmp_path, capsys):
    out = tmp_path / "pack"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    assert main(["import", str(tmp_path), "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    assert (out / "keep.txt").exists()


# --- one mesh of several pieces; landmarks; legacy VTK ------------------------------------


@needs_reference
def test_one_mesh_of_four_vertebrae_takes_its_levels_from_the_column(tmp_path):
    """Clouthier's mean L2-L5 (one mesh, mm, +Z superior): pieces ordered by the column."""
    d = REFERENCE / "clouthier_ssm"
    v = np.loadtxt(d / "meanMesh_vertices.csv", delimiter=",")
    f = np.loadtxt(d / "meanMesh_faces.csv", delimiter=",", dtype=int) - 1
    path = tmp_path / "spine.ply"
    # Upside down in the file: superior must come from the anatomy, not the axes.
    flip = np.diag([1.0, -1.0, -1.0])
    trimesh.Trimesh(v @ flip.T, f, process=False).export(path)
    result = import_pack(path, tmp_path / "pack", levels=parse_levels("L2-L5"))
    assert result.levels == ("L2", "L3", "L4", "L5") and result.assembled
    manifest = json.loads((tmp_path / "pack" / "manifest.json").read_text())
    heights = []
    for lv in result.levels:
        s2p = np.asarray(manifest["levels"][lv]["source_to_pack"])
        # source -Z (superior, after the flip) is the pack's +Y
        assert s2p[:3, :3] @ [0, 0, -1] @ [0, 1, 0] > 0.8, lv
        heights.append(-np.linalg.inv(s2p)[2, 3])
    assert heights == sorted(heights, reverse=True)  # L2 on top
    for seg in ("L2-L3", "L3-L4", "L4-L5"):
        for side in SIDES:
            assert 30 < manifest["joints"][seg]["facets"][side]["coronal_deg"] < 75
    with pytest.raises(SpineInputError, match="4 pieces but --levels names 3"):
        import_pack(path, tmp_path / "pack3", levels=parse_levels("L2-L4"))
    assert not (tmp_path / "pack3").exists()


@needs_reference
def test_landmarks_choose_the_surface(tmp_path):
    """A point on L4's left inferior facet (source metres) makes that the surface."""
    patch = trimesh.load(REFERENCE / "remus_lss" / "L45FacL4l_i.obj", force="mesh", process=False)
    w = patch.area_faces[:, None]
    point = (patch.triangles_center * w).sum(0) / w.sum()
    # Well off the patch centre, still on the process: 6 mm lower and 3 mm back.
    aside = point + np.array([-0.003, 0.0, -0.006])
    marks = tmp_path / "marks.toml"
    marks.write_text(f"[L4]\ninferior_left = [{', '.join(f'{x:.6f}' for x in aside)}]\n")
    src = _remus_folder(tmp_path, ("L4", "L5"))
    plain = import_pack(src, tmp_path / "plain")
    fixed = import_pack(src, tmp_path / "fixed", landmarks_file=marks)
    m0 = json.loads((plain.pack / "manifest.json").read_text())
    m1 = json.loads((fixed.pack / "manifest.json").read_text())
    s2p = np.asarray(m1["levels"]["L4"]["source_to_pack"])
    target = s2p[:3, :3] @ aside + s2p[:3, 3]
    c0 = np.asarray(m0["levels"]["L4"]["facets"]["inferior_left"]["centre_mm"])
    c1 = np.asarray(m1["levels"]["L4"]["facets"]["inferior_left"]["centre_mm"])
    assert np.linalg.norm(c1 - target) < 2.0 < np.linalg.norm(c0 - target)
    # the right side is untouched
    assert (
        m0["levels"]["L4"]["facets"]["inferior_right"]
        == m1["levels"]["L4"]["facets"]["inferior_right"]
    )
    bad = tmp_path / "bad.toml"
    bad.write_text("[L4]\ninferior_middle = [0, 0, 0]\n")
    with pytest.raises(SpineInputError, match=r"bad.toml: \[L4\] inferior_middle: unknown"):
        import_pack(src, tmp_path / "bad", landmarks_file=bad)
    far = tmp_path / "far.toml"
    far.write_text("[L4]\ninferior_left = [1.0, 1.0, 1.0]\n")
    with pytest.raises(SpineInputError, match="from the bone"):
        import_pack(src, tmp_path / "far", landmarks_file=far)
    assert not (tmp_path / "bad").exists() and not (tmp_path / "far").exists()


def test_legacy_vtk_is_read(tmp_path):
    from spine3d.geometry.importer import _read_mesh

    box = trimesh.creation.box((2.0, 3.0, 4.0))
    lines = ["# vtk DataFile Version 3.0", "box", "ASCII", "DATASET POLYDATA"]
    lines.append(f"POINTS {len(box.vertices)} float")
    lines += [" ".join(f"{x:g}" for x in p) for p in box.vertices]
    lines.append(f"POLYGONS {len(box.faces)} {4 * len(box.faces)}")
    lines += [f"3 {a} {b} {c}" for a, b, c in box.faces]
    path = tmp_path / "L3.vtk"
    path.write_text("\n".join(lines) + "\n")
    mesh = _read_mesh(path)
    assert np.allclose(mesh.volume, 24.0)
    assert len(mesh.faces) == 12


@needs_reference
def test_report_draws_every_level(remus, tmp_path):
    from PIL import Image

    from spine3d.render.import_report import render_import_report

    result, _ = remus
    out = render_import_report(result.pack, tmp_path / "report.png")
    img = np.asarray(Image.open(out).convert("RGB"), dtype=float)
    assert img.shape[0] > 300 and img.shape[1] > 600
    # the surfaces' colours are drawn: blue (left) and vermilion (right) pixels
    blue = (img[..., 2] > 150) & (img[..., 0] < 80)
    red = (img[..., 0] > 180) & (img[..., 2] < 80)
    assert blue.sum() > 200 and red.sum() > 200


def _verse_l2():
    nibabel = pytest.importorskip("nibabel")
    img = nibabel.load(
        str(REFERENCE / "verse_sub-verse004_L2" / "sub-verse004_0000_vertebra_21_seg.nii.gz")
    )
    return nibabel, img, np.asarray(img.dataobj) != 0


@needs_reference
def test_verse_multilabel_region(tmp_path):
    """A VerSe label map with labels 21 and 22 (L2, L3) in one volume: both, assembled."""
    nibabel, img, one = _verse_l2()
    nz = np.argwhere(one)
    lo, hi = nz.min(0), nz.max(0) + 1
    one = one[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
    vol = np.zeros((one.shape[0] + 6, one.shape[1] + 6, one.shape[2] + 40), np.uint8)
    # the file's third axis runs superior: L2 above L3
    vol[3 : 3 + one.shape[0], 3 : 3 + one.shape[1], 36 : 36 + one.shape[2]][one] = 21
    block = vol[3 : 3 + one.shape[0], 3 : 3 + one.shape[1], 0 : one.shape[2]]
    block[one & (block == 0)] = 22
    path = tmp_path / "seg.nii.gz"
    nibabel.save(nibabel.Nifti1Image(vol, img.affine), str(path))
    result = import_pack(path, tmp_path / "pack")
    assert result.levels == ("L2", "L3")
    assert result.units.startswith("mm") and result.assembled
    manifest = json.loads((tmp_path / "pack" / "manifest.json").read_text())
    assert manifest["levels"]["L2"]["source"]["label"] == 21
    assert set(manifest["joints"]) == {"L2-L3"}


@needs_reference
def test_totalsegmentator_masks_by_name(tmp_path):
    nibabel, img, one = _verse_l2()
    src = tmp_path / "segmentations"
    src.mkdir()
    nibabel.save(
        nibabel.Nifti1Image(one.astype(np.uint8), img.affine), str(src / "vertebrae_L2.nii.gz")
    )
    result = import_pack(src, tmp_path / "pack")
    assert result.levels == ("L2",) and not result.assembled


def test_levels_the_source_lacks(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    trimesh.creation.box((40, 30, 60)).export(src / "L3.stl")
    out = tmp_path / "pack"
    _one_line_error(
        capsys,
        ["import", str(src), "--out", str(out), "--levels", "L3-L4"],
        "--levels names L4",
        out,
    )


@needs_reference
def test_separate_bones_stand_on_the_project_curve(tmp_path):
    """Bones each in its own frame are stacked on the tabled sagittal curve."""
    from spine3d.anatomy import joint_table

    src = tmp_path / "src"
    src.mkdir()
    rng = np.random.default_rng(5)
    for k, lv in enumerate(("L3", "L4", "L5")):
        m = trimesh.load(
            REFERENCE / "remus_lss" / f"{lv}_Schrumpfverpacken.obj", force="mesh", process=False
        )
        m.apply_scale(1000.0)
        move = trimesh.transformations.random_rotation_matrix(rng.random(3))
        move[:3, 3] = [300.0 * k, -200.0 * k, 50.0]
        m.apply_transform(move)
        m.export(src / f"{lv}.stl")
    result = import_pack(src, tmp_path / "pack")
    assert not result.assembled
    manifest = json.loads((tmp_path / "pack" / "manifest.json").read_text())
    assert set(manifest["joints"]) == {"L3-L4", "L4-L5"}
    for seg in ("L3-L4", "L4-L5"):
        upper, lower = seg.split("-")
        rel = np.linalg.inv(np.asarray(manifest["levels"][lower]["local_frame"])) @ np.asarray(
            manifest["levels"][upper]["local_frame"]
        )
        angle = math.degrees(math.atan2(rel[1, 0], rel[0, 0]))
        assert abs(angle - float(joint_table()[seg]["sagittal_deg"])) < 0.01, seg
        assert abs(rel[2, :3] @ [0, 0, 1] - 1.0) < 1e-6  # a turn about Z only
