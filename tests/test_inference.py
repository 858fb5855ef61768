"""Tests of gslib.inference: features, the force estimator, the bias removal and PASTIS (seconds in all)."""

import itertools
import math

import numpy as np
import pytest

from gslib import spde
from gslib.inference import (
    Library,
    NoiseModel,
    biharmonic,
    bootstrap,
    d_x,
    d_y,
    dot,
    estimate_noise,
    field,
    grad,
    gray_scott_library,
    infer,
    infer_force,
    lap,
    model_force,
    one,
    pareto_front,
    polynomials,
    relative_errors,
    richardson_weights,
    select,
    selection,
)
from gslib.inference import estimator as est
from gslib.inference import features as feat
from gslib.initial import sfi_seed
from gslib.solvers.reference import laplacian

U, V = field("U"), field("V")
SFI_LABELS = [
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
]


# ----------------------------------------------------------------------------- features


def test_gray_scott_library_labels():
    lib = gray_scott_library()
    assert lib.labels == SFI_LABELS and len(lib) == 17
    assert list(feat.GRAY_SCOTT_LABELS) == SFI_LABELS
    assert lib.radius() == 2 and lib.symbols() == ("U", "V")


def test_automatic_labels_of_composed_features():
    assert (U * V**2).label == "UV^2" and (U**2 * V).label == "U^2V" and (V * U).label == "UV"
    assert lap(U).label == "lap U" and lap(lap(V)).label == "lap^2 V" and biharmonic(U).label == "lap^2 U"
    assert dot(grad(U), grad(V)).label == "grad U.grad V"
    assert ((U - 1) * lap(V)).label == "(U - 1) lap V"
    assert (2 * U).label == "2 U" and (-U).label == "-U" and one().label == "1"
    assert (lap(U) ** 2).label == "(lap U)^2" and lap(U + 2 * V).label == "lap (U + 2 V)"
    assert (U * V).named("catalysis").label == "catalysis"
    assert [p.label for p in polynomials(("U", "V"), 2)] == ["1", "U", "V", "U^2", "UV", "V^2"]


def test_feature_errors():
    with pytest.raises(ValueError, match="linear"):
        lap(U * V)
    with pytest.raises(ValueError, match="unique"):
        Library([U, lap(U), U * 1])
    with pytest.raises(ValueError, match="power"):
        U**-1
    with pytest.raises(ValueError, match="field"):
        U.evaluate({"w": np.zeros((4, 4))})
    with pytest.raises(ValueError, match="no feature"):
        gray_scott_library().index("U^4")


@pytest.mark.parametrize("stencil", ["5pt", "9pt"])
def test_feature_values(stencil):
    rng = np.random.default_rng(0)
    u, v = rng.random((2, 3, 9, 11))
    dx = 0.7
    data = {"u": u, "v": v}
    lib = gray_scott_library()
    vals = dict(zip(lib.labels, lib.evaluate(data, dx, stencil)))
    lap_u, lap_v = laplacian(u, dx, stencil), laplacian(v, dx, stencil)
    assert np.allclose(vals["1"], 1) and np.allclose(vals["UV^2"], u * v * v) and np.allclose(vals["U^2V"], u * u * v)
    assert np.allclose(vals["lap U"], lap_u) and np.allclose(vals["lap V"], lap_v)
    assert np.allclose(vals["lap^2 U"], laplacian(lap_u, dx, stencil))

    def central(a, axis):  # (a[j+1] - a[j-1]) / (2 dx), periodic, written out by index
        n = a.shape[axis]
        idx_p, idx_m = (np.arange(n) + 1) % n, (np.arange(n) - 1) % n
        return (np.take(a, idx_p, axis=axis) - np.take(a, idx_m, axis=axis)) / (2 * dx)

    gu = (central(u, -1), central(u, -2))
    gv = (central(v, -1), central(v, -2))
    assert np.allclose(vals["grad U.grad V"], gu[0] * gv[0] + gu[1] * gv[1])
    assert np.allclose(vals["grad U.grad U"], gu[0] ** 2 + gu[1] ** 2)
    assert np.allclose(d_x(U).evaluate(data, dx), gu[0]) and np.allclose(d_y(V).evaluate(data, dx), gv[1])
    # on a smooth wave the central differences and the Laplacian approach the derivatives
    n = 64
    x = 2 * np.pi * np.arange(n) / n
    wave = np.sin(x)[None, :] * np.ones((n, 1))
    exact = np.cos(x)[None, :] * 2 * np.pi / n  # d/dj of sin(2 pi j / n)
    assert np.abs(d_x(U).evaluate({"u": wave}, 1.0) - exact).max() < 0.002 * 2 * np.pi / n


