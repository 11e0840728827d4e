"""``spine3d export-html``, ``export-gltf`` and ``slides``: material to share."""

from __future__ import annotations

from ..errors import SpineInputError
from .bones import add_bones_option, load_scene_with_bones

__all__ = ["add_share_commands"]


def _cmd_export_html(args) -> int:
    from spine3d.export.output import check_out, check_panel
    from spine3d.export.webpage import write_page

    scene = load_scene_with_bones(args.scene, args)
    out = check_out(args.out, (".html", ".htm"))
    size = write_page(scene, out, panel=check_panel(scene, args.panel))
    print(f"wrote {out} ({size / 1e6:.1f} MB)")
    return 0


def _cmd_export_gltf(args) -> int:
    from spine3d.export.gltf import write_gltf
    from spine3d.export.output import check_out, check_panel

    scene = load_scene_with_bones(args.scene, args)
    out = check_out(args.out, (".glb", ".gltf"))
    nodes = write_gltf(scene, out, panel=check_panel(scene, args.panel))
    print(f"wrote {out} ({nodes} bone{'s' if nodes != 1 else ''})")
    return 0


def _cmd_slides(args) -> int:
    from rich.progress import Progress

    from spine3d.export.output import check_out
    from spine3d.export.slides import write_slides

    scenes = [load_scene_with_bones(p, args) for p in args.scenes]
    out = check_out(args.out, (".pptx",))
    if args.title is not None and not args.title.strip():
        raise SpineInputError("--title: expected some text")
    with Progress(transient=True) as bar:
        task = bar.add_task("Making slides", total=len(scenes))
        write_slides(scenes, out, title=args.title, progress=lambda: bar.advance(task))
    print(f"wrote {out} ({len(scenes) + 1} slides)")
    return 0


def add_share_commands(sub) -> None:
    """Add the sharing commands to the ``spine3d`` subcommand parsers ``sub``."""
    h = sub.add_parser("export-html", help="write a standalone, offline web page of a scene")
    h.add_argument("scene", help="scene file (.toml)")
    h.add_argument("--out", required=True, help="FILE.html")
    h.add_argument("--panel", type=int, default=1, help="which panel the page shows (default: 1)")
    add_bones_option(h)
    h.set_defaults(func=_cmd_export_html)

    g = sub.add_parser("export-gltf", help="write a scene's bones in their pose as glTF")
    g.add_argument("scene", help="scene file (.toml)")
    g.add_argument("--out", required=True, help="FILE.glb (binary) or FILE.gltf")
    g.add_argument("--panel", type=int, default=1, help="which panel (default: 1)")
    add_bones_option(g)
    g.set_defaults(func=_cmd_export_gltf)

    s = sub.add_parser("slides", help="write a PowerPoint deck: a slide per scene")
    s.add_argument("scenes", nargs="+", metavar="SCENE", help="scene files (.toml)")
    s.add_argument("--out", required=True, help="FILE.pptx")
    s.add_argument("--title", help='title of the deck (default: "Spine biomechanics")')
    add_bones_option(s)
    s.set_defaults(func=_cmd_slides)
