"""Composable features (candidate terms) for force inference on fields, with automatic labels.

A feature is a polynomial in *factors*; a factor is a linear operator applied to one field, e.g.
``U``, ``lap U``, ``d_x V``, ``lap^2 U``. Build them like formulas::

    from gslib.inference.features import field, lap, grad, dot, biharmonic, one
    U, V = field("U"), field("V")
    U * V**2                 # label "UV^2"
    lap(U)                   # "lap U"
    dot(grad(U), grad(V))    # "grad U.grad V"
    biharmonic(V)            # "lap^2 V"  (the same as lap(lap(V)))
    (U - 1) * lap(V)         # "(U - 1) lap V"; any label can be replaced: expr.named("my term")

Operators act on *linear* expressions of the fields only (``lap(U + 2 V)`` is fine, ``lap(U * V)``
is not): every feature is then a sum of products of local linear operators applied to fields,
which is all the estimator needs to differentiate a feature with respect to the fields
(:meth:`Expr.trace_density`). A :class:`Library` is an ordered list of features with unique
labels; :func:`gray_scott_library` is the 17-term library of the StochasticForceInference
Gray-Scott example, :func:`polynomials` the monomials up to a degree.

Discretisation (periodic, spacing ``dx``; :data:`STENCILS`): ``lap`` is
:func:`gslib.solvers.stencils.analysis_laplacian` with the chosen stencil, ``"5pt"``, ``"9pt"`` (the
CNN paper's, corners 1/4), ``"9pt-iso"`` (isotropic, corners 1/6) or ``"spectral"`` (``-|q|^2``);
every operator chain is built from it, so ``lap^2`` is ``lap(lap)`` of the same stencil. For the
three finite-difference stencils ``d_x``/``d_y`` are central differences
``(a[j+1] - a[j-1]) / (2 dx)`` along the columns (last axis) and rows (second to last axis), the
derivative a finite-difference code would use in a gradient term; for ``"spectral"`` they are
spectral derivatives ``i q_x``, ``i q_y`` (the Nyquist mode, which has no sign, set to zero).
A field symbol refers to the data entry of the same name, compared without case: ``U`` reads the
array ``data["u"]`` (or ``data["U"]``).
"""

from __future__ import annotations

import itertools
import numbers
from dataclasses import dataclass

import numpy as np

from ..solvers.stencils import ANALYSIS_STENCILS, analysis_laplacian, check_analysis_stencil

#: The Laplacians (and derivatives) features can be evaluated with (module docstring).
STENCILS = ANALYSIS_STENCILS

__all__ = [
    "STENCILS",
    "check_stencil",
    "Expr",
    "Vector",
    "Library",
    "field",
    "one",
    "constant",
    "lap",
    "biharmonic",
    "grad",
    "d_x",
    "d_y",
    "dot",
    "polynomials",
    "gray_scott_library",
    "GRAY_SCOTT_LABELS",
    "PRIMITIVES",
]

#: Primitive linear operators: name -> (label, stencil radius in cells).
PRIMITIVES = {"lap": ("lap", 1), "dx": ("d_x", 1), "dy": ("d_y", 1)}


def check_stencil(stencil: str, mask=None) -> str:
    """Check the discretisation of the features.

    Parameters
    ----------
    stencil : str
        One of :data:`STENCILS`.
    mask : bool array, optional
        The data's validity (True = valid); ``"spectral"`` needs complete data, since a spectral
        derivative reads the whole grid.

    Returns
    -------
    str
        ``stencil``.

    Raises
    ------
    ValueError
        If ``stencil`` is unknown, or ``"spectral"`` is asked for with missing cells.
    """
    check_analysis_stencil(stencil)
    if stencil == "spectral" and mask is not None and not np.all(mask):
        raise ValueError(
            "stencil='spectral' needs complete data: a spectral derivative reads every cell, so "
            "missing cells (mask) would spread into all features; use a finite-difference stencil"
        )
    return stencil


