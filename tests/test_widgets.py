"""Tests of gslib.widgets: the batched grid, the static HTML explorer, the live ipywidgets explorer."""

import base64
import json
import re

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import gslib  # noqa: E402
from gslib import widgets  # noqa: E402
from gslib.initial import cnn_seed  # noqa: E402

F3 = [0.03, 0.04, 0.05]
K2 = [0.055, 0.062]


def test_precompute_grid_matches_single_runs():
    size, t_end = 16, 50.0
    grid = widgets.precompute_grid(F3, K2, size=size, t_end=t_end, seed=3, backend="numpy")
    assert grid.shape == (3, 2, size, size)
    assert np.all(np.isfinite(grid))
    u0, v0 = cnn_seed(3, n=size)
    for i, f in enumerate(F3):
        for j, k in enumerate(K2):
            u, _ = gslib.simulate(u0, v0, f=f, k=k, steps=200, backend="numpy")
            np.testing.assert_allclose(grid[i, j], u, rtol=0, atol=1e-6)
    # the parameters matter: different (f, k) give different fields
    assert np.abs(grid[0, 0] - grid[2, 1]).max() > 1e-3


def test_precompute_grid_uses_the_cnn_seed():
    grid = widgets.precompute_grid([0.03], [0.06], size=48, t_end=0.25, seed=1, backend="numpy", dtype=np.float64)
    u0, v0 = cnn_seed(1, n=48)
    u, _ = gslib.simulate(u0, v0, f=0.03, k=0.06, steps=1, backend="numpy", dtype=np.float64)
    np.testing.assert_array_equal(grid[0, 0], u)


def test_precompute_grid_rejects_bad_arguments():
    with pytest.raises(ValueError, match="size"):
        widgets.precompute_grid(F3, K2, size=2, t_end=1.0)
    with pytest.raises(ValueError, match="t_end"):
        widgets.precompute_grid(F3, K2, size=16, t_end=-1.0)
    with pytest.raises(ValueError, match="f_values"):
        widgets.precompute_grid([[0.03]], K2, size=16, t_end=1.0)


def _fields(nf, nk, n=12):
    rng = np.random.default_rng(0)
    return rng.uniform(0.2, 1.0, size=(nf, nk, n, n))


