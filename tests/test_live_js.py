"""The live simulator of the pages (gslib/static/gslive.js) in headless Chromium, against gslib.

A page holding :func:`gslib.widgets.live_simulator_html` is served on 127.0.0.1 (every other host
blocked) and driven through ``element.gsSim``:

* its CNN seed, built in the browser from :func:`gslib.widgets.cnn_seed_draws`, equals
  :func:`gslib.initial.cnn_seed`; its SFI seed equals :func:`gslib.initial.sfi_seed` in float32;
* from gslib's CNN seed, a few hundred steps of both stencils agree with
  ``gslib.simulate(..., backend="numpy", dtype=np.float32)`` to 1e-4, on the CPU engine and on the
  WebGL2 engine where the browser has one;
* the cell updates per second of both engines are measured; with ``GSLIB_RECORD_LIVE_JS=1`` they
  are written with their provenance to ``gslib/data/benchmarks/live_js.json``.

Chromium starts with the book's flags less ``--disable-gpu``, plus SwiftShader (software WebGL), so
that WebGL2 runs headless on a machine without a GPU too. Skipped without Chromium or playwright,
unless GSLIB_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bookutil  # noqa: E402

import gslib  # noqa: E402
from gslib import widgets  # noqa: E402
from gslib.initial import cnn_seed, sfi_seed  # noqa: E402

N = 64
STEPS = 400
POINTS = [(0.037, 0.06), (0.03, 0.055)]  # (f, k): spots and stripes growing from the seed
RECORD_ENV = "GSLIB_RECORD_LIVE_JS"
RECORD = Path(__file__).resolve().parents[1] / "gslib" / "data" / "benchmarks" / "live_js.json"


@pytest.fixture(scope="module")
def live_page(tmp_path_factory):
    reason = bookutil.browser_unavailable_reason()
    if reason is not None:
        if bookutil.browser_required():
            pytest.fail(f"{bookutil.ENV_REQUIRE_BROWSER}=1 but the browser tests cannot run: {reason}")
        pytest.skip(f"browser tests skipped: {reason}")
    site = tmp_path_factory.mktemp("live")
    body = widgets.live_simulator_html(N, seed_index=3, element_id="sim-small") + widgets.live_simulator_html(
        256, seed_index=1, element_id="sim-large"
    )
    (site / "index.html").write_text(
        f"<!doctype html><html><head><meta charset='utf-8'></head><body>{body}</body></html>", encoding="utf-8"
    )
    args = bookutil.live_chromium_args()
    with bookutil.serve_directory(site) as url:
        browser = bookutil.playwright().chromium.launch(
            executable_path=bookutil.chromium_executable(), headless=True, args=args
        )
        try:
            page = browser.new_page()
            blocked, errors = [], []
            page.route(
                "**/*",
                lambda r: (
                    r.continue_()
                    if bookutil.is_local_url(r.request.url)
                    else (blocked.append(r.request.url), r.abort("blockedbyclient"))
                ),
            )
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(url, wait_until="load")
            page.wait_for_function("() => document.getElementById('sim-large').gsSim !== undefined")
            yield page, errors, blocked
        finally:
            browser.close()


def _b64(a) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


RUN_JS = """
([id, backend, params, u64, v64, steps]) => {
  const sim = document.getElementById(id).gsSim;
  const dec = s => new Float32Array(Uint8Array.from(atob(s), c => c.charCodeAt(0)).buffer);
  sim.pause();
  sim.setBackend(backend);
  sim.setParams(params);
  sim.setState(dec(u64), dec(v64));
  sim.step(steps);
  const s = sim.state();
  return {backend: sim.backend, t: s.t, u: Array.from(s.u), v: Array.from(s.v)};
}
"""


def _engines(page):
    has_gl = page.evaluate(
        "() => { try { return document.getElementById('sim-small').gsSim.setBackend('webgl2') === 'webgl2'; }"
        " catch (e) { return false; } }"
    )
    return ["cpu", "webgl2"] if has_gl else ["cpu"]


def test_page_loads_offline_without_errors(live_page):
    page, errors, blocked = live_page
    assert not errors, errors
    assert not blocked, blocked
    assert page.locator("[data-gs-live] canvas").count() >= 2
    assert page.evaluate("() => document.getElementById('sim-small').gsSim.size") == N


def test_seeds_equal_gslib(live_page):
    page, _, _ = live_page
    got = page.evaluate(
        "([n, d]) => { const s = GSLive.cnnSeed(n, d); return [Array.from(s.u), Array.from(s.v)]; }",
        [N, widgets.cnn_seed_draws(3, n=N)],
    )
    u0, v0 = cnn_seed(3, n=N)
    np.testing.assert_allclose(np.reshape(got[0], (N, N)), u0.astype(np.float32), rtol=0, atol=1e-6)
    np.testing.assert_allclose(np.reshape(got[1], (N, N)), v0.astype(np.float32), rtol=0, atol=1e-6)
    # the simulator starts from that seed; its SFI seed is gslib's
    for kind, (u_ref, v_ref) in (("cnn", (u0, v0)), ("sfi", sfi_seed(3, n=N))):
        state = page.evaluate(
            "(kind) => { const sim = document.getElementById('sim-small').gsSim; sim.setSeed(kind);"
            " const s = sim.state(); return [Array.from(s.u), Array.from(s.v), s.t]; }",
            kind,
        )
        np.testing.assert_allclose(np.reshape(state[0], (N, N)), u_ref.astype(np.float32), rtol=0, atol=1e-6)
        np.testing.assert_allclose(np.reshape(state[1], (N, N)), v_ref.astype(np.float32), rtol=0, atol=1e-6)
        assert state[2] == 0


def _agreement(page, stencil):
    """Max |JS - gslib| of u and v after STEPS steps from gslib's CNN seed, per engine and point."""
    u0, v0 = cnn_seed(5, n=N)
    rows = []
    for f, k in POINTS:
        u_ref, v_ref = gslib.simulate(u0, v0, f=f, k=k, steps=STEPS, stencil=stencil, backend="numpy", dtype=np.float32)
        assert np.abs(u_ref - u0).max() > 0.05  # the pattern has moved
        for backend in _engines(page):
            params = dict(f=f, k=k, Du=0.2, Dv=0.1, dt=0.25, stencil=stencil)
            out = page.evaluate(RUN_JS, ["sim-small", backend, params, _b64(u0), _b64(v0), STEPS])
            assert out["backend"] == backend and out["t"] == pytest.approx(STEPS * 0.25)
            du = np.abs(np.reshape(out["u"], (N, N)) - u_ref).max()
            dv = np.abs(np.reshape(out["v"], (N, N)) - v_ref).max()
            rows.append(
                dict(
                    backend=backend,
                    stencil=stencil,
                    f=f,
                    k=k,
                    size=N,
                    steps=STEPS,
                    seed="cnn_seed(5)",
                    max_difference=float(max(du, dv)),
                )
            )
    return rows


