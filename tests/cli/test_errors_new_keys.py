"""Bad input to the 3D loads, ``solve --scene`` and bone packs: one line, exit 2."""

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from spine3d._cli.main import main
from spine3d.errors import MeshFileError
from spine3d.geometry import default_mesh_dir, read_meshes

LUMBAR = '[spine]\nlevels = "L1-S1"\n[load]\nflexion_deg = 5\n'


def one_line(capsys, argv, *needles):
    """Run the command line in process; return its one error line after checking it."""
    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def _manifest_dir(tmp_path, text):
    d = tmp_path / "pack"
    d.mkdir()
    (d / "manifest.json").write_text(text)
    return d


def _pack(tmp_path, levels=("L4", "L5")):
    """A bone set written as `spine3d import` writes one: the shipped PLYs, a pack manifest."""
    d = tmp_path / "pack"
    d.mkdir()
    entries = {}
    for level in levels:
        data = (default_mesh_dir() / f"{level}.ply").read_bytes()
        (d / f"{level}.ply").write_bytes(data)
        entries[level] = {"file": f"{level}.ply", "sha256": hashlib.sha256(data).hexdigest()}
    manifest = {"format": 2, "source": {"pack_format": 1}, "levels": entries, "joints": {}}
    (d / "manifest.json").write_text(json.dumps(manifest))
    return d


# --- solve's load options -------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--flex", "nan"], "--flex nan: expected a number from -90 to 90 deg"),
        (["--bend", "-170"], "--bend -170: expected a number from -90 to 90 deg"),
        (["--twist", "1e400"], "--twist inf: expected a number from -180 to 180 deg"),
        (["--torque", "9" * 400], "--torque inf: expected a number from -100 to 100 N m"),
        (["--follower", "1e12"], "--follower 1e+12: expected a number from 0 to 2000 N"),
        (["--moment", "flexion=9999"], "flexion = 9999: expected a number from -100 to 100 N m"),
        (["--flex", "5", "--moment", "flexion=2"], "--flex and --moment flexion=...: an axis"),
        (["--bend", "5", "--moment", "lateral=2"], "--bend and --moment lateral=...: an axis"),
        (["--torque", "5", "--moment", "axial=2"], "--torque and --moment axial=...: the same"),
    ],
)
def test_load_option_is_named(capsys, args, needle):
    one_line(capsys, ["solve", *args], needle)


def test_load_option_is_named_with_a_scene(capsys, tmp_path):
    scene = tmp_path / "lumbar.toml"
    scene.write_text(LUMBAR)
    one_line(capsys, ["solve", "--scene", scene, "--flex", "inf"], "--flex inf")
    one_line(capsys, ["solve", "--scene", scene, "--moment", "flexion=2", "--flex", "3"], "--flex")


def test_out_of_reach_names_the_options_not_a_keyword(capsys):
    line = one_line(capsys, ["solve", "--moment", "flexion=99"], "--moment flexion=99: beyond")
    assert "moment_nm" not in line
    one_line(capsys, ["solve", "--levels", "L4-L5"], "--twist 30 (the default): beyond")


def test_out_of_reach_override_names_the_scene_and_panel(capsys, tmp_path):
    scene = tmp_path / "lumbar.toml"
    scene.write_text(LUMBAR)
    line = one_line(
        capsys,
        ["solve", "--scene", scene, "--moment", "axial=60"],
        str(scene),
        "Panel 1",
        "--moment axial=60",
        "beyond what this spine can reach",
    )
    assert "flexion_deg" not in line  # the scene's reachable flexion is not the culprit


# --- --bones on solve ----------------------------------------------------------


def test_solve_bones_missing_names_the_option(capsys, tmp_path):
    one_line(
        capsys,
        ["solve", "--bones", tmp_path / "nope", "--levels", "L1-S1"],
        f"--bones {tmp_path / 'nope'}: no such folder",
    )


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000 + "]" * 100_000, '{"format": 2, "levels": 5, "joints": {}}', "[1, 2]"],
    ids=["nested", "levels-not-a-table", "not-an-object"],
)
def test_solve_bones_corrupt_manifest(capsys, tmp_path, text):
    d = _manifest_dir(tmp_path, text)
    one_line(
        capsys,
        ["solve", "--bones", d, "--levels", "L1-S1"],
        f"--bones {d}",
        "no readable manifest.json",
    )


def test_scene_bones_nested_manifest_names_the_key(capsys, tmp_path):
    d = _manifest_dir(tmp_path, "[" * 100_000 + "]" * 100_000)
    scene = tmp_path / "s.toml"
    scene.write_text(f'[spine]\nlevels = "L1-S1"\nbones = "{d.name}"\n')
    one_line(capsys, ["solve", "--scene", scene], str(scene), f'[spine] bones = "{d.name}"')


# --- reading a damaged pack ----------------------------------------------------


def test_damaged_pack_says_to_import_again(tmp_path):
    d = _pack(tmp_path)
    ply = d / "L4.ply"
    ply.write_bytes(ply.read_bytes()[:300])
    with pytest.raises(MeshFileError, match=r"L4\.ply: corrupt mesh file.*spine3d import"):
        read_meshes(["L4"], mesh_dir=d)
    (d / "L4.ply").unlink()
    with pytest.raises(MeshFileError, match=r"L4\.ply: missing mesh file.*spine3d import"):
        read_meshes(["L4"], mesh_dir=d)


