"""Tests of gslib.classes: the class table matches the reference facts, points are (f, k)."""

import csv
import math
from pathlib import Path

import pytest

from gslib import classes, model

# The CNN paper's first-pass training points as the reference lists them: (k, f).
PASS1_KF = {
    "alpha": (0.05, 0.015),
    "beta": (0.05, 0.025),
    "gamma": (0.055, 0.025),
    "delta": (0.055, 0.03),
    "epsilon": (0.055, 0.015),
    "zeta": (0.06, 0.025),
    "eta": (0.06, 0.03),
    "theta": (0.0565, 0.03),
    "iota": (0.06, 0.05),
    "kappa": (0.063, 0.046),
    "lambda": (0.065, 0.04),
    "mu": (0.065, 0.05),
    "nu": (0.0675, 0.05),
    "L": (0.055, 0.035),
    "H": (0.05, 0.005),
}

# Munafo's canonical examples as the reference lists them: (F, k).
MUNAFO_FK = {
    "alpha": [(0.010, 0.047), (0.014, 0.053)],
    "beta": [(0.014, 0.039), (0.026, 0.051)],
    "gamma": [(0.022, 0.051), (0.026, 0.055)],
    "delta": [(0.030, 0.055), (0.042, 0.059)],
    "epsilon": [(0.018, 0.055)],
    "zeta": [(0.022, 0.061)],
    "eta": [(0.034, 0.063)],
    "theta": [(0.030, 0.057), (0.038, 0.061)],
    "iota": [(0.046, 0.0594)],
    "kappa": [(0.050, 0.063), (0.058, 0.063)],
    "lambda": [(0.026, 0.061), (0.034, 0.065)],
    "mu": [(0.046, 0.065), (0.058, 0.065)],
    "nu": [(0.054, 0.067)],
    "pi": [(0.062, 0.061)],
}

PAPER_ORDER = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "L",
    "H",
]

DATASET_CSV = Path("/work/shared/reference/dataset_points.csv")


def test_names_ascii_unique_and_in_paper_order():
    names = [c.name for c in classes.CLASSES]
    assert len(names) == len(set(names)) == 16
    assert all(n.isascii() and n.isidentifier() for n in names)
    assert [c.name for c in classes.PASS1_CLASSES] == PAPER_ORDER
    assert names[:15] == PAPER_ORDER and names[15] == "pi"
    assert classes.NAMES == tuple(names)
    symbols = [c.symbol for c in classes.CLASSES]
    assert len(set(symbols)) == len(symbols)
    assert classes.by_name("lambda").symbol == "λ"


def test_training_points_are_f_then_k():
    for c in classes.PASS1_CLASSES:
        k, f = PASS1_KF[c.name]
        assert c.training_point == (f, k), c.name
        assert (c.f, c.k) == (f, k)
    # f first: every training f is below 0.06 and every k in [0.05, 0.0675]; swapped, they would not be
    assert all(0.04 <= c.k <= 0.07 for c in classes.PASS1_CLASSES)


def test_munafo_points():
    for c in classes.CLASSES:
        assert list(c.munafo_points) == MUNAFO_FK.get(c.name, []), c.name


def test_pi_has_pass2_points_only():
    pi = classes.by_name("pi")
    assert pi.training_point is None and pi.f is None and pi.k is None
    assert sorted(pi.pass2_points) == [(f, 0.060625) for f in (0.0665, 0.06775, 0.069, 0.07025)]
    assert all(c.pass2_points == () for c in classes.CLASSES if c.name != "pi")


def test_descriptions_are_present():
    for c in classes.CLASSES:
        assert isinstance(c.description, str) and len(c.description) > 20


def test_by_name_and_errors():
    assert classes.by_name("alpha") is classes.CLASSES[0]
    assert classes.by_name("L").name == "L"
    assert classes.by_name("h").name == "H"  # the dataset's lower-case labels
    assert classes.by_name("μ").name == "mu"
    with pytest.raises(ValueError, match="allowed: alpha, beta"):
        classes.by_name("omega")
    with pytest.raises(ValueError, match="unknown pattern class"):
        classes.by_name(3)


def test_frozen():
    with pytest.raises(AttributeError):
        classes.CLASSES[0].name = "x"


def test_homogeneous_classes_make_sense():
    # H: only the trivial state exists; L: the nontrivial states exist, L is stable
    H, L = classes.by_name("H"), classes.by_name("L")
    assert len(model.homogeneous_states(f=H.f, k=H.k)) == 1
    st = model.stability(f=L.f, k=L.k)
    assert len(st) == 3 and st[1].stable


@pytest.mark.skipif(not DATASET_CSV.exists(), reason="reference data not available")
def test_matches_reference_csv():
    with DATASET_CSV.open() as fh:
        rows = list(csv.DictReader(fh))
    train = {r["label"]: (float(r["f"]), float(r["k"])) for r in rows if r["split"] == "train"}
    for c in classes.PASS1_CLASSES:
        f, k = train[c.name.lower()]
        assert math.isclose(c.f, f) and math.isclose(c.k, k), c.name
    pi = {(float(r["f"]), float(r["k"])) for r in rows if r["label"] == "pi"}
    assert pi == set(classes.by_name("pi").pass2_points)
