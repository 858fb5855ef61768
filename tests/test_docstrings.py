"""The docstrings of gslib: one style (numpydoc), read by the API reference (book/api.md).

Every module of gslib has a docstring, and so has every public function and class: a name
without a leading underscore defined in that module, or a name listed in its ``__all__``.
A function or class whose signature (``inspect.signature``) takes parameters documents them
in a numpydoc ``Parameters`` section; a dataclass may document its fields in an
``Attributes`` section instead, which is where numpydoc puts the fields of a result.
The few exceptions are listed in ``EXCEPTIONS`` with their reason.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re

import pytest

import gslib

SECTION = r"^{}\n-{{3,}}\s*$"

# (module, name) -> why it has no Parameters section.
EXCEPTIONS: dict[tuple[str, str], str] = {}

# Modules whose functions still describe their parameters in free prose, while their conversion
# to numpydoc sections is under way (empty: every module is converted). Strict xfail: a module
# that passes must leave this list.
PENDING: tuple[str, ...] = ()


def _modules() -> list[str]:
    """gslib and its public modules (no part of the name starts with an underscore)."""
    found = (m.name for m in pkgutil.walk_packages(gslib.__path__, "gslib."))
    return ["gslib"] + sorted(n for n in found if not any(p.startswith("_") for p in n.split(".")))


def _import(name: str):
    try:
        return importlib.import_module(name)
    except ImportError as exc:  # an optional dependency (numba-cuda) is missing
        pytest.skip(f"{name} cannot be imported: {exc}")


def _public(module) -> list[tuple[str, object]]:
    names = set(getattr(module, "__all__", ()))
    names |= {
        n
        for n, obj in vars(module).items()
        if not n.startswith("_") and getattr(obj, "__module__", None) == module.__name__
    }
    found = []
    for name in sorted(names):
        obj = getattr(module, name)
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__:
            found.append((name, obj))  # re-exported objects are checked in their own module
    return found


def _own_doc(obj) -> str:
    doc = obj.__doc__ or ""
    if dataclasses.is_dataclass(obj) and doc.startswith(obj.__name__ + "("):
        return ""  # the signature that @dataclass writes where there is no docstring
    return inspect.cleandoc(doc)


def _has_section(doc: str, title: str) -> bool:
    return re.search(SECTION.format(title), doc, re.M) is not None


def _parameters(obj) -> list[str]:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return []
    return [p for p in sig.parameters if p not in ("self", "cls")]


MODULES = _modules()


def test_modules_are_found():
    for name in ("gslib.solvers.engine", "gslib.cnn", "gslib.inference.features", "gslib.cli"):
        assert name in MODULES
    assert set(PENDING) <= set(MODULES), f"PENDING lists unknown modules: {set(PENDING) - set(MODULES)}"


@pytest.mark.parametrize("name", MODULES)
def test_module_has_a_docstring(name):
    module = _import(name)
    assert (module.__doc__ or "").strip(), f"module {name} has no docstring"


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason="numpydoc conversion pending"))
        if n in PENDING
        else n
        for n in MODULES
    ],
)
def test_public_objects_have_numpydoc_docstrings(name):
    module = _import(name)
    problems = []
    for attr, obj in _public(module):
        doc = _own_doc(obj)
        if not doc:
            problems.append(f"{attr}: no docstring")
            continue
        if (name, attr) in EXCEPTIONS or not _parameters(obj):
            continue
        allowed = ("Parameters", "Attributes") if dataclasses.is_dataclass(obj) else ("Parameters",)
        if not any(_has_section(doc, title) for title in allowed):
            problems.append(f"{attr}{inspect.signature(obj)}: no numpydoc {' or '.join(allowed)} section")
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)


def test_exceptions_are_still_needed():
    for (name, attr), reason in EXCEPTIONS.items():
        module = importlib.import_module(name)
        assert hasattr(module, attr), f"EXCEPTIONS lists {name}.{attr}, which no longer exists ({reason})"
        assert not _has_section(_own_doc(getattr(module, attr)), "Parameters"), (
            f"{name}.{attr} has a Parameters section now: remove it from EXCEPTIONS"
        )