def _spectral_derivative(a: np.ndarray, dx: float, axis: int) -> np.ndarray:
    n = a.shape[axis]
    q = 2 * np.pi * np.fft.fftfreq(n, d=dx)
    if n % 2 == 0:
        q[n // 2] = 0.0  # the Nyquist mode: its derivative has no sign on the grid
    shape = [1] * a.ndim
    shape[axis] = n
    return np.real(np.fft.ifft(np.fft.fft(a, axis=axis) * (1j * q).reshape(shape), axis=axis))


def _apply_primitive(name: str, a: np.ndarray, dx: float, stencil: str) -> np.ndarray:
    if name == "lap":
        return analysis_laplacian(a, dx, stencil)
    axis = -1 if name == "dx" else -2
    if stencil == "spectral":
        return _spectral_derivative(np.asarray(a, dtype=np.float64), dx, axis)
    return (np.roll(a, -1, axis=axis) - np.roll(a, 1, axis=axis)) / (2 * dx)


def _ops_label(ops: tuple[str, ...]) -> str:
    """Label of a chain of primitives (applied right to left): ("lap", "lap") -> "lap^2"."""
    parts = []
    for name, group in itertools.groupby(ops):
        n = len(list(group))
        label = PRIMITIVES[name][0]
        parts.append(label if n == 1 else f"{label}^{n}")
    return " ".join(parts)


# A factor is (ops, symbol): the chain of primitive operators (applied last to first) and a field.
Factor = tuple[tuple[str, ...], str]


def _factor_key(factor: Factor):
    ops, symbol = factor
    return (len(ops) > 0, symbol.upper(), ops)


def _monomial_label(factors: tuple[Factor, ...]) -> str:
    if not factors:
        return "1"
    plain = [s for ops, s in factors if not ops]
    other = [(ops, s) for ops, s in factors if ops]
    words = []
    if plain:
        text = ""
        for s, group in itertools.groupby(plain):
            n = len(list(group))
            text += s if n == 1 else f"{s}^{n}"
        words.append(text)
    for (ops, s), group in itertools.groupby(other):
        n = len(list(group))
        words.append(f"({_ops_label(ops)} {s})^{n}" if n > 1 else f"{_ops_label(ops)} {s}")
    return " ".join(words)


def _number(c: float) -> str:
    return f"{c:g}"


@dataclass(frozen=True)
class Expr:
    """A polynomial in factors (linear operators applied to fields), with a label.

    Build expressions with :func:`field`, the operators and arithmetic, not by hand.

    Attributes
    ----------
    terms : tuple
        A tuple of ``(coefficient, factors)``, ``factors`` a sorted tuple of ``(ops, symbol)``.
    label : str
        The label of the feature.
    """

    terms: tuple
    label: str

    # ------------------------------------------------------------------ construction
    @staticmethod
    def _make(terms, label=None) -> Expr:
        collected: dict = {}
        for c, factors in terms:
            key = tuple(sorted(factors, key=_factor_key))
            collected[key] = collected.get(key, 0.0) + float(c)
        clean = tuple((c, f) for f, c in collected.items() if c != 0.0)
        expr = Expr(clean, "")
        return Expr(clean, label if label is not None else expr._auto_label())

    def _auto_label(self) -> str:
        if not self.terms:
            return "0"
        words = []
        for i, (c, factors) in enumerate(self.terms):
            body = _monomial_label(factors)
            mag = abs(c)
            if body == "1":
                text = _number(mag)
            else:
                text = body if mag == 1 else f"{_number(mag)} {body}"
            if i == 0:
                words.append(("-" if c < 0 else "") + text)
            else:
                words.append(("- " if c < 0 else "+ ") + text)
        return " ".join(words)

    def named(self, label: str) -> Expr:
        """The same expression with another label."""
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"label={label!r} must be a non-empty string")
        return Expr(self.terms, label)

    @property
    def is_sum(self) -> bool:
        return len(self.terms) > 1

    @property
    def is_linear(self) -> bool:
        """True if every term is one factor (a linear expression of the fields, no constant)."""
        return all(len(f) == 1 for _, f in self.terms)

    @property
    def symbols(self) -> tuple[str, ...]:
        """The field symbols the expression reads, sorted."""
        return tuple(sorted({s for _, fs in self.terms for _, s in fs}, key=str.upper))

    def degree(self) -> int:
        """Largest number of factors in a term (0 for a constant)."""
        return max((len(f) for _, f in self.terms), default=0)

    def radius(self) -> int:
        """Largest stencil radius (cells) of its factors: a value depends on cells this far away."""
        return max((sum(PRIMITIVES[o][1] for o in ops) for _, fs in self.terms for ops, _ in fs), default=0)

    # ------------------------------------------------------------------ arithmetic
    def _wrapped(self) -> str:
        return f"({self.label})" if self.is_sum else self.label

    def __add__(self, other):
        other = _as_expr(other)
        if other is None:
            return NotImplemented
        sign_text = other.label[1:] if other.label.startswith("-") else other.label
        label = f"{self.label} - {sign_text}" if other.label.startswith("-") else f"{self.label} + {other.label}"
        return Expr._make(self.terms + other.terms, label)

    __radd__ = __add__

    def __neg__(self):
        return Expr._make([(-c, f) for c, f in self.terms], f"-{self._wrapped()}")

    def __sub__(self, other):
        other = _as_expr(other)
        if other is None:
            return NotImplemented
        return Expr._make(self.terms + tuple((-c, f) for c, f in other.terms), f"{self.label} - {other._wrapped()}")

    def __rsub__(self, other):
        other = _as_expr(other)
        if other is None:
            return NotImplemented
        return other - self

    def __mul__(self, other):
        other_expr = _as_expr(other)
        if other_expr is None:
            return NotImplemented
        terms = [(c1 * c2, f1 + f2) for c1, f1 in self.terms for c2, f2 in other_expr.terms]
        if isinstance(other, numbers.Real):
            label = f"{_number(other)} {self._wrapped()}" if other != 1 else self.label
        elif self._is_plain_monomial() and other_expr._is_plain_monomial():
            label = None  # automatic: "U" * "V^2" -> "UV^2"
        else:
            label = f"{self._wrapped()} {other_expr._wrapped()}"
        return Expr._make(terms, label)

    def __rmul__(self, other):
        if isinstance(other, numbers.Real):
            return self.__mul__(other)
        return NotImplemented

    def __pow__(self, n):
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise ValueError(f"a feature can only be raised to an integer power >= 0; got {n!r}")
        result = one()
        for _ in range(n):
            result = result * self
        if n >= 2 and not self._is_plain_monomial():
            base = f"({self.label})" if (" " in self.label or self.is_sum) else self.label
            result = result.named(f"{base}^{n}")
        return result if n else one()

    def _is_plain_monomial(self) -> bool:
        return len(self.terms) == 1 and self.terms[0][0] == 1.0 and all(not ops for ops, _ in self.terms[0][1])

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, data: dict, dx: float = 1.0, stencil: str = "9pt", cache: dict | None = None) -> np.ndarray:
        """Values on the grid, shaped like the data arrays (..., N, M).

        ``data`` maps field names to arrays of one common shape (lookup without case).
        ``cache`` (optional dict) keeps operator results between features of a library.
        """
        cache = {} if cache is None else cache
        shape = _data_shape(data)
        out = np.zeros(shape)
        for c, factors in self.terms:
            prod = np.full(shape, c)
            for factor in factors:
                prod = prod * _factor_value(factor, data, dx, stencil, cache)
            out += prod
        return out

    def trace_density(
        self,
        data: dict,
        symbol: str,
        kernel_weights: dict,
        dx: float = 1.0,
        stencil: str = "9pt",
        cache: dict | None = None,
    ) -> np.ndarray:
        """Per-cell ``sum_k (d b_i / d x_k) K(k - i)`` for the field ``symbol``.

        ``b`` is this feature, ``x`` the field ``symbol`` and ``K`` an even translation-invariant
        kernel; ``kernel_weights[ops]`` must hold ``sum_o l_o K(o)`` for each operator chain ``ops``
        (``l_o`` its stencil weights), i.e. the operator applied to the kernel, read at the origin
        (see :func:`operator_weights`). Summed over cells this is ``tr(J K)``, ``J`` the Jacobian of
        the feature: the Ito-Stratonovich correction of the estimator.
        """
        cache = {} if cache is None else cache
        shape = _data_shape(data)
        out = np.zeros(shape)
        for c, factors in self.terms:
            for j, (ops, s) in enumerate(factors):
                if s.upper() != symbol.upper():
                    continue
                w = kernel_weights[ops]
                if w == 0.0:
                    continue
                prod = np.full(shape, c * w)
                for i, factor in enumerate(factors):
                    if i != j:
                        prod = prod * _factor_value(factor, data, dx, stencil, cache)
                out += prod
        return out

    def operator_chains(self) -> set:
        """Every operator chain ``ops`` used by a factor (``()`` for a plain field)."""
        return {ops for _, fs in self.terms for ops, _ in fs}

    def __repr__(self) -> str:
        return f"Expr({self.label!r})"