@pytest.mark.parametrize("stencil", ["5pt", "9pt"])
def test_agrees_with_gslib(live_page, stencil):
    page, errors, _ = live_page
    for row in _agreement(page, stencil):
        assert row["max_difference"] < 1e-4, row
    assert not errors, errors


def test_bad_parameters_are_refused(live_page):
    page, _, _ = live_page
    messages = page.evaluate("""() => {
      const sim = document.getElementById('sim-small').gsSim, out = [];
      for (const p of [{f: -1}, {dt: 10}, {stencil: '7pt'}, {g: 1}]) {
        try { sim.setParams(p); out.push(null); } catch (e) { out.push(e.name + ': ' + e.message); }
      }
      try { sim.setState(new Float32Array(3), new Float32Array(3)); out.push(null); } catch (e) { out.push(e.message); }
      sim.setParams({f: 0.037, k: 0.06, dt: 0.25, stencil: '9pt'});
      return out;
    }""")
    assert messages[0].startswith("RangeError: f=-1")
    assert "forward-Euler bound" in messages[1]
    assert "stencil=7pt" in messages[2] and "unknown parameter g" in messages[3]
    assert "size*size" in messages[4]


def test_controls_drive_the_simulator(live_page):
    page, errors, _ = live_page
    root = page.locator("#sim-small")
    root.scroll_into_view_if_needed()
    page.evaluate(
        "() => { const s = document.getElementById('sim-small').gsSim; s.setBackend('auto'); s.setSeed('cnn'); }"
    )
    slider = root.locator("input.gs-live-f")
    slider.focus()
    for _ in range(5):
        slider.press("ArrowRight")
    f_now = page.evaluate("() => document.getElementById('sim-small').gsSim.params().f")
    assert f_now == pytest.approx(0.037 + 5e-4, abs=1e-9)
    root.locator("button.gs-live-play").click()
    page.wait_for_function("() => document.getElementById('sim-small').gsSim.state().t > 50", timeout=20_000)
    page.wait_for_function("() => document.getElementById('sim-small').gsSim.stepsPerSecond > 0", timeout=20_000)
    root.locator("button.gs-live-play").click()
    assert not page.evaluate("() => document.getElementById('sim-small').gsSim.running")
    assert "steps/s" in root.locator(".gs-live-status").inner_text()
    # a click on the field seeds v there
    before = page.evaluate("() => document.getElementById('sim-small').gsSim.state().v.reduce((a, b) => a + b, 0)")
    page.evaluate(
        "() => document.getElementById('sim-small').gsSim.setState(new Float32Array(64 * 64).fill(1),"
        " new Float32Array(64 * 64))"
    )
    root.locator(".gs-live-field").click(position={"x": 30, "y": 30})
    after = page.evaluate("() => document.getElementById('sim-small').gsSim.state().v.reduce((a, b) => a + b, 0)")
    assert before >= 0 and after > 0.25
    root.locator("button.gs-live-reset").click()
    assert page.evaluate("() => document.getElementById('sim-small').gsSim.state().t") == 0
    assert not errors, errors


