"""The book is written for its reader: checks of the chapters' text and apparatus (no build needed).

* no word about the machine, session or history of the book's own build, in the chapters, the
  README or the library;
* Pearson's classes are alpha to mu: nu, xi, pi, rho and sigma are never called Pearson's;
* every chapter opens with objectives, prerequisites and its time, and ends with what comes next;
* figures are numbered by Sphinx (no hand-written "Figure 2.3" captions);
* code cells stay short.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bookutil  # noqa: E402

ROOT = bookutil.ROOT
CHAPTERS = sorted(bookutil.BOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
MAX_CELL_LINES = 25

#: Phrases that speak of the book's own build instead of the reader's machine.
WORKSHOP = re.compile(
    "|".join(
        [
            r"cannot be downloaded here",
            r"no network access",
            r"\bthis machine\b",
            r"\bour [0-9]-core",
            r"this project'?s [0-9]-core",
            r"these (shared )?[0-9]-core machines",
            r"no GPU was available",
            r"measured here",
            r"measured separately",
            r"pull request",
            r"the GPU machines",
            r"in our trials",
            r"TensorFlow here",
            r"one chapter at a time",
            r"\bon our\b",
            r"the project's (own )?full run",
            r"this project's machine",
            r"\bour machine",
            r"this session",
        ]
    ),
    re.IGNORECASE,
)

#: Munafo's classes attributed to Pearson.
NOT_PEARSONS = re.compile(
    r"Pearson'?s\s+(class\s+)?\$?\\?(nu|xi|pi|rho|sigma|ν|ξ|π|ρ|σ)\b|thirteen of Pearson|13 of Pearson"
    r"|Pearson'?s\s+\(α to ν\)",
    re.IGNORECASE,
)


def _texts():
    """(where, text) of every chapter cell, book page, the README and every gslib module."""
    for path in sorted(bookutil.BOOK_DIR.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            yield f"{path.name} cell {i}", cell.source
    for path in sorted(bookutil.BOOK_DIR.glob("*.md")) + [ROOT / "README.md"]:
        yield path.name, path.read_text()
    for path in sorted((ROOT / "gslib").rglob("*.py")):
        yield str(path.relative_to(ROOT)), path.read_text()


def test_no_workshop_wording():
    hits = [f"{where}: ...{m.group(0)}..." for where, text in _texts() for m in WORKSHOP.finditer(text)]
    assert not hits, "words about the book's own build instead of the reader's machine:\n" + "\n".join(hits)


def test_class_history_pearson_named_alpha_to_mu():
    hits = [f"{where}: {m.group(0)!r}" for where, text in _texts() for m in NOT_PEARSONS.finditer(text)]
    assert not hits, "Munafo's classes (nu, xi, pi, rho, sigma) called Pearson's:\n" + "\n".join(hits)


def test_the_paper_stencil_is_not_called_isotropic():
    bad = re.compile(r"isotropic[^.\n]{0,40}(centre|center) [−-]3|9-point isotropic", re.IGNORECASE)
    hits = [f"{where}: {m.group(0)!r}" for where, text in _texts() for m in bad.finditer(text)]
    assert not hits, "the CNN paper's 9-point stencil (corners 1/4) is not isotropic:\n" + "\n".join(hits)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_opens_with_objectives_and_ends_with_what_comes_next(chapter):
    nb = nbformat.read(chapter, as_version=4)
    first = nb.cells[0].source
    for word in ("Objectives", "Prerequisites", "Time"):
        assert f"**{word}.**" in first, f"{chapter.name}: the first cell lacks **{word}.**"
    assert "{glue:text}`chapter_time`" in first, f"{chapter.name}: the time is not glued from the record"
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert f'chapter_time("{chapter.stem}")' in code, f"{chapter.name}: chapter_time is not glued"
    headings = [
        line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines() if line.startswith("## ")
    ]
    assert any("what comes next" in h.lower() for h in headings), f"{chapter.name}: no 'What comes next' section"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_figures_are_numbered_by_sphinx(chapter):
    nb = nbformat.read(chapter, as_version=4)
    hand = re.compile(r"\*\*Figure [0-9]+\.[0-9]+\.?\*\*|\b[Ff]igure [0-9]+\.[0-9]+\b")
    hits = [
        f"cell {i}: {m.group(0)!r}"
        for i, c in enumerate(nb.cells)
        if c.cell_type == "markdown"
        for m in hand.finditer(c.source)
    ]
    assert not hits, (
        f"{chapter.name}: figures numbered by hand (use glue:figure with :name: and {{numref}}):\n" + "\n".join(hits)
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_code_cells_are_short(chapter):
    nb = nbformat.read(chapter, as_version=4)
    long = [
        (i, n)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (n := len(c.source.strip().splitlines())) > MAX_CELL_LINES
    ]
    assert not long, f"{chapter.name}: code cells over {MAX_CELL_LINES} lines (cell index, lines): {long}"