def _data_shape(data: dict) -> tuple:
    shapes = {np.shape(a) for a in data.values()}
    if len(shapes) != 1:
        raise ValueError(f"all fields must have one shape; got {sorted(shapes)}")
    return shapes.pop()


def _lookup(data: dict, symbol: str) -> np.ndarray:
    if symbol in data:
        return data[symbol]
    for key, value in data.items():
        if key.upper() == symbol.upper():
            return value
    raise ValueError(f"the feature needs the field {symbol!r}; the data has {sorted(data)}")


def _factor_value(factor: Factor, data, dx, stencil, cache) -> np.ndarray:
    key = (factor, dx, stencil)
    if key not in cache:
        ops, symbol = factor
        if not ops:
            value = np.asarray(_lookup(data, symbol), dtype=np.float64)
        else:
            value = _apply_primitive(ops[0], _factor_value((ops[1:], symbol), data, dx, stencil, cache), dx, stencil)
        cache[key] = value
    return cache[key]


def operator_weights(chains, kernel: np.ndarray, dx: float = 1.0, stencil: str = "9pt") -> dict:
    """Each operator chain applied to a kernel, read at the origin.

    Odd operators (a single derivative) give 0 for an even kernel.

    Parameters
    ----------
    chains : iterable of tuple of str
        Operator chains ``ops`` (e.g. from :meth:`Library.operator_chains`).
    kernel : numpy.ndarray
        An even real-space kernel, (N, M) or (..., N, M), with its origin at index [0, 0]
        (periodic).
    dx : float
        Grid spacing.
    stencil : {"9pt", "5pt", "9pt-iso", "spectral"}
        Discretisation (:data:`STENCILS`).

    Returns
    -------
    dict
        ``{ops: (ops applied to kernel)[..., 0, 0]}``: the sum of the stencil weights times the
        kernel.
    """
    out = {}
    for ops in chains:
        value = kernel
        for name in reversed(ops):
            value = _apply_primitive(name, value, dx, stencil)
        out[ops] = float(np.asarray(value)[..., 0, 0]) if np.ndim(value) == 2 else np.asarray(value)[..., 0, 0]
    return out


