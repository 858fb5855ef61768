"""Tests of the book's sources and of its build configuration (no browser needed).

* chapter notebooks are stored without outputs;
* _toc.yml and the files of book/ agree;
* with OUR _config.yml execution settings, a notebook whose cell raises makes
  `jupyter-book build` exit non-zero, and a good one builds and is really executed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bookutil  # noqa: E402

NOTEBOOKS = sorted(bookutil.BOOK_DIR.glob("*.ipynb"))


# ----------------------------------------------------------------------------- (a) no outputs


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(notebook):
    problems = bookutil.notebook_output_problems(notebook)
    assert not problems, (
        f"{notebook.relative_to(bookutil.ROOT)} must be stored without outputs "
        f"(clear all outputs and save; the book executes it at build time):\n  " + "\n  ".join(problems)
    )


def test_output_checker_flags_outputs_and_counts(tmp_path):
    clean = bookutil.write_notebook(tmp_path / "clean.ipynb", [("markdown", "# T"), ("code", "x = 1")])
    assert bookutil.notebook_output_problems(clean) == []

    nb = json.loads(clean.read_text())
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
    nb["cells"][1]["execution_count"] = 3
    dirty = tmp_path / "dirty.ipynb"
    dirty.write_text(json.dumps(nb))
    problems = bookutil.notebook_output_problems(dirty)
    assert any("output" in p for p in problems)
    assert any("execution_count 3" in p for p in problems)

    nb["cells"][1]["outputs"] = []
    nb["cells"][1]["execution_count"] = None
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    dirty.write_text(json.dumps(nb))
    assert bookutil.notebook_output_problems(dirty) == ["notebook metadata holds saved widget state ('widgets')"]


# ----------------------------------------------------------------------------- (b) toc vs files


def test_toc_is_a_jb_book_rooted_at_the_intro():
    toc = bookutil.load_yaml(bookutil.TOC_FILE)
    assert toc.get("format") == "jb-book"
    assert bookutil.strip_suffix(toc.get("root", "")) == "book/intro"


def test_every_toc_entry_exists():
    entries = bookutil.toc_entries()
    assert entries, "_toc.yml lists no documents"
    missing = [e for e in entries if bookutil.source_of(e) is None]
    assert not missing, f"_toc.yml lists documents that do not exist (no .md or .ipynb): {missing}"
    assert len(set(map(bookutil.strip_suffix, entries))) == len(entries), "_toc.yml lists a document twice"


def test_every_book_page_is_in_the_toc():
    listed = {bookutil.strip_suffix(e) for e in bookutil.toc_entries()}
    unlisted = [
        str(p.relative_to(bookutil.ROOT))
        for p in bookutil.book_sources()
        if str(p.relative_to(bookutil.ROOT).with_suffix("")) not in listed
    ]
    assert not unlisted, f"files in book/ missing from _toc.yml (they would not be built): {unlisted}"


def test_config_points_at_the_bibliography_and_executes_strictly():
    config = bookutil.load_config()
    for bib in config.get("bibtex_bibfiles", []):
        assert (bookutil.ROOT / bib).is_file(), f"bibtex file {bib} does not exist"
    execute = config["execute"]
    assert execute["execute_notebooks"] == "cache"
    assert execute["allow_errors"] is False
    assert execute.get("raise_on_error") or config["sphinx"]["config"].get("nb_execution_raise_on_error")


# ----------------------------------------------------------------------------- (c) a failing cell fails the build

GOOD_MARKER_CODE = 'print("gsbook-marker", 6 * 7)'
GOOD_MARKER_OUTPUT = "gsbook-marker 42"  # appears in the page only if the cell was executed
SCALE_MARKER_CODE = 'import os\nprint("gsbook-scale", os.environ.get("GSLIB_SCALE"))'


def make_mini_book(root: Path, chapter_cells) -> Path:
    """A one-chapter book using the real _config.yml's settings that matter to execution."""
    real = bookutil.load_config()
    config = {"title": "mini", "author": "tests"}
    for key in ("execute", "sphinx", "parse", "only_build_toc_files", "exclude_patterns"):
        if key in real:
            config[key] = real[key]
    config["execute"] = dict(config["execute"], timeout=120)  # fail fast if something hangs
    root.mkdir(parents=True)
    (root / "_config.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    (root / "_toc.yml").write_text(
        yaml.safe_dump({"format": "jb-book", "root": "intro", "chapters": [{"file": "chapter"}]}),
        encoding="utf-8",
    )
    (root / "intro.md").write_text("# Mini book\n\nA test book.\n", encoding="utf-8")
    bookutil.write_notebook(root / "chapter.ipynb", chapter_cells)
    return root


