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


# --- manoeuvres and virtual cohorts -------------------------------------------------

THRUST = '[maneuver]\nkind = "hvla"\ntarget = "L4-L5"\n'


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (THRUST + "trust_n = 300\n", "unknown key [maneuver] trust_n (did you mean 'thrust_n'?)"),
        (
            THRUST + 'gap_side = "left"\n',
            '[maneuver] gap_side = "left": no longer a key: in side posture the upper side '
            'gaps; give lying_on = "right"',
        ),
        ('[maneuver]\nkind = "hvla"\n', "[maneuver] target is required for a hvla"),
        (
            '[maneuver]\nkind = "hvla"\ntarget = "L4-L9"\n',
            '[maneuver] target = "L4-L9": expected a segment T1-T2 ... L5-S1',
        ),
        (
            THRUST + 'position = "supine"\n',
            '[maneuver] position = "supine": expected one of standing, side_posture, prone',
        ),
        (
            THRUST + 'position = "standing"\n',
            '[maneuver] position = "standing": expected "side_posture" or "prone" for a hvla',
        ),
        (THRUST + 'lying_on = "up"\n', '[maneuver] lying_on = "up": expected one of left, right'),
        (
            THRUST + 'contact = "elbow"\n',
            '[maneuver] contact = "elbow": expected one of spinous, mammillary, transverse',
        ),
        (
            THRUST + 'contact_level = "L3"\n',
            '[maneuver] contact_level = "L3": expected L4 or L5 (the vertebrae of target',
        ),
        (THRUST + 'contact_level = "X9"\n', '[maneuver] contact_level = "X9": expected L4 or L5'),
        (
            THRUST + "direction = [0, 0, 0]\n",
            "[maneuver] direction = [0, 0, 0]: expected three numbers [anterior, superior, "
            "right], not all 0",
        ),
        (THRUST + "direction = [1, 0]\n", "[maneuver] direction = [1, 0]: expected three numbers"),
        (THRUST + "direction = [1, 0, 1e400]\n", "[maneuver] direction = [1, 0, inf]: expected"),
        (THRUST + "thrust_n = 1e9\n", "[maneuver] thrust_n = 1000000000.0: expected a number"),
        (THRUST + "preload_ms = -1\n", "[maneuver] preload_ms = -1: expected a number from 0"),
        (THRUST + "position_ms = 50\n", "[maneuver] position_ms = 50: expected a number from 100"),
        (THRUST + "preload_n = 500\n", "preload_n = 500.0: expected 0 to thrust_n (400 N)"),
        (THRUST + "twist_deg = 30\n", "[maneuver] twist_deg = 30: applies to a self_twist"),
        (
            '[maneuver]\nkind = "self_twist"\ntwist_deg = 30\ncontact = "spinous"\n',
            '[maneuver] contact = "spinous": applies to a thrust or mobilisation, not a self_twist',
        ),
        (
            '[maneuver]\nkind = "hvla"\ntarget = "T6-T7"\nlying_on = "right"\n',
            '[maneuver] lying_on = "right": applies to side posture; this hvla is prone',
        ),
        (
            THRUST + 'contact_side = "left"\n',
            '[maneuver] contact_side = "left": applies to a mammillary or transverse contact',
        ),
        (
            '[[panel]]\nmaneuver = { kind = "hvla", target = "L4-L5", preload_ms = 1e9 }\n',
            "[panel 1.maneuver] preload_ms = 1000000000.0: expected a number from 0 to 5000",
        ),
        (
            '[maneuver]\nkind = "self_twist"\ntwist_deg = 30\n[population]\nsize = 4\n',
            "[population] size = 4: needs a [maneuver] with a thrust",
        ),
        ("[population]\nsize = 4\n", "the scene has no [maneuver]"),
        (THRUST + "[population]\nsize = 0\n", "[population] size = 0: expected an integer from 1"),
        (
            THRUST + "[population]\nsize = 1000000000\n",
            "[population] size = 1000000000: expected an integer from 1 to 500",
        ),
        (THRUST + "[population]\nseed = 3\n", "[population] size is required: an integer"),
        (
            THRUST + "[population]\nsize = 2\nseed = 1.5\n",
            "[population] seed = 1.5: expected an integer from 0 to 4294967295",
        ),
        (THRUST + "[population]\nsize = 2\nseed = -1\n", "[population] seed = -1: expected"),
        (THRUST + "[population]\nsize = 2\nsed = 1\n", "(did you mean 'seed'?)"),
        (
            THRUST + "[population]\nsize = 2\n[schedule]\nsessions = 2\n",
            "[population] size = 2: not with a [schedule]",
        ),
        (
            THRUST + "[[panel]]\npopulation = { size = 2 }\n",
            "[panel 1] population: [population] is a table of the whole scene",
        ),
    ],
)
def test_bad_maneuver_or_population_is_one_line(capsys, tmp_path, text, needle):
    scene = tmp_path / "bad.toml"
    scene.write_text(text)
    csv = tmp_path / "out.csv"
    line = one_line(capsys, ["simulate", scene, "--json", "--csv", csv], needle)
    assert line.startswith(f"Error: {scene}: ")
    assert capsys.readouterr().out == "" and not csv.exists()


