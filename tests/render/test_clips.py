"""Clip options: --scale, --transparent (WebM, APNG, GIF; never MP4), large clips, signals."""

import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SWEEP = str(ROOT / "scenes" / "anim_sweep_restricted.toml")
SMALL = ["--fps", "4", "--duration", "1", "--width", "320", "--height", "180"]


def cli(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "spine3d._cli.main", "animate", *args],
        capture_output=True,
        text=True,
        **kw,
    )


def rgba_frames(path):
    """Decode every frame with its alpha channel (ffmpeg's own decoder)."""
    pix = ["-c:v", "libvpx-vp9"] if path.suffix == ".webm" else []
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    probe = subprocess.run([exe, *pix, "-i", str(path)], capture_output=True, text=True).stderr
    w, h = next(
        tuple(map(int, tok.split("x")))
        for tok in probe.replace(",", " ").split()
        if tok.count("x") == 1 and all(p.isdigit() for p in tok.split("x"))
    )
    raw = subprocess.run(
        [exe, *pix, "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgba", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 4)


@pytest.mark.parametrize("suffix", [".webm", ".apng", ".gif"])
def test_transparent_clip_has_alpha(tmp_path, suffix):
    out = tmp_path / f"clip{suffix}"
    r = cli(SWEEP, "--out", str(out), "--transparent", *SMALL)
    assert r.returncode == 0, r.stderr
    frames = rgba_frames(out)
    assert len(frames) == 4 and frames.shape[1:3] == (180, 320)
    alpha = frames[..., 3]
    # The corners are background: see-through. The middle of the column is bone: opaque.
    assert (alpha[:, :4, :4] == 0).all()
    assert (alpha > 200).mean() > 0.02 and (alpha == 0).mean() > 0.3
    # Without --transparent the same clip is opaque everywhere.
    opaque = tmp_path / f"opaque{suffix}"
    assert cli(SWEEP, "--out", str(opaque), *SMALL).returncode == 0
    assert (rgba_frames(opaque)[..., 3] == 255).all()


def test_mp4_cannot_be_transparent(tmp_path):
    out = tmp_path / "clip.mp4"
    r = cli(SWEEP, "--out", str(out), "--transparent", *SMALL)
    assert r.returncode == 2 and not out.exists()
    (line,) = r.stderr.strip().splitlines()
    assert "MP4" in line and "cannot carry a transparent background" in line and ".webm" in line


def test_scale_multiplies_the_frame(tmp_path):
    one, two = tmp_path / "one.apng", tmp_path / "two.apng"
    assert cli(SWEEP, "--out", str(one), *SMALL).returncode == 0
    r = cli(SWEEP, "--out", str(two), "--scale", "2", *SMALL)
    assert r.returncode == 0, r.stderr
    a, b = rgba_frames(one), rgba_frames(two)
    assert b.shape[1:3] == (2 * a.shape[1], 2 * a.shape[2])
    # The same picture, finer: downsampled, the doubled frame matches the single one.
    half = b[0, :, :, :3].reshape(180, 2, 320, 2, 3).mean(axis=(1, 3))
    assert np.abs(half - a[0, :, :, :3]).mean() < 12


@pytest.mark.parametrize("args", [["--width", "0"], ["--height", "-3"], ["--scale", "0"]])
def test_bad_size_is_refused(tmp_path, args):
    out = tmp_path / "clip.mp4"
    r = cli(SWEEP, "--out", str(out), *args)
    assert r.returncode == 2 and not out.exists()
    assert len(r.stderr.strip().splitlines()) == 1 and args[0] in r.stderr


def test_long_clip_warns_when_not_interactive(tmp_path):
    out = tmp_path / "long.mp4"
    r = cli(SWEEP, "--out", str(out), "--fps", "1", "--duration", "31", "--width", "320",
            "--height", "180")  # fmt: skip
    assert r.returncode == 0, r.stderr
    (warning,) = [line for line in r.stderr.splitlines() if line.startswith("Warning")]
    assert "320x180, 31 s (31 frames)" in warning and "MB" in warning and "to make" in warning
    # A short one does not warn.
    r = cli(SWEEP, "--out", str(out), *SMALL)
    assert "Warning" not in r.stderr


def test_large_clip_asks_on_a_terminal(tmp_path):
    out = tmp_path / "big.mp4"
    main, child = pty.openpty()
    p = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "spine3d._cli.main",
            "animate",
            SWEEP,
            "--out",
            str(out),
            "--width",
            "2560",
            "--height",
            "1440",
        ],  # fmt: skip
        stdin=child,
        stdout=child,
        stderr=child,
    )
    os.close(child)
    said = b""
    while b"[y/N]" not in said:
        said += os.read(main, 1024)
    os.write(main, b"n\n")
    assert p.wait(60) == 1
    time.sleep(0.1)
    said += os.read(main, 4096)
    os.close(main)
    assert b"2560x1440" in said and b"Not made." in said
    assert not out.exists() and not list(tmp_path.iterdir())


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_interrupted_clip_leaves_nothing(tmp_path, sig):
    out = tmp_path / "clip.mp4"
    p = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "spine3d._cli.main",
            "animate",
            SWEEP,
            "--out",
            str(out),
            "--fps",
            "24",
            "--duration",
            "20",
            "--width",
            "320",
            "--height",
            "180",
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while not list(tmp_path.glob(".clip.mp4.*")) or not any(
        f.stat().st_size for f in tmp_path.glob(".clip.mp4.*")
    ):
        assert time.time() < deadline and p.poll() is None
        time.sleep(0.05)
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 128 + sig
    assert err.strip().splitlines()[-1] == f"Error: interrupted ({signal.Signals(sig).name})"
    assert "Traceback" not in err
    assert not list(tmp_path.iterdir())
