import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    r = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 kept, 0 broken" in r.stdout


def test_core_imports_without_gl():
    code = (
        "import sys, spine3d, spine3d.geometry, spine3d.scene;"
        "spine3d.solve(spine3d.load_model(), twist_deg=10.0);"
        "assert not any(m.split('.')[0] in ('pyvista', 'vtk', 'vtkmodules') for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
