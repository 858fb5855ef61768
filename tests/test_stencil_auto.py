"""The discretisation inferred, not assumed: inference and inversion on data from generators that are not gslib's.

Every generator here is written out in this file with NumPy (its own Laplacians, its own noise, its own
time stepping), so the tests do not share code with gslib's solvers or with :mod:`gslib.spde`:

* stochastic Gray-Scott movies (white noise, stochastic Heun) with the 5-point, the CNN paper's 9-point
  (corners 1/4), the isotropic 9-point (corners 1/6) and the spectral Laplacian, for ``infer``;
* steady patterns (forward Euler to a steady state) with the same four Laplacians, for ``residual_fit``
  and ``gslib invert``, and two patterns the model must not explain: one that is still moving, and a
  steady pattern of another model (Schnakenberg).
"""

import json
import warnings

import numpy as np
import pytest
from scipy import ndimage

from gslib import cli
from gslib import inversion as L
from gslib.inference import infer, relative_errors

F, K, DU, DV = 0.042, 0.063, 0.16, 0.08  # the coral regime of the SFI example
TRUE_SUPPORT = {"u": ["1", "U", "UV^2", "lap U"], "v": ["V", "UV^2", "lap V"]}
TRUTH = {"u": {"1": F, "U": -F, "UV^2": -1.0, "lap U": DU}, "v": {"V": -(F + K), "UV^2": 1.0, "lap V": DV}}


def lap_of(name):
    """An independent periodic Laplacian (dx = 1) by its weights, or by FFT for "spectral"."""

    def shifted(a, di, dj):
        return np.roll(np.roll(a, di, axis=-2), dj, axis=-1)

    def stencil(edge, corner, centre):
        weights = np.array([[corner, edge, corner], [edge, centre, edge], [corner, edge, corner]])

        def apply(a):
            if a.ndim == 2:
                return ndimage.correlate(a, weights, mode="wrap")
            edges = sum(shifted(a, di, dj) for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)))
            corners = sum(shifted(a, di, dj) for di, dj in ((1, 1), (1, -1), (-1, 1), (-1, -1)))
            return edge * edges + corner * corners + centre * a

        return apply

    if name == "5pt":
        return stencil(1.0, 0.0, -4.0)
    if name == "9pt":
        return stencil(0.5, 0.25, -3.0)
    if name == "9pt-iso":
        return stencil(2 / 3, 1 / 6, -10 / 3)

    def spectral(a):
        n, m = a.shape[-2:]
        q2 = (2 * np.pi * np.fft.fftfreq(n))[:, None] ** 2 + (2 * np.pi * np.fft.fftfreq(m))[None, :] ** 2
        return np.real(np.fft.ifft2(np.fft.fft2(a) * -q2))

    return spectral


