"""Force inference from frames with measurement noise: the errors-in-variables correction.

The algebra (Wick-ordered features, Gram and moment corrections) is checked against Monte Carlo
averages over noise draws; the whole estimator on data from an independent NumPy Heun generator
(5-point Laplacian, conserved noise), not from gslib's simulator. About 20 s.
"""

import numpy as np
import pytest

from gslib import spde
from gslib.inference import add_measurement_noise, infer, infer_force, relative_errors
from gslib.inference import errors_in_variables as eiv
from gslib.inference.features import Library, dot, field, grad, lap
from gslib.inference.robustness import measurement_noise_study

U, V = field("U"), field("V")


# ----------------------------------------------------------------------------- closed forms


def test_wick_order_of_polynomials_and_gradients():
    s2 = {"u": 0.04, "v": 0.09}
    shape = (8, 8)
    w = eiv.wick_order(U**2, s2, shape, stencil="5pt")
    assert dict((f, c) for c, f in w.terms) == {((((), "U"), ((), "U"))): 1.0, (): -0.04}
    w = eiv.wick_order(U * V**2, s2, shape, stencil="5pt")
    assert dict((f, c) for c, f in w.terms) == {(((), "U"), ((), "V"), ((), "V")): 1.0, (((), "U"),): -0.09}
    w = eiv.wick_order(U**3, s2, shape, stencil="5pt")
    assert dict((f, c) for c, f in w.terms)[(((), "U"),)] == pytest.approx(-3 * 0.04)
    # central differences have weights +-1/2: each component's noise variance is s^2 / 2
    g = eiv.wick_order(dot(grad(U), grad(U)), s2, shape, stencil="5pt")
    assert dict((f, c) for c, f in g.terms)[()] == pytest.approx(-0.04)
    assert g.label == "grad U.grad U"
    assert eiv.wick_order(lap(U), s2, shape, stencil="5pt").terms == lap(U).terms


@pytest.mark.parametrize("stencil, lap0, bih0", [("5pt", 20.0, 676.0), ("9pt", 9 + 4 / 4 + 4 / 16, None)])
def test_factor_covariance_at_the_origin(stencil, lap0, bih0):
    k = eiv.factor_covariance(("lap",), ("lap",), (16, 16), 1.0, stencil)
    assert k[0, 0] == pytest.approx(lap0)
    assert k.sum() == pytest.approx(0.0, abs=1e-12)  # the Laplacian annihilates constants
    if bih0 is not None:
        assert eiv.factor_covariance(("lap", "lap"), ("lap", "lap"), (16, 16), 1.0, stencil)[0, 0] == pytest.approx(
            bih0
        )
    # dx = 0.5 scales a Laplacian's noise variance by 1 / dx^4
    assert eiv.factor_covariance(("lap",), ("lap",), (16, 16), 0.5, stencil)[0, 0] == pytest.approx(16 * lap0)


def _smooth(rng, shape, scale):
    x = rng.standard_normal(shape)
    q = np.fft.fftfreq(shape[0])[:, None] ** 2 + np.fft.fftfreq(shape[1])[None, :] ** 2
    return np.real(np.fft.ifft2(np.fft.fft2(x) * np.exp(-q * 60))) * scale