SPEED_JS = """
([id, backend, steps]) => {
  const sim = document.getElementById(id).gsSim;
  sim.pause();
  sim.setBackend(backend);
  sim.setParams({f: 0.037, k: 0.06, Du: 0.2, Dv: 0.1, dt: 0.25, stencil: '9pt'});
  sim.reset();
  sim.step(Math.max(1, steps / 10)); sim.state();       // warm up (shader compilation, JIT)
  const t0 = performance.now();
  sim.step(steps);
  sim.state();                                          // waits for the engine to finish
  const seconds = (performance.now() - t0) / 1000;
  return {backend: sim.backend, size: sim.size, steps: steps, seconds: seconds,
          updates_per_s: sim.size * sim.size * steps / seconds};
}
"""


RENDERER_JS = """
() => {
  const gl = document.createElement('canvas').getContext('webgl2');
  if (!gl) { return null; }
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  return gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER);
}
"""


def test_speed_is_measured_and_recorded(live_page):
    page, _, _ = live_page
    rows = []
    for backend in _engines(page):
        steps = 200 if backend == "webgl2" else 100
        row = page.evaluate(SPEED_JS, ["sim-large", backend, steps])
        # long enough to time: repeat with more steps if it was quick
        while row["seconds"] < 0.5 and steps < 200_000:
            steps *= 4
            row = page.evaluate(SPEED_JS, ["sim-large", backend, steps])
        rows.append(dict(row, stencil="9pt", dtype="float32"))
    print(json.dumps(rows, indent=1))
    assert all(r["updates_per_s"] > 1e6 for r in rows), rows
    if os.environ.get(RECORD_ENV, "").strip() in ("1", "true", "yes"):
        from gslib import provenance

        version = page.evaluate("() => navigator.userAgent")
        renderer = page.evaluate(RENDERER_JS)
        record = provenance.record(
            f"{RECORD_ENV}=1 pytest tests/test_live_js.py -k speed",
            browser=version,
            webgl_renderer=renderer,
            chromium_args=bookutil.live_chromium_args(),
            rows=rows,
            agreement=_agreement(page, "5pt") + _agreement(page, "9pt"),
        )
        RECORD.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def _small_scan():
    """A scan table of 3 x 4 lattice points with a recipe and seeds (what live_class_map_html reads)."""
    from types import SimpleNamespace

    kk, ff = np.meshgrid(0.05 + 0.001 * np.arange(4), 0.02 + 0.002 * np.arange(3))
    labels = np.array(["alpha", "beta", "H", "L"] * 3)
    recipe = dict(
        size=32, t_end=100.0, gap=30.0, dt=0.25, Du=0.2, Dv=0.1, stencil="9pt", square=5, shift="both", dtype="float32"
    )
    return SimpleNamespace(
        k=kk.ravel(),
        f=ff.ravel(),
        label=labels,
        class_names=["alpha", "beta", "H", "L"],
        seed=7_000_000 + np.arange(12),
        meta=dict(recipe=recipe),
    )