def centre_square(n, seed, side=None):
    """u = 1, v = 0 with a perturbed square in the middle (u = 1/2, v = 1/4), as in Pearson's experiment."""
    rng = np.random.default_rng(seed)
    u, v = np.ones((n, n)), np.zeros((n, n))
    side = side or n // 4
    s = slice(n // 2 - side // 2, n // 2 + side // 2)
    u[s, s], v[s, s] = 0.5, 0.25
    return u + 0.02 * rng.standard_normal((n, n)), v + 0.02 * rng.standard_normal((n, n))


def heun_movie(stencil, *, n=32, frames=120, burn_in=60, dt=0.5, substeps=4, d0=3e-4, seed=1):
    """Stochastic Gray-Scott, white noise of strength d0 per cell (increment variance 2 d0 h), Heun."""
    lap = lap_of(stencil)
    rng = np.random.default_rng(seed)
    u, v = centre_square(n, seed, side=n // 2)
    h = dt / substeps

    def force(u, v):
        uvv = u * v * v
        return DU * lap(u) - uvv + F * (1 - u), DV * lap(v) + uvv - (F + K) * v

    out = np.empty((2, frames, n, n))
    for interval in range(burn_in + frames):
        if interval >= burn_in:
            out[0, interval - burn_in], out[1, interval - burn_in] = u, v
        for _ in range(substeps):
            xu, xv = np.sqrt(2 * d0 * h) * rng.standard_normal((2, n, n))
            fu, fv = force(u, v)
            pu, pv = u + h * fu + xu, v + h * fv + xv
            gu, gv = force(pu, pv)
            u, v = u + 0.5 * h * (fu + gu) + xu, v + 0.5 * h * (fv + gv) + xv
    return out[0], out[1], dt


_STEADY = {}


def euler_steady(stencil, *, n=24, f=0.045, k=0.062, steps=12_000, tol=1e-7, seed=1):
    """A steady Gray-Scott pattern: forward Euler (dt = 1, 1/2 for the spectral Laplacian, whose largest
    eigenvalue 2 pi^2 is beyond the step's bound) until one step changes it by less than tol * dt."""
    key = (stencil, n, f, k, steps, tol, seed)
    if key not in _STEADY:
        lap = lap_of(stencil)
        dt = 0.5 if stencil == "spectral" else 1.0
        u, v = centre_square(n, seed, side=10)
        for _ in range(int(steps / dt)):
            uvv = u * v * v
            du, dv = DU * lap(u) - uvv + f * (1 - u), DV * lap(v) + uvv - (f + k) * v
            u, v = u + dt * du, v + dt * dv
            if max(np.abs(du).max(), np.abs(dv).max()) < tol:
                break
        _STEADY[key] = u, v, np.array([DU, DV, f, k])
    return _STEADY[key]


@pytest.fixture(scope="module", params=["5pt", "9pt", "9pt-iso", "spectral"])
def movie(request):
    return request.param, heun_movie(request.param)


def test_infer_with_its_defaults_finds_the_generators_stencil_and_the_true_model(movie):
    stencil, (u, v, dt) = movie
    res = infer({"u": u, "v": v}, dt)
    choice = res.discretisation
    assert choice["chosen"] == stencil and res.inference.stencil == stencil, choice["message"]
    assert choice["decided"] and choice["margin"] >= choice["threshold"] == pytest.approx(np.log(1000))
    assert set(choice["candidates"]) == {"5pt", "9pt", "9pt-iso", "spectral"}
    assert res.selection.supports == TRUE_SUPPORT
    err = relative_errors(res.terms, TRUTH)
    assert max(abs(e) for name in ("u", "v") for e in err[name].values()) < 0.05
    assert json.loads(json.dumps(res.to_dict()))["discretisation"]["chosen"] == stencil


def test_an_explicit_stencil_is_kept(movie):
    stencil, (u, v, dt) = movie
    other = "5pt" if stencil != "5pt" else "9pt"
    res = infer({"u": u[:40], "v": v[:40]}, dt, stencil=other)
    assert res.inference.stencil == other and res.discretisation == {
        "chosen": other,
        "message": f"stencil {other} (given)",
    }
    with pytest.raises(ValueError, match="stencil"):
        infer({"u": u[:40], "v": v[:40]}, dt, stencil="7pt")
    mask = np.ones(u[:40].shape, bool)
    mask[:, 3, 4] = False
    with pytest.raises(ValueError, match="spectral.*complete"):
        infer({"u": u[:40], "v": v[:40]}, dt, stencil="spectral", mask=mask)


@pytest.mark.parametrize("stencil", ["5pt", "9pt", "9pt-iso", "spectral"])
def test_residual_fit_with_its_defaults_finds_the_stencil_and_the_parameters(stencil):
    u, v, theta = euler_steady(stencil)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a steady pattern of the model raises no warning
        fit = L.residual_fit(u, v)
    choice = fit.discretisation
    assert fit.stencil == choice["chosen"] == stencil and choice["decided"], choice["message"]
    assert choice["margin"] > 1.0  # the runner-up leaves at least twice the squared residual
    assert np.abs(fit.array() / theta - 1).max() < 1e-4
    assert fit.explained and fit.relative_residual < 1e-3


def test_gslib_invert_with_its_defaults_on_files_from_other_generators(tmp_path, capsys):
    for stencil in ("9pt", "9pt-iso"):
        u, v, theta = euler_steady(stencil)
        path = tmp_path / f"{stencil}.npz"
        np.savez(path, u=u, v=v, dx=1.0)  # no 'stencil' entry: it must be inferred
        out = tmp_path / f"{stencil}.json"
        assert cli.main(["invert", str(path), "--out", str(out)]) == 0
        printed = capsys.readouterr().out
        assert f"stencil {stencil} inferred" in printed
        result = json.loads(out.read_text())
        assert result["stencil"] == stencil and result["discretisation"]["decided"] and result["explained"]
        assert set(result["discretisation"]["candidates"]) == {"5pt", "9pt", "9pt-iso", "spectral"}
        assert max(abs(result[p] / t - 1) for p, t in zip(L.PARAMS, theta)) < 1e-4


def moving_pattern():
    """A pattern 60 steps after the seed: still spreading, far from steady."""
    lap = lap_of("5pt")
    u, v = centre_square(24, 1, side=10)
    for _ in range(60):
        uvv = u * v * v
        u, v = u + DU * lap(u) - uvv + 0.045 * (1 - u), v + DV * lap(v) + uvv - (0.045 + 0.062) * v
    return u, v


def schnakenberg_steady(n=24, a=0.1, b=0.9, du=0.05, dv=1.0, dt=0.05, steps=10_000):
    """A steady Turing pattern of another model, du = Du lap u + a - u + u^2 v, dv = Dv lap v + b - u^2 v."""
    lap = lap_of("5pt")
    rng = np.random.default_rng(3)
    u = (a + b) + 0.01 * rng.standard_normal((n, n))
    v = b / (a + b) ** 2 + 0.01 * rng.standard_normal((n, n))
    for _ in range(steps):
        uuv = u * u * v
        u, v = u + dt * (du * lap(u) + a - u + uuv), v + dt * (dv * lap(v) + b - uuv)
    return u, v


@pytest.mark.parametrize("case", ["moving", "other model"])
def test_inversion_knows_when_it_is_fooled(case, tmp_path, capsys):
    u, v = moving_pattern() if case == "moving" else schnakenberg_steady()
    assert np.ptp(v) > 0.05  # a pattern, not a uniform state
    with pytest.warns(L.UnexplainedPatternWarning, match="does not explain"):
        fit = L.residual_fit(u, v)
    assert not fit.explained and fit.relative_residual > L.UNEXPLAINED_THRESHOLD
    with pytest.raises(ValueError, match="does not explain"):
        L.residual_fit(u, v, on_unexplained="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not L.residual_fit(u, v, on_unexplained="ignore").explained
    path = tmp_path / "pattern.npz"
    np.savez(path, u=u, v=v, dx=1.0)
    out = tmp_path / "params.json"
    code = cli.main(["invert", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == cli.EXIT_UNEXPLAINED == 3 and "does not explain" in err and "not to be trusted" in err
    assert json.loads(out.read_text())["explained"] is False
    with pytest.raises(ValueError, match="on_unexplained"):
        L.residual_fit(u, v, on_unexplained="maybe")
