"""Speed of ``spine3d import``, with each figure beside a bare baseline.

Run: ``python benchmarks/bench_import.py`` (needs ``../shared/reference/meshes``).
Targets: importing the 18 BodyParts3D meshes (T1-S1) <= 30 s; a CT label map of one
region <= 30 s. The region is the VerSe L2 label map placed five times, 34 mm apart,
as L1-L5 (VerSe labels 20-24) in one volume: a lumbar CT's size, real bone shape.
Each import is timed once, wall clock and process CPU (the machine may be shared);
the baseline is reading the same source with the bare libraries (trimesh, nibabel).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import trimesh
from rich.console import Console
from rich.table import Table

from spine3d.geometry.importer import import_pack

REFERENCE = Path(__file__).resolve().parents[1] / ".." / "shared" / "reference" / "meshes"
BP3D = (
    "T1 FJ3158, T2 FJ3160, T3 FJ3163, T4 FJ3166, T5 FJ3169, T6 FJ3171, T7 FJ3173, "
    "T8 FJ3174, T9 FJ3175, T10 FJ3154, T11 FJ3155, T12 FJ3156, L1 FJ3157, L2 FJ3159, "
    "L3 FJ3162, L4 FJ3165, L5 FJ3168, S1 FJ3393"
)


def timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def lumbar_region(tmp: Path) -> Path:
    import nibabel

    img = nibabel.load(
        str(REFERENCE / "verse_sub-verse004_L2" / "sub-verse004_0000_vertebra_21_seg.nii.gz")
    )
    one = np.asarray(img.dataobj) != 0
    nz = np.argwhere(one)
    lo, hi = nz.min(0), nz.max(0) + 1
    one = one[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
    step = 34  # voxels of 1 mm along the file's third (superior) axis
    vol = np.zeros((one.shape[0] + 10, one.shape[1] + 10, step * 5 + one.shape[2]), np.uint8)
    for k, label in enumerate((24, 23, 22, 21, 20)):  # L5 at the bottom ... L1 on top
        z0 = k * step
        block = vol[5 : 5 + one.shape[0], 5 : 5 + one.shape[1], z0 : z0 + one.shape[2]]
        block[one & (block == 0)] = label
    path = tmp / "lumbar_seg.nii.gz"
    nibabel.save(nibabel.Nifti1Image(vol, img.affine), str(path))
    return path


def main():
    if not REFERENCE.is_dir():
        raise SystemExit(f"reference meshes not found at {REFERENCE}")
    rows = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        mapping = tmp / "map.toml"
        pairs = [x.split() for x in BP3D.split(", ")]
        mapping.write_text("[levels]\n" + "".join(f'{a} = "{b}.obj"\n' for a, b in pairs))
        src = REFERENCE / "bp3d_decimated"
        bare_w, _, _ = timed(
            lambda: [trimesh.load(src / f"{b}.obj", force="mesh") for _, b in pairs]
        )
        w, c, res = timed(lambda: import_pack(src, tmp / "bp3d", mapping_file=mapping))
        rows.append(("import 18 BodyParts3D meshes (T1-S1)", w, c, "<= 30 s", f"{w / bare_w:.0f}x"))
        region = lumbar_region(tmp)
        import nibabel

        bare_w, _, _ = timed(lambda: np.asarray(nibabel.load(str(region)).dataobj))
        w, c, res = timed(lambda: import_pack(region, tmp / "ct"))
        rows.append(
            (
                f"import a lumbar CT label map ({', '.join(res.levels)})",
                w,
                c,
                "<= 30 s",
                f"{w / bare_w:.0f}x",
            )
        )
    t = Table(title="spine3d import")
    for col in ("work", "wall s", "CPU s", "target", "x bare read"):
        t.add_column(col, justify="left" if col == "work" else "right")
    for name, w, c, target, ratio in rows:
        t.add_row(name, f"{w:.1f}", f"{c:.1f}", target, ratio)
    Console().print(t)


if __name__ == "__main__":
    main()