def test_shipped_style_set_still_says_rebuild(tmp_path):
    d = tmp_path / "set"
    d.mkdir()
    shutil.copy(default_mesh_dir() / "manifest.json", d)
    with pytest.raises(MeshFileError, match="spine3d meshes build"):
        read_meshes(["L4"], mesh_dir=d)


@pytest.mark.parametrize("hull", [[int("9" * 400)], [["a"]], "text"])
def test_malformed_hull_is_a_mesh_error(tmp_path, hull):
    d = _pack(tmp_path, levels=("L4",))
    manifest = json.loads((d / "manifest.json").read_text())
    manifest["levels"]["L4"]["hull_vertices"] = hull
    (d / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(MeshFileError, match="malformed hull of 'L4'"):
        read_meshes(["L4"], mesh_dir=d)


def test_parts_not_a_table_is_a_mesh_error(tmp_path):
    d = _pack(tmp_path, levels=("L4",))
    manifest = json.loads((d / "manifest.json").read_text())
    manifest["parts"] = [1]
    (d / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(MeshFileError, match="parts is not an object"):
        read_meshes(["L4"], mesh_dir=d)


def test_pack_path_is_relative_to_the_scene(capsys, tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    scene = sub / "s.toml"
    scene.write_text('[spine]\nlevels = "L1-S1"\nbones = "../nope"\n')
    line = one_line(capsys, ["solve", "--scene", scene], str(scene), "no such folder")
    assert Path(line.split(": ")[1]) == scene


# --- a pack whose joints are damaged ---------------------------------------------


def _measured(tmp_path, mutate):
    """A folder holding the shipped manifest of measured bones, changed by ``mutate``."""
    d = tmp_path / "bones"
    d.mkdir()
    manifest = json.loads((default_mesh_dir() / "manifest.json").read_text())
    mutate(manifest)
    (d / "manifest.json").write_text(json.dumps(manifest))
    return d


def _joint(manifest, key, value):
    manifest["joints"]["L4-L5"][key] = value


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda m: m["joints"].__setitem__("L4-L5", 5), "manifest.json is malformed"),
        (lambda m: m["joints"].__setitem__("L4-L5", {}), "malformed (no 'facets')"),
        (lambda m: _joint(m, "disc_width_mm", int("9" * 400)), "malformed (int too large"),
        (lambda m: _joint(m, "disc_depth_mm", "x"), "malformed (could not convert"),
        (lambda m: m.pop("source"), "malformed (no 'source')"),
        (lambda m: m.__setitem__("parts", [1]), "parts is not a table"),
        (lambda m: _joint(m, "disc_height_mm", float("nan")), "a joint holds NaN or infinity"),
        (lambda m: _joint(m, "disc_height_mm", -10), "joint L4-L5 has a disc size <= 0 mm"),
    ],
    ids=["int", "empty", "huge", "text", "no-source", "parts", "nan", "negative"],
)
def test_damaged_joints_are_one_line(capsys, tmp_path, mutate, needle):
    d = _measured(tmp_path, mutate)
    one_line(
        capsys, ["solve", "--bones", d, "--levels", "L4-L5", "--flex", "2"], f"--bones {d}", needle
    )
    scene = tmp_path / "s.toml"
    scene.write_text(f'[spine]\nlevels = "L4-S1"\nbones = "{d.name}"\n')
    one_line(capsys, ["solve", "--scene", scene], str(scene), "[spine] bones =", needle)
    one_line(capsys, ["meshes", "info", "--dir", d], f"--dir {d}", needle)


def _lumbar_only(manifest):
    """Keep L4, L5 and S1 and their joints, as a pack imported from three meshes."""
    for table in ("levels", "joints"):
        for name in list(manifest[table]):
            if name not in ("L4", "L5", "S1", "L4-L5", "L5-S1"):
                del manifest[table][name]
    manifest["parts"] = {}


def test_mobility_of_a_segment_the_pack_lacks_names_the_scene(capsys, tmp_path):
    d = _measured(tmp_path, _lumbar_only)
    scene = tmp_path / "s.toml"
    scene.write_text(
        f'[spine]\nlevels = "L4-S1"\nbones = "{d.name}"\n[spine.mobility]\n"T6-T7" = "restricted"\n'
    )
    one_line(
        capsys, ["solve", "--scene", scene], str(scene), "[spine] mobility T6-T7: not in the bones"
    )


def test_mobility_option_of_a_segment_the_pack_lacks(capsys, tmp_path):
    d = _measured(tmp_path, _lumbar_only)
    argv = ["solve", "--bones", d, "--levels", "L4-S1", "--mobility", "T6-T7=restricted"]
    one_line(capsys, argv, "--mobility T6-T7=restricted: mobility T6-T7: not in the bones")
    scene = tmp_path / "s.toml"
    scene.write_text(f'[spine]\nlevels = "L4-S1"\nbones = "{d.name}"\n[load]\nflexion_deg = 2\n')
    argv = ["solve", "--scene", scene, "--mobility", "T6-T7=restricted"]
    one_line(capsys, argv, "--mobility T6-T7=restricted: mobility T6-T7: not in the bones")


def test_huge_mobility_factor_in_a_scene(capsys, tmp_path):
    scene = tmp_path / "s.toml"
    scene.write_text(f'[spine]\nlevels = "L1-S1"\n[spine.mobility]\n"L4-L5" = {"9" * 400}\n')
    one_line(
        capsys,
        ["solve", "--scene", scene],
        str(scene),
        "[spine] mobility.L4-L5 = a 400-digit integer: expected a factor from 0.02 to 20",
    )
