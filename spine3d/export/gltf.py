"""glTF 2.0 of a scene's bones in their pose: for PowerPoint's 3D models and ``<model-viewer>``.

One node per bone the scene description lists, named by its level (``T1`` ... ``S1``,
and any other bone it draws), placed by the solved pose and coloured as in the figure.
glTF counts in metres, with +Y up: the ISB frame (+X anterior, +Y superior, +Z right)
is kept, so a viewer shows the spine upright, and millimetres become metres.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..geometry import load_meshes, write_atomic
from ..scene import SceneSpec
from ..scene.describe import describe
from ..scene.theme import DEFAULT_THEME, Theme

__all__ = ["MM_PER_M", "gltf_scene", "write_gltf"]

MM_PER_M = 1000.0


def _linear(rgb) -> list[float]:
    """Return sRGB colour components (0-1) as linear ones, as glTF's base colour expects."""
    c = np.asarray(rgb, dtype=float)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).tolist()


def gltf_scene(scene: SceneSpec, panel: int = 0, theme: Theme = DEFAULT_THEME):
    """Return a :class:`trimesh.Scene` of the panel's bones, metres, one node per bone.

    Parameters
    ----------
    scene : SceneSpec
    panel : int, default: 0
    theme : Theme, default: DEFAULT_THEME

    Returns
    -------
    trimesh.Scene
        Nodes named by level (the vertebrae first, then ``rib_5_left``, ``sternum``,
        ``pelvis_left``, ...); each node's transform is the bone's pose, metres.
    """
    import trimesh
    from trimesh.visual import TextureVisuals
    from trimesh.visual.material import PBRMaterial

    drawing = describe(scene, theme).panels[panel]
    # The vertebrae, then the rib cage and hip bones as the figure draws them (each
    # rib cage part where the solve put it); not the rest pose's ghost.
    items = [m for m in drawing.meshes if m.role == "bone"]
    items += [m for m in drawing.meshes if m.role == "context"]
    meshes = load_meshes(
        sorted({m.level for m in items}), mesh_dir=items[0].bones if items else None
    )
    out = trimesh.Scene()
    for item in items:
        src = meshes[item.level]
        mesh = trimesh.Trimesh(
            np.asarray(src.vertices) / MM_PER_M, np.asarray(src.faces), process=False
        )
        colour = [*_linear(item.color), float(item.opacity)]
        mesh.visual = TextureVisuals(
            material=PBRMaterial(
                name=item.level,
                baseColorFactor=colour,
                metallicFactor=0.0,
                roughnessFactor=0.7,
                alphaMode="BLEND" if item.opacity < 1 else "OPAQUE",
                doubleSided=False,
            )
        )
        pose = np.array(item.transform, dtype=float)
        pose[:3, 3] /= MM_PER_M
        out.add_geometry(mesh, node_name=item.level, geom_name=item.level, transform=pose)
    return out


def write_gltf(scene: SceneSpec, out: Path, panel: int = 0, theme: Theme = DEFAULT_THEME) -> int:
    """Write the panel's bones to ``out`` (.glb, or .gltf with embedded buffers) atomically.

    Returns
    -------
    int
        The number of bone nodes written.
    """
    from trimesh.exchange.gltf import export_glb, export_gltf

    s = gltf_scene(scene, panel, theme)
    out = Path(out)
    if out.suffix.lower() == ".glb":
        data = export_glb(s, include_normals=True)
    else:
        files = export_gltf(s, include_normals=True, embed_buffers=True)
        data = files["model.gltf"]
    write_atomic(out, data)
    return len(s.geometry)
