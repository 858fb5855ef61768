"""Initial conditions ``(u, v)`` for the Gray-Scott model on a periodic square grid.

Every generator is deterministic: it builds one ``numpy.random.default_rng(seed)`` per
member and draws its random numbers in a fixed, documented order.  ``seed`` is either

* one non-negative integer: the result is ``(u, v)``, two float64 arrays of shape ``(n, n)``;
* a sequence of non-negative integers of length ``B``: the result is a batch ``(u, v)``, two
  float64 arrays of shape ``(B, n, n)`` whose member ``b`` equals the single-seed result for
  ``seed[b]``.

The fields are dimensionless concentrations; lengths are in grid cells, angles in degrees.
Index ``[row, column]`` (axis 0 = rows, axis 1 = columns).  The background state is the
trivial homogeneous state ``u = 1, v = 0``; each seed perturbs it locally.

Generators
----------
:func:`cnn_seed`
    The random "Gamma" seed of Scholz & Scholz, *Am. J. Phys.* **90**, 141 (2022), as in
    their public code (re-implemented here from the description, not copied):

    1. ``u = 1, v = 0`` everywhere; a ``square x square`` block with ``u = 0.5, v = 0.25``
       at the centre.  The block covers rows (and columns) ``c - (square - 1)//2`` to
       ``c - (square - 1)//2 + square - 1`` inclusive with ``c = n//2``; for the original
       ``n = 128, square = 20`` these are rows 55 .. 74, i.e. ``c - 9 .. c + 10``.
    2. A second block (``u = 0.5, v = 0.25``), same size and same centring, at
       ``(round(n*sx), round(n*sy))`` (row, column), where ``sx`` and ``sy`` are drawn
       uniform in ``[0.1, 0.9]`` -- ``sx`` first, then ``sy`` -- and both are redrawn until
       the chessboard distance ``max(|sx - 0.5|, |sy - 0.5|)`` lies in ``[0.2, 0.4]``.
    3. A third block of the same size, shifted from the second by ``+6`` rows and ``+9``
       columns, is set to ``u = 0.99, v = 0.01``: it cuts a notch out of the second block
       and leaves a Gamma-shaped spot.  (It is painted last, so where it happens to reach
       the central block it cuts that too, as in the original.)
    4. Both fields are rotated about the array centre by a random integer angle in
       ``[0, 88]`` degrees (``rng.integers(0, 89)``), with periodic wrap and cubic B-spline
       interpolation *without* spline prefilter
       (``scipy.ndimage.rotate(..., reshape=False, order=3, mode="grid-wrap",
       prefilter=False)``).  Without the prefilter the cubic spline acts as a mild
       smoothing: values stay inside the range of the input (``u`` in ``[0.5, 1]``,
       ``v`` in ``[0, 0.25]``) and even angle 0 blurs the block edges.  Rotating a
       periodic field by an angle that is not a multiple of 90 degrees is not a symmetry
       of the torus: the wrapped rotation covers some cells twice and others not at all,
       so a spot near the edge of the array may be partly duplicated or cut off.  The mean
       of ``u`` therefore changes by up to about one block's worth
       (``0.5 * square**2 / n**2``); for most draws it is nearly unchanged.
    5. Both fields are rolled periodically by random shifts.

    Blocks are indexed periodically here (indices taken modulo ``n``) because the domain
    is periodic; the original code used plain array slicing, which truncates a block that
    sticks out past the last row or column instead of wrapping it round.

    **The one-axis bug.**  The original intends a random translation in both directions,
    but its public code rolls the fields along one axis only.  ``shift="both"`` (default)
    does what is intended; ``shift="one_axis"`` mimics the bug by rolling along axis 0
    (rows) only.

    Draw order per member: ``(sx, sy)`` pairs until accepted; the angle; then the row shift
    and the column shift, each ``rng.integers(0, n)``.  Both shifts are drawn in either
    mode, so for one seed the two modes share the centre, the angle and the row shift and
    differ only by the column roll.

:func:`sfi_seed`
    The seed of the Gray-Scott example of StochasticForceInference: a centred block of side
    ``n//4`` with ``u = 0.5, v = 0.25`` in ``u = 1, v = 0``, plus Gaussian noise of standard
    deviation ``noise`` on both fields everywhere.

:func:`landscape_seed`
    The seed of the loss-landscape study (bp_inversion): ``u = 1, v = 0`` plus Gaussian
    noise, a central block (same centring as :func:`cnn_seed`) with ``u = 0.5, v = 0.25``
    exactly, then ``u`` clamped to ``[0, 1.5]`` and ``v`` to ``[0, 1]``.

:func:`uniform_state`
    A homogeneous field, no randomness (for checks on the homogeneous states H and L).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy import ndimage

from ._validate import check_choice, check_int, check_real

__all__ = [
    "cnn_seed",
    "sfi_seed",
    "landscape_seed",
    "uniform_state",
    "initial_state",
    "CNN_SHIFTS",
    "INITIAL_CONDITIONS",
]

#: The initial conditions of the source papers, by name (:func:`initial_state`).
INITIAL_CONDITIONS = ("cnn", "sfi", "landscape")
#: Allowed values of ``shift`` in :func:`cnn_seed`.
CNN_SHIFTS = ("both", "one_axis")
PAPER_SQUARE, PAPER_SIZE = 20, 128  # the seed blocks are 20 cells wide on the paper's 128 x 128 grid


def paper_square(n: int) -> int:
    """Side of the seeded block for an n x n grid.

    Parameters
    ----------
    n : int
        Grid side (cells).

    Returns
    -------
    int
        Block side (cells): the paper's 20 on 128, scaled in proportion elsewhere.
    """
    return max(1, round(PAPER_SQUARE * n / PAPER_SIZE))


# Values of the recipe of Scholz & Scholz.
_SPOT_U, _SPOT_V = 0.5, 0.25
_NOTCH_U, _NOTCH_V = 0.99, 0.01
_NOTCH_OFFSET = (6, 9)  # (rows, columns) from the second block to the notch block
_CENTRE_RANGE = (0.1, 0.9)  # sx, sy drawn uniform in this interval
_CHESSBOARD_RANGE = (0.2, 0.4)  # accepted max(|sx - .5|, |sy - .5|)
_MAX_ANGLE = 88  # degrees, inclusive

# Clamps of the loss-landscape seed.
_LANDSCAPE_U_RANGE = (0.0, 1.5)
_LANDSCAPE_V_RANGE = (0.0, 1.0)


# ----------------------------------------------------------------------------- validation


def _is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _check_int(name: str, value, minimum: int, maximum: int | None = None) -> int:
    """:func:`gslib._validate.check_int`, with this module's wording ("n must be an integer >= 4; got 3")."""
    try:
        return check_int(name, value, minimum, maximum)
    except ValueError:
        allowed = f"[{minimum}, {maximum}]" if maximum is not None else f">= {minimum}"
        raise ValueError(f"{name} must be an integer {allowed}; got {value!r}") from None


