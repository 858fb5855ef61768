"""The rendered book, in a headless browser.

The book is built once per test session at GSLIB_SCALE=ci into a temporary copy (fixture
``book_build`` of conftest.py), served on 127.0.0.1 and opened in Chromium with Playwright
(fixture ``book_browser``), which blocks every request to another host, as on a machine
without a network. For every page of _toc.yml: no console errors or uncaught exceptions, no
request to another host, every <img> loaded, an <h1>, every formula typeset by the MathJax
copy of the build. The static explorer of chapter 1 must react to its sliders (and to clicks
on its map, if it has one).

Without a browser: the configuration serves MathJax from the build and inserts no widget
scripts from CDNs, and no built page or stylesheet references a script, stylesheet, font or
image on another host.

Without Chromium these tests are skipped, unless GSLIB_REQUIRE_BROWSER=1 (CI), when they
fail. GSBOOK_HTML_DIR=<path to _build/html> tests an existing build instead of building.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bookutil  # noqa: E402

PAGES = [bookutil.strip_suffix(doc) for doc in bookutil.toc_entries()]
CHAPTER_1 = "book/01_gray_scott_model"


# ----------------------------------------------------------------------------- the build


def test_book_builds_at_ci_scale(book_build):
    assert book_build.returncode == 0, f"jupyter-book build failed:\n{book_build.tail()}"
    for doc in PAGES:
        assert book_build.html_page(doc).is_file(), f"no page was generated for {doc}"


def test_build_has_no_warnings(book_build):
    if not book_build.log:
        pytest.skip(f"testing a prebuilt book ({bookutil.ENV_BUILT_HTML}): no build log")
    assert book_build.returncode == 0, book_build.tail()
    warnings = book_build.warnings()
    assert not warnings, "the book build printed warnings:\n" + "\n".join(warnings)


# ----------------------------------------------------------------------------- offline, without a browser


def test_config_needs_no_network():
    config = bookutil.load_config()
    sphinx = config.get("sphinx") or {}
    assert "sphinx-mathjax-offline" in (sphinx.get("extra_extensions") or []), (
        "_config.yml: add sphinx-mathjax-offline to sphinx.extra_extensions (MathJax from the build)"
    )
    settings = sphinx.get("config") or {}
    mathjax_path = str(settings.get("mathjax_path", ""))
    assert mathjax_path and not urlsplit(mathjax_path).scheme and not mathjax_path.startswith("//"), (
        f"_config.yml: mathjax_path must be a path inside _static/, not {mathjax_path!r}"
    )
    assert settings.get("nb_ipywidgets_js") == {}, (
        "_config.yml: set nb_ipywidgets_js: {} (myst-nb otherwise inserts require.js and the widget manager from CDNs)"
    )
    assert ((settings.get("mathjax3_config") or {}).get("tex") or {}).get("tags") == "ams"


def _built_files(book_build, pattern):
    assert book_build.returncode == 0, f"jupyter-book build failed:\n{book_build.tail()}"
    files = sorted(book_build.html_dir.rglob(pattern))
    assert files, f"no {pattern} in {book_build.html_dir}"
    return files


def test_built_pages_load_nothing_from_other_hosts(book_build):
    html_dir = book_build.html_dir
    mathjax = html_dir / "_static" / "mathjax" / "tex-chtml.js"
    assert mathjax.is_file(), f"MathJax was not copied into the build ({mathjax} is missing)"
    problems = []
    pages = [p for p in _built_files(book_build, "*.html") if "_static" not in p.parts]
    for doc in PAGES:
        assert book_build.html_page(doc) in pages, f"no page was generated for {doc}"
    for path in pages:
        text = path.read_text(encoding="utf-8", errors="replace")
        where = path.relative_to(html_dir)
        problems += [f"{where}: {item}" for item in bookutil.external_resources(text)]
        if "application/vnd.jupyter.widget-state+json" in text:
            problems.append(f"{where}: carries ipywidget state (the static pages cannot show live widgets)")
    for path in _built_files(book_build, "*.css"):
        css = path.read_text(encoding="utf-8", errors="replace")
        problems += [f"{path.relative_to(html_dir)}: {url}" for url in bookutil.external_css_urls(css)]
    assert not problems, "resources on other hosts:\n" + "\n".join(problems)


# ----------------------------------------------------------------------------- every page


@pytest.mark.parametrize("doc", PAGES)
def test_page_renders_cleanly(book_browser, doc):
    with book_browser.open(doc) as visit:
        page = visit.page
        assert page.locator("h1").count() >= 1, f"{doc}: the page has no <h1>"
        assert page.locator("h1").first.inner_text().strip(), f"{doc}: the first <h1> is empty"
        broken = visit.broken_images()
        assert not broken, f"{doc}: images that did not load: {broken}"
        page.wait_for_timeout(300)  # let late scripts report their errors
        assert not visit.errors(), f"{doc}:\n" + "\n".join(visit.errors())


@pytest.mark.parametrize("doc", PAGES)
def test_page_typesets_math_offline(book_browser, doc):
    """With every other host blocked, MathJax (from the build's _static/) typesets every formula."""
    source = bookutil.source_of(doc)
    with book_browser.open(doc) as visit:
        report = visit.math_report()
        if source is not None and bookutil.has_dollar_math(source):
            assert report["math"] >= 1, f"{doc}: the source has $ math but the page has no math element"
        if report["math"]:
            assert report["mathjax"], f"{doc}: {report['math']} formulas, but MathJax did not start"
            assert report["typeset"] >= 1, f"{doc}: no formula was typeset (no <mjx-container>)"
        assert not report["untypeset"], f"{doc}: formulas left untypeset: {report['untypeset'][:10]}"
        assert not report["merrors"], f"{doc}: TeX errors shown by MathJax: {report['merrors'][:10]}"
        assert not report["raw"], f"{doc}: raw TeX delimiters in the visible text: {report['raw'][:10]}"
        assert not visit.errors(), f"{doc}:\n" + "\n".join(visit.errors())


# ----------------------------------------------------------------------------- chapter 1 explorer
# Expected markup (a text/html output of chapter 1, made by gslib.widgets):
#   <div class="gs-explorer" id="gs-explorer-...">
#     <input type="range" class="gs-explorer-k"> <input type="range" class="gs-explorer-f">
#     <img class="gs-explorer-img">   and optionally   <canvas|img class="gs-explorer-map">
#   </div>

SRC_CHANGED_JS = "([img, before]) => img.getAttribute('src') !== before"
IMAGE_LOADED_JS = "img => img.complete && img.naturalWidth > 0"


def _src(img):
    return img.get_attribute("src")


def _src_changes(page, img, actions, what, wait_ms=700):
    """Run ``actions`` one by one until the explorer image's src differs from the start.

    Several (k, f) of the grid can show the same picture (e.g. the uniform state), so a
    single move may legitimately leave src unchanged; some move along the axis must not.
    """
    before = _src(img)
    handle = img.element_handle()
    for action in actions:
        action()
        try:
            page.wait_for_function(SRC_CHANGED_JS, arg=[handle, before], timeout=wait_ms)
        except Exception:  # playwright TimeoutError: try the next move
            continue
        page.wait_for_function(IMAGE_LOADED_JS, arg=handle, timeout=5000)
        return
    raise AssertionError(f"the explorer image never changed while {what}")


def _slider_moves(slider):
    """Keyboard moves over every position of a range input, as a user would make them
    (each fires input and change): Home, then ArrowRight up to the end."""
    n_steps = slider.evaluate(
        "el => Math.round((Number(el.max === '' ? 100 : el.max) - Number(el.min || 0))"
        " / (el.step === '' || el.step === 'any' ? 1 : Number(el.step)))"
    )
    slider.focus()
    return [lambda: slider.press("Home")] + [lambda: slider.press("ArrowRight")] * min(int(n_steps), 200)


def _map_clicks(the_map):
    box = the_map.bounding_box()
    assert box and box["width"] > 0 and box["height"] > 0, "the explorer map is not visible"
    fractions = (0.1, 0.3, 0.5, 0.7, 0.9)
    return [
        lambda fx=fx, fy=fy: the_map.click(position={"x": box["width"] * fx, "y": box["height"] * fy})
        for fy in fractions
        for fx in fractions
    ]


def test_chapter1_explorer_responds_to_input(book_browser):
    if CHAPTER_1 not in PAGES:
        pytest.skip(f"{CHAPTER_1} is not in _toc.yml")
    with book_browser.open(CHAPTER_1) as visit:
        page = visit.page
        explorers = page.locator('.gs-explorer[id^="gs-explorer"]')
        if explorers.count() == 0:
            assert page.locator('[id^="gs-explorer"]').count() == 0, (
                "elements with id gs-explorer-* found, but none with class gs-explorer"
            )
            pytest.skip("chapter 1 has no static explorer (no <div class='gs-explorer' id='gs-explorer-...'>)")
        for i in range(explorers.count()):
            explorer = explorers.nth(i)
            name = explorer.get_attribute("id")
            explorer.scroll_into_view_if_needed()
            img = explorer.locator("img.gs-explorer-img").first
            assert img.count() == 1, f"{name}: no <img class='gs-explorer-img'>"
            page.wait_for_function(IMAGE_LOADED_JS, arg=img.element_handle(), timeout=5000)

            for cls in ("gs-explorer-k", "gs-explorer-f"):
                slider = explorer.locator(f'input[type="range"].{cls}').first
                assert slider.count() == 1, f"{name}: no <input type='range' class='{cls}'>"
                _src_changes(page, img, _slider_moves(slider), f"moving the {cls} slider of {name}")

            the_map = explorer.locator(".gs-explorer-map").first
            if the_map.count():
                _src_changes(page, img, _map_clicks(the_map), f"clicking on the map of {name}")

        assert not visit.errors(), "\n".join(visit.errors())


def test_api_page_documents_simulate(book_build):
    html = book_build.html_page("book/api").read_text()
    assert 'id="gslib.simulate"' in html, "the API page does not document gslib.simulate"
    start = html.index('id="gslib.simulate"')
    section = html[start : html.index("</dl>", start)]
    for name in (
        "u0",
        "v0",
        "f",
        "k",
        "Du",
        "Dv",
        "dt",
        "dx",
        "steps",
        "stencil",
        "backend",
        "dtype",
        "steady_tol",
        "check_every",
    ):
        assert f"<strong>{name}</strong>" in section, f"gslib.simulate: parameter {name} not listed"


def test_conventions_page_shows_the_three_setups(book_build):
    html = book_build.html_page("book/conventions").read_text()
    for text in ("CNN classification", "SPDE inference", "inversion", "64 x 64", "128 x 128"):
        assert text in html, f"the conventions page lacks {text!r}"


# ----------------------------------------------------------------------------- live simulators
# Chapter 1 carries a live simulator (gslib.widgets.live_simulator): <div data-gs-live> with a
# <canvas> and element.gsSim; chapter 3 a class map that starts one (<div data-gs-live-map>).

CHAPTER_3 = "book/03_scanning_the_kf_plane"

LIVE_RUN_JS = """
el => {
  const sim = el.gsSim;
  sim.pause();
  sim.setParams({f: 0.037, k: 0.06, Du: 0.2, Dv: 0.1, dt: 0.25, stencil: '9pt'});
  sim.reset();
  const a = sim.state();
  sim.step(200);
  const b = sim.state();
  let change = 0;
  for (let i = 0; i < a.u.length; i++) { change = Math.max(change, Math.abs(a.u[i] - b.u[i])); }
  return {size: sim.size, backend: sim.backend, t: b.t, change: change, finite: b.u.every(Number.isFinite)};
}
"""


def test_chapter1_live_simulator_runs(book_browser):
    with book_browser.open(CHAPTER_1) as visit:
        page = visit.page
        sims = page.locator("[data-gs-live]")
        assert sims.count() >= 1, "chapter 1 has no live simulator (<div data-gs-live>)"
        sim = sims.first
        sim.scroll_into_view_if_needed()
        assert sim.locator("canvas").count() >= 1
        page.wait_for_function("el => el.gsSim !== undefined", arg=sim.element_handle(), timeout=10_000)
        out = sim.evaluate(LIVE_RUN_JS)
        assert out["size"] == 128 and out["t"] == 50 and out["finite"] and out["change"] > 1e-3, out
        sim.locator("button.gs-live-play").click()
        page.wait_for_function(
            "el => el.gsSim.state().t > 0 && el.gsSim.stepsPerSecond > 0", arg=sim.element_handle(), timeout=20_000
        )
        sim.locator("button.gs-live-play").click()
        assert "steps/s" in sim.locator(".gs-live-status").inner_text()
        assert not visit.errors(), "\n".join(visit.errors())


def test_chapter3_class_map_starts_the_simulator(book_browser):
    with book_browser.open(CHAPTER_3) as visit:
        page = visit.page
        box = page.locator("[data-gs-live-map]")
        assert box.count() == 1, "chapter 3 has no live class map (<div data-gs-live-map>)"
        box.scroll_into_view_if_needed()
        page.wait_for_function("el => el.gsMap !== undefined", arg=box.element_handle(), timeout=10_000)
        the_map = box.locator("canvas.gs-live-map")
        bb = the_map.bounding_box()
        the_map.click(position={"x": bb["width"] * 0.5, "y": bb["height"] * 0.5})
        selected = box.get_attribute("data-selected")
        assert selected is not None, "a click on the class map selected no point"
        sim = box.locator("[data-gs-live]")
        page.wait_for_function(
            "el => el.gsSim.running && el.gsSim.state().t > 0", arg=sim.element_handle(), timeout=20_000
        )
        sim.evaluate("el => el.gsSim.pause()")
        assert not visit.errors(), "\n".join(visit.errors())
