"""The pattern classes of the Gray-Scott model as data: Pearson's Greek letters, the CNN paper's labels.

Pearson (1993) sorted the patterns that grow from a small square seed into classes named by Greek
letters; Munafo (xmorphia) corrected and extended that map and gave canonical example points.
Scholz & Scholz (2022) trained a convolutional network on 15 of those classes (alpha ... nu, plus
the two homogeneous states L and H), each sampled at one "first-pass" training point, and found a
16th class, pi, in a second pass.

Every point here is written **(f, k)**: feed rate first, kill rate second, as in the rest of
:mod:`gslib` (the CNN paper's tables list (k, f)). Rates are in 1/time (model units).

>>> from gslib.classes import by_name
>>> by_name("lambda").training_point
(0.04, 0.065)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PatternClass", "CLASSES", "PASS1_CLASSES", "NAMES", "by_name"]


@dataclass(frozen=True)
class PatternClass:
    """One pattern class.

    Attributes
    ----------
    name : str
        ASCII label as used by the CNN paper's data ("alpha", ..., "nu", "pi", "L", "H").
    symbol : str
        The Greek letter (or "L", "H") used in figures.
    description : str
        What the pattern does, after Pearson (1993) and Munafo's xmorphia pages.
    training_point : tuple of float or None
        The CNN paper's first-pass training point (f, k), or None (pi).
    munafo_points : tuple of tuple of float
        Munafo's canonical example points (f, k) of the class (empty for L and H).
    pass2_points : tuple of tuple of float
        The CNN paper's second-pass points (f, k) of a class that has no pass-1 point.
    """

    name: str
    symbol: str
    description: str
    training_point: tuple[float, float] | None
    munafo_points: tuple[tuple[float, float], ...] = ()
    pass2_points: tuple[tuple[float, float], ...] = ()

    @property
    def f(self) -> float | None:
        """Feed rate of the training point (None without one)."""
        return None if self.training_point is None else self.training_point[0]

    @property
    def k(self) -> float | None:
        """Kill rate of the training point (None without one)."""
        return None if self.training_point is None else self.training_point[1]


# "Blue" is Pearson's colour of the low-u homogeneous state L (u ~ 0.3-0.5), "red" that of the
# trivial state H (u = 1, v = 0); "negative" patterns are red spots or stripes on blue.
CLASSES: tuple[PatternClass, ...] = (
    PatternClass(
        "alpha",
        "α",
        "spots and loops that keep forming and dying (chaos)",
        (0.015, 0.05),
        ((0.010, 0.047), (0.014, 0.053)),
    ),
    PatternClass(
        "beta",
        "β",
        "blue blobs and waves that break up and re-form without end (spatio-temporal chaos near the Hopf curve)",
        (0.025, 0.05),
        ((0.014, 0.039), (0.026, 0.051)),
    ),
    PatternClass(
        "gamma",
        "γ",
        "worm-like stripes that slowly grow, bend, split and fade: a labyrinth that never quite settles",
        (0.025, 0.055),
        ((0.022, 0.051), (0.026, 0.055)),
    ),
    PatternClass(
        "delta",
        "δ",
        "red holes in the blue state, mostly in a hexagonal array with a few stripes; settles slowly",
        (0.03, 0.055),
        ((0.030, 0.055), (0.042, 0.059)),
    ),
    PatternClass(
        "epsilon",
        "ε",
        "spots that fill the plane, die off in patches and grow back (chaotic spots)",
        (0.015, 0.055),
        ((0.018, 0.055),),
    ),
    PatternClass(
        "zeta",
        "ζ",
        "a field of spots that keeps wobbling, with occasional splits and deaths; never fully stationary",
        (0.025, 0.06),
        ((0.022, 0.061),),
    ),
    PatternClass(
        "eta",
        "η",
        "worms and spots that grow from the seed and freeze into a stationary mix of stripes and spots",
        (0.03, 0.06),
        ((0.034, 0.063),),
    ),
    PatternClass(
        "theta",
        "θ",
        "rings that merge into a stationary field of red holes and negative worms in the blue state",
        (0.03, 0.0565),
        ((0.030, 0.057), (0.038, 0.061)),
    ),
    PatternClass(
        "iota",
        "ι",
        "red holes scattered through the blue state, some joined into short "
        "stripes, that stop moving without forming a regular lattice",
        (0.05, 0.06),
        ((0.046, 0.0594),),
    ),
    PatternClass(
        "kappa",
        "κ",
        "worms that lengthen from their ends and fill the plane with a stationary maze (coral-like growth)",
        (0.046, 0.063),
        ((0.050, 0.063), (0.058, 0.063)),
    ),
    PatternClass(
        "lambda",
        "λ",
        "isolated spots that divide (mitosis) until they fill the plane, then stay put",
        (0.04, 0.065),
        ((0.026, 0.061), (0.034, 0.065)),
    ),
    PatternClass(
        "mu",
        "μ",
        "spots that split and stretch into worms; ends as a stationary mix of worms and spots",
        (0.05, 0.065),
        ((0.046, 0.065), (0.058, 0.065)),
    ),
    PatternClass(
        "nu",
        "ν",
        "a few isolated spots (solitons) that neither grow nor divide and slowly drift apart",
        (0.05, 0.0675),
        ((0.054, 0.067),),
    ),
    PatternClass(
        "L",
        "L",
        "uniform low-u state (Pearson's blue): the seed's front sweeps the whole field into the L state",
        (0.035, 0.055),
    ),
    PatternClass("H", "H", "uniform u = 1, v = 0 (Pearson's red): the seed dies out", (0.005, 0.05)),
    PatternClass(
        "pi",
        "π",
        "red spots and stripes on a stable blue background that change only "
        "slowly; not reached from Pearson's seed (found by Munafo, and by the CNN's second "
        "pass)",
        None,
        ((0.062, 0.061),),
        ((0.0665, 0.060625), (0.06775, 0.060625), (0.069, 0.060625), (0.07025, 0.060625)),
    ),
)

#: The 15 classes of the CNN paper's first pass, in the paper's order (alpha ... nu, L, H).
PASS1_CLASSES: tuple[PatternClass, ...] = tuple(c for c in CLASSES if c.training_point is not None)

#: All class names, in the order of :data:`CLASSES`.
NAMES: tuple[str, ...] = tuple(c.name for c in CLASSES)

_BY_NAME = {c.name: c for c in CLASSES}


def by_name(name: str) -> PatternClass:
    """The class called ``name``.

    Parameters
    ----------
    name : str
        The ASCII name (e.g. "alpha", "L"); the Greek symbol and a case-insensitive name are
        accepted too ("λ", "Lambda", "l").

    Returns
    -------
    PatternClass
        The class.

    Raises
    ------
    ValueError
        If no class has that name.
    """
    if isinstance(name, str):
        if name in _BY_NAME:
            return _BY_NAME[name]
        for c in CLASSES:
            if name == c.symbol or name.strip().lower() == c.name.lower():
                return c
    raise ValueError(f"unknown pattern class {name!r}; allowed: {', '.join(NAMES)}")