def _check_noise(noise) -> float:
    """:func:`gslib._validate.check_real` (>= 0), with this module's wording."""
    try:
        return check_real("noise", noise, minimum=0.0)
    except ValueError:
        raise ValueError(f"noise must be a finite real number >= 0; got {noise!r}") from None


def _seed_list(seed) -> tuple[list[int], bool]:
    """Normalise ``seed`` to ``(list of ints, is_batch)``; raise ValueError if invalid."""
    msg = "seed must be a non-negative integer or a non-empty sequence of them"
    if isinstance(seed, np.ndarray) and seed.ndim == 0:
        seed = seed[()]
    if _is_int(seed):
        if seed < 0:
            raise ValueError(f"{msg}; got {seed!r}")
        return [int(seed)], False
    if isinstance(seed, (str, bytes, dict)) or not isinstance(seed, Iterable):
        raise ValueError(f"{msg}; got {seed!r}")
    if isinstance(seed, np.ndarray) and seed.ndim != 1:
        raise ValueError(f"{msg}; got an array of shape {seed.shape}")
    seeds = list(seed)
    if not seeds:
        raise ValueError(f"{msg}; got an empty sequence")
    for k, s in enumerate(seeds):
        if not _is_int(s) or s < 0:
            raise ValueError(f"{msg}; seed[{k}] = {s!r}")
    return [int(s) for s in seeds], True


def _batched(seed, build) -> tuple[np.ndarray, np.ndarray]:
    """Call ``build(rng) -> (u, v)`` once per seed; stack when ``seed`` is a sequence."""
    seeds, is_batch = _seed_list(seed)
    pairs = [build(np.random.default_rng(s)) for s in seeds]
    if not is_batch:
        return pairs[0]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


# ----------------------------------------------------------------------------- helpers


