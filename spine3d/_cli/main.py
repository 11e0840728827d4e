"""The ``spine3d`` command: parse arguments, call the layers, print. No logic of its own."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

from .. import __version__
from ..errors import SpineInputError, UnreachableTwistError
from .bones import add_bones_option, add_ribs_option, load_scene_with_bones
from .share import add_share_commands

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


def _check_mobility(args, mobility: dict[str, str], segments: tuple[str, ...]) -> None:
    """Refuse ``--mobility`` of a segment the bones lack, or a bad state, naming the option."""
    from spine3d.mechanics import mobility_factors

    try:
        mobility_factors(mobility, segments)
    except SpineInputError as exc:
        raise SpineInputError(f"--mobility {' '.join(args.mobility)}: {exc}") from None


def _cmd_solve(args) -> int:
    import spine3d
    from spine3d.scene import check_pack

    from .tables import print_solve_table
    from .validate import given_loads, load_options, unreachable

    if args.scene is not None:
        return _solve_scene(args)
    if args.panel is not None:
        raise SpineInputError("--panel: needs --scene FILE (a panel of that scene)")
    bones = None if args.bones is None else check_pack(args.bones, f"--bones {args.bones}")
    try:
        model = spine3d.load_model(bones=bones, ribs=args.ribs)
    except SpineInputError as exc:
        if args.ribs is None:
            raise
        raise SpineInputError(f"--ribs {args.ribs}: {exc}") from None
    mobility = _mobility(args.mobility or [])
    _check_mobility(args, mobility, model.segment_names)
    try:
        state = spine3d.solve3d(model, mobility=mobility, **load_options(args))
    except UnreachableTwistError as exc:
        raise unreachable(exc, given_loads(args) or "--twist 30 (the default)") from None
    if args.json:
        print(json.dumps({**state.to_dict(), "ribs": state.model.ribs}, indent=1))
    else:
        print_solve_table(state)
    return 0


def _solve_scene(args) -> int:
    """``spine3d solve --scene``: each panel's spine and load, the command line's load on top."""
    from dataclasses import replace

    import spine3d
    from spine3d.scene.describe import solve_panel

    from .tables import print_solve_table
    from .validate import given_loads, load_options, unreachable

    scene = load_scene_with_bones(args.scene, args)
    if args.levels is not None:
        raise SpineInputError(
            f"--levels {args.levels}: a scene's figures solve the whole column (T1 on the "
            "sacrum); its [spine] levels say which are shown. Give --levels without --scene"
        )
    n = len(scene.panels)
    if args.panel is not None and not 1 <= args.panel <= n:
        raise SpineInputError(
            f"--panel {args.panel}: {scene.source} has {n} panel{'s' if n > 1 else ''}: "
            f"expected 1 to {n}"
        )
    indices = [args.panel - 1] if args.panel is not None else list(range(n))
    timed = [i + 1 for i in indices if scene.panels[i].maneuver is not None]
    if timed:
        raise SpineInputError(
            f"{scene.source}: panel {timed[0]} has a [maneuver]: its figure draws a moment "
            f"of it, not a static load; `spine3d simulate {args.scene}` gives its numbers"
        )
    override = load_options(args, default_twist=False)
    mobility = _mobility(args.mobility or [])
    results = []
    for i in indices:
        panel = scene.panels[i]
        if mobility:
            model = spine3d.load_model(
                facets=panel.spine.facets, bones=panel.spine.bones, ribs=panel.spine.ribs
            )
            _check_mobility(args, mobility, model.segment_names)
        panel = replace(
            panel,
            load=panel.load.overridden(override),
            spine=replace(panel.spine, mobility={**panel.spine.mobility, **mobility}),
        )
        try:
            state = solve_panel(panel)  # the very solve the scene's figure draws
        except UnreachableTwistError as exc:
            raise unreachable(
                exc, f"{scene.source}: {_panel_name(scene, i)}: its [load] with {given_loads(args)}"
            ) from None
        shown = [j.name for j in state.model.joints if j.upper in panel.spine.levels]
        results.append((i, state, shown))
    if args.json:
        dicts = [
            {
                "scene": scene.name,
                "panel": i + 1,
                "title": scene.panels[i].title,
                "shown_levels": list(scene.panels[i].spine.levels),
                "shown_segments": shown,
                **state.to_dict(),
                "ribs": state.model.ribs,
            }
            for i, state, shown in results
        ]
        payload = dicts[0] if len(dicts) == 1 else {"scene": scene.name, "panels": dicts}
        print(json.dumps(payload, indent=1))
    else:
        for i, state, shown in results:
            levels = scene.panels[i].spine.levels
            print(
                f"{scene.name}, {_panel_name(scene, i)}: {levels[0]}-{levels[-1]} shown, "
                "T1 on the sacrum solved"
            )
            print_solve_table(state, shown)
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
    from spine3d.geometry import build_meshes, default_mesh_dir
    from spine3d.render.outputs import check_folder

    out = args.out if args.out is not None else default_mesh_dir()
    # Room for the new set beside the old one: it is built aside, then swapped in.
    check_folder(out, f"--out {out}", need_bytes=_MESHES_BYTES, create=True)
    with Progress(transient=True) as bar:
        task = bar.add_task("Building bones", total=len(LEVELS) + 1)
        path = build_meshes(out_dir=out, progress=lambda name: bar.advance(task))
    print(f"wrote the bones of {len(LEVELS)} levels, the rib cage, the pelvis and {path}")
    return 0


def _cmd_meshes_info(args) -> int:
    from spine3d.anatomy import joint_table
    from spine3d.geometry import load_manifest

    from .tables import print_bone_info

    if args.dir is not None:  # the joints it measured must be readable
        from spine3d.scene import check_pack

        check_pack(args.dir, f"--dir {args.dir}")
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
    from spine3d.render.outputs import check_file
    from spine3d.render.preview import render_preview
    from spine3d.scene import check_pack

    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise SpineInputError(f"--out {args.out}: expected a .png file")
    if args.width < 64 or args.height < 64 or max(args.width, args.height) > 16384:
        raise SpineInputError("--width/--height: expected 64 to 16384 pixels")
    check_file(out, f"--out {args.out}", _png_bytes(args.width, args.height))
    bones = None if args.bones is None else check_pack(args.bones, f"--bones {args.bones}")
    render_preview(
        spine3d.load_model(bones=bones), out, size=(args.width, args.height), bones=bones
    )
    print(f"wrote {out}")
    return 0


def _cmd_render(args) -> int:
    from dataclasses import replace

    from rich.progress import Progress

    from spine3d.render.export import check_scene, render_scene
    from spine3d.render.figure import FORMATS
    from spine3d.render.outputs import check_folder

    for name in ("width", "height"):
        value = getattr(args, name)
        if value is not None and not 160 <= value <= 7200:
            raise SpineInputError(f"--{name} {value}: expected 160 to 7200 pixels")
    if not 1 <= args.scale <= 8:
        raise SpineInputError(f"--scale {args.scale}: expected 1 to 8")
    if args.font_pt is not None and not 8 <= args.font_pt <= 40:
        raise SpineInputError(f"--font-pt {args.font_pt}: expected 8 to 40 points")
    # Validate every scene before writing anything.
    scenes = [load_scene_with_bones(p, args) for p in args.scenes]
    if args.theme or args.font_pt:
        scenes = [
            replace(s, theme=args.theme or s.theme, font_pt=args.font_pt or s.font_pt)
            for s in scenes
        ]
        if args.theme:  # a scene without its own background takes the theme's
            from spine3d.scene.theme import THEMES

            scenes = [
                replace(s, background=THEMES[args.theme].background)
                if s.background == THEMES["light" if args.theme == "dark" else "dark"].background
                else s
                for s in scenes
            ]
    names = [s.name for s in scenes]
    if len(set(names)) != len(names):
        raise SpineInputError("two scenes share a name: their pictures would overwrite each other")
    size = None
    for s in scenes:
        if args.width or args.height:
            size = (args.width or s.width, args.height or s.height)
        check_scene(s, size, args.scale)
    out = Path(args.out)
    suffix = out.suffix.lower()
    # One scene and a file name: that file. Several scenes, or a folder: a folder.
    to_file = len(scenes) == 1 and suffix in FORMATS and not out.is_dir()
    if suffix in FORMATS and len(scenes) > 1 and not out.is_dir():
        raise SpineInputError(
            f"--out {args.out}: {len(scenes)} scenes need a folder, not a {suffix} file"
        )
    pixels = [
        ((args.width or s.width) * args.scale, (args.height or s.height) * args.scale)
        for s in scenes
    ]
    need = sum(_png_bytes(w, h) for w, h in pixels)
    # The output place is checked (writable, room) before anything is rendered.
    if to_file:
        check_folder(out.parent, f"--out {args.out}", need)
        targets = [out]
    else:
        out = check_folder(out, f"--out {args.out}", need, create=True)
        targets = [out / f"{s.name}.png" for s in scenes]
    written = []
    with Progress(transient=True) as bar:
        task = bar.add_task("Rendering", total=len(scenes))
        for s, target in zip(scenes, targets, strict=True):
            if args.width or args.height:
                size = (args.width or s.width, args.height or s.height)
            path = render_scene(
                s,
                target,
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

    from spine3d.render.animate import FORMATS, animate, check_output, clip_plan
    from spine3d.render.outputs import mb

    scene = load_scene_with_bones(args.scene, args)
    out = Path(args.out)
    if args.fps is not None and not 1 <= args.fps <= 60:
        raise SpineInputError(f"--fps {args.fps}: expected 1 to 60")
    if args.duration is not None and not 0.5 <= args.duration <= 120:
        raise SpineInputError(f"--duration {args.duration}: expected 0.5 to 120 seconds")
    if not 1 <= args.scale <= 4:
        raise SpineInputError(f"--scale {args.scale}: expected 1 to 4 for a clip")
    size = None
    if args.width is not None or args.height is not None:
        size = (
            scene.width if args.width is None else args.width,
            scene.height if args.height is None else args.height,
        )
        for name, value in zip(("width", "height"), size, strict=True):
            if not 16 <= value <= 4096:
                raise SpineInputError(f"--{name} {value}: expected 16 to 4096 pixels for a clip")
    suffix = out.suffix.lower()
    plan = clip_plan(
        scene, suffix if suffix in FORMATS else ".mp4", args.fps, args.duration, size, args.scale
    )
    if max(plan["width"], plan["height"]) > 4096:
        raise SpineInputError(
            f"--scale {args.scale}: a {plan['width']}x{plan['height']} clip, "
            "expected at most 4096 pixels a side"
        )
    check_output(out, args.transparent, plan["bytes"])
    if plan["large"] and not args.yes:
        what = (
            f"{plan['width']}x{plan['height']}, {plan['duration_s']:g} s "
            f"({plan['frames']} frames): about {mb(plan['bytes'])} and "
            f"{_minutes(plan['seconds'])} to make"
        )
        if sys.stdin.isatty() and sys.stderr.isatty():
            print(f"A large clip: {what}. Make it? [y/N] ", end="", file=sys.stderr, flush=True)
            if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                print("Not made.", file=sys.stderr)
                return 1
        else:
            print(f"Warning: a large clip: {what}", file=sys.stderr)
    with Progress(transient=True) as bar:
        task = bar.add_task(f"Animating {scene.name}", total=None)
        animate(
            scene,
            out,
            fps=args.fps,
            duration_s=args.duration,
            size=size,
            scale=args.scale,
            transparent=args.transparent,
            progress=lambda k, n: bar.update(task, completed=k, total=n),
        )
    print(f"wrote {out}")
    return 0


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _cmd_simulate(args) -> int:
    from rich.console import Console
    from rich.progress import Progress

    from spine3d.render.outputs import check_file
    from spine3d.render.series import write_csv, write_mot
    from spine3d.scene.describe import simulate_cohort, simulate_scene

    from .tables import print_population, print_run, print_schedule

    scene = load_scene_with_bones(args.scene, args)
    scene, workers = _with_population(scene, args)
    outs = [(flag, Path(v)) for flag, v in (("--csv", args.csv), ("--mot", args.mot)) if v]
    if len(outs) == 2 and outs[0][1].resolve() == outs[1][1].resolve():
        raise SpineInputError("--csv and --mot name the same file")
    for flag, path in outs:
        check_file(path, f"{flag} {path}")
    indices = [i for i, p in enumerate(scene.panels) if p.maneuver is not None]
    if not indices:
        raise SpineInputError(f"{scene.source}: no [maneuver] table: nothing to simulate")
    results, cohorts = [], []
    # On the terminal's stderr: the tables (or JSON) on stdout stay clean for a pipe.
    console = Console(stderr=True)
    with Progress(console=console, transient=True, disable=not console.is_terminal) as bar:
        for i in indices:
            task = bar.add_task(f"Simulating panel {i + 1}", total=None)

            def advance(k, n, t=task):
                bar.update(t, completed=k, total=n)

            results.append(simulate_scene(scene, i, progress=advance))
            cohort = None
            if scene.population is not None and scene.panels[i].maneuver.is_thrust:
                size = scene.population.size
                bar.update(task, description=f"Panel {i + 1}: {size} models", completed=0)
                bar.update(task, total=size)
                cohort = simulate_cohort(scene, i, progress=advance, workers=workers)
            cohorts.append(cohort)
    several = len(scene.panels) > 1
    titles = [_panel_name(scene, i) for i in indices]
    runs = []  # (column prefix, run) for the time series; a cohort's: its single model's
    for i, result in zip(indices, results, strict=True):
        prefix = f"p{i + 1}_" if several else ""
        if hasattr(result, "day"):
            last = len(result.day)
            runs.append((f"{prefix}s1_", result.first))
            if last > 1:
                runs.append((f"{prefix}s{last}_", result.last))
        else:
            runs.append((prefix, result))
    # The files first: a reader that stops early (`| head`) must not cost them.
    for flag, path in outs:
        (write_csv if flag == "--csv" else write_mot)(path, runs)
        print(f"wrote {path}", file=sys.stderr)
    if args.json:
        dicts = [_simulated_dict(r, c) for r, c in zip(results, cohorts, strict=True)]
        if several:
            payload = {"panels": [{"panel": t, **d} for t, d in zip(titles, dicts, strict=True)]}
        else:
            payload = dicts[0]
        print(json.dumps(payload, indent=1))
    else:
        for title, result, cohort in zip(titles, results, cohorts, strict=True):
            if several:
                print(title)
            if hasattr(result, "day"):
                print_schedule(result)
            else:
                print_run(result)
            if cohort is not None:
                print_population(cohort)
    return 0


def _simulated_dict(result, cohort) -> dict:
    """Return a panel's JSON: its run (or schedule), and a cohort's summary and events.

    With a cohort, ``population`` holds its summary and ``events`` the single model's
    events (``"model": null``) followed by every member's (``"model"``: its index).
    """
    d = result.to_dict()
    if cohort is not None:
        c = cohort.to_dict()
        d["population"] = c["population"]
        d["events"] = d["events"] + c["events"]
    return d


def _integer(flag: str, text: str, low: int, high: int) -> int:
    """Return ``text`` as an integer from ``low`` to ``high``, else one line naming ``flag``."""
    shown = text if len(text) <= 24 else f"{text[:20]}... ({len(text)} characters)"
    stripped = text.strip()
    body = stripped[1:] if stripped[:1] in "+-" else stripped
    if not (body.isascii() and body.isdigit() and len(body) <= 20) or not (
        low <= int(stripped) <= high
    ):
        raise SpineInputError(f"{flag} {shown}: expected an integer from {low} to {high}")
    return int(stripped)


def _with_population(scene, args):
    """Return the scene with ``--population`` and ``--seed`` over its ``[population]``.

    Also returns the ``--workers`` asked for (None: the default). Each option is checked
    here, with one line naming it.
    """
    from dataclasses import replace

    from spine3d.scene import SCHEMA, PopulationSpec

    def option(flag: str, text: str | None, key: str) -> int | None:
        k = SCHEMA["population"][key]
        return None if text is None else _integer(flag, text, int(k.low), int(k.high))

    size = option("--population", args.population, "size")
    seed = option("--seed", args.seed, "seed")
    workers = None if args.workers is None else _integer("--workers", args.workers, 1, 256)
    pop = scene.population
    if pop is None and size is None:
        for flag, value in (("--seed", args.seed), ("--workers", args.workers)):
            if value is not None:
                raise SpineInputError(
                    f"{flag} {value}: needs a population: --population N, or a [population] "
                    f"table in {scene.source}"
                )
        return scene, None
    if pop is None:
        kinds = {p.maneuver.kind for p in scene.panels if p.maneuver is not None}
        if not kinds - {"self_twist"}:
            had = "only a self_twist" if kinds else "no [maneuver]"
            raise SpineInputError(
                f"--population {size}: {scene.source} has {had}: a population runs a thrust "
                '(kind = "hvla" or "mobilisation")'
            )
        if scene.schedule is not None:
            raise SpineInputError(
                f"--population {size}: {scene.source} has a [schedule], which repeats one "
                "model's sessions; a population is not combined with it"
            )
    chosen = PopulationSpec(
        size if size is not None else pop.size,
        seed if seed is not None else (pop.seed if pop is not None else 0),
    )
    return replace(scene, population=chosen), workers


def _panel_name(scene, i: int) -> str:
    title = scene.panels[i].title
    return f"Panel {i + 1}" + (f": {title}" if title else "")


def _cmd_view(args) -> int:
    from spine3d.render.viewer import Viewer, check_display
    from spine3d.scene import default_scene_path

    scene = load_scene_with_bones(args.scene or default_scene_path(), args)
    for name in ("width", "height"):
        if not 200 <= getattr(args, name) <= 8192:
            raise SpineInputError(f"--{name} {getattr(args, name)}: expected 200 to 8192 pixels")
    check_display()
    Viewer(scene, size=(args.width, args.height)).show()
    return 0


def _cmd_scenes(args) -> int:
    from spine3d.scene import load_scene, shipped_scenes

    scenes = shipped_scenes()
    width = max(map(len, scenes))
    for name, path in scenes.items():
        scene = load_scene(path)
        kind = "clip" if name.startswith("anim_") else "figure"
        print(f"{name:<{width}}  {kind:<6}  {scene.title or '(no title)'}")
    return 0


def _cmd_new(args) -> int:
    from spine3d.geometry import write_atomic
    from spine3d.render.outputs import check_file
    from spine3d.scene.template import template

    out = Path(args.scene)
    if out.suffix.lower() != ".toml":
        raise SpineInputError(f"{args.scene}: expected a .toml file name")
    if out.exists() and not args.force:
        raise SpineInputError(f"{args.scene}: exists; give --force to replace it")
    check_file(out, args.scene)
    write_atomic(out, template(out.stem).encode())
    print(f"wrote {out}; render it with `spine3d render {out}`")
    return 0


def _png_bytes(width: int, height: int) -> int:
    """Upper estimate of a PNG's size: 4 bytes a pixel, as if incompressible."""
    return 4 * width * height + 65536


