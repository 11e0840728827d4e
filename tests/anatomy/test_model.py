import math

import numpy as np
import pytest

import spine3d
from spine3d.anatomy import (
    JOINT_FIELDS,
    LEVELS,
    MORPHOMETRY_FIELDS,
    SEGMENTS,
    facet_normal,
    joint_table,
    levels_between,
    morphometry_table,
)
from spine3d.anatomy.frames import invert


def test_levels_and_segments():
    assert LEVELS[0] == "T1" and LEVELS[-1] == "S1" and len(LEVELS) == 18
    assert SEGMENTS[0] == "T1-T2" and SEGMENTS[-1] == "L5-S1" and len(SEGMENTS) == 17
    assert levels_between("L3-L5") == ("L3", "L4", "L5")


def test_tables_complete_with_sources():
    morph = morphometry_table()
    for lv in LEVELS:
        row = morph[lv]
        assert all(math.isfinite(row[f]) for f in MORPHOMETRY_FIELDS)
        assert row["source"].strip()
    joints = joint_table()
    for seg in SEGMENTS:
        assert all(math.isfinite(joints[seg][f]) for f in JOINT_FIELDS)
        assert joints[seg]["source"].strip()


def test_interpolation_between_anchors():
    morph = morphometry_table()
    # T6 lies halfway between the T4 and T8 anchors.
    assert morph["T6"]["body_width_mm"] == pytest.approx(0.5 * (27 + 32))
    assert "between T4 and T8" in morph["T6"]["source"]


def test_costal_facets_on_t1_to_t10():
    morph = morphometry_table()
    with_ribs = [lv for lv in LEVELS if morph[lv]["costal_facets"] >= 0.5]
    assert with_ribs == [f"T{i}" for i in range(1, 11)]


def test_facet_normal_conventions():
    # Lumbar facets face posteromedially, thoracic posterolaterally and upward.
    n = facet_normal(50, 90, "right")
    assert n[0] < 0 and n[2] < 0 and abs(n[1]) < 1e-12
    n = facet_normal(160, 60, "right")
    assert n[0] < 0 and n[2] > 0 and n[1] > 0
    assert np.allclose(facet_normal(0, 90, "left"), facet_normal(180, 90, "left"))
    assert np.allclose(facet_normal(43, 90, "left") * [1, 1, -1], facet_normal(43, 90, "right"))


def test_rest_pose_and_frames(model):
    # Sacrum at the origin, T1 about 450 mm above it; lumbar lordosis brings L3 forward
    # of the sacrum and thoracic kyphosis takes T6 behind it.
    assert np.allclose(model.vertebra("S1").rest_pose[:3, 3], 0)
    assert 400 < model.vertebra("T1").rest_pose[1, 3] < 520
    assert model.vertebra("L3").rest_pose[0, 3] > 0 > model.vertebra("T6").rest_pose[0, 3]
    for j in model.joints:
        rel = invert(model.vertebra(j.lower).rest_pose) @ model.vertebra(j.upper).rest_pose
        assert np.allclose(rel, j.disc_frame_in_lower @ invert(j.disc_frame_in_upper))


def test_overrides_change_one_joint():
    base = spine3d.load_model()
    m = spine3d.load_model(facets={"T6-T7": {"coronal_deg": 50.0, "transverse_deg": 90.0}})
    assert m.joint("T6-T7").facet("left").coronal_deg == 50.0
    assert (
        m.joint("T7-T8").facet("left").coronal_deg == base.joint("T7-T8").facet("left").coronal_deg
    )
    trop = spine3d.load_model(facets={"L4-L5": {"left_coronal_deg": 30, "right_coronal_deg": 60}})
    assert trop.joint("L4-L5").facet("left").coronal_deg == 30
    assert trop.joint("L4-L5").facet("right").coronal_deg == 60


@pytest.mark.parametrize(
    ("facets", "message"),
    [
        ({"T6-T8": {"coronal_deg": 50}}, "unknown joint 'T6-T8'"),
        ({"T6-T7": {"angle": 50}}, "unknown key 'angle'"),
        ({"T6-T7": {"coronal_deg": 190}}, "out of range, expected 0 to 180"),
        ({"T6-T7": {"left_transverse_deg": -1}}, "out of range, expected 0 to 180"),
        ({"T6-T7": {"coronal_deg": "steep"}}, "expected a number"),
    ],
)
def test_bad_overrides(facets, message):
    with pytest.raises(ValueError, match=message):
        spine3d.load_model(facets=facets)
