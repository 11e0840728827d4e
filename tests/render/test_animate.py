import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from spine3d.errors import SpineInputError
from spine3d.render import animate as anim
from spine3d.scene import load_scene
from spine3d.scene.theme import DEFAULT_THEME, hex_to_rgb

ROOT = Path(__file__).resolve().parents[2]


def decode(path):
    gen = imageio_ffmpeg.read_frames(str(path))
    meta = next(gen)
    w, h = meta["size"]
    return [np.frombuffer(f, np.uint8).reshape(h, w, 3).astype(int) for f in gen]


def cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "spine3d._cli.main", "animate", *args],
        capture_output=True,
        text=True,
    )


def test_sweep_mp4_frames_follow_the_twist(tmp_path):
    out = tmp_path / "sweep.mp4"
    r = cli(
        str(ROOT / "scenes" / "anim_sweep_restricted.toml"),
        "--out",
        str(out),
        "--fps",
        "6",
        "--duration",
        "2",
        "--width",
        "321",
        "--height",
        "180",
    )
    assert r.returncode == 0, r.stderr
    frames = decode(out)
    assert len(frames) == 12
    assert frames[0].shape == (180, 322, 3)  # padded to even, never scaled
    mid = len(frames) // 2
    assert np.abs(frames[0] - frames[-1]).mean() < 2.0  # both at zero twist
    assert np.abs(frames[0] - frames[mid]).mean() > 3.0  # the turned column
    assert not list(tmp_path.glob(".*"))


def test_maneuver_frames_show_the_pop_when_the_log_says(tmp_path):
    from spine3d.scene.positions import THRUST_MM_PER_N

    scene = load_scene(ROOT / "scenes" / "anim_hvla_vs_self_twist.toml")
    n = 24
    figs = list(anim.frames(scene, n, size=(480, 270)))
    runs = [anim.simulate_scene(scene, i) for i in range(2)]
    clock = anim.clip_clock(runs, n)
    bubble, flash = hex_to_rgb(DEFAULT_THEME.bubble), hex_to_rgb(DEFAULT_THEME.flash)
    shown = set(scene.panels[0].spine.levels)
    for i, run in enumerate(runs):
        pops = sorted(
            e.t_ms
            for e in run.events
            if e.type == "cavitation" and run.model.joint(e.segment).upper in shown
        )
        drawn = [
            k
            for k, f in enumerate(figs)
            if any(m.color in (bubble, flash) for m in f.panels[i].markers)
        ]
        first = [k for k in range(n) if pops and clock[k, i] >= pops[0]]
        assert drawn[:1] == first[:1]  # the first bubble (or flash) when the log says
    # The camera holds still over the clip, the clock is the clip's, the arrow follows
    # the force (none before the hand presses).
    force = hex_to_rgb(DEFAULT_THEME.force)
    for k, f in enumerate(figs):
        assert np.allclose(f.panels[0].view.position, figs[0].panels[0].view.position)
        step = runs[0].index(clock[k, 0])  # the simulated step the frame draws
        assert f"t = {runs[0].t_ms[step]:.0f} ms" in f.panels[0].twist_text
        shafts = [ln for ln in f.panels[0].lines if ln.color == force]
        f_n = runs[0].force_n[step]
        if f_n < 1.0:
            assert not shafts
        else:
            (cone,) = [c for c in f.panels[0].cones if c.color == force]
            base = cone.centre - 0.5 * cone.height_mm * cone.direction
            assert np.isclose(np.linalg.norm(base - shafts[0].points[0]), f_n * THRUST_MM_PER_N)
    out = tmp_path / "thrust.gif"
    # Without labels: the restricted label's antialiased blue edge would pass for a bubble.
    bare = replace(
        scene, panels=tuple(replace(p, view=replace(p.view, labels=False)) for p in scene.panels)
    )
    anim.animate(bare, out, fps=6, duration_s=4, size=(480, 270))
    frames = [np.asarray(f.convert("RGB")).astype(int) for f in _gif_frames(out)]
    assert len(frames) == n
    assert np.abs(frames[0] - frames[-1]).mean() > 0.5  # the thrust moved things

    from spine3d.render.compose import figure_layout

    x0, y0, w0, h0 = figure_layout(next(anim.frames(bare, n, size=(480, 270)))).area_px(0)
    assert DEFAULT_THEME.bubble == "#00ffd0"  # turquoise: the hue test below

    def in_3d_view(img):  # bubble pixels in the 3D area (the timeline marks every pop)
        r, g, b = (img[y0 : y0 + h0, x0 : x0 + w0, k] for k in range(3))
        return ((g > 120) & (g > b + 15) & (b > 0.5 * g) & (r < 0.75 * g)).sum()

    late = [
        k
        for k, f in enumerate(figs)
        if any(m.color == bubble for m in f.panels[0].markers)
        and not any(m.color == flash for m in f.panels[0].markers)
    ]
    assert in_3d_view(frames[0]) == 0 and late and in_3d_view(frames[late[0]]) > 5