@pytest.mark.parametrize(
    ("scene_text", "args", "needle"),
    [
        (THRUST, ["--population", "0"], "--population 0: expected an integer from 1 to 500"),
        (THRUST, ["--population", "10" + "0" * 8], "--population 1000000000: expected"),
        (THRUST, ["--population", "1e9"], "--population 1e9: expected an integer from 1 to 500"),
        (THRUST, ["--population", "two"], "--population two: expected an integer"),
        (THRUST, ["--population", "9" * 5000], "(5000 characters): expected an integer"),
        (THRUST, ["--population", "2", "--seed", "1.5"], "--seed 1.5: expected an integer"),
        (THRUST, ["--population", "2", "--seed", str(2**32)], "from 0 to 4294967295"),
        (THRUST, ["--population", "2", "--workers", "0"], "--workers 0: expected an integer"),
        (THRUST, ["--seed", "3"], "--seed 3: needs a population: --population N"),
        (THRUST, ["--workers", "2"], "--workers 2: needs a population"),
        (
            '[maneuver]\nkind = "self_twist"\ntwist_deg = 30\n',
            ["--population", "2"],
            "--population 2: ",
        ),
        (
            '[maneuver]\nkind = "self_twist"\ntwist_deg = 30\n[schedule]\nsessions = 2\n',
            ["--population", "2"],
            "has only a self_twist",
        ),
        (
            THRUST + "[schedule]\nsessions = 2\n",
            ["--population", "2"],
            "has a [schedule], which repeats one model's sessions",
        ),
    ],
)
def test_population_options_are_one_line(capsys, tmp_path, scene_text, args, needle):
    scene = tmp_path / "pop.toml"
    scene.write_text(scene_text)
    csv = tmp_path / "out.csv"
    line = one_line(capsys, ["simulate", scene, *args, "--csv", csv], needle)
    assert len(line) < 300
    assert capsys.readouterr().out == "" and not csv.exists()


def test_a_maneuver_needs_the_whole_column(capsys, tmp_path):
    # A pack of the shipped L3-S1, with its part of the manifest.
    src, keep = default_mesh_dir(), ("L3", "L4", "L5", "S1")
    manifest = json.loads((src / "manifest.json").read_text())
    manifest["levels"] = {k: v for k, v in manifest["levels"].items() if k in keep}
    manifest["joints"] = {k: v for k, v in manifest["joints"].items() if k.split("-")[0] in keep}
    manifest["parts"] = {}
    pack = tmp_path / "pack"
    pack.mkdir()
    for level in keep:
        shutil.copy(src / f"{level}.ply", pack / f"{level}.ply")
    (pack / "manifest.json").write_text(json.dumps(manifest))
    scene = tmp_path / "lumbar.toml"
    scene.write_text(f'[spine]\nlevels = "L3-S1"\nbones = "pack"\n{THRUST}')
    one_line(
        capsys,
        ["simulate", scene],
        f'{scene}: [maneuver] kind = "hvla": a manoeuvre runs on the whole column, the bones '
        "T1 to S1; these hold L3 to S1",
    )
    # The same through --bones, on a scene of the shipped bones.
    scene.write_text(
        '[spine]\nlevels = "L3-S1"\n[[panel]]\nmaneuver = { kind = "hvla", target = "L4-L5" }\n'
    )
    one_line(capsys, ["simulate", scene, "--bones", pack], "--bones", "[panel 1.maneuver]")
