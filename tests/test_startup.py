"""Start-up: what `import spine3d`, `spine3d --help` and a static render load.

Times are measured in benchmarks/bench_startup.py; here only which modules load.
"""

import json
import subprocess
import sys

PROBE = """
import json, sys
{body}
print(json.dumps(sorted(sys.modules)))
"""


def loaded(body: str) -> set[str]:
    r = subprocess.run(
        [sys.executable, "-c", PROBE.format(body=body)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    return set(json.loads(r.stdout.strip().splitlines()[-1]))


def test_import_and_help_load_nothing_heavy():
    for body in (
        "import spine3d",
        "from spine3d._cli.main import build_parser\n"
        "try:\n    build_parser().parse_args(['--help'])\nexcept SystemExit:\n    pass",
    ):
        mods = loaded(body)
        assert not {"numpy", "scipy", "pyvista", "vtk", "trimesh", "rich"} & mods, body
    # The names load when asked for.
    mods = loaded("import spine3d\nspine3d.solve")
    assert "spine3d.mechanics.solver" in mods and "numpy" in mods


def test_static_render_loads_no_time_domain_machinery(tmp_path):
    mods = loaded(
        "import spine3d\n"
        f"spine3d.render('self_twist', {str(tmp_path / 'f.png')!r}, size=(480, 270))"
    )
    assert (tmp_path / "f.png").stat().st_size > 1000
    assert "pyvista" in mods  # it did render
    assert "spine3d.mechanics.timedomain" not in mods
    # Bones are read and cameras fitted without a mesh or geometry library.
    assert not {m.partition(".")[0] for m in mods} & {"trimesh", "scipy"}
    # A manoeuvre scene does need them: the probe can see them load.
    mods = loaded(
        "from spine3d.scene import load_scene\n"
        "from spine3d.scene.describe import simulate_scene\n"
        "simulate_scene(load_scene('hvla_vs_self_twist'))"
    )
    assert "scipy.linalg" in mods and "spine3d.mechanics.timedomain" in mods


def test_api_names_the_readme_uses(tmp_path):
    import spine3d

    assert spine3d.__version__ and set(spine3d.__all__) <= set(dir(spine3d))
    scene = spine3d.load_scene("restricted_l4l5")
    out = spine3d.render(scene, tmp_path / "fig.png", size=(480, 270))
    assert out == tmp_path / "fig.png" and out.read_bytes()[:4] == b"\x89PNG"
    state = spine3d.solve(spine3d.load_model(), twist_deg=35, mobility={"L4-L5": "restricted"})
    text = repr(state)
    assert "\n" not in text and len(text) < 120 and "L4-L5 restricted" in text
    rows = state.table().splitlines()
    assert len(rows) == 1 + 17 and rows[0].split()[:3] == ["segment", "mobility", "rotation"]
    l45 = next(r for r in rows if r.startswith("L4-L5"))
    assert f"{state.rotation_deg[15]:+.2f}" in l45 and "restricted" in l45