def test_static_explorer_html_structure():
    f, k = [0.02, 0.03, 0.04], [0.05, 0.055, 0.06, 0.065]
    html = widgets.static_explorer(f, k, _fields(3, 4), title="Test <explorer>")
    m = re.match(r'<div class="gs-explorer" id="(gs-explorer-[\w-]+)">', html)
    assert m, html[:200]
    eid = m.group(1)
    assert html.rstrip().endswith("</div>")
    for cls in (
        'img class="gs-explorer-map"',
        'img class="gs-explorer-img"',
        'type="range" class="gs-explorer-k"',
        'type="range" class="gs-explorer-f"',
        'class="gs-explorer-label"',
    ):
        assert cls in html, cls
    assert 'max="3"' in html and 'max="2"' in html  # slider ranges = grid indices
    assert "Test &lt;explorer&gt;" in html  # the title is escaped
    # self-contained: no external resources
    assert "http://" not in html and "https://" not in html and 'src="//' not in html
    # one PNG per grid point in the data block, all valid PNGs
    data = json.loads(
        re.search(r'<script type="application/json" class="gs-explorer-data">(.*?)</script>', html, re.S).group(1)
    )
    assert data["f"] == ["0.02", "0.03", "0.04"] and data["k"] == ["0.05", "0.055", "0.06", "0.065"]
    assert len(data["images"]) == 12
    for uri in data["images"]:
        assert uri.startswith("data:image/png;base64,")
        assert base64.b64decode(uri.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(set(data["images"])) == 12
    # the map and the first image are PNG data URIs too
    assert html.count("data:image/png;base64,") == 12 + 2
    # JavaScript: scoped to the element, listens to slider input and map clicks, balanced braces
    js = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(js) == 1
    js = js[0]
    assert f'"{eid}"' in js and "document.currentScript" in js
    assert 'addEventListener("input"' in js and 'addEventListener("click"' in js
    assert js.count("{") == js.count("}") and js.count("(") == js.count(")")
    assert "%" not in js.replace('"%"', "")  # no unformatted placeholders left


def test_static_explorer_ids_are_unique_and_initial_image_matches():
    f, k = [0.02, 0.03], [0.05, 0.06]
    fields = _fields(2, 2)
    a = widgets.static_explorer(f, k, fields)
    b = widgets.static_explorer(f, k, fields)
    ida = re.search(r'id="(gs-explorer-[^"]+)"', a).group(1)
    idb = re.search(r'id="(gs-explorer-[^"]+)"', b).group(1)
    assert ida != idb
    c = widgets.static_explorer(f, k, fields, initial=(1, 0), element_id="gs-explorer-x")
    assert 'id="gs-explorer-x"' in c
    data = json.loads(re.search(r'class="gs-explorer-data">(.*?)</script>', c, re.S).group(1))
    shown = re.search(r'<img class="gs-explorer-img" src="([^"]+)"', c).group(1)
    assert shown == data["images"][1 * 2 + 0]


def test_static_explorer_rejects_bad_input():
    with pytest.raises(ValueError, match="shape"):
        widgets.static_explorer([0.1, 0.2], [0.05], _fields(3, 1))
    with pytest.raises(ValueError, match="increasing"):
        widgets.static_explorer([0.2, 0.1], [0.05], _fields(2, 1))
    with pytest.raises(ValueError, match="initial"):
        widgets.static_explorer([0.1, 0.2], [0.05], _fields(2, 1), initial=(5, 0))


def test_static_explorer_size_is_reasonable():
    fields = widgets.precompute_grid(np.linspace(0.02, 0.06, 4), np.linspace(0.05, 0.065, 4), size=64, t_end=200.0)
    html = widgets.static_explorer(np.linspace(0.02, 0.06, 4), np.linspace(0.05, 0.065, 4), fields)
    assert len(html) < 16 * 20_000 + 200_000


def test_show_static_explorer_returns_html():
    from IPython.display import HTML

    obj = widgets.show_static_explorer([0.02], [0.05], _fields(1, 1))
    assert isinstance(obj, HTML) and "gs-explorer" in obj.data


def test_encode_png_orientation():
    import io

    import matplotlib.image as mpimg

    field = np.zeros((4, 4))
    field[0] = 1.0  # row 0 bright
    for origin, bright_row in (("lower", 3), ("upper", 0)):
        uri = widgets.encode_png(field, vmin=0, vmax=1, origin=origin)
        img = mpimg.imread(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
        assert img.shape[:2] == (4, 4)
        brightness = img[..., :3].sum(axis=-1).mean(axis=1)
        assert int(np.argmax(brightness)) == bright_row, origin


def test_live_explorer_builds_and_rerenders():
    ipywidgets = pytest.importorskip("ipywidgets")
    box, controls, render, state = widgets._build_live_explorer(
        f=0.03, k=0.06, size=16, t_end=10.0, seed=2, backend="numpy"
    )
    assert isinstance(box, ipywidgets.VBox)
    assert set(controls) == {"f", "k", "seed", "t"}
    assert isinstance(controls["f"], ipywidgets.FloatSlider) and isinstance(controls["seed"], ipywidgets.IntSlider)
    assert all(not w.continuous_update for w in controls.values())
    assert state["runs"] == 1 and state["u"].shape == (16, 16)
    first = state["u"].copy()
    controls["f"].value = 0.045  # observing the slider reruns the simulation
    assert state["runs"] == 2
    assert not np.array_equal(first, state["u"])
    render()
    assert state["runs"] == 3
    assert isinstance(widgets.live_explorer(size=16, t_end=5.0, backend="numpy"), ipywidgets.VBox)