@pytest.fixture(scope="module")
def mini_builds(tmp_path_factory):
    """Build a good and a broken mini book; {name: BuildResult}."""
    base = tmp_path_factory.mktemp("minibooks")
    books = {
        "good": make_mini_book(
            base / "good",
            [("markdown", "# Good chapter"), ("code", GOOD_MARKER_CODE), ("code", SCALE_MARKER_CODE)],
        ),
        "broken": make_mini_book(
            base / "broken",
            [
                ("markdown", "# Broken chapter"),
                ("code", "x = 1"),
                ("code", 'raise RuntimeError("deliberate failure for the test")'),
                ("code", GOOD_MARKER_CODE),
            ],
        ),
    }
    # On a fresh machine this is the first kernel of the session: load what a kernel imports once, so
    # that a cold disk cache does not push the kernels past nbclient's 60 s start-up limit, and build
    # the two books one after the other rather than side by side.
    subprocess.run(
        [sys.executable, "-c", "import ipykernel.kernelapp, IPython, zmq, jupyter_client"], check=True, timeout=600
    )
    results = {}
    for name, path in books.items():
        started = time.monotonic()
        results[name] = bookutil.finish_build(bookutil.start_build(path), path, None, started, timeout=600)
    return results


def test_build_with_a_failing_cell_exits_nonzero(mini_builds):
    result = mini_builds["broken"]
    assert result.returncode != 0, (
        "jupyter-book build succeeded although a cell raised; check execute.raise_on_error in "
        "_config.yml\n" + result.tail()
    )
    assert "deliberate failure" in result.log or "ExecutionError" in result.log, result.tail()


def test_build_with_good_cells_succeeds_and_executes(mini_builds):
    result = mini_builds["good"]
    assert result.returncode == 0, result.tail()
    html = result.html_page("chapter")
    assert html.is_file(), f"no {html}"
    assert GOOD_MARKER_OUTPUT in html.read_text(encoding="utf-8"), "the notebook was not executed"


def test_each_scale_has_its_own_execution_cache(mini_builds):
    # jupyter-cache keys a notebook by its code alone: without a cache per scale (gslib.sphinxext), a
    # rebuild at another GSLIB_SCALE would show the outputs of the first scale again.
    first = mini_builds["good"]
    assert first.returncode == 0, first.tail()
    assert "gsbook-scale ci" in first.html_page("chapter").read_text(encoding="utf-8")
    again = bookutil.build_book(first.source, env=bookutil.build_env("book"), timeout=600)
    assert again.returncode == 0, again.tail()
    assert "gsbook-scale book" in again.html_page("chapter").read_text(encoding="utf-8"), "served from the ci cache"
    cache = first.output / "_build" / ".jupyter_cache"
    assert (cache / "ci").is_dir() and (cache / "book").is_dir(), sorted(p.name for p in cache.iterdir())


def test_cache_path_for_scale():
    from gslib.sphinxext import cache_path_for_scale

    assert cache_path_for_scale("", "/b/_build/html", "ci") == str(Path("/b/_build/.jupyter_cache/ci"))
    assert cache_path_for_scale(None, "/b/_build/html", "paper") == str(Path("/b/_build/.jupyter_cache/paper"))
    assert cache_path_for_scale("mycache", "/b/_build/html", "book") == str(Path("mycache/book"))
