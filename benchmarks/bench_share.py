"""The web page and the glTF: size, time to write, first frame and slider response.

Run: ``python benchmarks/bench_share.py``. Targets (issue 17): the whole column's page
at most 10 MB; written in a small multiple of the bare solves it holds; its first frame
in headless Chromium within 2 s of opening it; a frame within 50 ms of a slider move,
measured by the page's own timer (``spine3d.responses``).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

import spine3d
from spine3d.export.gltf import write_gltf
from spine3d.export.webpage import MAX_PAGE_BYTES, TWIST_GRID_DEG, page_data, write_page
from spine3d.scene import load_scene

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.export import browser  # noqa: E402

SCENE = ROOT / "scenes" / "self_twist.toml"


def timed(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    console = Console(width=120)
    scene = load_scene(SCENE)
    tmp = Path(tempfile.mkdtemp(prefix="spine3d-bench-"))
    page = tmp / "self_twist.html"
    write_page(scene, page)  # warm up: meshes read, model tables made
    data = page_data(scene)
    states = data.meta["states"]
    model = spine3d.load_model()

    t_write = timed(lambda: write_page(scene, page))
    t_sweep = timed(lambda: [spine3d.sweep(model, TWIST_GRID_DEG, mobility=m) for m in states])
    grid = TWIST_GRID_DEG[::10]
    t_loop = timed(
        lambda: [spine3d.solve(model, float(t), mobility=m) for m in states for t in grid], 1
    ) * (len(TWIST_GRID_DEG) / len(grid))
    size = page.stat().st_size
    arrays = data.meta["arrays"]
    mesh_raw = sum(m["positions"]["length"] + m["index"]["length"] for m in data.meta["meshes"])
    pose_raw = arrays["poseQuat"]["length"] * 2 + arrays["poseT"]["length"] * 4

    t_glb = timed(lambda: write_gltf(scene, tmp / "spine.glb"))

    table = Table(title="export-html: whole column (self_twist.toml)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target / context")
    n_poses = len(states) * len(TWIST_GRID_DEG)
    table.add_row(
        "states x slider positions", f"{len(states)} x {len(TWIST_GRID_DEG)}", f"{n_poses} poses"
    )
    table.add_row("page size", f"{size / 2**20:.2f} MiB", f"<= {MAX_PAGE_BYTES / 2**20:.0f} MiB")
    table.add_row("  meshes (packed, before deflate)", f"{mesh_raw / 1e6:.2f} MB", "one per bone")
    table.add_row(
        "  poses (before deflate)",
        f"{pose_raw / 1e6:.2f} MB",
        "int16 quaternion, float32 translation",
    )
    table.add_row("write the page", f"{t_write:.2f} s", "")
    table.add_row(
        "  the sweeps alone", f"{t_sweep:.3f} s", f"write / sweeps = {t_write / t_sweep:.1f}x"
    )
    table.add_row(
        "  the same poses by spine3d.solve, one by one",
        f"{t_loop:.2f} s",
        f"solve loop / sweeps = {t_loop / t_sweep:.1f}x",
    )
    table.add_row(
        "write the glTF (.glb)",
        f"{t_glb:.2f} s",
        f"{(tmp / 'spine.glb').stat().st_size / 1e6:.1f} MB",
    )

    why = browser.missing()
    if why:
        console.print(table)
        console.print(f"[yellow]browser figures skipped: {why}")
        return
    blank = tmp / "blank.html"
    blank.write_text("<!DOCTYPE html><title>blank</title><p>blank</p>")
    first, bare, responses = [], [], []
    for _ in range(3):
        with browser.chromium(1280, 800) as d:
            d.get(blank.as_uri())
            bare.append(
                d.execute_script(
                    "return performance.getEntriesByType('navigation')[0].loadEventEnd"
                )
            )
            browser.open_page(d, page)
            first.append(d.execute_script("return spine3d.firstFrameMs"))
            from selenium.webdriver.common.keys import Keys

            slider = d.find_element("id", "twist")
            slider.send_keys(Keys.HOME)
            for _ in range(40):
                slider.send_keys(Keys.ARROW_RIGHT)
            time.sleep(0.3)
            responses += d.execute_script("return spine3d.responses")
    r = np.array(responses)
    table.add_row(
        "first frame in headless Chromium",
        f"{statistics.median(first):.0f} ms",
        "<= 2000 ms (median of 3)",
    )
    table.add_row(
        "  a blank page's load event", f"{statistics.median(bare):.0f} ms", "same browser"
    )
    table.add_row(
        "slider move to next frame (page's timer)",
        f"{np.median(r):.1f} ms median, {np.percentile(r, 95):.1f} ms p95",
        f"<= 50 ms ({len(r)} moves, SwiftShader)",
    )
    console.print(table)


if __name__ == "__main__":
    main()