def _as_expr(x):
    if isinstance(x, Expr):
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return constant(float(x))
    return None


# ----------------------------------------------------------------------------- building blocks


def field(symbol: str) -> Expr:
    """A field as a feature.

    Parameters
    ----------
    symbol : str
        The field's name (e.g. ``"U"``), an identifier; it reads the data entry of that name
        (without case).

    Returns
    -------
    Expr
        The feature ``symbol``.

    Raises
    ------
    ValueError
        If ``symbol`` is not an identifier.
    """
    if not isinstance(symbol, str) or not symbol.isidentifier():
        raise ValueError(f"symbol={symbol!r} must be a name such as 'U'")
    return Expr(((1.0, (((), symbol),)),), symbol)


def constant(c: float) -> Expr:
    """A constant feature.

    Parameters
    ----------
    c : float
        The constant.

    Returns
    -------
    Expr
        The constant ``c`` (label ``"1"`` for 1).
    """
    return Expr._make([(float(c), ())], _number(float(c)) if c != 1 else "1")


def one() -> Expr:
    """The constant feature 1."""
    return constant(1.0)


def _linear_op(name: str, e: Expr, label: str | None = None) -> Expr:
    e = _as_expr(e)
    if e is None or not e.is_linear:
        raise ValueError(
            f"{PRIMITIVES[name][0]} applies to linear expressions of the fields only (such as U or U - 2 V); got {e!r}"
        )
    terms = [(c, ((((name,) + ops), s),)) for c, ((ops, s),) in e.terms]
    if label is None:
        inner = e._wrapped()
        # lap(lap U) -> "lap^2 U"
        if name == "lap" and not e.is_sum and e.terms[0][1][0][0][:1] == ("lap",) and e.terms[0][0] == 1.0:
            ops, s = e.terms[0][1][0]
            label = f"{_ops_label((name,) + ops)} {s}"
        else:
            label = f"{PRIMITIVES[name][0]} {inner}"
    return Expr._make(terms, label)


