"""A live simulator in the page, without a kernel: the JavaScript engine of ``gslib/static/gslive.js``.

* :func:`live_simulator_html` inlines the module with its settings (the CNN seed's draws, the SFI seed,
  the colour table) into one self-contained piece of HTML, so it works in the static book, in Jupyter
  and offline. It runs the scheme of :func:`gslib.simulate` (WebGL2 where the browser can render to
  float textures, a typed-array engine otherwise). :func:`live_simulator` wraps it for display.
* :func:`live_class_map_html` draws a scan's class map beside a simulator; a click runs the clicked
  point from the seed the scan used there. :func:`live_class_map` wraps it for display.

The API of ``element.gsSim`` is documented on the book's conventions page.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import json

import numpy as np

from ._validate import check_choice, check_int, check_real
from .initial import cnn_seed_draws

__all__ = [
    "SEEDS",
    "LIVE_BACKENDS",
    "live_js_source",
    "live_simulator_html",
    "live_simulator",
    "live_class_map_html",
    "live_class_map",
]

#: The initial conditions of the live simulator: the CNN paper's and the SFI example's.
SEEDS = ("cnn", "sfi")
#: Its engines: WebGL2 where the browser has float render targets, else the CPU (``auto``).
LIVE_BACKENDS = ("auto", "webgl2", "cpu")
_live_ids = itertools.count()


def live_js_source() -> str:
    """The source of the JavaScript module of the live simulator (``gslib/static/gslive.js``).

    Returns
    -------
    str
        The module; it defines ``window.GSLive`` once per page, however often it is included.
    """
    from importlib import resources

    source = resources.files("gslib").joinpath("static/gslive.js").read_text(encoding="utf-8")
    if "</" in source:  # it is inlined in a <script> element
        raise RuntimeError("gslive.js must not contain '</' (it would end its <script> element)")
    return source


def _b64_f32(a) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


_LIVE_CSS = """
#{id} {{ font-family: sans-serif; font-size: 0.9em; margin: 0.5em 0; }}
#{id} .gs-live-title {{ font-weight: bold; margin-bottom: 0.3em; }}
#{id} .gs-live-row {{ display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }}
#{id} .gs-live-field {{ width: {px}px; max-width: 100%; cursor: crosshair; touch-action: none; }}
#{id} canvas.gs-live-canvas {{ display: block; width: 100%; aspect-ratio: 1 / 1;
    image-rendering: pixelated; image-rendering: crisp-edges; }}
