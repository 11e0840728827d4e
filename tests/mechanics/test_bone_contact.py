"""Bone on bone: the posterior elements meet the lower bone where the build measured."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest

import spine3d
from spine3d._cli.main import main
from spine3d.anatomy import SEGMENTS
from spine3d.anatomy.model import CONTACT_SITES
from spine3d.errors import SpineInputError
from spine3d.geometry.store import default_mesh_dir
from spine3d.mechanics.static import Load, _compiled, _external, _tangent, solve_load

FLEX = 0


@pytest.fixture(scope="module")
def bare():
    return spine3d.load_model(ribs="none")


def _contacts_moved(model, away_mm: float | None):
    """The model with every contact plane moved ``away_mm`` off (None: no contacts)."""
    joints = []
    for j in model.joints:
        moved = ()
        if away_mm is not None:
            moved = tuple(
                dataclasses.replace(c, plane_mm=c.plane_mm - away_mm * c.normal) for c in j.contacts
            )
        joints.append(dataclasses.replace(j, contacts=moved))
    return dataclasses.replace(model, joints=tuple(joints))


def _extension(model, seg: str, moment_nm: float = -10.0) -> float:
    load = Load({}, {"flexion": moment_nm}, levels="L1-S1")
    s = solve_load(model, load, warm=False)
    return float(s.rotation3_deg[SEGMENTS.index(seg), FLEX])


def test_contacts_lie_on_the_arch_clear_of_the_bone_below(bare):
    for j in bare.joints:
        assert [c.site for c in j.contacts] == list(CONTACT_SITES), j.name
        for c in j.contacts:
            assert c.gap_mm > 0.0, (j.name, c.site)  # no bone inside bone at rest
            assert np.linalg.norm(c.normal) == pytest.approx(1.0)
            assert c.point_mm[0] < -15.0, (j.name, c.site)  # behind the body
        left, mid, right = j.contacts
        assert abs(mid.point_mm[2]) <= 0.5
        assert left.point_mm[2] < -5.0 < 5.0 < right.point_mm[2]
        # The bones are mirror images but for the sacrum and T1, whose articular
        # processes the facet warp turns a little unevenly (0.3 mm at the T1-T2 site).
        if "S1" not in j.name and "T1" not in j.name:
            mirror = right.point_mm * [1, 1, -1]
            assert np.allclose(left.point_mm, mirror, atol=5e-3), j.name
            assert left.gap_mm == pytest.approx(right.gap_mm, abs=5e-3)


def test_extension_stops_where_the_arch_meets_bone(bare):
    # L4-L5's laminae and articular processes meet L5 after a few degrees of extension:
    # the contact takes load and the segment extends less. Moved 10 mm apart, the same
    # geometry never meets, and the segment moves as it does without any contact.
    seg = "L4-L5"
    meets = _extension(bare, seg)
    apart = _extension(_contacts_moved(bare, 10.0), seg)
    none = _extension(_contacts_moved(bare, None), seg)
    assert apart == pytest.approx(none, abs=1e-9)
    assert -meets < 0.85 * -none
    # Bending forward takes the arch away from the bone below: no effect in flexion.
    flex = _extension(bare, seg, 10.0)
    assert flex == pytest.approx(_extension(_contacts_moved(bare, None), seg, 10.0), abs=1e-9)


def test_contact_force_shows_in_no_facet_detail(bare):
    # The per-side facet details stay those of the articular surfaces alone.
    load = Load({}, {"flexion": -10.0}, levels="L1-S1")
    with_c = solve_load(bare, load, warm=False)
    assert with_c.facet_gap_mm.shape == (2, len(SEGMENTS))
    assert with_c.facet_force_n.shape == (2, len(SEGMENTS))
    assert with_c.capsule_stretch_mm.shape == (2, len(SEGMENTS))


def test_exact_tangent_with_bones_in_contact(bare):
    # Segments extended past where their arches meet bone: the contact terms of the
    # hand-derived tangent against central differences of the residual.
    c = _compiled(bare, (1.0,) * len(SEGMENTS))
    rng = np.random.default_rng(5)
    sl = slice(0, len(SEGMENTS))
    k = sl.stop - sl.start
    qa = np.concatenate([rng.normal(0, 0.01, (k, 3)), rng.normal(0, 0.2, (k, 3))], axis=1)
    qa[:, 2] += np.radians(9.0)  # extension
    m_local = rng.normal(0, 1e3, (k, 3))
    seg = c.seg
    points, normal, offset, stiff = seg._points
    nl = seg.lig_upper.shape[1]
    nf = seg.facet_point.shape[1] * seg.facet_point.shape[2]
    from spine3d.mechanics.segment import rodrigues

    px = points @ np.swapaxes(rodrigues(qa[:, :3]), -1, -2) + qa[:, None, 3:]
    gap = np.einsum("npi,npi->np", px[:, nl:], normal) - offset
    assert ((gap[:, nf:] < 0) & (stiff[:, nf:] > 0)).sum() >= 4  # bone meets bone

    def residual(q):
        return seg.wrench(q)[sl] + _external(q, m_local, 0.0)

    r, jac, _ = _tangent(seg, sl, qa, m_local, 0.0)
    jac = jac()
    assert np.allclose(r, residual(qa))
    fd = np.zeros_like(jac)
    for b in range(6):
        h = 1e-7 if b < 3 else 1e-6
        up, down = qa.copy(), qa.copy()
        up[:, b] += h
        down[:, b] -= h
        fd[:, :, b] = (residual(up) - residual(down)) / (2 * h)
    assert np.abs(jac - fd).max() <= 1e-6 * np.abs(fd).max()


def _pack_with(tmp_path, edit) -> str:
    """A copy of the shipped bones with its manifest's joints edited by ``edit``."""
    src = default_mesh_dir()
    out = tmp_path / "pack"
    shutil.copytree(src, out, ignore=shutil.ignore_patterns("__*", "*.py"))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    edit(manifest["joints"])
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return str(out)


def test_bones_measured_before_contacts_were_recorded_have_none(tmp_path):
    def drop(joints):
        for entry in joints.values():
            del entry["contacts"]

    model = spine3d.load_model(bones=_pack_with(tmp_path, drop), ribs="none")
    assert all(j.contacts == () for j in model.joints)
    s = solve_load(model, Load({}, {"flexion": -10.0}, levels="L1-S1"), warm=False)
    assert np.isfinite(s.rotation3_deg).all()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"left": {"point_mm": [1, 2], "plane_mm": [0, 0, 0], "normal": [0, 1, 0]}}, "left"),
        ({"left": {"point_mm": [1, 2, 3], "plane_mm": [0, 0, 0], "normal": [0, 2, 0]}}, "unit"),
        ({"back": {"point_mm": [1, 2, 3], "plane_mm": [0, 0, 0], "normal": [0, 1, 0]}}, "back"),
        ([1, 2, 3], "expected an object of sites"),
    ],
)
def test_malformed_contacts_are_named(tmp_path, capsys, value, message):
    def spoil(joints):
        joints["L3-L4"]["contacts"] = value

    pack = _pack_with(tmp_path, spoil)
    where = r"manifest\.json: joints\.L3-L4\.contacts"
    with pytest.raises(SpineInputError, match=rf"{where}.*{message}"):
        spine3d.load_model(bones=pack)
    assert main(["solve", "--bones", pack, "--twist", "5"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "joints.L3-L4.contacts" in err
    assert "Traceback" not in err