@pytest.mark.parametrize("spectral", [False, True])
def test_corrected_gram_and_moments_are_unbiased(spectral):
    """Average over noise draws of (noisy Wick Gram + correction) equals the clean Gram."""
    rng = np.random.default_rng(3)
    shape = (12, 12)
    x = {"u": 0.5 + _smooth(rng, shape, 3.0), "v": 0.25 + _smooth(rng, shape, 2.0)}
    lib = Library([field("U"), U**2, U * V**2, lap(U), dot(grad(U), grad(V)), lap(lap(V)), V**3])
    s2 = {"u": 0.02**2, "v": 0.03**2}
    if spectral:
        q2 = (
            4
            - 2 * np.cos(2 * np.pi * np.fft.fftfreq(12))[:, None]
            - 2 * np.cos(2 * np.pi * np.fft.fftfreq(12))[None, :]
        )
        w = 1.0 / np.maximum(q2, q2[q2 > 0].min())
    else:
        w = np.full(shape, 2.0)
    w_real = np.real(np.fft.ifft2(w))

    def apply_w(b):
        return np.real(np.fft.ifft2(w * np.fft.fft2(b)))

    clean = lib.evaluate(x, 1.0, "5pt")
    G_clean = np.einsum("fij,gij->fg", clean, np.stack([apply_w(b) for b in clean]))
    M_clean = np.array([np.sum(x["u"] * apply_w(b)) for b in clean])
    wick = eiv.wick_library(lib, s2, shape, 1.0, "5pt")
    plan = eiv.contraction_plan(lib, "u", s2, w_real, 1.0, "5pt")
    draws = 4000
    eta = {n: rng.standard_normal((draws,) + shape) * np.sqrt(s2[n]) for n in x}
    y = {n: x[n][None] + eta[n] for n in x}
    b = wick.evaluate(y, 1.0, "5pt")  # (F, draws, N, M)
    Wb = np.real(np.fft.ifft2(w * np.fft.fft2(b)))
    DG, DM = plan.corrections(y, 1.0, "5pt")
    G = np.einsum("fsij,gsij->sfg", b, Wb) + DG
    Mom = np.einsum("sij,fsij->sf", y["u"], Wb) + DM
    for est, exact in ((G, G_clean), (Mom, M_clean)):
        mean, se = est.mean(axis=0), est.std(axis=0) / np.sqrt(draws)
        assert np.all(np.abs(mean - exact) < 4.5 * se + 1e-9 * np.abs(exact))
    # without the correction the Gram matrix of the derivative features is far off
    naive = (
        np.einsum(
            "fsij,gsij->fg",
            lib.evaluate(y, 1.0, "5pt"),
            np.real(np.fft.ifft2(w * np.fft.fft2(lib.evaluate(y, 1.0, "5pt")))),
        )
        / draws
    )
    assert naive[5, 5] > 1.1 * G_clean[5, 5]


# ----------------------------------------------------------------------------- an independent generator


def _heun_gray_scott(f, k, n=32, frames=120, burn_in=60, dt=0.5, substeps=4, sigma=0.01, seed=0):
    """Conserved-noise Gray-Scott, Heun, 5-point Laplacian: written here, independent of gslib.spde."""
    rng = np.random.default_rng(seed)
    u = np.ones((n, n))
    v = np.zeros((n, n))
    a, b = n // 2 - n // 8, n // 2 + n // 8
    u[a:b, a:b], v[a:b, a:b] = 0.5, 0.25
    u += 0.02 * rng.standard_normal((n, n))
    v += 0.02 * rng.standard_normal((n, n))
    h = dt / substeps
    q = 2 * np.pi * np.fft.fftfreq(n)
    qn = np.sqrt(q[:, None] ** 2 + q[None, :] ** 2)
    amp = sigma * qn * np.sqrt(2 * h)

    def lap5(z):
        return np.roll(z, 1, 0) + np.roll(z, -1, 0) + np.roll(z, 1, 1) + np.roll(z, -1, 1) - 4 * z

    def force(u, v):
        r = u * v * v
        return 0.16 * lap5(u) - r + f * (1 - u), 0.08 * lap5(v) + r - (f + k) * v

    out_u, out_v = [], []
    for step in range((burn_in + frames - 1) * substeps + 1):
        if step >= burn_in * substeps and (step - burn_in * substeps) % substeps == 0:
            out_u.append(u.copy())
            out_v.append(v.copy())
        if len(out_u) == frames:
            break
        nu = np.real(np.fft.ifft2(np.fft.fft2(rng.standard_normal((n, n))) * amp))
        nv = np.real(np.fft.ifft2(np.fft.fft2(rng.standard_normal((n, n))) * amp))
        fu, fv = force(u, v)
        pu, pv = u + h * fu + nu, v + h * fv + nv
        gu, gv = force(pu, pv)
        u, v = u + h / 2 * (fu + gu) + nu, v + h / 2 * (fv + gv) + nv
    return np.array(out_u), np.array(out_v)


@pytest.fixture(scope="module")
def coral():
    f, k = spde.REGIMES["coral"]
    u, v = _heun_gray_scott(f, k, seed=5)
    return u, v, spde.true_coefficients(f, k)


