"""The rendered book, in a headless browser.

The book is built once per test session at GSLIB_SCALE=ci into a temporary copy (fixture
``book_build`` of conftest.py), served on 127.0.0.1 and opened in Chromium with Playwright
(fixture ``book_browser``). For every page of _toc.yml: no console errors or uncaught
exceptions, every <img> loaded, an <h1>. The static explorer of chapter 1 must react to its
sliders (and to clicks on its map, if it has one).

Without Chromium these tests are skipped, unless GSLIB_REQUIRE_BROWSER=1 (CI), when they
fail. GSBOOK_HTML_DIR=<path to _build/html> tests an existing build instead of building.
"""

from __future__ import annotations

import sys
from pathlib import Path

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
        " / (el.step === '' || el.step === 'any' ? 1 : Number(el.step)))")
    slider.focus()
    return [lambda: slider.press("Home")] + [lambda: slider.press("ArrowRight")] * min(int(n_steps), 200)


def _map_clicks(the_map):
    box = the_map.bounding_box()
    assert box and box["width"] > 0 and box["height"] > 0, "the explorer map is not visible"
    fractions = (0.1, 0.3, 0.5, 0.7, 0.9)
    return [lambda fx=fx, fy=fy: the_map.click(position={"x": box["width"] * fx, "y": box["height"] * fy})
            for fy in fractions for fx in fractions]


def test_chapter1_explorer_responds_to_input(book_browser):
    if CHAPTER_1 not in PAGES:
        pytest.skip(f"{CHAPTER_1} is not in _toc.yml")
    with book_browser.open(CHAPTER_1) as visit:
        page = visit.page
        explorers = page.locator('.gs-explorer[id^="gs-explorer"]')
        if explorers.count() == 0:
            assert page.locator('[id^="gs-explorer"]').count() == 0, (
                "elements with id gs-explorer-* found, but none with class gs-explorer")
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