def test_trace_density_equals_the_jacobian_trace():
    """sum_i sum_k (d b_i / d x_k) K(k - i) computed by finite differences on a tiny grid."""
    rng = np.random.default_rng(3)
    n = 6
    u, v = 0.5 + rng.random((2, n, n))
    # an even kernel: the inverse FFT of a real, even symbol
    qy, qx = np.meshgrid(np.fft.fftfreq(n), np.fft.fftfreq(n), indexing="ij")
    kernel = np.real(np.fft.ifft2(1.0 + np.cos(2 * np.pi * qx) + 0.5 * np.cos(2 * np.pi * qy) ** 2))
    features = [
        U * V**2,
        lap(U),
        dot(grad(U), grad(U)),
        dot(grad(U), grad(V)),
        biharmonic(U),
        U**2 * lap(V),
        (U - 2 * V) * lap(U),
        one(),
    ]
    eps = 1e-6
    for f in features:
        kw = feat.operator_weights(f.operator_chains(), kernel, 1.0, "9pt")
        for name in ("U", "V"):
            got = f.trace_density({"u": u, "v": v}, name, kw).sum()
            want = 0.0
            for i, j in itertools.product(range(n), range(n)):
                for s in (+1, -1):
                    pert = {"u": u.copy(), "v": v.copy()}
                    pert[name.lower()][i, j] += s * eps
                    # column k = (i, j) of the Jacobian, dotted with K(k - cell)
                    col = f.evaluate(pert) * s / (2 * eps)
                    shifted = np.roll(np.roll(kernel[::-1, ::-1], i + 1, axis=0), j + 1, axis=1)
                    want += (col * shifted).sum()
            assert got == pytest.approx(want, rel=1e-6, abs=1e-8), (f.label, name)


# ----------------------------------------------------------------------------- synthetic linear data


def ou_frames(n=32, frames=400, dt=0.5, substeps=8, gamma=0.4, D=0.25, sigma=0.05, noise="white", seed=0, burn=40):
    """Frames of the linear SPDE dx = (-gamma x + D lap x) dt + noise (Heun, fine sub-steps)."""
    rng = np.random.default_rng(seed)
    h = dt / substeps
    amp = spde._amplitude(n, n, sigma, 1.0, noise, h)
    x = np.zeros((n, n))
    out = []
    for t in range(burn + frames):
        if t >= burn:
            out.append(x.copy())
        for _ in range(substeps):
            xi = spde.noise_increment(rng.standard_normal((n, n)), amp)
            F = -gamma * x + D * laplacian(x)
            pred = x + h * F + xi
            x = x + 0.5 * h * (F + (-gamma * pred + D * laplacian(pred))) + xi
    return np.array(out)


OU_LIB = Library([U, lap(U)])


@pytest.fixture(scope="module")
def ou_white():
    return ou_frames()


def _coef(inf, name="u"):
    c = inf.equations[name].fit()["coefficients"]
    return np.array([c["U"], c["lap U"]])


def _stderr(inf, name="u"):
    se = inf.equations[name].fit()["stderr"]
    return np.array([se["U"], se["lap U"]])


OU_TRUTH = np.array([-0.4, 0.25])


def test_estimator_recovers_ornstein_uhlenbeck_coefficients(ou_white):
    inf = infer_force({"u": ou_white}, 0.5, library=OU_LIB)
    c, se = _coef(inf), _stderr(inf)
    assert np.all(np.abs(c - OU_TRUTH) < 4 * se), (c, se)
    assert np.all(se < 0.03 * np.abs(OU_TRUTH))
    # the noise is found white with sigma^2 = 0.0025
    assert inf.noise.s2["u"] < 0.05 * inf.noise.d0["u"]
    assert inf.noise.d0["u"] == pytest.approx(0.05**2, rel=0.05)
    assert inf.equations["u"].fit()["information"] > 0


