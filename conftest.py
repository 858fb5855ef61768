"""Repository-wide pytest configuration of gsbook.

Loaded before any test module (and before nbval starts a notebook kernel), so:

* ``GSLIB_SCALE`` defaults to ``ci``: the library tests and the chapter notebooks run by
  nbval (``pytest --nbval-lax book``) use the small sizes. Kernels are subprocesses and
  inherit this environment. An explicit ``GSLIB_SCALE=book pytest ...`` still wins.
* ``MPLBACKEND`` defaults to ``Agg``: no plot window opens from tests or from the
  subprocesses they start.

Notebook kernels are the exception to the second point: ipykernel only installs its inline
backend when ``MPLBACKEND`` is unset, and with ``Agg`` the figures of a notebook would never
be drawn (so errors raised at draw time would go unnoticed). The hook below starts nbval's
kernels without ``MPLBACKEND``; they draw with matplotlib-inline, which is headless too.
"""

import os

os.environ.setdefault("GSLIB_SCALE", "ci")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402  (the environment must be set first)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    # nbval starts the kernel of a notebook when the first cell of that notebook is set up.
    is_notebook_cell = type(item).__module__.startswith("nbval")
    saved = os.environ.pop("MPLBACKEND", None) if is_notebook_cell else None
    try:
        yield
    finally:
        if saved is not None:
            os.environ["MPLBACKEND"] = saved


# ----------------------------------------------------------------------------- the built book
# Session fixtures for tests of the rendered book (helpers in tests/bookutil.py):
#   book_build    the book built once at GSLIB_SCALE=ci (a bookutil.BuildResult)
#   book_browser  headless Chromium on that build: `with book_browser.open("book/intro") as visit:`
# Without Chromium (or playwright) tests using book_browser are skipped, unless
# GSLIB_REQUIRE_BROWSER=1, when they fail.


def _bookutil():
    import sys
    from pathlib import Path

    tests_dir = str(Path(__file__).resolve().parent / "tests")
    if tests_dir not in sys.path:
        sys.path.insert(0, tests_dir)
    import bookutil

    return bookutil


@pytest.fixture(scope="session")
def book_build(tmp_path_factory):
    return _bookutil().built_book(tmp_path_factory.mktemp("book"))


@pytest.fixture(scope="session")
def book_browser(request):
    bookutil = _bookutil()
    reason = bookutil.browser_unavailable_reason()
    if reason is not None:
        if bookutil.browser_required():
            pytest.fail(f"{bookutil.ENV_REQUIRE_BROWSER}=1 but the browser tests cannot run: {reason}")
        pytest.skip(f"browser tests skipped: {reason}")
    build = request.getfixturevalue("book_build")
    if build.returncode != 0:
        pytest.fail(f"the book build failed (exit {build.returncode}):\n{build.tail()}")
    with bookutil.BookBrowser(build.html_dir) as browser:
        yield browser