def _gif_frames(path):
    im = Image.open(path)
    for k in range(im.n_frames):
        im.seek(k)
        yield im.copy()


@pytest.mark.parametrize(
    ("out", "needle"),
    [
        ("clip.avi", "unknown file type, expected one of .mp4, .gif"),
        ("nope/clip.mp4", "does not exist"),
    ],
)
def test_bad_output_is_one_line_and_writes_nothing(tmp_path, out, needle):
    target = tmp_path / out
    r = cli(str(ROOT / "scenes" / "self_twist.toml"), "--out", str(target))
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in r.stderr
    assert not target.exists() and not list(tmp_path.rglob("*.mp4"))


def test_missing_encoder(monkeypatch, tmp_path):
    def broken():
        raise RuntimeError("no ffmpeg")

    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", broken)
    with pytest.raises(SpineInputError, match="no video encoder"):
        anim.check_output(tmp_path / "clip.mp4")
    assert not list(tmp_path.iterdir())


def test_orbit_turns_the_camera_about_the_focal_point():
    scene = load_scene(ROOT / "scenes" / "self_twist.toml")
    scene = replace(scene, animation={**scene.animation, "kind": "orbit", "orbit_deg": 360.0})
    figs = list(anim.frames(scene, 5, size=(320, 180)))
    views = [f.panels[0].view for f in figs]
    focal = views[0].focal_point
    dist = [np.linalg.norm(v.position - focal) for v in views]
    assert np.allclose(dist, dist[0]) and all(np.allclose(v.focal_point, focal) for v in views)
    assert np.allclose(views[0].position, views[-1].position)  # a full turn
    assert not np.allclose(views[0].position, views[2].position)  # half way round
    assert np.allclose(views[2].position[1], views[0].position[1])  # about the vertical


@pytest.mark.parametrize("name", ["anim_sweep_restricted", "anim_hvla_vs_self_twist"])
def test_small_clip_keeps_its_caption_and_title_inside_the_frame(name):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from spine3d.render.compose import compose, figure_layout

    scene = load_scene(ROOT / "scenes" / f"{name}.toml")
    assert len(scene.caption) > 100  # long enough to need wrapping at this size
    for size in ((640, 360), (480, 270)):
        fig = next(anim.frames(scene, 2, size=size))
        lay = figure_layout(fig)
        boxes = [lay.area_px(i) for i in range(len(fig.panels))]
        mfig, _ = compose(fig, lay, [np.zeros((h, w, 4), np.uint8) for _, _, w, h in boxes])
        canvas = FigureCanvasAgg(mfig)
        canvas.draw()
        width, height = canvas.get_width_height()
        texts = {t.get_text(): t for t in mfig.texts}
        for wanted in (lay.caption, lay.title):
            assert wanted in texts, (size, wanted)
            box = texts[wanted].get_window_extent(canvas.get_renderer())
            assert 0 <= box.x0 and box.x1 <= width and 0 <= box.y0 and box.y1 <= height, (
                size,
                wanted,
                box,
            )
        assert lay.caption.count("\n") >= 1  # wrapped, not shrunk
