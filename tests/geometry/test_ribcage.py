import numpy as np
import pytest
import scipy.sparse as sp
import trimesh
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from spine3d.geometry.ribcage import (
    RibPart,
    _pieces,
    _sort_pieces,
    load_thorax_mesh,
    thorax_parts,
)

SIDES = ("left", "right")
SOURCE_GAP_MM = 3.0  # the source leaves up to 2.95 mm between a rib end and its cartilage


@pytest.fixture(scope="module")
def parts():
    return thorax_parts()


def _ribs(parts, side):
    return [parts[f"rib_{n}_{side}"] for n in range(1, 13)]


def _gap_mm(a, b):
    return cKDTree(b.vertices).query(a.vertices)[0].min()


def _bodies(mesh):
    adj = mesh.face_adjacency
    n = len(mesh.faces)
    graph = sp.coo_matrix((np.ones(len(adj)), (adj[:, 0], adj[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[0]


def test_names(parts):
    ribs = {f"rib_{n}_{s}" for n in range(1, 13) for s in SIDES}
    cartilages = {f"cartilage_{n}_{s}" for n in range(1, 11) for s in SIDES}
    assert set(parts) == ribs | cartilages | {"sternum"}
    assert all(isinstance(p, RibPart) and p.name == name for name, p in parts.items())


def test_twelve_ribs_a_side_numbered_from_the_top(parts):
    for side, sign in (("left", -1), ("right", 1)):
        ribs = _ribs(parts, side)
        assert all(np.sign(r.mesh.centroid[2]) == sign for r in ribs)
        assert all(np.sign(r.landmarks["head_mm"][2]) == sign for r in ribs)
        heads_y = [r.landmarks["head_mm"][1] for r in ribs]
        assert np.all(np.diff(heads_y) < -10.0), heads_y
        for r in ribs:
            head, front = r.landmarks["head_mm"], r.landmarks["anterior_end_mm"]
            # the head is medial and posterior, beside the vertebral body
            assert abs(head[2]) < 30.0 and head[0] < -55.0, r.name
            assert abs(head[2]) < abs(front[2]), r.name
            # ribs slope down from the head to the front
            assert front[1] < head[1], r.name


def test_ribs_mirror_symmetric(parts):
    for n in range(1, 13):
        left, right = parts[f"rib_{n}_left"], parts[f"rib_{n}_right"]
        mirrored = left.mesh.vertices * (1.0, 1.0, -1.0)
        gaps = cKDTree(right.mesh.vertices).query(mirrored)[0]
        assert np.percentile(gaps, 95) < 3.0, n
        for key in ("head_mm", "anterior_end_mm"):
            # the source's rib 11 heads differ by 6.4 mm, the others by at most 3.9 mm
            miss = np.linalg.norm(left.landmarks[key] * (1, 1, -1) - right.landmarks[key])
            assert miss < 7.0, (n, key, miss)


def test_logo_dropped_by_rule():
    mm = load_thorax_mesh()
    mm = trimesh.Trimesh(mm.vertices * 1000.0, mm.faces)
    pieces = _pieces(mm)
    bones, dropped = _sort_pieces(pieces)
    assert len(pieces) == 44
    assert len(bones) == 25 and len(dropped) == 19
    assert sum(len(pieces[i].faces) for i in bones) == 5442
    assert sum(len(pieces[i].faces) for i in dropped) == 15774
    assert max(len(pieces[i].faces) for i in dropped) == 15180  # the ring


def _in_front_of_sternum_mm(sternum, v):
    """How far points of ``v`` over the sternal column lie in front of its anterior surface."""
    bins = np.arange(sternum[:, 1].min(), sternum[:, 1].max() + 5.0, 5.0)
    idx = np.digitize(sternum[:, 1], bins) - 1
    column = np.abs(sternum[:, 2]) < 15.0
    front = np.array([sternum[(idx == k) & column, 0].max() for k in range(len(bins) - 1)])
    over = (v[:, 1] >= bins[0]) & (v[:, 1] < bins[-1]) & (np.abs(v[:, 2]) < 15.0)
    k = np.digitize(v[over, 1], bins) - 1
    return np.max(v[over, 0] - front[k], initial=-np.inf)


def test_nothing_in_front_of_the_sternum(parts):
    sternum = parts["sternum"].mesh.vertices
    for name, part in parts.items():
        assert _in_front_of_sternum_mm(sternum, part.mesh.vertices) < 3.0, name
    # the check catches the logo: its ring stands up to 10.7 mm in front of the sternum
    mm = load_thorax_mesh()
    mm = trimesh.Trimesh(mm.vertices * 1000.0, mm.faces)
    pieces = _pieces(mm)
    logo = np.vstack([pieces[i].vertices for i in _sort_pieces(pieces)[1]])
    assert _in_front_of_sternum_mm(sternum, logo) > 8.0


def test_size_of_a_rib_cage(parts):
    v = np.vstack([p.mesh.vertices for p in parts.values()])
    depth, height, width = v.max(axis=0) - v.min(axis=0)
    assert 170.0 < depth < 210.0  # 191 mm
    assert 280.0 < height < 330.0  # 306 mm
    assert 250.0 < width < 300.0  # 274 mm
    assert 35_000 < sum(len(p.mesh.faces) for p in parts.values()) < 50_000  # 41,948


def test_cartilages_join_rib_and_sternum_or_cartilage_above(parts):
    sternum = parts["sternum"].mesh
    for side in SIDES:
        for n in range(1, 11):
            cart = parts[f"cartilage_{n}_{side}"]
            rib = parts[f"rib_{n}_{side}"]
            assert _gap_mm(cart.mesh, rib.mesh) < SOURCE_GAP_MM, cart.name
            assert (
                np.linalg.norm(cart.landmarks["rib_end_mm"] - rib.landmarks["anterior_end_mm"])
                < 10.0
            )
            if n <= 7:
                assert _gap_mm(cart.mesh, sternum) < 1.0, cart.name
                assert set(cart.landmarks) == {"rib_end_mm", "sternal_end_mm"}
            else:
                above = parts[f"cartilage_{n - 1}_{side}"]
                assert _gap_mm(cart.mesh, above.mesh) < 1.0, cart.name
                assert _gap_mm(cart.mesh, sternum) > 20.0, cart.name
                assert set(cart.landmarks) == {"rib_end_mm", "medial_end_mm"}
    for n in (11, 12):
        assert f"cartilage_{n}_left" not in parts


def test_sternum_in_the_mid_sagittal_plane(parts):
    sternum = parts["sternum"]
    v = sternum.mesh.vertices
    assert abs(sternum.mesh.centroid[2]) < 0.5
    assert np.percentile(cKDTree(v).query(v * (1, 1, -1))[0], 95) < 2.0
    top, bottom = sternum.landmarks["superior_mm"], sternum.landmarks["inferior_mm"]
    assert top[2] == 0.0 and bottom[2] == 0.0
    assert 150.0 < top[1] - bottom[1] < 190.0  # manubrium to xiphoid, 172 mm
    assert bottom[0] > top[0]  # the sternum leans forward going down


def test_parts_are_closed_single_bodies(parts):
    for name, part in parts.items():
        mesh = part.mesh
        assert mesh.is_watertight, name
        assert mesh.is_winding_consistent, name
        assert mesh.volume > 0, name
        assert _bodies(mesh) == 1, name
        assert len(mesh.vertices) == len(np.unique(mesh.vertices, axis=0)), name


def test_deterministic(parts):
    again = thorax_parts()
    for name, part in parts.items():
        assert np.array_equal(part.mesh.vertices, again[name].mesh.vertices), name
        assert np.array_equal(part.mesh.faces, again[name].mesh.faces), name


def test_landmarks_read_only(parts):
    marks = parts["rib_1_left"].landmarks
    with pytest.raises(TypeError):
        marks["head_mm"] = np.zeros(3)
    with pytest.raises(ValueError):
        marks["head_mm"][0] = 1.0


def test_missing_rib_is_refused():
    mesh = load_thorax_mesh()
    pieces = _pieces(mesh)
    # the smallest closed pieces are the twelfth ribs
    small = min((p for p in pieces if p.is_watertight), key=lambda p: len(p.faces))
    kept = [p for p in pieces if p is not small]
    with pytest.raises(ValueError, match="ribs on the"):
        thorax_parts(trimesh.util.concatenate(kept))
