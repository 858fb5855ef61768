"""The two groups of parameters that every simulation takes: the model and its discretisation.

:class:`GrayScott` holds the model, the rates ``f``, ``k`` and the diffusivities ``Du``, ``Dv``
(scalars, or one value per batch member); :class:`Scheme` holds the forward-time centred-space
discretisation, the time step ``dt``, the grid spacing ``dx``, the Laplacian ``stencil`` and the
floating-point ``dtype``. Both are frozen and checked when they are made, so a value that reaches
a solver is valid::

    import gslib
    model = gslib.GrayScott(f=0.042, k=0.063)
    scheme = gslib.Scheme(dt=0.5, stencil="5pt")
    u, v = gslib.simulate(u0, v0, model=model, scheme=scheme, steps=1000)

The solvers also take the same values as loose keywords (``f=..., Du=..., dt=...``); they build
these objects from them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ._validate import check_choice, check_real

__all__ = [
    "GrayScott",
    "Scheme",
    "DTYPES",
    "MODEL_FIELDS",
    "SCHEME_FIELDS",
    "SPECTRAL_RADIUS",
    "STENCILS",
    "check_stencil",
    "resolve",
    "stability_limit",
]

#: The solvers' Laplacians (:mod:`gslib.solvers.stencils` describes them).
STENCILS = ("5pt", "9pt")
#: Magnitude of the most negative eigenvalue of each stencil, times dx**2.
SPECTRAL_RADIUS = {"5pt": 8.0, "9pt": 4.0}
#: The floating-point types of the solvers, by name.
DTYPES = ("float32", "float64")
#: The fields of :class:`GrayScott`, in order.
MODEL_FIELDS = ("f", "k", "Du", "Dv")
#: The fields of :class:`Scheme`, in order.
SCHEME_FIELDS = ("dt", "dx", "stencil", "dtype")


def check_stencil(stencil: str) -> str:
    """Check a stencil name.

    Parameters
    ----------
    stencil : str
        ``'5pt'`` or ``'9pt'``.

    Returns
    -------
    str
        ``stencil``.

    Raises
    ------
    ValueError
        If ``stencil`` is not a known stencil.
    """
    if stencil not in STENCILS:
        raise ValueError(f"stencil={stencil!r} is not a stencil; allowed: {', '.join(map(repr, STENCILS))}")
    return stencil


def stability_limit(D: float, dx: float = 1.0, stencil: str = "9pt") -> float:
    """Largest stable forward-Euler time step of the diffusion part of the scheme.

    Forward Euler on ``du/dt = D lap u`` is stable while ``dt D |lambda_min| <= 2``, with
    ``|lambda_min| dx**2`` the stencil's :data:`SPECTRAL_RADIUS`.

    Parameters
    ----------
    D : float
        Largest diffusivity (length**2/time).
    dx : float, optional
        Grid spacing.
    stencil : {'9pt', '5pt'}, optional
        The stencil.

    Returns
    -------
    float
        ``2 dx**2 / (rho D)``, rho the stencil's spectral radius (8 for 5pt, 4 for 9pt);
        infinite for ``D <= 0``.

    Raises
    ------
    ValueError
        If ``stencil`` is not a known stencil.
    """
    check_stencil(stencil)
    if D <= 0:
        return float("inf")
    return 2.0 * dx * dx / (SPECTRAL_RADIUS[stencil] * D)


def _rate(name: str, value):
    """A rate or diffusivity: a float, or a read-only 1-D float64 array; finite and >= 0."""
    arr = None if isinstance(value, (bool, np.bool_)) else np.asarray(value)
    if arr is None or arr.dtype.kind not in "fiu":
        raise ValueError(f"{name} must be a number or an array of numbers, got {value!r}")
    arr = arr.astype(np.float64)
    if arr.ndim > 1:
        raise ValueError(f"{name} has shape {arr.shape}; allowed: a scalar or a 1-D array (one value per batch member)")
    if not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.isfinite(np.atleast_1d(arr)))[:10].tolist()
        raise ValueError(f"{name} must be finite; got non-finite value(s) at member(s) {bad}")
    if np.any(arr < 0):
        flat = np.atleast_1d(arr)
        raise ValueError(f"{name} must be >= 0; got {flat.min():g} (member {int(flat.argmin())})")
    if arr.ndim == 0:
        return float(arr)
    arr.setflags(write=False)
    return arr


def _positive(name: str, value) -> float:
    """A finite real number > 0."""
    x = check_real(name, value)
    if x <= 0:
        raise ValueError(f"{name}={value!r} must be > 0")
    return x


@dataclass(frozen=True)
class GrayScott:
    """The Gray-Scott model's parameters: feed and kill rates, diffusivities.

    Parameters
    ----------
    f, k : float or array_like
        Feed and kill rates (1/time), >= 0: scalars, or 1-D arrays with one value per batch member.
    Du, Dv : float or array_like, optional
        Diffusivities of u and v (length^2/time), >= 0: scalars or 1-D arrays.

    Attributes
    ----------
    f, k, Du, Dv : float or numpy.ndarray
        The values: a float for a scalar, else a read-only float64 array ``(B,)``.

    Raises
    ------
    ValueError
        If a value is not a finite number >= 0 (or a 1-D array of them), or the arrays differ in
        length; the message names the parameter.
    """

    f: float | np.ndarray
    k: float | np.ndarray
    Du: float | np.ndarray = 0.2
    Dv: float | np.ndarray = 0.1

    def __post_init__(self):
        for name in MODEL_FIELDS:
            object.__setattr__(self, name, _rate(name, getattr(self, name)))
        sizes = {name: len(getattr(self, name)) for name in MODEL_FIELDS if isinstance(getattr(self, name), np.ndarray)}
        if len(set(sizes.values())) > 1:
            shown = ", ".join(f"{name} has {n}" for name, n in sizes.items())
            raise ValueError(f"the batched parameters differ in length ({shown}); allowed: one length B for all")

    @property
    def size(self) -> int | None:
        """The batch size the arrays set, or None where every parameter is a scalar."""
        for name in MODEL_FIELDS:
            value = getattr(self, name)
            if isinstance(value, np.ndarray):
                return len(value)
        return None

    @property
    def max_diffusivity(self) -> float:
        """The largest of ``Du`` and ``Dv`` over the batch (length^2/time)."""
        return float(max(np.max(self.Du), np.max(self.Dv)))

    def replace(self, **changes) -> GrayScott:
        """A copy with some parameters changed (checked like the original).

        Parameters
        ----------
        **changes
            New values of ``f``, ``k``, ``Du``, ``Dv``.

        Returns
        -------
        GrayScott
        """
        return dataclasses.replace(self, **changes)

    def __eq__(self, other):
        if not isinstance(other, GrayScott):
            return NotImplemented
        return all(
            np.array_equal(getattr(self, n), getattr(other, n))
            and isinstance(getattr(self, n), np.ndarray) == isinstance(getattr(other, n), np.ndarray)
            for n in MODEL_FIELDS
        )

    __hash__ = None  # arrays inside: compared by value, not hashable


@dataclass(frozen=True)
class Scheme:
    """The forward-time centred-space discretisation of a run.

    Parameters
    ----------
    dt : float, optional
        Time step, > 0 (the solvers also bound it by :meth:`stability_limit`).
    dx : float, optional
        Grid spacing, > 0.
    stencil : {'9pt', '5pt'}, optional
        Discrete Laplacian (:mod:`gslib.solvers.stencils`).
    dtype : {'float32', 'float64'} or numpy dtype, optional
        Floating-point type of the computation; stored by name.

    Raises
    ------
    ValueError
        If a value is outside its allowed range; the message names it.
    """

    dt: float = 0.25
    dx: float = 1.0
    stencil: str = "9pt"
    dtype: str = "float32"

    def __post_init__(self):
        object.__setattr__(self, "dt", _positive("dt", self.dt))
        object.__setattr__(self, "dx", _positive("dx", self.dx))
        check_stencil(self.stencil)
        try:
            name = np.dtype(self.dtype).name
        except TypeError:
            raise ValueError(f"dtype={self.dtype!r} is not a dtype; allowed: float32, float64") from None
        if name not in DTYPES:
            raise ValueError(f"dtype={name!r} is not supported; allowed: float32, float64")
        object.__setattr__(self, "dtype", check_choice("dtype", name, DTYPES))

    @property
    def numpy_dtype(self) -> np.dtype:
        """``dtype`` as a :class:`numpy.dtype`."""
        return np.dtype(self.dtype)

    def stability_limit(self, D: float) -> float:
        """Largest stable forward-Euler step for the diffusivity ``D`` (:func:`gslib.stability_limit`).

        Parameters
        ----------
        D : float
            Largest diffusivity (length^2/time).

        Returns
        -------
        float
            ``2 dx^2 / (rho D)`` with rho the stencil's spectral radius; infinite for ``D <= 0``.
        """
        return stability_limit(D, self.dx, self.stencil)

    def check_stable(self, D: float) -> None:
        """Raise unless ``dt`` is within the forward-Euler bound for the diffusivity ``D``.

        Parameters
        ----------
        D : float
            Largest diffusivity (length^2/time).

        Raises
        ------
        ValueError
            If ``dt`` exceeds :meth:`stability_limit`; the message gives the bound.
        """
        limit = self.stability_limit(D)
        if self.dt > limit:
            radius = SPECTRAL_RADIUS[self.stencil]
            raise ValueError(
                f"dt={self.dt:g} exceeds the forward-Euler stability bound of the {self.stencil} stencil: "
                f"dt <= 2 dx^2 / ({radius:g} max(Du, Dv)) = {limit:.6g} for dx={self.dx:g}, max(Du, Dv)={D:g}; "
                "allowed: 0 < dt <= that bound (pass allow_unstable=True to watch it blow up)"
            )

    def replace(self, **changes) -> Scheme:
        """A copy with some settings changed (checked like the original).

        Parameters
        ----------
        **changes
            New values of ``dt``, ``dx``, ``stencil``, ``dtype``.

        Returns
        -------
        Scheme
        """
        return dataclasses.replace(self, **changes)


def resolve(model=None, scheme=None, **loose) -> tuple[GrayScott, Scheme]:
    """The model and scheme of a call that may give them as objects or as loose keywords.

    Parameters
    ----------
    model : GrayScott, optional
        The model; then none of ``f``, ``k``, ``Du``, ``Dv`` may be given loose.
    scheme : Scheme, optional
        The discretisation; then none of ``dt``, ``dx``, ``stencil``, ``dtype`` may be given loose.
    **loose
        ``f``, ``k``, ``Du``, ``Dv``, ``dt``, ``dx``, ``stencil``, ``dtype``; a value of None counts as
        not given (the default of :class:`GrayScott` or :class:`Scheme` applies).

    Returns
    -------
    model : GrayScott
    scheme : Scheme

    Raises
    ------
    ValueError
        If a group is given both ways (the message names the object and the keyword), ``f`` or ``k``
        is missing, or a value is invalid.
    TypeError
        For a keyword that belongs to neither group.
    """
    unknown = set(loose) - set(MODEL_FIELDS) - set(SCHEME_FIELDS)
    if unknown:
        raise TypeError(f"unexpected keyword argument(s) {', '.join(sorted(unknown))}")
    given = {name: value for name, value in loose.items() if value is not None}
    out = []
    for obj, label, cls, names in (
        (model, "model", GrayScott, MODEL_FIELDS),
        (scheme, "scheme", Scheme, SCHEME_FIELDS),
    ):
        mine = {name: given[name] for name in names if name in given}
        if obj is None:
            if cls is GrayScott:
                missing = [name for name in ("f", "k") if name not in mine]
                if missing:
                    raise ValueError(f"{' and '.join(missing)} must be given (or model=GrayScott(f=..., k=...))")
            out.append(cls(**mine))
        elif not isinstance(obj, cls):
            raise ValueError(f"{label} must be a {cls.__name__}, got {type(obj).__name__}")
        elif mine:
            raise ValueError(
                f"{label}= and {', '.join(f'{n}=' for n in mine)} were both given; pass "
                f"{'them' if len(mine) > 1 else 'it'} inside {label} ({label}.replace(...)) or drop {label}"
            )
        else:
            out.append(obj)
    return out[0], out[1]