def test_bias_removal_beats_the_plain_ito_estimator(ou_white):
    """Frames 0.5 apart with relaxation rates up to 1.4: the plain estimator is off by tens of percent."""
    noise = NoiseModel.white(0.05, names=("u",))

    def run(**kw):
        inf = infer_force({"u": ou_white}, 0.5, library=OU_LIB, noise=noise, **kw)
        return _coef(inf), _stderr(inf)

    plain, _ = run(method="ito", lags=1)
    ito3, _ = run(method="ito", lags=3)
    best, se = run()
    err = lambda c: np.abs(c / OU_TRUTH - 1)  # noqa: E731
    assert err(plain)[1] > 0.25  # the diffusion coefficient: 38 % too small
    assert np.all(np.abs(best - OU_TRUTH) < 4 * se) and err(best)[1] < 0.02
    assert err(best)[1] < err(plain)[1] / 10 and err(ito3)[1] < err(plain)[1] / 3


def test_conserved_noise_is_estimated_and_handled():
    x = ou_frames(frames=250, gamma=0.1, D=0.2, sigma=0.05, noise="conserved", seed=2)
    nm = estimate_noise({"u": x}, 0.5, kind="conserved")
    assert math.sqrt(nm.s2["u"]) == pytest.approx(0.05, rel=0.03)
    inf = infer_force({"u": x}, 0.5, library=OU_LIB)
    assert inf.weight == "spectral"
    assert np.all(np.abs(_coef(inf) - np.array([-0.1, 0.2])) < 4 * _stderr(inf))


def test_richardson_weights():
    assert np.allclose(richardson_weights(1), [1])
    assert np.allclose(richardson_weights(2), [2, -1])
    assert np.allclose(richardson_weights(3), [3, -3, 1])
    w = richardson_weights(4)
    k = np.arange(1, 5)
    assert np.isclose(w.sum(), 1) and np.allclose([np.dot(w, k**j) for j in (1, 2, 3)], 0)


def test_missing_pixels(ou_white):
    rng = np.random.default_rng(9)
    mask = rng.random(ou_white.shape) > 0.002
    data = np.where(mask, ou_white, np.nan)
    inf = infer_force({"u": data}, 0.5, library=OU_LIB, mask=mask)
    assert inf.weight == "white" and 0.9 < inf.valid_fraction < 1.0
    assert np.all(np.abs(_coef(inf) - OU_TRUTH) < 4 * _stderr(inf))
    # a static (N, M) mask is accepted too
    inf2 = infer_force({"u": ou_white}, 0.5, library=OU_LIB, mask=np.ones(ou_white.shape[1:], bool))
    assert inf2.valid_fraction == 1.0


def test_check_data_errors():
    x = np.zeros((10, 8, 8))
    with pytest.raises(ValueError, match="shape"):
        est.check_data({"u": x, "v": np.zeros((10, 8, 9))}, 0.5)
    with pytest.raises(ValueError, match="too few frames"):
        est.check_data({"u": x[:2]}, 0.5, min_frames=5)
    bad = x.copy()
    bad[3, 2, 2] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        est.check_data({"u": bad}, 0.5)
    mask = np.ones(x.shape, bool)
    with pytest.raises(ValueError, match="outside the mask"):
        est.check_data({"u": bad}, 0.5, mask=mask)
    mask[3, 2, 2] = False
    fields, *_, valid = est.check_data({"u": bad}, 0.5, mask=mask)
    assert fields["u"][3, 2, 2] == 0 and not valid[3, 2, 2]
    with pytest.raises(ValueError, match="boolean"):
        est.check_data({"u": x}, 0.5, mask=np.ones(x.shape))
    with pytest.raises(ValueError, match="dt"):
        est.check_data({"u": x}, -1.0)
    with pytest.raises(ValueError, match="method"):
        infer_force({"u": x}, 0.5, library=OU_LIB, method="euler")
    with pytest.raises(ValueError, match="reads a field"):
        infer_force({"u": np.random.default_rng(0).random((10, 8, 8))}, 0.5, library=Library([V]))