_MESHES_BYTES = 32 * 2**20
"""Room a mesh build needs beside the old set: the shipped set is about 9 MB."""


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``spine3d`` command."""
    p = _Parser(prog="spine3d", description="3D spine biomechanics for teaching.")
    p.add_argument("--version", action="version", version=f"spine3d {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("solve", help="distribute a global twist over the motion segments")
    load = s.add_mutually_exclusive_group()
    load.add_argument(
        "--twist",
        type=float,
        metavar="DEG",
        help="axial rotation of the top vertebra, degrees (default: 30 if no other load)",
    )
    load.add_argument("--torque", type=float, metavar="NM", help="axial torque, N m")
    _add_3d_options(s)
    s.add_argument(
        "--mobility",
        nargs="+",
        metavar="SEG=STATE",
        help="e.g. L4-L5=restricted T6-T7=hypermobile L3-L4=0.5",
    )
    s.add_argument("--json", action="store_true", help="print JSON instead of a table")
    s.add_argument("--bones", metavar="PACK", help="a bone pack from `spine3d import`")
    add_ribs_option(s)
    s.add_argument(
        "--scene",
        metavar="SCENE",
        help="solve a scene's spine and load, each panel (load options above override it)",
    )
    s.add_argument("--panel", type=int, metavar="N", help="only panel N of the scene (from 1)")
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

    r = sub.add_parser("render", help="render scene files to PNG, SVG or PDF, off-screen")
    r.add_argument(
        "scenes", nargs="+", metavar="SCENE", help="scene files (.toml) or shipped scene names"
    )
    r.add_argument(
        "--out",
        default=".",
        help="FILE.png, FILE.svg or FILE.pdf for one scene, else a folder of PNGs (default: here)",
    )
    r.add_argument("--width", type=int, help="image width, pixels (default: the scene's)")
    r.add_argument("--height", type=int, help="image height, pixels (default: the scene's)")
    r.add_argument(
        "--scale",
        type=int,
        default=1,
        help="multiply the pixels; text keeps its share of the figure (default: 1)",
    )
    r.add_argument("--transparent", action="store_true", help="transparent background")
    r.add_argument(
        "--theme", choices=("light", "dark"), help="light or dark slides (default: the scene's)"
    )
    r.add_argument(
        "--font-pt", type=float, help="smallest text, points on a 33.9 cm slide (default: 14)"
    )
    add_bones_option(r)
    r.set_defaults(func=_cmd_render)

    a = sub.add_parser("animate", help="render a scene's clip to MP4, GIF, WebM or APNG")
    a.add_argument("scene", help="scene file (.toml) or shipped scene name")
    a.add_argument(
        "--out", required=True, help="FILE.mp4 (for slides), FILE.gif, FILE.webm or FILE.apng"
    )
    a.add_argument("--fps", type=int, help="frames per second (default: the scene's, 24)")
    a.add_argument("--duration", type=float, metavar="S", help="clip length in seconds")
    a.add_argument("--width", type=int, help="frame width, pixels (default: the scene's)")
    a.add_argument("--height", type=int, help="frame height, pixels (default: the scene's)")
    a.add_argument("--scale", type=int, default=1, help="multiply the size, fonts too (default: 1)")
    a.add_argument(
        "--transparent",
        action="store_true",
        help="transparent background: .webm, .apng or .gif (MP4 cannot carry alpha)",
    )
    a.add_argument("--yes", "-y", action="store_true", help="make a large clip without asking")
    add_bones_option(a)
    a.set_defaults(func=_cmd_animate)

    t = sub.add_parser("simulate", help="run a scene's manoeuvre over time: events and peaks")
    t.add_argument("scene", help="scene file with a [maneuver] table, or a shipped scene name")
    t.add_argument("--json", action="store_true", help="print JSON instead of tables")
    t.add_argument("--csv", metavar="FILE", help="write the time series (per ms) as CSV")
    t.add_argument(
        "--mot", metavar="FILE", help="write time and segment rotations as an OpenSim .mot file"
    )
    t.add_argument(
        "--population",
        metavar="N",
        help="run each thrust on a virtual cohort of N models, 1 to 500 "
        "(default: the scene's [population])",
    )
    t.add_argument(
        "--seed",
        metavar="S",
        help="random seed of the cohort: the same seed, the same cohort (default: the "
        "scene's, else 0)",
    )
    t.add_argument(
        "--workers",
        metavar="K",
        help="processes for a cohort (default: the machine's cores)",
    )
    add_bones_option(t)
    t.set_defaults(func=_cmd_simulate)

    c = sub.add_parser("scenes", help="list the shipped scenes, one line each")
    c.set_defaults(func=_cmd_scenes)

    n = sub.add_parser("new", help="write a commented scene file to start from")
    n.add_argument("scene", metavar="SCENE.toml", help="the file to write")
    n.add_argument("--force", action="store_true", help="replace an existing file")
    n.set_defaults(func=_cmd_new)

    w = sub.add_parser("view", help="open the interactive viewer on a scene")
    w.add_argument(
        "scene",
        nargs="?",
        help="scene file or shipped scene name (default: the whole column, self-twist)",
    )
    w.add_argument("--width", type=int, default=1280, help="window width (default: 1280)")
    w.add_argument("--height", type=int, default=720, help="window height (default: 720)")
    add_bones_option(w)
    w.set_defaults(func=_cmd_view)

    add_share_commands(sub)
    _add_validate(sub)

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
    add_bones_option(v, ribs=False)
    v.set_defaults(func=_cmd_meshes_preview)
    return p


class _Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where the program is so that its clean-ups run."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum, _frame):
    raise _Terminated(signum)


def _add_3d_options(s) -> None:
    s.add_argument(
        "--flex", type=float, metavar="DEG", help="flexion of the top vertebra (+ forward)"
    )
    s.add_argument("--bend", type=float, metavar="DEG", help="lateral bending (+ to the right)")
    s.add_argument(
        "--moment", metavar="C=NM,...", help="moments on the top, e.g. axial=5,flexion=-2,lateral=1"
    )
    s.add_argument("--follower", type=float, metavar="N", help="follower load, N")
    s.add_argument("--levels", metavar="TOP-BOTTOM", help="a specimen, e.g. L1-S1 or T7-T8")


def _cmd_validate(args) -> int:
    from .validate import cmd_validate

    return cmd_validate(args)


def _add_validate(sub) -> None:
    v = sub.add_parser("validate", help="compare the model with published data")
    v.add_argument("--json", action="store_true", help="print JSON instead of tables")
    v.add_argument("--plot", metavar="FILE.png", help="plot model against published values")
    add_bones_option(v, ribs=False)
    v.set_defaults(func=_cmd_validate)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (2 for bad input).

    Ctrl-C, SIGTERM and SIGHUP unwind the program, so that a file being written is
    removed (outputs are written atomically) before it exits with 128 + the signal.
    A closed output pipe (``spine3d simulate ... | head``) ends it quietly, status 1.
    """
    handlers = {}
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            try:
                handlers[sig] = signal.signal(sig, _on_signal)
            except ValueError:  # not the main thread (e.g. a test runner's worker)
                pass
    try:
        args = build_parser().parse_args(argv)
        status = args.func(args)
        sys.stdout.flush()
        return status
    except SpineInputError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader has gone: say nothing, and keep Python from complaining at exit.
        # Status 1, as rich's console gives when a table meets the closed pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        print(f"Error: interrupted ({signal.Signals(signum).name})", file=sys.stderr)
        return 128 + signum
    finally:
        for sig, old in handlers.items():
            signal.signal(sig, old)


if __name__ == "__main__":
    sys.exit(main())
