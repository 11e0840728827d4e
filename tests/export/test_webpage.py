"""``spine3d export-html``: the data it packs, and the page in Debian's headless Chromium."""

import io
import math

import numpy as np
import pytest

import spine3d
from spine3d._cli.main import main
from spine3d.export.webpage import MAX_PAGE_BYTES, STATES, TWIST_GRID_DEG, page_data
from spine3d.mechanics import mobility_factors
from spine3d.mechanics.params import mobility_label
from spine3d.scene import load_scene

from . import browser

SCENE = "scenes/self_twist.toml"
TOL_DEG = 0.05


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Angle of the rotation between two (4, 4) transforms, degrees."""
    r = a[:3, :3].T @ b[:3, :3]
    return math.degrees(math.acos(max(-1.0, min(1.0, (np.trace(r) - 1) / 2))))


@pytest.fixture(scope="module")
def data():
    return page_data(load_scene(SCENE))


def test_page_covers_every_single_segment_state_on_the_slider_grid(data, model):
    meta = data.meta
    n_seg = len(model.joints)
    # The scene's own state, then each segment restricted and hypermobile.
    assert len(meta["states"]) == 1 + 2 * n_seg
    assert meta["states"][0] == {}
    assert data.rotation_deg.shape == (1 + 2 * n_seg, len(TWIST_GRID_DEG), n_seg)
    for row, seg in zip(meta["stateTable"], meta["shownSegments"], strict=True):
        for name, k in zip(STATES, row, strict=True):
            expected = {} if name == "normal" else {model.joints[seg].name: name}
            assert meta["states"][k] == expected
    # Spot checks against spine3d.solve: every stored pose is a solve of its state.
    rng = np.random.default_rng(7)
    for _ in range(12):
        s, g = int(rng.integers(len(meta["states"]))), int(rng.integers(len(TWIST_GRID_DEG)))
        state = spine3d.solve(model, float(TWIST_GRID_DEG[g]), mobility=meta["states"][s])
        np.testing.assert_allclose(data.rotation_deg[s, g], state.rotation_deg, atol=1e-6)
        np.testing.assert_allclose(data.poses[s, g], state.poses, atol=1e-6)


def test_a_panels_own_mobility_is_the_base_state(model):
    d = page_data(load_scene("scenes/restricted_l4l5.toml"), panel=1)
    meta = d.meta
    assert meta["levels"] == ["T10", "T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1"]
    assert meta["states"][0] == {"L4-L5": "restricted"}
    names = [model.joints[s].name for s in meta["shownSegments"]]
    assert names == ["T10-T11", "T11-T12", "T12-L1", "L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1"]
    row = meta["stateTable"][names.index("L4-L5")]
    assert [meta["states"][k] for k in row] == [
        {},
        {"L4-L5": "restricted"},
        {"L4-L5": "hypermobile"},
    ]
    row = meta["stateTable"][names.index("T12-L1")]
    assert meta["states"][row[1]] == {"L4-L5": "restricted", "T12-L1": "restricted"}
    g = int(np.flatnonzero(TWIST_GRID_DEG == 30.0)[0])
    state = spine3d.solve(model, 30.0, mobility={"L4-L5": "restricted"})
    np.testing.assert_allclose(d.rotation_deg[0, g], state.rotation_deg, atol=1e-6)
    assert d.poses.shape[2] == 9  # the shown vertebrae only


def test_one_mesh_per_bone_shared_across_poses(data):
    meta = data.meta
    bones = [b for b in meta["bones"] if b["role"] == "bone"]
    assert [b["name"] for b in bones] == meta["levels"]
    assert len(meta["meshes"]) == len({b["name"] for b in meta["bones"]})
    n_poses = len(meta["states"]) * meta["grid"]["count"]
    # A pose is a quaternion and a translation per vertebra, nothing more.
    assert meta["arrays"]["poseQuat"]["length"] == n_poses * len(meta["levels"]) * 4
    assert meta["arrays"]["poseT"]["length"] == n_poses * len(meta["levels"]) * 3
    mesh_bytes = sum(m["positions"]["length"] + m["index"]["length"] for m in meta["meshes"])
    assert mesh_bytes < len(data.blob) * 0.75


def test_mesh_packing_round_trips():
    from spine3d.export.webpage import _delta_planes

    rng = np.random.default_rng(3)
    for dtype, stride in ((np.uint16, 3), (np.uint16, 1), (np.uint32, 1)):
        v = rng.integers(0, np.iinfo(dtype).max, size=300, dtype=dtype)
        packed, head = _delta_planes(v, stride)
        size = head["size"]
        assert packed.dtype == np.uint8 and packed.size == v.size * size
        # What the page does: planes back to integers, then wrapping sums.
        d = sum(
            packed[p * v.size : (p + 1) * v.size].astype(np.uint64) << (8 * p) for p in range(size)
        )
        out = d.astype(dtype)
        with np.errstate(over="ignore"):  # unsigned sums wrap, as typed arrays do
            for k in range(stride, out.size):
                out[k] = out[k] + out[k - stride]
        np.testing.assert_array_equal(out, v)


def test_bone_colours_match_the_figure_at_the_scenes_twist(data):
    from spine3d.scene.describe import describe

    fig = describe(load_scene(SCENE))
    meta = data.meta
    g = int(np.flatnonzero(TWIST_GRID_DEG == 30.0)[0])
    entry = meta["arrays"]["boneColors"]
    colours = np.frombuffer(data.blob, np.uint8, entry["length"], entry["offset"]).reshape(
        len(meta["states"]), len(TWIST_GRID_DEG), len(meta["bones"]), 3
    )
    for b, item in zip(meta["bones"], fig.panels[0].meshes, strict=True):
        assert b["name"] == item.level
        np.testing.assert_allclose(
            colours[0, g, meta["bones"].index(b)] / 255, item.color, atol=0.003
        )


def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "page.html"
    assert main(["export-html", SCENE, "--out", str(tmp_path / "page.txt")]) == 2
    assert main(["export-html", SCENE, "--out", str(tmp_path / "no" / "p.html")]) == 2
    assert (
        main(["export-html", "scenes/restricted_l4l5.toml", "--out", str(out), "--panel", "3"]) == 2
    )
    assert main(["export-html", "scenes/missing.toml", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 4 and all(e.startswith("Error: ") for e in err)
    assert "--panel 3: expected 1 to 2" in err[2]
    assert list(tmp_path.iterdir()) == []


# --- in the browser ----------------------------------------------------------------------

needs_browser = pytest.mark.skipif(browser.missing() is not None, reason=str(browser.missing()))


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    out = tmp_path_factory.mktemp("html") / "self_twist.html"
    assert main(["export-html", SCENE, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def driver(page):
    if browser.missing():
        pytest.skip(browser.missing())
    with browser.chromium(1280, 800) as d:
        browser.open_page(d, page)
        yield d


def _canvas(driver) -> np.ndarray:
    from PIL import Image

    png = driver.find_element("id", "view").screenshot_as_png
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _set_twist(driver, twist: float) -> None:
    driver.execute_script(
        "const s = document.getElementById('twist'); s.value = arguments[0];"
        "s.dispatchEvent(new Event('input', {bubbles: true}));",
        twist,
    )


def _click_level(driver, level: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    x, y = driver.execute_script("return spine3d.screenPoint(arguments[0])", level)

    def picks(px, py):
        return driver.execute_script("return spine3d.pick(arguments[0], arguments[1])", px, py)

    # The body centre may sit behind a neighbour's process: search a few pixels around for
    # a point well inside the bone, so that a pixel of rounding in the click still hits it.
    for dx, dy in [(0, 0), (-6, 0), (6, 0), (0, -3), (0, 3), (-10, 0), (10, 0), (-14, 0)]:
        px, py = x + dx, y + dy
        if all(picks(px + u, py + v) == level for u in (-2, 0, 2) for v in (-2, 0, 2)):
            x, y = px, py
            break
    else:
        pytest.fail(f"{level} cannot be clicked near its projected centre")
    canvas = driver.find_element("id", "view")
    rect = driver.execute_script("return arguments[0].getBoundingClientRect().toJSON()", canvas)
    ActionChains(driver).move_to_element_with_offset(
        canvas, int(x - rect["left"] - rect["width"] / 2), int(y - rect["top"] - rect["height"] / 2)
    ).click().perform()


def _label(driver, level: str) -> tuple[str, str]:
    return tuple(
        driver.execute_script(
            "const el = document.querySelector(`.label[data-level='${arguments[0]}']`);"
            "return [el.dataset.state, el.textContent];",
            level,
        )
    )


def _check_poses(driver, model) -> None:
    twist = driver.execute_script("return spine3d.twist()")
    # The whole state drawn, shown segments or not (the scene's own mobility included).
    mobility = driver.execute_script("return spine3d.stateMobility()")
    shown = driver.execute_script("return spine3d.mobility()")
    factors = dict(zip(model.segment_names, mobility_factors(mobility), strict=True))
    for seg, label in shown.items():  # the labels name the state drawn
        assert label == mobility_label(factors[seg])
    # The page's source: the sweep over its slider grid, each position warm-started from
    # the last (the soft capsules can hold T1-T2 in one of two equilibria ~0.1 deg apart,
    # so a pose depends slightly on the path that reaches it).
    reach = spine3d.reachable_twist_deg(model, mobility)
    grid = TWIST_GRID_DEG[np.abs(TWIST_GRID_DEG) <= reach]
    sw = spine3d.sweep(model, grid, mobility=mobility)
    at = int(np.flatnonzero(grid == float(twist))[0])
    drawn = driver.execute_script("return spine3d.vertebraMatrices()")
    for lv, m in drawn.items():
        a = np.array(m).reshape(4, 4).T  # three.js matrices are column-major
        b = sw.poses[at, model.level_names.index(lv)]
        assert _angle_deg(a, b) <= TOL_DEG, (lv, twist, mobility)
        assert np.linalg.norm(a[:3, 3] - b[:3, 3]) <= 0.05, (lv, twist, mobility)
    rot = np.array(driver.execute_script("return spine3d.rotationDeg()"))
    np.testing.assert_allclose(rot, sw.rotation_deg[at], atol=TOL_DEG)


@needs_browser
def test_page_loads_offline_without_errors(driver, page):
    assert driver.execute_script("return spine3d.ready") is True
    assert browser.console_errors(driver) == []
    urls = browser.requests(driver)
    assert urls == [page.resolve().as_uri()], urls
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert driver.execute_script("return spine3d.firstFrameMs") > 0
    assert page.stat().st_size <= MAX_PAGE_BYTES
    # The page shows what the scene says.
    assert driver.find_element("id", "title").text.startswith("Self-twist")
    assert "three.js" in driver.find_element("id", "credit").text
    assert "myo-sim" in driver.find_element("id", "credit").text  # the bones' source
    labels = driver.execute_script(
        "return [...document.querySelectorAll('.label')].map(e => e.textContent)"
    )
    assert labels == list(load_scene(SCENE).panels[0].spine.levels)


@needs_browser
def test_slider_changes_the_drawn_pixels(driver):
    from selenium.webdriver.common.keys import Keys

    _set_twist(driver, 30)
    before = _canvas(driver)
    slider = driver.find_element("id", "twist")
    slider.send_keys(Keys.HOME)  # a real key press: -60°
    assert driver.execute_script("return spine3d.twist()") == -60
    after = _canvas(driver)
    changed = np.abs(after - before).sum(axis=2) > 30
    assert changed.mean() > 0.005, changed.mean()
    slider.send_keys(Keys.ARROW_RIGHT)
    assert driver.execute_script("return spine3d.twist()") == -59
    assert len(driver.execute_script("return spine3d.responses")) >= 2
    assert browser.console_errors(driver) == []


@needs_browser
def test_click_cycles_a_vertebra_and_poses_equal_the_solver(driver, model):
    driver.execute_script("spine3d.setCamera('posterior')")
    _set_twist(driver, 30)
    _check_poses(driver, model)
    assert _label(driver, "L4") == ("normal", "L4")
    _click_level(driver, "L4")
    state, text = _label(driver, "L4")
    assert state == "restricted" and "L4-L5 restricted" in text
    assert driver.execute_script("return spine3d.mobility()")["L4-L5"] == "restricted"
    _check_poses(driver, model)
    _set_twist(driver, -45)
    _check_poses(driver, model)
    _click_level(driver, "L4")
    assert _label(driver, "L4")[0] == "hypermobile"
    _set_twist(driver, 57)
    _check_poses(driver, model)
    # Another segment: L4-L5 goes back to the scene's state.
    _click_level(driver, "T6")
    assert _label(driver, "T6")[0] == "restricted"
    assert _label(driver, "L4") == ("normal", "L4")
    _check_poses(driver, model)
    _click_level(driver, "T6")
    _click_level(driver, "T6")
    assert _label(driver, "T6") == ("normal", "T6")
    _check_poses(driver, model)
    assert browser.console_errors(driver) == []


def test_other_bones_follow_the_vertebra_they_move_with(monkeypatch):
    """A rib fixed to L2 follows L2; a bone that never moves stays put (real bones to come)."""
    from dataclasses import replace

    from spine3d.export import webpage
    from spine3d.scene.describe import MeshItem

    offset = np.eye(4)
    offset[:3, 3] = [10.0, 5.0, 40.0]
    still = np.eye(4)
    still[:3, 3] = [0.0, -80.0, 0.0]

    def extra(state):
        return (
            MeshItem("rib_2_left", np.asarray(state.pose("L2")) @ offset, (1.0, 1.0, 1.0)),
            MeshItem("pelvis_left", still, (1.0, 1.0, 1.0)),
        )

    real = webpage.describe_panel

    def with_extra(panel, state, *a, **k):
        d = real(panel, state, *a, **k)
        return replace(d, meshes=d.meshes + extra(state))

    monkeypatch.setattr(webpage, "describe_panel", with_extra)
    scene = load_scene("scenes/tropism.toml")
    spec = scene.panels[0]
    drawing = webpage.describe(scene).panels[0]
    drawing = replace(drawing, meshes=drawing.meshes + extra(drawing.state))
    levels = list(spec.spine.levels)
    follows = webpage._attachments(spec, drawing, levels, webpage.DEFAULT_THEME)
    *shipped, rib, fixed = follows["meshes"]
    assert rib == levels.index("L2") and fixed == -1
    # The shipped bones: each vertebra itself, the hip bones with S1 (which never moves).
    for item, v in zip(drawing.meshes, shipped, strict=False):
        if item.role == "bone":
            assert v == levels.index(item.level)
        elif item.role == "context":
            assert v in (-1, levels.index("S1")), item.level


def test_facet_plane_traces_ride_on_their_vertebra_and_the_twist_arrow_is_left_out():
    d = page_data(load_scene("scenes/facet_orientation.toml"))
    meta = d.meta
    assert len(meta["lines"]) == 2 and all(ln["parent"] == 0 for ln in meta["lines"])
    angles = [lb["text"] for lb in meta["labels"] if lb["level"] is None]
    t6 = next(j for j in spine3d.load_model().joints if j.lower == "T6")
    assert angles == [f"{min(f.coronal_deg, 180 - f.coronal_deg):.0f}°" for f in t6.facets]
    twisted = page_data(load_scene("scenes/self_twist.toml")).meta
    assert twisted["lines"] == []  # the arrow turns with the sign of the twist: the readout says it
    assert all(lb["level"] is not None for lb in twisted["labels"])


STIFF = """
title = "A stiff spine"
[spine]
levels = "L1-S1"
mobility = { %s }
[load]
twist_deg = 5
"""


@needs_browser
def test_a_stiff_state_stops_the_slider_where_it_stops(tmp_path, model):
    mobility = {j.name: 0.02 for j in model.joints[:-1]}
    scene = tmp_path / "stiff.toml"
    scene.write_text(STIFF % ", ".join(f'"{k}" = 0.02' for k in mobility))
    reach = spine3d.reachable_twist_deg(model, mobility)
    assert reach < 20  # the test needs a state that stops short of the slider's end
    out = tmp_path / "stiff.html"
    assert main(["export-html", str(scene), "--out", str(out)]) == 0
    with browser.chromium(1000, 700) as d:
        browser.open_page(d, out)
        _set_twist(d, 60)
        assert d.execute_script("return spine3d.twist()") == math.floor(reach)
        assert "reaches at most" in d.find_element("id", "readout").text
        _check_poses(d, model)
        _set_twist(d, -3)
        assert d.execute_script("return spine3d.twist()") == -3
        assert "reaches at most" not in d.find_element("id", "readout").text
        assert browser.console_errors(d) == []