def lap(e) -> Expr:
    """Discrete Laplacian of a linear expression: ``lap(U)`` is "lap U".

    Parameters
    ----------
    e : Expr or float
        A linear expression of the fields (such as ``U`` or ``U - 2 V``).

    Returns
    -------
    Expr
        The Laplacian of ``e``.

    Raises
    ------
    ValueError
        If ``e`` is not a linear expression of the fields.
    """
    return _linear_op("lap", e)


def biharmonic(e) -> Expr:
    """``lap(lap(e))``, labelled "lap^2 U".

    Parameters
    ----------
    e : Expr
        A linear expression of the fields.

    Returns
    -------
    Expr
        The biharmonic of ``e``.

    Raises
    ------
    ValueError
        If ``e`` is not a linear expression of the fields.
    """
    return lap(lap(e))


def d_x(e) -> Expr:
    """Central difference along the columns (last axis).

    Parameters
    ----------
    e : Expr
        A linear expression of the fields.

    Returns
    -------
    Expr
        ``(e[j+1] - e[j-1]) / (2 dx)``, labelled "d_x U".

    Raises
    ------
    ValueError
        If ``e`` is not a linear expression of the fields.
    """
    return _linear_op("dx", e)


def d_y(e) -> Expr:
    """Central difference along the rows (second to last axis).

    Parameters
    ----------
    e : Expr
        A linear expression of the fields.

    Returns
    -------
    Expr
        ``(e[i+1] - e[i-1]) / (2 dx)``, labelled "d_y U".

    Raises
    ------
    ValueError
        If ``e`` is not a linear expression of the fields.
    """
    return _linear_op("dy", e)


@dataclass(frozen=True)
class Vector:
    """A vector of expressions (e.g. a gradient), for :func:`dot`.

    Attributes
    ----------
    components : tuple of Expr
        The components.
    label : str
        The label of the vector (e.g. "grad U").
    """

    components: tuple
    label: str


def grad(e) -> Vector:
    """Gradient ``(d_x e, d_y e)`` of a linear expression, labelled "grad U".

    Parameters
    ----------
    e : Expr
        A linear expression of the fields.

    Returns
    -------
    Vector
        The gradient.

    Raises
    ------
    ValueError
        If ``e`` is not a linear expression of the fields.
    """
    e = _as_expr(e)
    return Vector((d_x(e), d_y(e)), f"grad {e._wrapped() if e is not None else e}")


def dot(a: Vector, b: Vector) -> Expr:
    """Scalar product of two vectors: ``dot(grad(U), grad(V))`` is "grad U.grad V".

    Parameters
    ----------
    a, b : Vector
        Two vectors of the same length.

    Returns
    -------
    Expr
        The sum of the products of their components.

    Raises
    ------
    ValueError
        If ``a`` or ``b`` is not a vector, or their lengths differ.
    """
    if not isinstance(a, Vector) or not isinstance(b, Vector) or len(a.components) != len(b.components):
        raise ValueError("dot takes two vectors of the same length, e.g. dot(grad(U), grad(V))")
    total = a.components[0] * b.components[0]
    for x, y in zip(a.components[1:], b.components[1:]):
        total = total + x * y
    return total.named(f"{a.label}.{b.label}")


# ----------------------------------------------------------------------------- libraries