#{id} .gs-live-controls label {{ display: block; margin-top: 0.3em; }}
#{id} .gs-live-controls input[type=range] {{ width: 14em; vertical-align: middle; }}
#{id} .gs-live-controls button {{ margin: 0.4em 0.3em 0 0; }}
#{id} .gs-live-status {{ margin-top: 0.4em; font-family: monospace; white-space: pre; }}
#{id} .gs-live-note {{ color: #555; font-size: 0.85em; max-width: 24em; }}
"""


def _range(cls, label, value, lo, hi, step):
    return (
        f'<label>{label} <input type="range" class="gs-live-{cls}" min="{lo}" max="{hi}" step="{step}" '
        f'value="{value}" aria-label="{cls}"> <span class="gs-live-{cls}-value">{value}</span></label>'
    )


def live_simulator_html(
    size: int = 128,
    *,
    f: float = 0.037,
    k: float = 0.06,
    Du: float = 0.2,
    Dv: float = 0.1,
    dt: float = 0.25,
    stencil: str = "9pt",
    seed: str = "cnn",
    seed_index: int = 0,
    draws: dict | None = None,
    steps_per_frame: int = 20,
    backend: str = "auto",
    autoplay: bool = False,
    title: str | None = None,
    pixels: int = 384,
    element_id: str | None = None,
) -> str:
    """The live simulator as a self-contained piece of HTML (no kernel, no network).

    The element ``<div data-gs-live>`` holds a ``<canvas>``, sliders for f, k, Du, Dv and the
    speed, the stencil, the seed (the CNN paper's or the SFI example's), play/pause, reset, a new
    random CNN seed, and the time and measured steps per second. A click or drag on the field
    seeds v there. Scripts reach it through ``element.gsSim`` (see the conventions page).

    Parameters
    ----------
    size : int, optional
        Cells per side, 8 to 1024 (dx = 1, periodic).
    f, k : float, optional
        Feed and kill rates (1/time), in [0, 0.2].
    Du, Dv : float, optional
        Diffusivities (cells**2/time), in [0, 1].
    dt : float, optional
        Time step, at most the forward-Euler bound of the stencil (as :func:`gslib.simulate`).
    stencil : {'9pt', '5pt'}, optional
        The Laplacian.
    seed : {'cnn', 'sfi'}, optional
        Initial condition: :func:`gslib.initial.cnn_seed` or :func:`gslib.initial.sfi_seed`.
    seed_index : int, optional
        The seed of both (non-negative).
    draws : dict, optional
        The CNN seed's draws (from :func:`cnn_seed_draws`); default: those of ``seed_index``.
    steps_per_frame : int, optional
        Steps per drawn frame while playing, 1 to 1000 (the speed slider).
    backend : {'auto', 'webgl2', 'cpu'}, optional
        Engine: WebGL2 where the browser has float render targets, else the CPU (``auto``).
    autoplay : bool, optional
        Start playing when the page loads.
    title : str, optional
        Heading.
    pixels : int, optional
        Width of the field on screen (CSS pixels).
    element_id : str, optional
        The id of the element (default: unique per call).

    Returns
    -------
    str
        The HTML.

    Raises
    ------
    ValueError
        For a bad argument, naming it and the allowed range.
    """
    from .initial import sfi_seed
    from .plotting import colormap_lut
    from .solvers.stencils import check_stencil, stability_limit

    size = check_int("size", size, 8, 1024)  # cells per side
    f, k = check_real("f", f, minimum=0.0, maximum=0.2), check_real("k", k, minimum=0.0, maximum=0.2)
    Du, Dv = check_real("Du", Du, minimum=0.0, maximum=1.0), check_real("Dv", Dv, minimum=0.0, maximum=1.0)
    check_stencil(stencil)
    dt = check_real("dt", dt, positive=True)
    bound = stability_limit(max(Du, Dv), 1.0, stencil)
    if dt > bound:
        raise ValueError(
            f"dt={dt} is above the forward-Euler bound {bound:.4g} of the {stencil} stencil "
            f"for max(Du, Dv) = {max(Du, Dv)}"
        )
    seed = check_choice("seed", seed, SEEDS)
    seed_index = check_int("seed_index", seed_index, 0)
    steps_per_frame = check_int("steps_per_frame", steps_per_frame, 1, 1000)
    backend = check_choice("backend", backend, LIVE_BACKENDS)
    if draws is None:
        draws = cnn_seed_draws(int(seed_index), n=size)
    su, sv = sfi_seed(int(seed_index), n=size)
    config = dict(
        size=size,
        f=f,
        k=k,
        Du=Du,
        Dv=Dv,
        dt=float(dt),
        stencil=stencil,
        seed=seed,
        draws=draws,
        sfi=dict(u=_b64_f32(su), v=_b64_f32(sv)),
        steps_per_frame=int(steps_per_frame),
        backend=backend,
        autoplay=bool(autoplay),
        lut=base64.b64encode(colormap_lut(n=256).tobytes()).decode("ascii"),
    )
    payload = json.dumps(config, separators=(",", ":")).replace("</", "<\\/")
    if element_id is None:
        digest = hashlib.sha1(payload.encode("ascii")).hexdigest()[:10]
        element_id = f"gs-live-{digest}-{next(_live_ids)}"
    eid = html.escape(element_id, quote=True)
    heading = title if title is not None else f"Live simulator: {size} × {size} cells, u shown (viridis, 0 to 1)"
    stencil_options = "".join(
        f'<option value="{s}"{" selected" if s == stencil else ""}>{s}</option>' for s in ("9pt", "5pt")
    )
    seed_options = "".join(
        f'<option value="{s}"{" selected" if s == seed else ""}>{label}</option>'
        for s, label in (("cnn", "CNN seed"), ("sfi", "SFI seed"))
    )
    parts = [
        f'<div class="gs-live" data-gs-live id="{eid}">',
        f"<style>{_LIVE_CSS.format(id=eid, px=int(pixels))}</style>",
        f'<div class="gs-live-title">{html.escape(heading)}</div>',
        '<div class="gs-live-row">',
        f'<div class="gs-live-field" title="click or drag to seed v"><canvas class="gs-live-canvas" width="{size}" '
        f'height="{size}" aria-label="u field of the live simulator"></canvas></div>',
        '<div class="gs-live-controls">',
        _range("f", "f (feed)", f"{f:.4f}", 0, 0.12, 0.0001),
        _range("k", "k (kill)", f"{k:.4f}", 0.03, 0.075, 0.0001),
        _range("Du", "D<sub>u</sub>", f"{Du:.3f}", 0.02, 0.5, 0.001),
        _range("Dv", "D<sub>v</sub>", f"{Dv:.3f}", 0.01, 0.5, 0.001),
        _range("speed", "steps/frame", str(int(steps_per_frame)), 1, 200, 1),
        f'<label>stencil <select class="gs-live-stencil">{stencil_options}</select></label>',
        f'<label>seed <select class="gs-live-seed">{seed_options}</select></label>',
        '<div><button type="button" class="gs-live-play">play</button>'
        '<button type="button" class="gs-live-reset">reset</button>'
        '<button type="button" class="gs-live-new">new CNN seed</button></div>',
        '<div class="gs-live-status">t = 0.0</div>',
        f'<div class="gs-live-note">dt = {float(dt):g}, dx = 1, periodic, float32: the scheme of '
        "<code>gslib.simulate</code>. Click or drag on the field to add v.</div>",
        "</div>",
        "</div>",
        f'<script type="application/json" class="gs-live-config">{payload}</script>',
        "<script>" + live_js_source() + "\n(function () { var s = document.currentScript; "
        f"var root = (s && s.closest('[data-gs-live]')) || document.getElementById({json.dumps(element_id)}); "
        "window.GSLive.mount(root); })();</script>",
        "</div>",
    ]
    return "\n".join(parts)


def live_simulator(size: int = 128, **kwargs):
    """:func:`live_simulator_html` as :class:`IPython.display.HTML` (display it in a notebook or a page).

    Parameters
    ----------
    size : int, optional
        Cells per side.
    **kwargs
        As in :func:`live_simulator_html`.

    Returns
    -------
    IPython.display.HTML
        The simulator.
    """
    from IPython.display import HTML

    return HTML(live_simulator_html(size, **kwargs))


def live_class_map_html(
    table,
    *,
    cell: int = 5,
    pixels: int = 320,
    steps_per_frame: int = 50,
    title: str | None = None,
    element_id: str | None = None,
) -> str:
    """A scan's class map drawn in the page beside a live simulator: a click runs the clicked point.

    A click on the map selects the nearest scan point and starts the simulator at its (k, f), from
    the CNN seed the scan used there (its seed, with the scan's grid size and block side), with the
    scan's dt, diffusivities and stencil.

    Parameters
    ----------
    table : gslib.scan.ScanTable
        The scan (with its recipe and seeds, e.g. from :func:`gslib.scan.load_shipped_scan`).
    cell : int, optional
        Pixels per lattice cell of the map, 1 to 20.
    pixels : int, optional
        Width of the simulator's field on screen.
    steps_per_frame : int, optional
        As in :func:`live_simulator_html`.
    title : str, optional
        Heading.
    element_id : str, optional
        The id of the outer element (default: unique per call).

    Returns
    -------
    str
        The HTML: ``<div data-gs-live-map>`` with a ``<canvas class="gs-live-map">`` and the simulator.

    Raises
    ------
    ValueError
        If the table records no recipe or seeds, or for a bad argument.
    """
    from .lattice import grid_spacing
    from .plotting import class_colors

    recipe = (table.meta or {}).get("recipe")
    if recipe is None or table.seed is None:
        raise ValueError("this scan table records no recipe or seeds, so its patterns cannot be run again")
    cell = check_int("cell", cell, 1, 20)  # pixels per lattice cell
    k, f = np.asarray(table.k, np.float64), np.asarray(table.f, np.float64)
    df, dk = grid_spacing(f=f, k=k)
    ik = np.rint((k - k.min()) / dk).astype(int)
    jf = np.rint((f - f.min()) / df).astype(int)
    names = list(dict.fromkeys(list(table.class_names) + sorted(set(map(str, table.label)))))
    colors = class_colors(names)
    hexes = ["#" + "".join(f"{round(255 * c):02x}" for c in colors[name][:3]) for name in names]
    label = [names.index(str(x)) for x in table.label]
    n, square = int(recipe["size"]), int(recipe["square"])
    draws = []
    for s in np.asarray(table.seed):
        d = cnn_seed_draws(int(s), n=n, square=square, shift=recipe.get("shift", "both"))
        draws.append([d["r2"], d["c2"], d["angle"], d["roll"][0], d["roll"][1]])
    data = dict(
        nk=int(ik.max()) + 1,
        nf=int(jf.max()) + 1,
        cell=int(cell),
        k0=float(k.min()),
        f0=float(f.min()),
        dk=float(dk),
        df=float(df),
        ik=ik.tolist(),
        jf=jf.tolist(),
        label=label,
        names=names,
        colors=hexes,
        draws=draws,
        square=square,
        seed=[int(s) for s in table.seed],
        index=list(range(len(k))),
    )
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    if element_id is None:
        digest = hashlib.sha1(payload.encode("ascii")).hexdigest()[:10]
        element_id = f"gs-live-map-{digest}-{next(_live_ids)}"
    eid = html.escape(element_id, quote=True)
    first = int(np.argmin(np.abs(k - np.median(k)) + np.abs(f - np.median(f))))
    sim = live_simulator_html(
        n,
        f=float(f[first]),
        k=float(k[first]),
        Du=float(recipe["Du"]),
        Dv=float(recipe["Dv"]),
        dt=float(recipe["dt"]),
        stencil=recipe["stencil"],
        draws=cnn_seed_draws(int(table.seed[first]), n=n, square=square, shift=recipe.get("shift", "both")),
        steps_per_frame=steps_per_frame,
        pixels=pixels,
        title="the clicked point, live (from the scan's seed)",
    )
    legend = " ".join(
        f'<span style="white-space:nowrap"><span style="display:inline-block;width:0.9em;'
        f'height:0.9em;background:{c};vertical-align:middle"></span> {html.escape(nm)}</span>'
        for nm, c in zip(names, hexes)
        if nm in set(map(str, table.label))
    )
    heading = title if title is not None else "Class map: click a point to run it live"
    parts = [
        f'<div class="gs-live-map-box" data-gs-live-map id="{eid}" style="font-family:sans-serif;font-size:0.9em">',
        f'<div style="font-weight:bold;margin-bottom:0.3em">{html.escape(heading)}</div>',
        '<div style="display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start">',
        '<div style="max-width:100%">',
        f'<canvas class="gs-live-map" width="{data["nk"] * cell}" height="{data["nf"] * cell}" '
        f'style="display:block;width:{data["nk"] * cell}px;max-width:100%;cursor:crosshair;image-rendering:pixelated" '
        'aria-label="class map of the scan: k to the right, f upwards"></canvas>',
        f'<div style="color:#555;font-size:0.85em">k &rarr; {k.min():.5g} &hellip; {k.max():.5g} (right), '
        f"f &uarr; {f.min():.5g} &hellip; {f.max():.5g} (up)</div>",
        f'<div style="max-width:{data["nk"] * cell}px;font-size:0.85em">{legend}</div>',
        '<div class="gs-live-map-label" style="font-family:monospace;margin-top:0.3em">click a point of the map</div>',
        "</div>",
        f'<script type="application/json" class="gs-live-map-data">{payload}</script>',
        sim,
        "</div>",
        "</div>",
    ]
    return "\n".join(parts)


def live_class_map(table, **kwargs):
    """:func:`live_class_map_html` as :class:`IPython.display.HTML`.

    Parameters
    ----------
    table : gslib.scan.ScanTable
        The scan.
    **kwargs
        As in :func:`live_class_map_html`.

    Returns
    -------
    IPython.display.HTML
        The map and its simulator.
    """
    from IPython.display import HTML

    return HTML(live_class_map_html(table, **kwargs))