def _block_index(centre: int, side: int, n: int) -> np.ndarray:
    """Periodic indices of a block of ``side`` cells "centred" at ``centre``.

    The block starts at ``centre - (side - 1)//2``: for side 20 it covers
    ``centre - 9 .. centre + 10``, the convention of Scholz & Scholz.
    """
    start = centre - (side - 1) // 2
    return (start + np.arange(side)) % n


def _paint(u: np.ndarray, v: np.ndarray, centre: tuple[int, int], side: int, u_val: float, v_val: float) -> None:
    """Set a periodic ``side x side`` block at ``centre`` (row, column) in place."""
    n = u.shape[0]
    rows = _block_index(centre[0], side, n)
    cols = _block_index(centre[1], side, n)
    u[np.ix_(rows, cols)] = u_val
    v[np.ix_(rows, cols)] = v_val


def _draw_centre(rng: np.random.Generator) -> tuple[float, float]:
    """Draw ``(sx, sy)`` uniform in [0.1, 0.9] until the chessboard distance from 0.5 is in [0.2, 0.4]."""
    lo, hi = _CHESSBOARD_RANGE
    while True:
        sx = float(rng.uniform(*_CENTRE_RANGE))
        sy = float(rng.uniform(*_CENTRE_RANGE))
        d = max(abs(sx - 0.5), abs(sy - 0.5))
        if lo <= d <= hi:
            return sx, sy


def _cnn_squares(rng: np.random.Generator, n: int, square: int):
    """Steps 1-3 of :func:`cnn_seed` (before rotation and shift).

    Returns ``(u, v, centre)``: the two ``(n, n)`` fields and the drawn fractional centre
    ``(sx, sy)`` of the second block; that block sits at ``(round(n*sx), round(n*sy))``.
    Consumes the ``(sx, sy)`` draws of ``rng`` only.
    """
    u = np.ones((n, n), dtype=np.float64)
    v = np.zeros((n, n), dtype=np.float64)
    c = n // 2
    _paint(u, v, (c, c), square, _SPOT_U, _SPOT_V)
    sx, sy = _draw_centre(rng)
    r2, c2 = round(n * sx), round(n * sy)
    _paint(u, v, (r2, c2), square, _SPOT_U, _SPOT_V)
    _paint(u, v, (r2 + _NOTCH_OFFSET[0], c2 + _NOTCH_OFFSET[1]), square, _NOTCH_U, _NOTCH_V)
    return u, v, (sx, sy)


def _rotate(field: np.ndarray, angle: float) -> np.ndarray:
    """Rotate an ``(n, n)`` field by ``angle`` degrees about its centre, periodic, cubic, no prefilter."""
    return ndimage.rotate(field, float(angle), reshape=False, order=3, mode="grid-wrap", prefilter=False)


def _draw_turn_and_shift(rng: np.random.Generator, n: int) -> tuple[int, tuple[int, int]]:
    """The draws of :func:`cnn_seed` after the centre: the angle (degrees), then the shift (rows, columns)."""
    angle = int(rng.integers(0, _MAX_ANGLE + 1))
    return angle, (int(rng.integers(0, n)), int(rng.integers(0, n)))


def _applied_roll(drawn: tuple[int, int], shift: str) -> tuple[int, int]:
    """The part of the drawn shift that ``shift`` applies ("both", "one_axis" or, in tests, "none")."""
    if shift == "both":
        return drawn
    if shift == "one_axis":
        return (drawn[0], 0)
    if shift == "none":
        return (0, 0)
    raise ValueError(f"shift must be one of {CNN_SHIFTS}; got {shift!r}")  # pragma: no cover - checked by callers


def _cnn_single(rng: np.random.Generator, n: int, square: int, shift: str):
    """One member of :func:`cnn_seed`; returns ``(u, v, info)``.

    ``info`` holds the draws: ``centre`` (sx, sy), ``angle`` (degrees) and ``roll``
    (rows, columns) actually applied.  ``shift`` may also be ``"none"`` here (tests):
    the shifts are still drawn, but not applied.
    """
    u, v, centre = _cnn_squares(rng, n, square)
    angle, drawn = _draw_turn_and_shift(rng, n)
    u, v = _rotate(u, angle), _rotate(v, angle)
    roll = _applied_roll(drawn, shift)
    u = np.roll(u, roll, axis=(0, 1))
    v = np.roll(v, roll, axis=(0, 1))
    return u, v, {"centre": centre, "angle": angle, "roll": roll}


