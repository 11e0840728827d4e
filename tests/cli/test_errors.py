"""Bad input and bad places: one line naming the file, exit 2, nothing written."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import namedtuple
from importlib import import_module
from pathlib import Path

import numpy as np
import pytest

from spine3d._cli.main import main
from spine3d.geometry import default_mesh_dir, load_meshes
from spine3d.geometry import store as mesh_store
from spine3d.render import figure
from spine3d.scene import load_scene

ROOT = Path(__file__).resolve().parents[2]
GOOD = str(ROOT / "scenes" / "self_twist.toml")
UNWRITABLE = Path("/sys")  # not writable, even by root


def run(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "spine3d._cli.main", *args], capture_output=True, text=True, **kw
    )


def one_line(r, *needles):
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), r.stderr
    assert "Traceback" not in r.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def scene(tmp_path, text, name="bad.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


# --- scene files ------------------------------------------------------------------


def test_unreachable_twist_names_the_file(tmp_path):
    p = scene(tmp_path, "[load]\ntwist_deg = 170\n")
    line = one_line(run("render", str(p), "--out", str(tmp_path)), str(p), "[load] twist_deg = 170")
    assert "at most ±" in line
    assert not list(tmp_path.glob("*.png"))
    # A twist is accepted where the spine can reach it: the check is the solver's.
    import spine3d

    model = spine3d.load_model()
    reach = spine3d.reachable_twist_deg(model)
    loose = spine3d.reachable_twist_deg(model, {"T1-T2": "hypermobile"})
    assert loose > reach + 1.0
    between = 0.5 * (reach + loose)
    p.write_text(f"[load]\ntwist_deg = {reach - 5:.1f}\n")
    load_scene(p)
    hyper = '[spine]\nmobility = { "T1-T2" = "hypermobile" }\n'
    p.write_text(f"{hyper}[load]\ntwist_deg = {between:.1f}\n")
    load_scene(p)
    p.write_text(f"[load]\ntwist_deg = {between:.1f}\n")
    with pytest.raises(Exception, match="beyond what this spine can reach"):
        load_scene(p)


def test_unreachable_self_twist_peak(tmp_path):
    from spine3d.anatomy import SEGMENTS

    stiff = ", ".join(f'"{s}" = 0.05' for s in SEGMENTS)
    # A stiff spine: the figure's 10° twist is within reach, the manoeuvre's 60° is not.
    p = scene(
        tmp_path,
        f"[spine]\nmobility = {{ {stiff} }}\n[load]\ntwist_deg = 10\n"
        '[maneuver]\nkind = "self_twist"\ntwist_deg = 60\n',
    )
    one_line(run("simulate", str(p)), str(p), "[maneuver] peak twist_deg = 60")
    p.write_text('[maneuver]\nkind = "self_twist"\ntorque_nm = 60\n')
    one_line(run("simulate", str(p)), str(p), "[maneuver] torque_nm = 60: expected a number")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[view]\ntwist_deg = 30\n", "twist_deg belongs in [load]"),
        ("camera = 'superior'\n", "camera belongs in [view]"),
        ("[load]\nlevels = 'T1-S1'\n", "levels belongs in [spine]"),
        ("[[panel]]\nview = { torque_nm = 3 }\n", "torque_nm belongs in [load]"),
        ("[view]\ncamra = 'superior'\n", "did you mean 'camera'"),
    ],
)
def test_misplaced_key_names_its_table(tmp_path, text, needle):
    p = scene(tmp_path, text)
    one_line(run("render", str(p), "--out", str(tmp_path)), str(p), needle)


def test_huge_integer_is_one_short_line(tmp_path):
    p = scene(tmp_path, "[load]\ntwist_deg = 1" + "0" * 400 + "\n")
    line = one_line(run("render", str(p), "--out", str(tmp_path)), str(p), "401-digit integer")
    assert len(line) < 300
    p.write_text("[animation]\nfps = 9" + "9" * 5000 + "\n")  # past Python's str() limit
    one_line(run("animate", str(p), "--out", str(tmp_path / "c.mp4")), "thousands of digits")


def test_deeply_nested_arrays(tmp_path):
    p = scene(tmp_path, "[view]\nposition = " + "[" * 5000 + "]" * 5000 + "\n")
    one_line(run("render", str(p), "--out", str(tmp_path)), str(p), "nested too deeply")
    p.write_text("[view]\nposition = " + "[" * 200 + "]" * 200 + "\n")
    one_line(run("render", str(p), "--out", str(tmp_path)), "[view] position = ")


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_scene_that_is_not_a_file(tmp_path, kind):
    if kind == "fifo":
        path = tmp_path / "scene.toml"
        os.mkfifo(path)  # opening it would wait for a writer forever
    elif kind == "device":
        path = Path("/dev/zero")  # reading it would never end
    else:
        path = tmp_path / "folder.toml"
        path.mkdir()
    t0 = time.monotonic()
    r = run("render", str(path), "--out", str(tmp_path / "out"), timeout=60)
    one_line(r, str(path), "folder" if kind == "folder" else "not a regular file")
    assert time.monotonic() - t0 < 30
    assert not (tmp_path / "out").exists()


def test_scene_of_megabytes_is_refused(tmp_path):
    p = scene(tmp_path, 'title = "' + "x" * (5 * 2**20) + '"\n')
    one_line(run("render", str(p), "--out", str(tmp_path)), str(p), "larger than 4 MiB")


def test_unknown_scene_name_lists_the_shipped_ones():
    one_line(run("render", "self_twits"), "self_twits: no such scene file", "self_twist")


# --- outputs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["render", GOOD, "--out", str(UNWRITABLE / "figures")],
        ["animate", GOOD, "--out", str(UNWRITABLE / "clip.mp4")],
        ["meshes", "preview", "--out", str(UNWRITABLE / "p.png")],
        ["meshes", "build", "--out", str(UNWRITABLE / "meshes")],
    ],
)
def test_unwritable_output_folder(args):
    one_line(run(*args), "not writable")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["render", GOOD, "--out", "{tmp}/a/b"], "does not exist"),
        (["animate", GOOD, "--out", "{tmp}/a/clip.mp4"], "does not exist"),
        (["meshes", "preview", "--out", "{tmp}/a/p.png"], "does not exist"),
        (["meshes", "build", "--out", "{tmp}/a/b"], "does not exist"),
        (["render", GOOD, "--out", "{tmp}/file/x"], "file exists and is not a folder"),
        (["meshes", "build", "--out", "{tmp}/file"], "file exists and is not a folder"),
        (["animate", GOOD, "--out", "{tmp}/file/clip.mp4"], "file exists and is not a folder"),
    ],
)
def test_missing_folder_or_file_in_the_way(tmp_path, args, needle):
    (tmp_path / "file").write_text("keep me")
    args = [a.format(tmp=tmp_path) for a in args]
    one_line(run(*args), needle)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
    assert (tmp_path / "file").read_text() == "keep me"


Usage = namedtuple("Usage", "total used free")


@pytest.mark.parametrize(
    "args",
    [
        ["render", GOOD, "--out", "{tmp}"],
        ["animate", GOOD, "--out", "{tmp}/clip.mp4"],
        ["meshes", "preview", "--out", "{tmp}/p.png"],
        ["meshes", "build", "--out", "{tmp}/meshes"],
    ],
)
def test_full_disk_is_found_before_work(tmp_path, monkeypatch, capsys, args):
    started = []
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10**9, 10**9 - 4096, 4096))
    monkeypatch.setattr(figure.FigureRenderer, "__init__", lambda *a: started.append(a))
    assert main([a.format(tmp=tmp_path) for a in args]) == 2
    err = capsys.readouterr().err
    assert "disk of" in err and "is full: 0.0 MB free, about" in err
    assert not started and not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_render_checks_every_scene_first(tmp_path):
    bad = scene(tmp_path, "[view]\ncamera = 'top'\n")
    out = tmp_path / "out"
    one_line(run("render", GOOD, str(bad), "--out", str(out)), str(bad), 'camera = "top"')
    assert not out.exists()


# --- meshes -----------------------------------------------------------------------


@pytest.fixture
def mesh_copy(tmp_path, monkeypatch):
    d = tmp_path / "meshes"
    shutil.copytree(default_mesh_dir(), d, ignore=shutil.ignore_patterns("__*"))
    monkeypatch.setattr(mesh_store, "default_mesh_dir", lambda: d)
    describe = import_module("spine3d.scene.describe")
    caches = (figure._polydata, describe.meshes, describe.mesh_hulls, describe.context_parts)
    for c in caches:
        c.cache_clear()
    yield d
    for c in caches:
        c.cache_clear()


def _manifest(d, change):
    m = json.loads((d / "manifest.json").read_text())
    change(m["levels"])
    (d / "manifest.json").write_text(json.dumps(m))


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda e: e.pop("L3"), "no mesh for level 'L3'"),
        (lambda e: e["L3"].pop("file"), "malformed entry for level 'L3'"),
        (lambda e: e["L3"].update(file=["L3.ply"]), "malformed entry for level 'L3'"),
        (lambda e: e["L3"].update(file="../../L3.ply"), "malformed entry for level 'L3'"),
        (lambda e: e.update(L3="L3.ply"), "malformed entry for level 'L3'"),
        (lambda e: e["L3"].update(file="L3-missing.ply"), "L3-missing.ply: missing mesh file"),
    ],
)
def test_bad_manifest_entry_says_how_to_rebuild(mesh_copy, tmp_path, capsys, change, needle):
    _manifest(mesh_copy, change)
    assert main(["render", GOOD, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err
    assert "rebuild with `spine3d meshes build`" in err
    assert not list((tmp_path / "out").glob("*.png"))


def test_nan_vertices(mesh_copy, tmp_path, capsys):
    import hashlib

    import trimesh

    mesh = load_meshes(["L2"], mesh_dir=mesh_copy)["L2"]
    vertices = np.array(mesh.vertices)
    vertices[5] = np.nan
    bad = trimesh.Trimesh(vertices, mesh.faces, process=False)
    data = trimesh.exchange.ply.export_ply(bad, encoding="binary")
    (mesh_copy / "L2.ply").write_bytes(data)
    _manifest(mesh_copy, lambda e: e["L2"].update(sha256=hashlib.sha256(data).hexdigest()))
    assert main(["render", GOOD, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "L2.ply: corrupt mesh file (NaN or infinite vertices)" in err and "rebuild" in err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_interrupted_build_keeps_the_old_set(tmp_path, sig):
    out = tmp_path / "m"
    assert run("meshes", "build", "--out", str(out)).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    p = subprocess.Popen(
        [sys.executable, "-m", "spine3d._cli.main", "meshes", "build", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while not list(tmp_path.glob(".m.build-*/*.ply")):  # the new set is under way, aside
        assert time.time() < deadline and p.poll() is None
        time.sleep(0.01)
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 128 + sig and "interrupted" in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert len(load_meshes(mesh_dir=out)) == 65  # checksums still match the manifest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # nothing left aside


# --- long runs --------------------------------------------------------------------


def test_schedule_can_be_interrupted(tmp_path):
    import pty
    import threading

    p = scene(
        tmp_path,
        "[[panel]]\n[[panel]]\n"
        '[maneuver]\nkind = "self_twist"\ntwist_deg = 30\n[schedule]\nsessions = 2000\n',
    )
    csv = tmp_path / "series.csv"
    main_fd, child = pty.openpty()  # a terminal: the progress bar shows the run is under way
    # The command as a user runs it, the installed script: run as ``python -m`` on the
    # command-line module, the process was seen to end on the signal after handling it.
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("spine3d")), "simulate", str(p), "--csv", str(csv)],
        stdout=subprocess.PIPE,
        stderr=child,
    )
    os.close(child)
    said = []

    def drain():
        while True:
            try:
                chunk = os.read(main_fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            said.append(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    deadline = time.time() + 120
    while b"Simulating panel 1" not in b"".join(said):
        assert time.time() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    reader.join(10)
    os.close(main_fd)
    text = b"".join(said).decode(errors="replace")
    assert proc.returncode == 130 and out == b""
    assert "Error: interrupted (SIGINT)" in text and "Traceback" not in text
    assert sorted(x.name for x in tmp_path.iterdir()) == ["bad.toml"]


def test_schedule_reports_progress_per_session(tmp_path):
    from spine3d.scene.describe import simulate_scene

    p = scene(
        tmp_path,
        '[maneuver]\nkind = "self_twist"\ntwist_deg = 30\nduration_ms = 60\n'
        "[schedule]\nsessions = 3\n",
    )
    s = load_scene(p)
    seen = []
    result = simulate_scene(s, 0, progress=lambda k, n: seen.append((k, n)))
    n = len(result.day)
    assert seen == [(k, n) for k in range(1, n + 1)]