def test_diffusion_estimators(ou_white):
    d = est.diffusion_estimates({"u": ou_white}, 0.5)["u"]
    d_true = 0.05**2  # white noise: D per cell = sigma^2 / dV
    # the lag-1 MSD is biased low by the relaxation within a frame; the extrapolated one much less
    assert d["msd"] < 0.9 * d_true
    assert abs(d["extrapolated"] / d_true - 1) < abs(d["msd"] / d_true - 1)
    assert d["weak_noise"] > 0 and np.isfinite(d["measurement_noise"])


# ----------------------------------------------------------------------------- selection


def test_exhaustive_front_matches_brute_force_and_beam():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((200, 8))
    X[:, 3] = X[:, 1] + 0.1 * X[:, 3]  # some collinearity
    G = X.T @ X
    M = G @ np.array([1.0, 0, -2, 0, 0.5, 0, 0, 0]) + X.T @ rng.standard_normal(200)
    front = pareto_front(G, M, search="exhaustive")
    for size in range(9):
        best = max(selection.information(G, M, s) for s in itertools.combinations(range(8), size))
        assert front.information[size] == pytest.approx(best, rel=1e-9)
        assert selection.information(G, M, front.supports[size]) == pytest.approx(best, rel=1e-9)
    beam = pareto_front(G, M, search="beam")
    assert np.allclose(beam.information, front.information)
    assert np.all(np.diff(front.information) >= -1e-9)


def test_penalties():
    assert selection.penalty("PASTIS", 34, 0.001) == pytest.approx(math.log(34000))
    assert selection.penalty("AIC", 34) == 1.0
    assert selection.penalty("BIC", 34, tau=499) == pytest.approx(math.log(499) / 2)
    with pytest.raises(ValueError):
        selection.penalty("XIC", 3)


def test_pastis_rejects_useless_features(ou_white):
    lib = Library([one(), U, U**2, U**3, lap(U), biharmonic(U), dot(grad(U), grad(U))])
    inf = infer_force({"u": ou_white}, 0.5, library=lib)
    sel = select(inf)
    assert sel.supports == {"u": ["U", "lap U"]} and sel.n0 == 7
    assert sel.penalty == pytest.approx(math.log(7 / 0.001))
    # the front: more terms never give less information, and the extra ones give little
    info = [row["information"] for row in sel.front]
    assert all(b >= a - 1e-6 for a, b in zip(info, info[1:]))
    assert info[-1] - info[2] < 2 * sel.penalty
    # a feature that truly acts is kept: add a constant drive c = 0.01 to the data's force
    drift = ou_white + 0.0  # same frames: adding a constant force changes increments by c dt per frame
    drift = drift + 0.01 * 0.5 * np.arange(len(drift))[:, None, None]
    sel2 = select(infer_force({"u": drift}, 0.5, library=lib))
    assert "1" in sel2.supports["u"]


@pytest.mark.slow
def test_small_gray_scott_example_end_to_end():
    run = spde.sfi_example("coral", seed=3, n=32, frames=100, burn_in=60)
    res = infer({"u": run.u, "v": run.v}, run.dt)
    truth = spde.true_coefficients(*spde.REGIMES["coral"])
    err = relative_errors(res.terms, truth)
    assert err["spurious"] == {"u": [], "v": []}
    assert max(abs(e) for n in ("u", "v") for e in err[n].values()) < 0.05
    d = res.to_dict()
    assert d["criterion"] == "PASTIS" and d["n0"] == 34 and set(d["terms"]) == {"u", "v"}
    assert set(d["stderr"]["u"]) == set(d["terms"]["u"])
    assert d["diffusion"]["u"]["conserved_sigma"] == pytest.approx(0.01, rel=0.05)
    # the inferred model can be simulated from a frame of the data (the bootstrap comparison)
    sim = bootstrap(res, {"u": run.u[0], "v": run.v[0]}, frames=4, seed=1)
    assert sim["u"].shape == (4, 32, 32) and np.all(np.isfinite(sim["v"]))
    assert np.array_equal(sim["u"][0], run.u[0])


def test_model_force_of_the_true_terms_is_the_gray_scott_drift():
    u, v = sfi_seed(1, n=12)
    force = model_force(spde.true_coefficients(0.042, 0.063))
    out = force({"u": u, "v": v})
    fu, fv = spde.drift(u, v, 0.042, 0.063, 0.16, 0.08)
    assert np.allclose(out["u"], fu) and np.allclose(out["v"], fv)
