"""``spine3d export-html``: rib cage parts the mechanics poses ride on their vertebra."""

from dataclasses import replace

import numpy as np
import pytest

import spine3d
import spine3d.scene.describe as describe_module
from spine3d.export import webpage
from spine3d.scene import parse_scene
from spine3d.scene.describe import context_parts
from spine3d.scene.theme import DEFAULT_THEME, colormap

RIBS = ("rib_5_left", "rib_6_right")


def _turn_y(deg: float) -> np.ndarray:
    """A part's offset on its vertebra: turned ``deg`` about Y, and moved with the turn."""
    a = np.radians(deg)
    m = np.eye(4)
    m[0, 0] = m[2, 2] = np.cos(a)
    m[0, 2], m[2, 0] = np.sin(a), -np.sin(a)
    m[:3, 3] = [2.0 * deg, 1.0, -40.0]
    return m


def _with_ribs(solve):
    """``solve``, its state holding two ribs, each turned a tenth of the twist on its vertebra."""
    parts = context_parts(None)

    def wrapped(model, *a, **k):
        state = solve(model, *a, **k)
        turn = state.twist_deg / 10
        return replace(
            state,
            part_poses={n: state.pose(parts[n][1]) @ _turn_y(turn) for n in RIBS},
            part_rotation3_deg={n: np.array([0.0, 0.0, turn]) for n in RIBS},
        )

    return wrapped


@pytest.fixture(scope="module")
def data():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(spine3d, "solve", _with_ribs(spine3d.solve))
        mp.setattr(describe_module, "solve", _with_ribs(describe_module.solve))
        scene = parse_scene(
            {"spine": {"levels": "T3-T8", "ribs": "intact"}, "load": {"twist_deg": 20}}, "s.toml"
        )
        return webpage.page_data(scene)


def _array(data, name):
    entry = data.meta["arrays"][name]
    return np.frombuffer(data.blob, entry["type"], entry["length"], entry["offset"])


def _unpack(data, entry) -> np.ndarray:
    """What the page does to a packed array: byte planes to 16-bit integers, then sums."""
    n, stride = entry["count"], entry["stride"]
    planes = np.frombuffer(data.blob, np.uint8, entry["length"], entry["offset"]).reshape(2, n)
    diffs = (planes[0].astype(np.uint16) | (planes[1].astype(np.uint16) << 8)).view(np.int16)
    out = diffs.astype(np.int64)
    for k in range(stride, n):
        out[k] += out[k - stride]
    return out.astype(np.uint16).view(np.int16)  # the page's typed arrays wrap


def test_posed_parts_ride_on_their_vertebra_with_their_own_offset(data):
    meta = data.meta
    bones = meta["bones"]
    # Only the parts the state holds are drawn; each is a posed part.
    assert sorted(b["name"] for b in bones if b["role"] == "context") == sorted(RIBS)
    assert [bones[b]["name"] for b in meta["parts"]] == [
        b["name"] for b in bones if b["role"] == "context"
    ]
    parts = context_parts(None)
    for b in meta["parts"]:
        assert meta["levels"][bones[b]["parent"]] == parts[bones[b]["name"]][1]
    n_states, n_grid, n_parts = len(meta["states"]), meta["grid"]["count"], len(meta["parts"])
    packed = meta["partPoses"]
    quat = _unpack(data, packed["quat"]).reshape(n_states, n_grid, n_parts, 4) / 32767
    shift = _unpack(data, packed["t"]).reshape(n_states, n_grid, n_parts, 3) * packed["tScale"]
    for g, twist in ((0, -60.0), (80, 20.0), (120, 60.0)):
        for p in range(n_parts):
            half = np.radians(twist / 10) / 2  # about +Y: (0, sin, 0, cos)
            assert np.allclose(quat[0, g, p], [0, np.sin(half), 0, np.cos(half)], atol=1e-3)
            assert np.allclose(shift[0, g, p], _turn_y(twist / 10)[:3, 3], atol=0.01)


def test_posed_ribs_take_their_own_colour_per_pose(data):
    meta = data.meta
    n_states, n_grid, n_bones = len(meta["states"]), meta["grid"]["count"], len(meta["bones"])
    colours = _array(data, "boneColors").reshape(n_states, n_grid, n_bones, 3) / 255
    clim = _array(data, "clim").reshape(n_states, n_grid)
    b = meta["parts"][0]
    for g, twist in ((10, -50.0), (100, 40.0)):
        expected = colormap(DEFAULT_THEME.rotation_cmap, abs(twist / 10) / clim[0, g])
        assert np.allclose(colours[0, g, b], expected, atol=1 / 255)
    assert not np.allclose(colours[0, 10, b], colours[0, 60, b])


def test_the_page_draws_each_posed_part_on_its_vertebra(data, tmp_path):
    from . import browser

    if browser.missing():
        pytest.skip(browser.missing())
    page = tmp_path / "ribs.html"
    page.write_text(webpage.page_html(data), encoding="utf-8")
    parts = context_parts(None)
    with browser.chromium(800, 600) as driver:
        browser.open_page(driver, page)
        for twist in (40, -25):
            driver.execute_script(
                "const s = document.getElementById('twist'); s.value = arguments[0];"
                "s.dispatchEvent(new Event('input', {bubbles: true}));",
                twist,
            )
            assert driver.execute_script("return spine3d.twist()") == twist
            vertebrae = driver.execute_script("return spine3d.vertebraMatrices()")
            drawn = driver.execute_script("return spine3d.partMatrices()")
            assert sorted(drawn) == sorted(RIBS)
            for name, m in drawn.items():
                # three.js matrices are column-major
                level = np.array(vertebrae[parts[name][1]]).reshape(4, 4).T
                expected = level @ _turn_y(twist / 10)
                assert np.allclose(np.array(m).reshape(4, 4).T, expected, atol=2e-3), name
        assert browser.console_errors(driver) == []
