"""``spine3d slides``: the deck read back with python-pptx and converted by LibreOffice."""

import shutil
import subprocess
import zipfile

import numpy as np
import pytest

import spine3d
from spine3d._cli.main import main
from spine3d.scene import load_scene

CLIP = """
title = "A restricted L4-L5 through a twist and back"
caption = "The restricted segment stays cold."

[spine]
levels = "T10-S1"
mobility = { "L4-L5" = "restricted" }

[load]
twist_deg = 35

[view]
width = 640
height = 360

[animation]
kind = "sweep"
fps = 6
duration_s = 1
"""

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.fixture(scope="module")
def deck(tmp_path_factory):
    d = tmp_path_factory.mktemp("slides")
    clip = d / "clip.toml"
    clip.write_text(CLIP)
    out = d / "lecture.pptx"
    scenes = ["scenes/restricted_l4l5.toml", str(clip)]
    assert main(["slides", *scenes, "--out", str(out), "--title", "Twisting a stiff spine"]) == 0
    return out


def test_a_title_slide_then_one_per_scene_with_figure_title_caption_and_notes(deck, model):
    from pptx import Presentation

    prs = Presentation(str(deck))
    slides = list(prs.slides)
    assert len(slides) == 3
    texts = [[sh.text_frame.text for sh in s.shapes if sh.has_text_frame] for s in slides]
    assert "Twisting a stiff spine" in texts[0]
    scene = load_scene("scenes/restricted_l4l5.toml")
    assert scene.title in texts[1] and scene.caption in texts[1]
    pictures = [sh for sh in slides[1].shapes if sh.shape_type == 13]  # a picture
    assert len(pictures) == 1
    assert pictures[0].image.size[0] >= 1900  # the figure at full resolution (1920 wide)
    # The notes hold the numbers: L4-L5's rotation and share, as the solver gives them.
    notes = slides[1].notes_slide.notes_text_frame.text
    state = spine3d.solve(model, 30.0, mobility={"L4-L5": "restricted"})
    l4l5 = state.segment("L4-L5")
    assert f"L4-L5 is restricted: {abs(l4l5['rotation_deg']['axial']):.2f}°" in notes
    assert f"{100 * l4l5['share']:.1f}% of the twist" in notes
    assert f"torque {state.torque_nm:.1f} N m" in notes
    # The clip is an embedded movie with a poster frame.
    names = zipfile.ZipFile(deck).namelist()
    assert any(n.startswith("ppt/media/") and n.endswith(".mp4") for n in names)
    xml = slides[2].shapes._spTree.xml
    assert "videoFile" in xml


@pytest.mark.skipif(
    SOFFICE is None or shutil.which("pdftoppm") is None,
    reason="LibreOffice (libreoffice-impress) or pdftoppm (poppler-utils) is not installed",
)
def test_libreoffice_converts_it_page_by_page(deck, tmp_path):
    from PIL import Image

    profile = tmp_path / "profile"
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(deck),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    pdf = tmp_path / "lecture.pdf"
    assert pdf.exists()
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p-*.png"))
    assert len(pages) == 3
    for k, page in enumerate(pages):
        img = np.asarray(Image.open(page).convert("RGB")).astype(int)
        h = img.shape[0]
        middle = img[int(0.2 * h) : int(0.8 * h)]
        # Coloured pixels (the heat map on the bones) only where a figure is, and a figure
        # (bone, chart, labels) fills a good part of every scene's page.
        chroma = middle.max(axis=2) - middle.min(axis=2)
        coloured = (chroma > 40).mean()
        drawn = (middle.min(axis=2) < 235).mean()
        if k == 0:
            assert coloured < 0.001
        else:
            assert coloured > 0.002 and drawn > 0.05, (page.name, coloured, drawn)


def test_bad_input_writes_nothing(tmp_path, capsys):
    out = tmp_path / "deck.pptx"
    assert main(["slides", "scenes/self_twist.toml", "--out", str(tmp_path / "deck.ppt")]) == 2
    assert main(["slides", "scenes/self_twist.toml", "scenes/nope.toml", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "expected a .pptx file" in err[0] and "nope.toml" in err[1]
    assert list(tmp_path.iterdir()) == []