def _score(res, truth):
    err = relative_errors(res.terms, truth)
    exact = all(set(res.terms[n]) == set(truth[n]) for n in truth)
    return exact, max(abs(e) for n in truth for e in err[n].values())


def test_clean_data_are_left_alone(coral):
    u, v, truth = coral
    auto = infer({"u": u, "v": v}, 0.5, stencil="5pt")
    plain = infer({"u": u, "v": v}, 0.5, stencil="5pt", measurement_noise="none")
    assert not auto.inference.measurement.active
    assert auto.terms == plain.terms
    assert _score(auto, truth)[0]


def test_measurement_noise_is_estimated_and_removed(coral):
    u, v, truth = coral
    nu, nv = add_measurement_noise(u, v, std=0.005, seed=1)
    res = infer({"u": nu, "v": nv}, 0.5, stencil="5pt")  # the default: measurement_noise="auto"
    exact, worst = _score(res, truth)
    assert exact and worst < 0.05
    est = res.inference.measurement.estimates  # (variance, its standard error over the rings)
    assert all(abs(np.sqrt(m) / 0.005 - 1) < 0.15 for m, _ in est.values())
    # at 0.01 the uncorrected estimator is twice as far off, even on the true support
    nu, nv = add_measurement_noise(u, v, std=0.01, seed=1)
    res = infer({"u": nu, "v": nv}, 0.5, stencil="5pt")
    exact, worst = _score(res, truth)
    assert exact and worst < 0.06
    plain = infer({"u": nu, "v": nv}, 0.5, stencil="5pt", measurement_noise="none")
    fit = plain.inference.fit({n: list(truth[n]) for n in truth})
    err = relative_errors({n: fit[n]["coefficients"] for n in fit}, truth)
    assert max(abs(e) for n in truth for e in err[n].values()) > 1.8 * worst


def test_a_given_measurement_noise_matches_the_estimate(coral):
    u, v, truth = coral
    nu, nv = add_measurement_noise(u, v, std=0.01, seed=2)
    given = infer({"u": nu, "v": nv}, 0.5, stencil="5pt", measurement_noise={"u": 0.01, "v": 0.01})
    exact, worst = _score(given, truth)
    assert exact and worst < 0.08
    assert given.inference.measurement.source == "given"


def test_mask_and_ito_paths_run_with_the_correction(coral):
    u, v, truth = coral
    nu, nv = add_measurement_noise(u[:60], v[:60], std=0.005, seed=3)
    mask = np.ones(nu.shape[1:], bool)
    mask[3, 4] = False
    for kw in ({"mask": mask}, {"method": "ito"}):
        inf = infer_force({"u": nu, "v": nv}, 0.5, stencil="5pt", measurement_noise=0.005, **kw)
        fit = inf.fit({n: list(truth[n]) for n in truth})
        assert all(np.isfinite(list(fit[n]["coefficients"].values())).all() for n in fit)
        assert inf.measurement.active


@pytest.mark.parametrize(
    "value, match",
    [
        ("loud", "measurement_noise='loud'"),
        (-0.1, "must be a finite"),
        (float("nan"), "must be a finite"),
        ({"u": 0.01}, "no entry for"),
        (True, "must be a finite"),
    ],
)
def test_bad_measurement_noise_is_rejected(coral, value, match):
    u, v, _ = coral
    with pytest.raises(ValueError, match=match):
        infer_force({"u": u[:10], "v": v[:10]}, 0.5, stencil="5pt", measurement_noise=value)


# ----------------------------------------------------------------------------- the study


def test_measurement_noise_study_small():
    st = measurement_noise_study(["coral"], [0.0, 0.005], [1], n=32, frames=100, burn_in=60)
    assert len(st.runs) == 4
    header, rows = st.table()
    assert len(rows) == 2 and len(header) == len(rows[0])
    assert st.exact_rate(0.005, True) == 1.0 and st.worst_error(0.005, True) < 0.05
    assert st.exact_rate(0.0, False) == 1.0


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"regimes": ["lava"]}, "regimes"),
        ({"levels": [-1]}, "levels"),
        ({"seeds": [1.5]}, "seeds"),
        ({"n": 4}, "n=4"),
        ({"infer_options": {"measurement_noise": 0}}, "infer_options"),
    ],
)
def test_measurement_noise_study_rejects_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        measurement_noise_study(**kw)
