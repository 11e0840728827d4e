"""Show scenes, states and figures in a Jupyter notebook.

:func:`show` displays the figure as an image (rendered off-screen, as ``spine3d
render`` does) and, with the notebook extra installed (``pip install
'spine3d[notebook]'``: pyvista's trame backend), an interactive 3D view of its first
panel. :class:`~spine3d.SpineState` and :class:`~spine3d.scene.describe.Figure` show
themselves through :func:`represent` (their ``_repr_png_`` and ``_repr_html_``).
"""

from __future__ import annotations

import base64
import html
import importlib.util
import weakref
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import SpineInputError
from ..mechanics import SpineState
from ..render._offscreen import png_bytes
from ..render.figure import render_image
from ..scene import SceneSpec, default_scene_path, load_scene
from ..scene.describe import Figure, describe, describe_panel, nice_ceiling, shown_peak
from ..scene.theme import DEFAULT_THEME, Theme

__all__ = ["NOTEBOOK_SIZE", "as_figure", "has_interactive", "represent", "show"]

NOTEBOOK_SIZE = (1280, 720)
"""Width and height of a figure shown in a notebook, pixels."""

_CACHE: list[tuple[weakref.ref, str, Any]] = []  # the last few pictures, per object


def as_figure(
    obj: Any, size: tuple[int, int] = NOTEBOOK_SIZE, theme: Theme = DEFAULT_THEME
) -> Figure:
    """Return the figure of a scene (file or spec), a solved state or a figure.

    A state is drawn as the whole column from the default scene's camera, coloured by
    segment rotation.

    Raises
    ------
    SpineInputError
        For anything else, or a scene file that does not load.
    """
    if isinstance(obj, Figure):
        return obj
    if isinstance(obj, str | Path):
        obj = load_scene(obj)
    if isinstance(obj, SceneSpec):
        return describe(obj, theme, size)
    if isinstance(obj, SpineState):
        base = load_scene(default_scene_path())
        levels = tuple(obj.model.level_names)
        p = base.panels[0]
        panel = replace(
            p,
            title="",
            spine=replace(p.spine, levels=levels, mobility={}),
            load=replace(p.load, twist_deg=obj.twist_deg, torque_nm=None),
            view=replace(p.view, ghost=False),
        )
        # No aspect: the panel's camera fits the bones and the layout follows it.
        drawing = describe_panel(panel, obj, nice_ceiling(shown_peak(panel, obj)), None, theme)
        changed = [
            f"{s['name']} {s['mobility']}"
            for s in obj.to_dict()["segments"]
            if s["mobility"] != "normal"
        ]
        return Figure(
            name="state",
            title=f"Twist {obj.twist_deg:+.1f}° of T1 on the sacrum, {obj.torque_nm:.1f} N m",
            caption=", ".join(changed),
            panels=(drawing,),
            width=size[0],
            height=size[1],
            transparent=False,
            background="white",
            theme=theme,
        )
    raise SpineInputError(
        f"spine3d.show: cannot show a {type(obj).__name__}: expected a scene file, a "
        "SceneSpec, a SpineState or a Figure"
    )


def _cached(obj: Any, kind: str, make):
    for ref, k, value in _CACHE:
        if ref() is obj and k == kind:
            return value
    value = make()
    try:
        _CACHE.append((weakref.ref(obj), kind, value))
    except TypeError:  # a str or Path: nothing to remember it by
        return value
    del _CACHE[:-8]
    return value


def _png(obj: Any) -> bytes:
    return _cached(obj, "png", lambda: png_bytes(render_image(as_figure(obj))))


def _table(state: SpineState) -> str:
    rows = "".join(
        f"<tr><td>{s['name']}</td><td>{s['mobility']}</td>"
        f"<td style='text-align:right'>{s['rotation_deg']['axial']:.2f}</td>"
        f"<td style='text-align:right'>{100 * s['share']:.1f}</td></tr>"
        for s in state.to_dict()["segments"]
    )
    return (
        "<details><summary>rotation per segment</summary><table>"
        "<tr><th>segment</th><th>mobility</th><th>rotation (°)</th><th>share (%)</th></tr>"
        f"{rows}</table></details>"
    )


def represent(kind: str, obj: Any) -> bytes | str:
    """Return ``obj`` as ``"png"`` bytes or ``"html"`` (the picture, and for a state a table).

    The picture is rendered once per object and kept for the other representation.
    """
    png = _png(obj)
    if kind == "png":
        return png
    img = base64.b64encode(png).decode("ascii")
    fig = as_figure(obj) if not isinstance(obj, Figure) else obj
    alt = html.escape(fig.title or "spine3d figure", quote=True)
    body = f"<img src='data:image/png;base64,{img}' alt='{alt}' style='max-width:100%'>"
    if isinstance(obj, SpineState):
        body += _table(obj)
    return f"<div class='spine3d'>{body}</div>"


def has_interactive() -> bool:
    """Return whether the notebook extra (pyvista's trame backend) is installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("trame", "trame_vtk"))


def _interactive(fig: Figure):
    """Show the figure's first panel in pyvista's trame widget; return the widget."""
    import pyvista as pv

    from ..render.figure import PanelActors

    pl = pv.Plotter(notebook=True, window_size=(fig.width, fig.height), lighting="light kit")
    pl.set_background(fig.background)
    PanelActors(pl, fig.theme, fig.panels[0], fig.height)
    return pl.show(jupyter_backend="trame", return_viewer=True)


def show(obj: Any, interactive: bool | None = None) -> None:
    """Display a scene, a solved state or a figure in the notebook.

    Parameters
    ----------
    obj : str, Path, SceneSpec, SpineState or Figure
        A scene file, a loaded scene, ``spine3d.solve(...)``'s result or a figure.
    interactive : bool, optional
        Also show an interactive 3D view (needs ``spine3d[notebook]``). Default: when
        the extra is installed.

    Raises
    ------
    SpineInputError
        For an object it cannot show, or ``interactive=True`` without the extra.
    """
    try:
        from IPython.display import Image, display
    except ImportError:
        raise SpineInputError("spine3d.show: needs IPython: run it in a Jupyter notebook") from None
    fig = as_figure(obj)
    display(Image(data=_png(fig), format="png"))
    if interactive is None:
        interactive = has_interactive()
    if interactive:
        if not has_interactive():
            raise SpineInputError(
                "spine3d.show(interactive=True): needs the notebook extra: "
                "pip install 'spine3d[notebook]'"
            )
        display(_interactive(fig))