def test_class_map_click_runs_the_point_from_its_seed(live_page, tmp_path):
    page, errors, _ = live_page
    table = _small_scan()
    page.set_content("<!doctype html><html><body>" + widgets.live_class_map_html(table, cell=20) + "</body></html>")
    box = page.locator("[data-gs-live-map]")
    page.wait_for_function("() => document.querySelector('[data-gs-live-map]').gsMap !== undefined")
    the_map = box.locator("canvas.gs-live-map")
    for index in (0, 6, 11):
        ik, jf = index % 4, index // 4
        the_map.click(position={"x": 20 * ik + 10, "y": 20 * (2 - jf) + 10})
        assert box.get_attribute("data-selected") == str(index)
        sim = box.locator("[data-gs-live]")
        got = sim.evaluate(
            "el => { el.gsSim.pause(); const p = el.gsSim.params(); el.gsSim.reset();"
            " const s = el.gsSim.state(); return [p.f, p.k, Array.from(s.u), Array.from(s.v)]; }"
        )
        assert got[0] == pytest.approx(table.f[index]) and got[1] == pytest.approx(table.k[index])
        u0, v0 = cnn_seed(int(table.seed[index]), n=32, square=5)
        np.testing.assert_allclose(np.reshape(got[2], (32, 32)), u0.astype(np.float32), rtol=0, atol=1e-6)
        np.testing.assert_allclose(np.reshape(got[3], (32, 32)), v0.astype(np.float32), rtol=0, atol=1e-6)
        assert str(table.seed[index]) in box.locator(".gs-live-map-label").inner_text()
    assert not errors, errors


# ----------------------------------------------------------------------------- without a browser


@pytest.mark.parametrize("seed", [0, 1, 7_000_123])
def test_cnn_seed_draws_replay_the_seed(seed):
    from gslib.initial import _cnn_single

    for shift in ("both", "one_axis"):
        d = widgets.cnn_seed_draws(seed, n=128, shift=shift)
        _, _, info = _cnn_single(np.random.default_rng(seed), 128, 20, shift)
        assert (d["r2"], d["c2"]) == (round(128 * info["centre"][0]), round(128 * info["centre"][1]))
        assert d["angle"] == info["angle"] and tuple(d["roll"]) == info["roll"] and d["square"] == 20


def test_live_simulator_html_is_self_contained():
    html = widgets.live_simulator_html(32, f=0.03, k=0.055, seed="sfi", seed_index=2, element_id="x")
    assert html.startswith('<div class="gs-live" data-gs-live id="x">') and html.rstrip().endswith("</div>")
    assert "http://" not in html and "https://" not in html
    assert html.count('<canvas class="gs-live-canvas"') == 1 and "window.GSLive" in html
    config = json.loads(html.split('<script type="application/json" class="gs-live-config">')[1].split("</script>")[0])
    assert config["size"] == 32 and config["seed"] == "sfi" and config["stencil"] == "9pt"
    u = np.frombuffer(base64.b64decode(config["sfi"]["u"]), dtype="<f4").reshape(32, 32)
    np.testing.assert_array_equal(u, sfi_seed(2, n=32)[0].astype(np.float32))
    assert len(base64.b64decode(config["lut"])) == 256 * 4
    # two simulators get different ids
    assert (
        widgets.live_simulator_html(32).split('id="')[1][:40] != widgets.live_simulator_html(32).split('id="')[1][:40]
    )


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(size=4), "size"),
        (dict(f=-0.1), "f"),
        (dict(k=0.5), "k"),
        (dict(Du=2.0), "Du"),
        (dict(dt=3.0), "dt"),
        (dict(stencil="7pt"), "stencil"),
        (dict(seed="pearson"), "seed"),
        (dict(seed_index=-1), "seed_index"),
        (dict(steps_per_frame=0), "steps_per_frame"),
        (dict(backend="gpu"), "backend"),
    ],
)
def test_live_simulator_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        widgets.live_simulator_html(**{"size": 32, **kwargs})


def test_interactive_frontend_is_false_outside_a_kernel():
    assert widgets.interactive_frontend() is False


def test_colormap_lut():
    from gslib.plotting import colormap_lut

    lut = colormap_lut(n=256)
    assert lut.shape == (256, 4) and lut.dtype == np.uint8 and (lut[:, 3] == 255).all()
    assert tuple(lut[0, :3]) == (68, 1, 84)  # viridis starts dark purple
    with pytest.raises(ValueError, match="n="):
        colormap_lut(n=1)
    with pytest.raises(ValueError, match="cmap"):
        colormap_lut("no-such-map")
