"""``infer`` with its defaults on data from someone else's simulator: py-pde (its own Euler-Maruyama, its own
5-point Laplacian, white noise through the ``noise`` argument of ``pde.PDE``).

Skipped where py-pde is missing (it comes with the ``book`` extra), unless ``GSLIB_REQUIRE_PYPDE=1``.
"""

import os

import numpy as np
import pytest

from gslib import spde
from gslib.inference import infer, relative_errors
from gslib.initial import sfi_seed

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
    eq = pde.PDE(
        {"u": f"{DU} * laplace(u) - u * v**2 + {F} * (1 - u)", "v": f"{DV} * laplace(v) + u * v**2 - ({F} + {K}) * v"},
        noise={"u": 2 * d0, "v": 2 * d0},
        rng=np.random.default_rng(seed),
    )
    storage = pde.MemoryStorage()
    times = dt * (burn_in + np.arange(frames))
    eq.solve(
        state, t_range=(0, float(times[-1])), dt=h, solver="euler", backend="numpy", tracker=[storage.tracker(times)]
    )
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


@pytest.mark.slow
def test_invert_recovers_the_parameters_of_a_pypde_steady_pattern(tmp_path, capsys):
    """`gslib invert` with its defaults on a steady pattern that py-pde computed with its own scheme."""
    import json

    from gslib import cli, landscape

    setup = landscape.setup_for("ci")  # 48 x 48, the landscape paper's parameters
    u0, v0 = landscape.initial_state(setup)
    n = u0.shape[0]
    grid = pde.CartesianGrid([[0, n], [0, n]], [n, n], periodic=True)
    state = pde.FieldCollection([pde.ScalarField(grid, u0), pde.ScalarField(grid, v0)])
    eq = pde.PDE(
        {
            "u": f"{setup.Du} * laplace(u) - u * v**2 + {setup.f} * (1 - u)",
            "v": f"{setup.Dv} * laplace(v) + u * v**2 - ({setup.f} + {setup.k}) * v",
        }
    )
    final = eq.solve(state, t_range=12_000, dt=1.0, solver="euler", backend="numpy", adaptive=False, tracker=None)
    path = tmp_path / "steady.npz"
    np.savez(path, u=final[0].data, v=final[1].data, dx=1.0)
    out = tmp_path / "params.json"
    assert cli.main(["invert", str(path), "--out", str(out), "--quiet"]) == 0
    result = json.loads(out.read_text())
    truth = {"Du": setup.Du, "Dv": setup.Dv, "k": setup.k}
    for name, value in truth.items():
        assert abs(result[name] / value - 1) < 1e-3, (name, result[name])
    feed = result.get("f", result.get("F"))
    assert abs(feed / setup.f - 1) < 1e-3
    assert result["stencil"] == "5pt" and result["discretisation"]["decided"]
