"""``infer`` with its defaults on data from someone else's simulator: py-pde (its own Euler-Maruyama, its own
5-point Laplacian, white noise through the ``noise`` argument of ``pde.PDE``).

Skipped where py-pde is missing (it comes with the ``book`` extra), unless ``GSLIB_REQUIRE_PYPDE=1``.
"""

import os

import numpy as np
import pytest

from gslib import spde
from gslib.initial import sfi_seed
from gslib.inference import infer, relative_errors

if os.environ.get("GSLIB_REQUIRE_PYPDE") == "1":
    import pde
else:
    pde = pytest.importorskip("pde", reason="py-pde is not installed (pip install 'gslib[book]' adds it)")

F, K = spde.REGIMES["coral"]
DU, DV = 0.16, 0.08


def pypde_movie(n=32, frames=120, burn_in=60, dt=0.5, h=0.05, d0=3e-4, seed=1):
    """Stochastic Gray-Scott simulated by py-pde; per-cell white noise of variance 2 d0 per unit time."""
    grid = pde.CartesianGrid([[0, n], [0, n]], [n, n], periodic=True)
    u0, v0 = sfi_seed(seed, n=n)
    state = pde.FieldCollection([pde.ScalarField(grid, u0), pde.ScalarField(grid, v0)])
    eq = pde.PDE({"u": f"{DU} * laplace(u) - u * v**2 + {F} * (1 - u)",
                  "v": f"{DV} * laplace(v) + u * v**2 - ({F} + {K}) * v"},
                 noise={"u": 2 * d0, "v": 2 * d0}, rng=np.random.default_rng(seed))
    storage = pde.MemoryStorage()
    times = dt * (burn_in + np.arange(frames))
    eq.solve(state, t_range=(0, float(times[-1])), dt=h, solver="euler", backend="numpy",
             tracker=[storage.tracker(times)])
    data = np.array(storage.data)
    return data[:, 0], data[:, 1], dt


@pytest.mark.slow
def test_infer_recovers_the_equations_from_pypde_data():
    u, v, dt = pypde_movie()
    assert u.shape == (120, 32, 32) and np.all(np.isfinite(u)) and np.ptp(v[-1]) > 0.2
    res = infer({"u": u, "v": v}, dt)
    choice = res.discretisation
    assert choice["chosen"] == "5pt" and choice["decided"], choice["message"]
    truth = spde.true_coefficients(F, K)
    err = relative_errors(res.terms, truth)
    assert err["spurious"] == {"u": [], "v": []}, res.terms
    assert max(abs(e) for name in ("u", "v") for e in err[name].values()) < 0.06