class Library:
    """An ordered list of features with unique labels.

    Parameters
    ----------
    features : iterable of Expr
        The features, at least one, with unique labels (rename one with ``Expr.named``).

    Raises
    ------
    ValueError
        If ``features`` is empty, holds something other than an :class:`Expr`, or repeats a
        label.
    """

    def __init__(self, features):
        features = list(features)
        if not features:
            raise ValueError("a library needs at least one feature")
        for f in features:
            if not isinstance(f, Expr):
                raise ValueError(f"library entries must be features (Expr); got {f!r}")
        labels = [f.label for f in features]
        dup = sorted({x for x in labels if labels.count(x) > 1})
        if dup:
            raise ValueError(f"feature labels must be unique; repeated: {dup} (rename with .named())")
        self.features = features

    @property
    def labels(self) -> list[str]:
        return [f.label for f in self.features]

    def __len__(self) -> int:
        return len(self.features)

    def __iter__(self):
        return iter(self.features)

    def __getitem__(self, i):
        if isinstance(i, str):
            return self.features[self.index(i)]
        return self.features[i]

    def index(self, label: str) -> int:
        try:
            return self.labels.index(label)
        except ValueError:
            raise ValueError(f"no feature labelled {label!r}; the library has {self.labels}") from None

    def __add__(self, other):
        return Library(self.features + list(other))

    def symbols(self) -> tuple[str, ...]:
        return tuple(sorted({s for f in self.features for s in f.symbols}, key=str.upper))

    def radius(self) -> int:
        """Largest stencil radius of any feature (cells)."""
        return max(f.radius() for f in self.features)

    def operator_chains(self) -> set:
        return set().union(*(f.operator_chains() for f in self.features))

    def evaluate(self, data: dict, dx: float = 1.0, stencil: str = "9pt") -> np.ndarray:
        """All features, (n_features, ...shape of the data)."""
        cache: dict = {}
        return np.stack([f.evaluate(data, dx, stencil, cache) for f in self.features])

    def trace_density(
        self, data: dict, symbol: str, kernel_weights: dict, dx: float = 1.0, stencil: str = "9pt"
    ) -> np.ndarray:
        """:meth:`Expr.trace_density` of every feature, (n_features, ...shape of the data)."""
        cache: dict = {}
        return np.stack([f.trace_density(data, symbol, kernel_weights, dx, stencil, cache) for f in self.features])

    def __repr__(self) -> str:
        return f"Library({self.labels})"


def polynomials(symbols=("U", "V"), degree: int = 3) -> list[Expr]:
    """All monomials of the fields up to ``degree``.

    Parameters
    ----------
    symbols : sequence of str
        Field symbols.
    degree : int
        Largest degree.

    Returns
    -------
    list of Expr
        The monomials by degree: 1, U, V, U^2, UV, V^2, U^3, ...
    """
    fields = [field(s) for s in symbols]
    out = [one()]
    for d in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(len(fields)), d):
            term = one()
            for i in combo:
                term = term * fields[i]
            out.append(term)
    return out


#: The labels of :func:`gray_scott_library`, in order.
GRAY_SCOTT_LABELS = (
    "1",
    "U",
    "V",
    "U^2",
    "UV",
    "V^2",
    "U^3",
    "U^2V",
    "UV^2",
    "V^3",
    "lap U",
    "lap V",
    "grad U.grad U",
    "grad V.grad V",
    "grad U.grad V",
    "lap^2 U",
    "lap^2 V",
)


def gray_scott_library(u: str = "U", v: str = "V") -> Library:
    """The 17 candidate terms of the StochasticForceInference Gray-Scott example (one equation's worth).

    Parameters
    ----------
    u, v : str
        The two field symbols.

    Returns
    -------
    Library
        Polynomials of ``u`` and ``v`` up to degree 3, both Laplacians, the three gradient
        products and both biharmonics, labelled as in :data:`GRAY_SCOTT_LABELS`.
    """
    U, V = field(u), field(v)
    return Library(
        polynomials((u, v), 3)
        + [
            lap(U),
            lap(V),
            dot(grad(U), grad(U)),
            dot(grad(V), grad(V)),
            dot(grad(U), grad(V)),
            biharmonic(U),
            biharmonic(V),
        ]
    )
