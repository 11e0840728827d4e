import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_meshes_and_tables(tmp_path):
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    # No deprecation or packaging warnings from the build (pip's own notes aside).
    said = [line for line in (r.stdout + r.stderr).splitlines() if "Location 'file" not in line]
    assert not [line for line in said if "Warning" in line or "deprecat" in line.lower()], said
    (wheel,) = tmp_path.glob("spine3d-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for level in ("T1", "L5", "S1"):
        assert f"spine3d/meshes_data/{level}.ply" in names
    assert "spine3d/meshes_data/manifest.json" in names
    for part in ("rib_5_left", "sternum", "pelvis_right"):
        assert f"spine3d/meshes_data/{part}.ply" in names
    assert "spine3d/meshes_data/NOTICE" in names and "spine3d/meshes_data/LICENSE.myo-sim" in names
    assert "spine3d/anatomy/data/joints.csv" in names
    assert "spine3d/mechanics/data/tissue.csv" in names
    # The web page's assets: its script, styles and the vendored three.js with its licence.
    for asset in ("page/page.html", "page/page.js", "page/page.css", "vendor/three.min.js"):
        assert f"spine3d/export/{asset}" in names
    assert "spine3d/export/vendor/LICENSE-three.txt" in names
    assert "spine3d/scenes_data/self_twist.toml" in names  # shipped scenes, by name
