"""Animation speed and memory against a bare pyvista loop, in the same run.

Run: ``python benchmarks/bench_animate.py``. Target: a 120-frame 1280x720 MP4 of the
sweep scene at most 1.3x a bare loop of 120 renders and writes of the same actors (the
same plotter, nothing changed between frames, the same encoder settings). Peak memory
is measured in fresh processes at 120 and 600 frames: it should not grow with the clip.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import imageio_ffmpeg
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
SCENE = ROOT / "scenes" / "anim_sweep_restricted.toml"
SIZE = (1280, 720)


def bare(out: Path, n: int) -> float:
    from spine3d.render.animate import frames
    from spine3d.render.figure import FigureRenderer
    from spine3d.scene import load_scene

    fig = next(frames(load_scene(SCENE), 2, size=SIZE))
    r = FigureRenderer(replace(fig, transparent=False))
    pl = r.plotter
    img = pl.screenshot(None, return_img=True)
    even = img.shape[0] - img.shape[0] % 2  # H.264 needs even sizes
    w = imageio_ffmpeg.write_frames(
        str(out),
        (img.shape[1], even),
        fps=24,
        codec="libx264",
        pix_fmt_out="yuv420p",
        quality=8,
        macro_block_size=1,
        ffmpeg_log_level="error",
    )
    w.send(None)
    t = time.perf_counter()
    for _ in range(n):
        pl.ren_win.Render()
        w.send(pl.screenshot(None, return_img=True)[:even])
    w.close()
    r.close()
    return time.perf_counter() - t


def ours(out: Path, n: int) -> float:
    from spine3d.render.animate import animate
    from spine3d.scene import load_scene

    scene = load_scene(SCENE)
    t = time.perf_counter()
    animate(scene, out, fps=24, duration_s=n / 24, size=SIZE)
    return time.perf_counter() - t


def peak_mb(n: int) -> float:
    """Peak resident memory of a fresh process animating ``n`` frames at 640x360, MB."""
    code = (
        "import resource, sys; from pathlib import Path;"
        "from spine3d.render.animate import animate; from spine3d.scene import load_scene;"
        f"animate(load_scene({str(SCENE)!r}), Path(sys.argv[1]), fps=24, "
        f"duration_s={n}/24, size=(640, 360));"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run(
            [sys.executable, "-c", code, str(Path(d) / "m.mp4")],
            capture_output=True,
            text=True,
            check=True,
        )
    return int(r.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tb = bare(Path(d) / "bare.mp4", 120)
        to = ours(Path(d) / "ours.mp4", 120)
    t = Table(title="Animation: 120 frames, 1280x720 MP4")
    for c in ("work", "s", "ratio", "target"):
        t.add_column(c)
    t.add_row("bare: same actors, re-rendered and encoded", f"{tb:.2f}", "1.00", "")
    t.add_row(
        "spine3d animate (solve, describe, update, compose)",
        f"{to:.2f}",
        f"{to / tb:.2f}",
        "<= 1.3",
    )
    m120, m600 = peak_mb(120), peak_mb(600)
    t.add_row("peak memory, 120 frames (640x360, fresh process)", f"{m120:.0f} MB", "", "")
    t.add_row(
        "peak memory, 600 frames (640x360, fresh process)",
        f"{m600:.0f} MB",
        f"{m600 / m120:.2f}",
        "flat (~1.0)",
    )
    Console(width=120).print(t)


if __name__ == "__main__":
    main()
