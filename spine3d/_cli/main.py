"""The ``spine3d`` command: parse arguments, call the layers, print. No logic of its own."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import SpineInputError

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit status 2."""

    def error(self, message: str):
        """Raise instead of printing usage, so the message stays one line."""
        raise SpineInputError(f"{self.prog}: {message}")


def _mobility(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        seg, sep, state = item.partition("=")
        if not sep or not seg or not state:
            raise SpineInputError(
                f"--mobility {item!r}: expected SEGMENT=STATE, e.g. L4-L5=restricted"
            )
        out[seg.strip()] = state.strip()
    return out


def _cmd_solve(args) -> int:
    import spine3d

    from .tables import print_solve_table

    model = spine3d.load_model(bones=args.bones)
    mobility = _mobility(args.mobility or [])
    if args.torque is not None:
        state = spine3d.solve(model, torque_nm=args.torque, mobility=mobility)
    else:
        state = spine3d.solve(model, twist_deg=args.twist, mobility=mobility)
    if args.json:
        print(json.dumps(state.to_dict(), indent=1))
    else:
        print_solve_table(state)
    return 0


def _cmd_import(args) -> int:
    from rich.progress import Progress

    from spine3d.geometry.importer import import_pack, parse_levels

    from .importing import print_import

    levels = parse_levels(args.levels) if args.levels else None
    if args.report is not None and Path(args.report).suffix.lower() != ".png":
        raise SpineInputError(f"--report {args.report}: expected a .png file")
    if args.report is not None and not Path(args.report).parent.is_dir():
        raise SpineInputError(f"--report {args.report}: folder does not exist")
    with Progress(transient=True) as bar:
        task = bar.add_task("Importing", total=None)
        result = import_pack(
            Path(args.source),
            Path(args.out),
            levels=levels,
            units=args.units,
            landmarks_file=args.landmarks,
            mapping_file=args.map,
            name=args.name,
            licence=args.licence,
            force=args.force,
            progress=lambda what, k, n: bar.update(task, description=what, completed=k, total=n),
        )
    print_import(result)
    if args.report is not None:
        from spine3d.render.import_report import render_import_report

        render_import_report(result.pack, Path(args.report))
        print(f"wrote {args.report}")
    return 0


def _cmd_meshes_build(args) -> int:
    from rich.progress import Progress

    from spine3d.anatomy import LEVELS
    from spine3d.geometry import build_meshes

    with Progress(transient=True) as bar:
        task = bar.add_task("Building bones", total=len(LEVELS) + 1)
        path = build_meshes(out_dir=args.out, progress=lambda name: bar.advance(task))
    print(f"wrote the bones of {len(LEVELS)} levels, the rib cage, the pelvis and {path}")
    return 0


def _cmd_meshes_info(args) -> int:
    from spine3d.anatomy import joint_table
    from spine3d.geometry import load_manifest

    from .tables import print_bone_info

    manifest = load_manifest(args.dir)
    if manifest.get("format") != 2 or "joints" not in manifest:
        raise SpineInputError(
            f"{args.dir or 'meshes'}/manifest.json: not measured bones; rebuild with "
            "`spine3d meshes build`"
        )
    print_bone_info(manifest, joint_table())
    return 0


def _cmd_meshes_preview(args) -> int:
    import spine3d
    from spine3d.render.preview import render_preview

    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise SpineInputError(f"--out {args.out}: expected a .png file")
    if not out.parent.exists():
        raise SpineInputError(f"--out {args.out}: folder {out.parent} does not exist")
    if args.width < 64 or args.height < 64 or max(args.width, args.height) > 16384:
        raise SpineInputError("--width/--height: expected 64 to 16384 pixels")
    render_preview(spine3d.load_model(), out, size=(args.width, args.height))
    print(f"wrote {out}")
    return 0


def _cmd_render(args) -> int:
    from rich.progress import Progress

    from spine3d.render.export import render_scene
    from spine3d.scene import load_scene

    for name in ("width", "height"):
        value = getattr(args, name)
        if value is not None and not 16 <= value * args.scale <= 16384:
            raise SpineInputError(f"--{name} {value}: expected 16 to 16384 pixels (after --scale)")
    if not 1 <= args.scale <= 8:
        raise SpineInputError(f"--scale {args.scale}: expected 1 to 8")
    # Validate every scene before writing anything.
    scenes = [load_scene(p) for p in args.scenes]
    names = [s.name for s in scenes]
    if len(set(names)) != len(names):
        raise SpineInputError("two scenes share a name: their pictures would overwrite each other")
    for s in scenes:
        w = (args.width or s.width) * args.scale
        h = (args.height or s.height) * args.scale
        if max(w, h) > 16384:
            raise SpineInputError(f"{s.source}: image {w}x{h} after --scale: at most 16384 a side")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise SpineInputError(f"--out {args.out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    size = None
    written = []
    with Progress(transient=True) as bar:
        task = bar.add_task("Rendering", total=len(scenes))
        for s in scenes:
            if args.width or args.height:
                size = (args.width or s.width, args.height or s.height)
            path = render_scene(
                s,
                out / f"{s.name}.png",
                size=size,
                scale=args.scale,
                transparent=True if args.transparent else None,
            )
            written.append(path)
            bar.advance(task)
    for p in written:
        print(f"wrote {p}")
    return 0


def _cmd_animate(args) -> int:
    from rich.progress import Progress

    from spine3d.render.animate import animate, check_output
    from spine3d.scene import load_scene

    scene = load_scene(args.scene)
    out = Path(args.out)
    check_output(out)
    if args.fps is not None and not 1 <= args.fps <= 60:
        raise SpineInputError(f"--fps {args.fps}: expected 1 to 60")
    if args.duration is not None and not 0.5 <= args.duration <= 120:
        raise SpineInputError(f"--duration {args.duration}: expected 0.5 to 120 seconds")
    size = None
    if args.width or args.height:
        size = (args.width or scene.width, args.height or scene.height)
        if not (16 <= size[0] <= 4096 and 16 <= size[1] <= 4096):
            raise SpineInputError("--width/--height: expected 16 to 4096 pixels for a clip")
    with Progress(transient=True) as bar:
        task = bar.add_task(f"Animating {scene.name}", total=None)
        animate(
            scene,
            out,
            fps=args.fps,
            duration_s=args.duration,
            size=size,
            progress=lambda k, n: bar.update(task, completed=k, total=n),
        )
    print(f"wrote {out}")
    return 0


def _cmd_simulate(args) -> int:
    from spine3d.scene import load_scene
    from spine3d.scene.describe import simulate_scene

    from .tables import print_run, print_schedule

    result = simulate_scene(load_scene(args.scene))
    if args.json:
        print(json.dumps(result.to_dict(), indent=1))
    elif hasattr(result, "day"):
        print_schedule(result)
    else:
        print_run(result)
    return 0


def _cmd_view(args) -> int:
    from spine3d.render.viewer import Viewer, check_display
    from spine3d.scene import default_scene_path, load_scene

    scene = load_scene(args.scene or default_scene_path())
    for name in ("width", "height"):
        if not 200 <= getattr(args, name) <= 8192:
            raise SpineInputError(f"--{name} {getattr(args, name)}: expected 200 to 8192 pixels")
    check_display()
    Viewer(scene, size=(args.width, args.height)).show()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``spine3d`` command."""
    p = _Parser(prog="spine3d", description="3D spine biomechanics for teaching.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("solve", help="distribute a global twist over the motion segments")
    load = s.add_mutually_exclusive_group()
    load.add_argument(
        "--twist",
        type=float,
        default=30.0,
        metavar="DEG",
        help="rotation of T1 relative to the sacrum, degrees (default: 30)",
    )
    load.add_argument("--torque", type=float, metavar="NM", help="axial torque, N m")
    s.add_argument(
        "--mobility",
        nargs="+",
        metavar="SEG=STATE",
        help="e.g. L4-L5=restricted T6-T7=hypermobile L3-L4=0.5",
    )
    s.add_argument("--json", action="store_true", help="print JSON instead of a table")
    s.add_argument("--bones", metavar="PACK", help="a bone pack from `spine3d import`")
    s.set_defaults(func=_cmd_solve)

    im = sub.add_parser("import", help="import your own vertebra meshes or CT labels as a pack")
    im.add_argument("source", help="folder of per-level meshes, one mesh of pieces, or a NIfTI")
    im.add_argument("--out", required=True, help="pack folder to write")
    im.add_argument("--levels", help="levels to import, e.g. T1-L5 or L2,L3 (pieces: required)")
    im.add_argument("--units", default="auto", choices=("auto", "mm", "cm", "m"))
    im.add_argument("--map", type=Path, help='TOML [levels] table, e.g. L3 = "FJ3162.obj"')
    im.add_argument("--landmarks", type=Path, help="TOML of articular surface points per level")
    im.add_argument("--name", help="name of the bone set, recorded and credited")
    im.add_argument("--licence", help="licence of the source, credited by figures")
    im.add_argument("--report", help="PNG drawing every level with its found surfaces")
    im.add_argument("--force", action="store_true", help="replace an existing pack")
    im.set_defaults(func=_cmd_import)

    r = sub.add_parser("render", help="render scene files to PNG, off-screen")
    r.add_argument("scenes", nargs="+", metavar="SCENE", help="scene files (.toml)")
    r.add_argument("--out", default=".", help="output folder (default: here)")
    r.add_argument("--width", type=int, help="image width, pixels (default: the scene's)")
    r.add_argument("--height", type=int, help="image height, pixels (default: the scene's)")
    r.add_argument("--scale", type=int, default=1, help="multiply the size, fonts too (default: 1)")
    r.add_argument("--transparent", action="store_true", help="transparent background")
    r.set_defaults(func=_cmd_render)

    a = sub.add_parser("animate", help="render a scene's clip to MP4 or GIF, off-screen")
    a.add_argument("scene", help="scene file (.toml)")
    a.add_argument("--out", required=True, help="FILE.mp4 or FILE.gif")
    a.add_argument("--fps", type=int, help="frames per second (default: the scene's, 24)")
    a.add_argument("--duration", type=float, metavar="S", help="clip length in seconds")
    a.add_argument("--width", type=int, help="frame width, pixels (default: the scene's)")
    a.add_argument("--height", type=int, help="frame height, pixels (default: the scene's)")
    a.set_defaults(func=_cmd_animate)

    t = sub.add_parser("simulate", help="run a scene's manoeuvre over time: events and peaks")
    t.add_argument("scene", help="scene file with a [maneuver] table")
    t.add_argument("--json", action="store_true", help="print JSON instead of tables")
    t.set_defaults(func=_cmd_simulate)

    w = sub.add_parser("view", help="open the interactive viewer on a scene")
    w.add_argument("scene", nargs="?", help="scene file (default: the whole column, self-twist)")
    w.add_argument("--width", type=int, default=1280, help="window width (default: 1280)")
    w.add_argument("--height", type=int, default=720, help="window height (default: 720)")
    w.set_defaults(func=_cmd_view)

    m = sub.add_parser("meshes", help="build or preview the vertebra meshes")
    msub = m.add_subparsers(dest="meshes_command", required=True, parser_class=_Parser)
    b = msub.add_parser("build", help="rebuild meshes/ from the myo-sim bones, measured")
    b.add_argument("--out", type=Path, help="output folder (default: the shipped meshes/)")
    b.set_defaults(func=_cmd_meshes_build)
    i = msub.add_parser("info", help="print the facet angles measured on the bones")
    i.add_argument("--dir", type=Path, help="mesh folder (default: the shipped meshes/)")
    i.set_defaults(func=_cmd_meshes_info)
    v = msub.add_parser("preview", help="render the column and two vertebrae to a PNG")
    v.add_argument("--out", required=True, help="PNG file to write")
    v.add_argument("--width", type=int, default=2400)
    v.add_argument("--height", type=int, default=1350)
    v.set_defaults(func=_cmd_meshes_preview)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (2 for bad input)."""
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except SpineInputError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