# ----------------------------------------------------------------------------- public API


def cnn_seed(seed, n: int = 128, square: int | None = None, shift: str = "both"):
    """Random Gamma-shaped seed of Scholz & Scholz (2022); see the module docstring.

    Parameters
    ----------
    seed : int or sequence of int
        Non-negative seed(s) of ``numpy.random.default_rng``.
    n : int
        Grid side in cells, ``n >= 2*square``.
    square : int or None
        Side of the blocks in cells, ``1 <= square <= n//2``; None: :func:`paper_square` (20 at n = 128).
    shift : {"both", "one_axis"}
        ``"both"``: random periodic roll along both axes (intended);
        ``"one_axis"``: roll along rows (axis 0) only, mimicking the public code's bug.

    Returns
    -------
    u, v : ndarray, float64
        Shape ``(n, n)`` for one seed, ``(B, n, n)`` for ``B`` seeds; dimensionless.
    """
    square = _check_int("square", paper_square(n) if square is None and _is_int(n) else square, 1)
    n = _check_int("n", n, max(2 * square, 2))
    if shift not in CNN_SHIFTS:
        raise ValueError(f"shift must be one of {CNN_SHIFTS}; got {shift!r}")
    return _batched(seed, lambda rng: _cnn_single(rng, n, square, shift)[:2])


def cnn_seed_draws(seed, n: int = 128, square: int | None = None, shift: str = "both") -> dict:
    """The random draws of :func:`cnn_seed` for one seed, without building the fields.

    The live simulator of :mod:`gslib.live` builds the seed from them (blocks, rotation and roll as in
    :func:`cnn_seed`); its fields equal ``cnn_seed(seed, n, square, shift)`` to rounding.

    Parameters
    ----------
    seed : int
        Non-negative seed.
    n, square, shift
        As in :func:`cnn_seed`.

    Returns
    -------
    dict
        ``square`` (block side), ``r2``, ``c2`` (row and column of the second block), ``angle``
        (degrees) and ``roll`` (rows, columns).

    Raises
    ------
    ValueError
        As :func:`cnn_seed` for bad arguments.
    """
    seed = check_int("seed", seed, 0)  # one seed
    square = paper_square(check_int("n", n, 2)) if square is None else check_int("square", square, 1)
    n = check_int("n", n, max(2 * square, 2))
    shift = check_choice("shift", shift, CNN_SHIFTS)
    # the draws of gslib.initial.cnn_seed, in its order: the second block's centre, the angle, the roll
    rng = np.random.default_rng(seed)
    sx, sy = _draw_centre(rng)
    angle, drawn = _draw_turn_and_shift(rng, n)
    return dict(square=square, r2=round(n * sx), c2=round(n * sy), angle=angle, roll=list(_applied_roll(drawn, shift)))


def sfi_seed(seed, n: int = 64, noise: float = 0.02):
    """Seed of the StochasticForceInference Gray-Scott example.

    ``u = 1, v = 0`` with a centred ``n//4 x n//4`` block (rows and columns
    ``(n - n//4)//2`` onwards) at ``u = 0.5, v = 0.25``, plus independent Gaussian noise of
    standard deviation ``noise`` added to both fields everywhere (drawn for ``u`` first,
    then ``v``, each ``(n, n)`` standard normals times ``noise``).

    Parameters
    ----------
    seed : int or sequence of int
        Non-negative seed(s).
    n : int
        Grid side in cells, ``n >= 4``.
    noise : float
        Noise standard deviation, ``>= 0`` (dimensionless).

    Returns
    -------
    u, v : ndarray, float64
        Shape ``(n, n)`` or ``(B, n, n)``.
    """
    n = _check_int("n", n, 4)
    noise = _check_noise(noise)
    side = n // 4
    start = (n - side) // 2

    def build(rng):
        u = np.ones((n, n), dtype=np.float64)
        v = np.zeros((n, n), dtype=np.float64)
        u[start : start + side, start : start + side] = _SPOT_U
        v[start : start + side, start : start + side] = _SPOT_V
        u += noise * rng.standard_normal((n, n))
        v += noise * rng.standard_normal((n, n))
        return u, v

    return _batched(seed, build)


