"""Notebook display: ``spine3d.show``, ``_repr_png_`` / ``_repr_html_``, the example notebook."""

import base64
import io
from pathlib import Path

import numpy as np
import pytest

import spine3d
from spine3d.errors import SpineInputError
from spine3d.export.notebook import as_figure, represent
from spine3d.scene import load_scene
from spine3d.scene.describe import describe

ROOT = Path(__file__).resolve().parents[2]


def _image(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def test_state_and_figure_show_themselves(model):
    state = spine3d.solve(model, twist_deg=35.0, mobility={"L4-L5": "restricted"})
    png = state._repr_png_()
    assert png.startswith(b"\x89PNG")
    img = _image(png)
    assert img.shape == (720, 1280, 3)
    chroma = img.max(axis=2) - img.min(axis=2)
    assert (chroma > 60).mean() > 0.01  # the column, coloured by rotation
    html = state._repr_html_()
    assert "data:image/png;base64," in html and "<td>L4-L5</td><td>restricted</td>" in html
    assert base64.b64encode(png).decode() in html  # one picture for both
    fig = describe(load_scene("scenes/tropism.toml"), size=(640, 360))
    assert _image(fig._repr_png_()).shape == (360, 640, 3)


def test_a_different_state_draws_a_different_picture(model):
    a = _image(represent("png", spine3d.solve(model, twist_deg=35.0)))
    b = _image(represent("png", spine3d.solve(model, twist_deg=-35.0)))
    assert (np.abs(a - b).sum(axis=2) > 30).mean() > 0.005


def test_show_rejects_what_it_cannot_draw():
    with pytest.raises(SpineInputError, match="cannot show a int"):
        as_figure(3)
    with pytest.raises(SpineInputError, match="no such scene file"):
        as_figure("scenes/nope.toml")


def test_example_notebook_runs_and_shows_images():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(ROOT / "docs" / "notebook.ipynb", as_version=4)
    nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    ).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    shown = [o for o in code[0].outputs if o.output_type == "display_data"]
    assert len(shown) == 1 and "image/png" in shown[0].data
    # A bare state at the end of a cell: its picture and its table.
    result = [o for o in code[1].outputs if o.output_type == "execute_result"][0]
    assert "image/png" in result.data and "rotation per segment" in result.data["text/html"]
    printed = "".join(o.text for o in code[2].outputs if o.output_type == "stream")
    assert "L4-L5:" in printed
    assert any("image/png" in o.data for o in code[3].outputs if o.output_type == "display_data")


def test_interactive_view_with_the_notebook_extra():
    from spine3d.export.notebook import has_interactive

    if not has_interactive():
        pytest.skip("the notebook extra is not installed (pip install -e '.[notebook]')")
    pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from nbformat.v4 import new_code_cell, new_notebook

    source = "import spine3d\nspine3d.show(spine3d.solve(spine3d.load_model(), twist_deg=20.0))"
    nb = new_notebook(cells=[new_code_cell(source)])
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    kinds = [k for o in nb.cells[0].outputs if o.output_type == "display_data" for k in o.data]
    assert "image/png" in kinds and "application/vnd.jupyter.widget-view+json" in kinds


def test_interactive_without_the_extra_says_how_to_get_it(model, monkeypatch):
    from spine3d.export import notebook

    pytest.importorskip("IPython")
    monkeypatch.setattr(notebook, "has_interactive", lambda: False)
    with pytest.raises(SpineInputError, match=r"pip install 'spine3d\[notebook\]'"):
        notebook.show(spine3d.solve(model, twist_deg=10.0), interactive=True)
