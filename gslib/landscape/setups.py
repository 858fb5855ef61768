"""The experiment of the inverse problem: grid, seed, true parameters, discretisation and steady-state stops.

:class:`Setup` is one experiment; :data:`PAPER` is the paper's, and :func:`setup_for` gives the
smaller ones of the book's scales (the scale is always passed explicitly: a chapter passes
``gslib.scale.current()``). :func:`initial_state` is its seed, :func:`target_pattern` its steady
target, run with the compiled engine (:func:`gslib.integrate`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .._validate import check_choice
from ..initial import landscape_seed
from ..inversion import as_params
from ..solvers import integrate

__all__ = ["Setup", "PAPER", "SCALED_SETUPS", "setup_for", "initial_state", "target_pattern"]


@dataclass(frozen=True)
class Setup:
    """One inversion experiment: grid, seed, true parameters, discretisation and steady-state stops.

    A run stops when the largest change of u or v in one step falls below ``target_tol`` (the
    target) or ``train_tol`` (predictions during training), or after ``max_steps`` steps.

    Attributes
    ----------
    n : int
        Side of the periodic grid (cells).
    square, noise, seed : int, float, int
        Seed block side, noise amplitude and random seed of
        :func:`gslib.initial.landscape_seed`.
    Du, Dv, f, k : float
        True parameters.
    dt, dx : float
        FTCS time step and grid spacing.
    stencil : {"5pt", "9pt"}
        Discrete Laplacian.
    max_steps : int
        Most steps of a run.
    target_tol, train_tol : float
        Steady-state tolerances of the target and of predictions during training.
    """

    n: int = 128
    square: int = 20
    noise: float = 0.02
    seed: int = 0
    Du: float = 0.16
    Dv: float = 0.08
    f: float = 0.035
    k: float = 0.065
    dt: float = 1.0
    dx: float = 1.0
    stencil: str = "5pt"
    max_steps: int = 40_000
    target_tol: float = 1e-4
    train_tol: float = 5e-5

    @property
    def params(self) -> np.ndarray:
        """The true ``(Du, Dv, f, k)`` as a float64 array (4,)."""
        return np.array([self.Du, self.Dv, self.f, self.k], dtype=np.float64)


#: The paper's setup: 128 x 128, 5-point Laplacian, dt = dx = 1, up to 40 000 steps to a steady state.
PAPER = Setup()

#: The changes to :data:`PAPER` at each of the book's scales. The seed block keeps the paper's 20
#: cells (a block scaled down with the grid dies at these parameters), the grid and the step cap shrink.
SCALED_SETUPS = {
    "ci": dict(n=48, max_steps=12_000),
    "book": dict(n=48, max_steps=12_000),
    "paper": {},
}


def setup_for(scale: str, **changes) -> Setup:
    """The :class:`Setup` of one of the book's scales.

    Parameters
    ----------
    scale : {"ci", "book", "paper"}
        The scale (a chapter passes ``gslib.scale.current()``). ci and book: 48 x 48, <= 12 000
        steps; paper: :data:`PAPER`.
    **changes
        Fields to change (``dataclasses.replace``).

    Returns
    -------
    Setup
        The setup.

    Raises
    ------
    ValueError
        If ``scale`` is not a scale.
    """
    check_choice("scale", scale, SCALED_SETUPS)
    return replace(PAPER, **{**SCALED_SETUPS[scale], **changes})


def initial_state(setup: Setup) -> tuple[np.ndarray, np.ndarray]:
    """The paper's seed on the setup's grid.

    Parameters
    ----------
    setup : Setup
        The experiment.

    Returns
    -------
    u0, v0 : numpy.ndarray
        :func:`gslib.initial.landscape_seed` (float64, (n, n)).
    """
    return landscape_seed(setup.seed, n=setup.n, square=setup.square, noise=setup.noise)


def target_pattern(setup: Setup, params=None, *, tol=None, backend="auto", dtype=np.float64):
    """Run the setup's seed to a steady state with ``params`` (default: the true ones).

    Parameters
    ----------
    setup : Setup
        The experiment.
    params : array_like or dict, optional
        ``(Du, Dv, f, k)`` (default: the setup's true ones).
    tol : float, optional
        Steady-state tolerance (default ``setup.target_tol``), checked every 100 steps; the run
        stops at ``setup.max_steps`` in any case.
    backend, dtype
        As in :func:`gslib.integrate`.

    Returns
    -------
    gslib.SimulationResult
        The engine's result (fields (n, n); ``steps``, ``steady``).

    Raises
    ------
    ValueError
        If ``params`` does not hold four finite values.
    """
    p = setup.params if params is None else as_params(params)
    u0, v0 = initial_state(setup)
    return integrate(
        u0,
        v0,
        f=p[2],
        k=p[3],
        Du=p[0],
        Dv=p[1],
        dt=setup.dt,
        dx=setup.dx,
        steps=setup.max_steps,
        stencil=setup.stencil,
        backend=backend,
        dtype=dtype,
        steady_tol=setup.target_tol if tol is None else tol,
        check_every=100,
    )