def landscape_seed(seed, n: int = 128, square: int | None = None, noise: float = 0.02):
    """Seed of the loss-landscape study (bp_inversion).

    ``u = 1 + noise*N(0,1)``, ``v = 0 + noise*N(0,1)`` (``u`` drawn first), then a central
    ``square x square`` block set exactly to ``u = 0.5, v = 0.25`` (same centring as
    :func:`cnn_seed`: rows and columns ``n//2 - (square-1)//2`` onwards), then ``u``
    clamped to ``[0, 1.5]`` and ``v`` to ``[0, 1]``.

    Parameters
    ----------
    seed : int or sequence of int
        Non-negative seed(s).
    n : int
        Grid side in cells, ``n >= square``.
    square : int or None
        Block side in cells, ``1 <= square <= n``; None: :func:`paper_square` (20 at n = 128).
    noise : float
        Noise standard deviation, ``>= 0``.

    Returns
    -------
    u, v : ndarray, float64
        Shape ``(n, n)`` or ``(B, n, n)``.
    """
    square = _check_int("square", paper_square(n) if square is None and _is_int(n) else square, 1)
    n = _check_int("n", n, square)
    noise = _check_noise(noise)
    c = n // 2

    def build(rng):
        u = 1.0 + noise * rng.standard_normal((n, n))
        v = 0.0 + noise * rng.standard_normal((n, n))
        _paint(u, v, (c, c), square, _SPOT_U, _SPOT_V)
        np.clip(u, *_LANDSCAPE_U_RANGE, out=u)
        np.clip(v, *_LANDSCAPE_V_RANGE, out=v)
        return u, v

    return _batched(seed, build)


def uniform_state(u: float, v: float, n: int = 128, batch: int | None = None):
    """Homogeneous fields ``u``, ``v`` (e.g. the states H or L); no randomness.

    Parameters
    ----------
    u, v : float
        Finite concentrations (dimensionless).
    n : int
        Grid side in cells, ``n >= 1``.
    batch : int or None
        ``None`` for shape ``(n, n)``; ``B >= 1`` for shape ``(B, n, n)``.

    Returns
    -------
    u, v : ndarray, float64
    """
    values = [check_real("u", u), check_real("v", v)]
    n = _check_int("n", n, 1)
    shape = (n, n) if batch is None else (_check_int("batch", batch, 1), n, n)
    return np.full(shape, values[0], dtype=np.float64), np.full(shape, values[1], dtype=np.float64)


def initial_state(name: str, *, n: int, seed: int = 0, square: int | None = None, noise: float = 0.02):
    """The initial fields of one of the source papers' setups, by name, with the settings used.

    Parameters
    ----------
    name : {"cnn", "sfi", "landscape"}
        ``"cnn"``: :func:`cnn_seed` (Scholz & Scholz 2022); ``"sfi"``: :func:`sfi_seed`
        (StochasticForceInference); ``"landscape"``: :func:`landscape_seed` (the loss-landscape study).
    n : int
        Grid side in cells (an n x n periodic grid).
    seed : int
        Seed of the random numbers.
    square : int, optional
        Side of the seed blocks in cells for ``"cnn"`` and ``"landscape"`` (default
        :func:`paper_square`); ``"cnn"`` needs ``n >= 2 * square``, ``"landscape"`` ``n >= square``.
    noise : float
        Standard deviation of the Gaussian noise of ``"sfi"`` and ``"landscape"`` (>= 0).

    Returns
    -------
    u0, v0 : numpy.ndarray
        The fields (n, n).
    settings : dict
        The setup's own settings (``square``, ``noise``), to record with a run.

    Raises
    ------
    ValueError
        For an unknown name, a negative noise, or a grid too small for the seed blocks.
    """
    check_choice("name", name, INITIAL_CONDITIONS)
    n = check_int("n", n, minimum=4)
    noise = check_real("noise", noise, minimum=0.0)
    if name == "sfi":
        u, v = sfi_seed(seed, n=n, noise=noise)
        return u, v, {"noise": noise}
    square = paper_square(n) if square is None else check_int("square", square, minimum=1)
    if name == "cnn":
        if n < 2 * square:
            raise ValueError(
                f"n={n} is too small for square={square} with the cnn seed: needs n >= 2 * square = {2 * square}"
            )
        u, v = cnn_seed(seed, n=n, square=square)
        return u, v, {"square": square}
    if n < square:
        raise ValueError(f"n={n} is smaller than square={square} (the landscape seed needs n >= square)")
    u, v = landscape_seed(seed, n=n, square=square, noise=noise)
    return u, v, {"square": square, "noise": noise}
