"""Tests of gslib.landscape: the differentiable FTCS, its gradients, the losses, gradient descent with the
safeguard, the batched cross-sections and the residual least squares. Tiny grids, a few steps: seconds."""

import math

import numpy as np
import pytest

import gslib
from gslib import landscape as L
from gslib.solvers.reference import laplacian, step

tf = pytest.importorskip("tensorflow")

TINY = L.setup_for("ci", n=12, square=4, max_steps=60, target_tol=1e-9, train_tol=1e-9)


@pytest.fixture(scope="module")
def seed12():
    return L.initial_state(TINY)


@pytest.fixture(scope="module")
def steady():
    """A steady spot pattern on 24 x 24 (f = 0.045, k = 0.062), run until one step changes it by < 1e-7."""
    u0, v0 = gslib.initial.landscape_seed(1, n=24, square=10)
    res = gslib.integrate(
        u0,
        v0,
        f=0.045,
        k=0.062,
        Du=0.16,
        Dv=0.08,
        dt=1.0,
        steps=20_000,
        stencil="5pt",
        backend="numpy",
        dtype=np.float64,
        steady_tol=1e-7,
        check_every=50,
    )
    assert res.steady[0] and np.ptp(res.v) > 0.2
    return res.u, res.v, np.array([0.16, 0.08, 0.045, 0.062])


def _reference_run(theta, u, v, steps, stencil="5pt"):
    for _ in range(steps):
        u, v = step(
            u, v, f=theta[2], k=theta[3], Du=theta[0], Dv=theta[1], dt=1.0, dx=1.0, stencil=stencil, flush=1e-150
        )
    return u, v


# ----------------------------------------------------------------------------- forward


@pytest.mark.parametrize("stencil", ["5pt", "9pt"])
def test_tf_scheme_matches_the_numpy_reference(seed12, stencil):
    u0, v0 = seed12
    theta = TINY.params
    u_ref, v_ref = _reference_run(theta, u0, v0, 37, stencil)
    u, v, taken = L.simulate_tf(theta, u0, v0, 37, stencil=stencil)
    assert int(taken) == 37
    np.testing.assert_allclose(u.numpy(), u_ref, rtol=0, atol=1e-13)
    np.testing.assert_allclose(v.numpy(), v_ref, rtol=0, atol=1e-13)
    run = L.forward(theta, u0, v0, 37, stencil=stencil, check_every=10)  # blocks of 10, 10, 10, 7
    assert run.steps == 37 and [c[2] for c in run.checkpoints] == [10, 10, 10, 7]
    np.testing.assert_allclose(run.u, u_ref, rtol=0, atol=1e-13)
    np.testing.assert_allclose(run.v, v_ref, rtol=0, atol=1e-13)


def test_float32_runs_close_to_float64(seed12):
    u0, v0 = seed12
    r32 = L.forward(TINY.params, u0, v0, 40, dtype=np.float32)
    r64 = L.forward(TINY.params, u0, v0, 40, dtype=np.float64)
    assert r32.u.dtype == np.float32
    np.testing.assert_allclose(r32.v, r64.v, atol=1e-5)


def test_steady_stop_agrees_with_the_engine():
    s = L.setup_for("ci", n=24, square=10, noise=0.0)
    u0, v0 = L.initial_state(s)
    theta = np.array([0.16, 0.08, 0.045, 0.062])
    eng = gslib.integrate(
        u0,
        v0,
        f=theta[2],
        k=theta[3],
        Du=theta[0],
        Dv=theta[1],
        dt=1.0,
        steps=3000,
        stencil="5pt",
        backend="numpy",
        dtype=np.float64,
        steady_tol=3e-4,
        check_every=100,
    )
    run = L.forward(theta, u0, v0, 3000, steady_tol=3e-4, check_every=100)
    assert eng.steady[0] and run.steady and run.steps == eng.steps[0] < 3000
    np.testing.assert_allclose(run.v, eng.v, atol=1e-12)
    _, _, taken = L.simulate_tf(theta, u0, v0, 3000, steady_tol=3e-4)  # checked every step: stops earlier
    assert int(taken) <= run.steps


def test_forward_marks_invalid_runs(seed12):
    u0, v0 = seed12
    run = L.forward(TINY.params, u0, v0 * 0 + 1.5, 5)
    assert run.finite and not run.valid  # v above 1
    with pytest.raises(ValueError, match="stability bound"):
        L.forward([0.4, 0.08, 0.035, 0.065], u0, v0, 5)
    with pytest.raises(ValueError, match="steps"):
        L.forward(TINY.params, u0, v0, 0)
    with pytest.raises(ValueError, match="float32, float64"):
        L.forward(TINY.params, u0, v0, 5, dtype=np.int32)


# ----------------------------------------------------------------------------- gradients


@pytest.fixture(scope="module")
def seed16():
    return gslib.initial.landscape_seed(0, n=16, square=6)


def _fd_gradient(theta, u0, v0, target, steps, loss_np, rel=1e-6):
    grad = np.zeros(4)
    for i in range(4):
        h = rel * theta[i]
        e = np.zeros(4)
        e[i] = h
        lp = loss_np(L.forward(theta + e, u0, v0, steps, check_every=25).v, target)
        lm = loss_np(L.forward(theta - e, u0, v0, steps, check_every=25).v, target)
        grad[i] = (lp - lm) / (2 * h)
    return grad


@pytest.mark.parametrize("loss", ["spectral", "windowed"])
def test_gradients_match_finite_differences(seed16, loss):
    u0, v0 = seed16
    target = L.forward(TINY.params, u0, v0, 50, check_every=25).v
    theta = TINY.params * np.array([1.05, 0.95, 1.1, 0.97])
    value, grad, run = L.value_and_grad(theta, u0, v0, target, loss=loss, steps=50, check_every=25)
    assert run.steps == 50 and [c[2] for c in run.checkpoints] == [25, 25]
    fd = _fd_gradient(theta, u0, v0, target, 50, L.LOSSES[loss][1])
    np.testing.assert_allclose(grad, fd, rtol=1e-5)
    assert value == pytest.approx(L.LOSSES[loss][1](run.v, target), rel=1e-12)
    if loss == "spectral":  # the same gradient from one tape around the whole unrolled loop
        theta_var = tf.Variable(theta)
        with tf.GradientTape() as tape:
            _, v, _ = L.simulate_tf(theta_var, u0, v0, 50)
            tape_loss = L.spectral_loss(v, target)
        np.testing.assert_allclose(tape.gradient(tape_loss, theta_var).numpy(), grad, rtol=1e-10)


def test_gradient_with_respect_to_the_initial_state(seed16):
    u0, v0 = seed16
    theta = TINY.params * 1.02
    run = L.forward(theta, u0, v0, 50, check_every=25)
    g_final = np.sin(np.arange(run.v.size)).reshape(run.v.shape)
    _, gu0, gv0 = L.backward(run, np.zeros_like(run.u), g_final)
    direction = np.cos(np.arange(v0.size)).reshape(v0.shape)
    h = 1e-6
    plus = L.forward(theta, u0, v0 + h * direction, 50, check_every=25).v
    minus = L.forward(theta, u0, v0 - h * direction, 50, check_every=25).v
    fd = np.sum(g_final * (plus - minus)) / (2 * h)
    assert np.sum(gv0 * direction) == pytest.approx(fd, rel=1e-6)
    assert np.abs(gu0).max() > 0


# ----------------------------------------------------------------------------- losses


def test_numpy_and_tensorflow_losses_agree():
    rng = np.random.default_rng(0)
    pred, target = rng.random((3, 32, 40)), rng.random((32, 40))
    for _name, (tf_loss, np_loss) in L.LOSSES.items():
        batch = np_loss(pred, target)
        assert batch.shape == (3,)
        np.testing.assert_allclose(tf_loss(tf.constant(pred), tf.constant(target)).numpy(), batch, rtol=1e-12)
        assert np_loss(pred[1], target) == pytest.approx(batch[1], rel=1e-12)
        assert np_loss(target, target) == 0
        assert np_loss(pred[0] + 3.0, target) == pytest.approx(batch[0], rel=1e-9)  # the mean is removed
    f32 = L.spectral_loss(tf.constant(pred, tf.float32), tf.constant(target, tf.float32)).numpy()
    np.testing.assert_allclose(f32, L.spectral_loss_np(pred, target), rtol=1e-3)


def test_power_spectrum_definition():
    x = np.random.default_rng(1).random((8, 6))
    expected = np.fft.fftshift(np.log(np.abs(np.fft.fft2(x - x.mean())) ** 2 + 1e-8))
    np.testing.assert_allclose(L.power_spectrum_np(x), expected)
    np.testing.assert_allclose(L.power_spectrum(tf.constant(x)).numpy(), expected, atol=1e-10)
    assert L.power_spectrum_np(x)[4, 3] == pytest.approx(math.log(1e-8), abs=1e-6)  # the zero mode, centred


def test_windowed_loss_uses_non_overlapping_tiles():
    rng = np.random.default_rng(2)
    pred, target = rng.random((35, 33)), rng.random((35, 33))
    tiles = [(r, c) for r in (0, 16) for c in (0, 16)]  # the 3 leftover rows/1 column are dropped
    manual = np.mean(
        [L.spectral_loss_np(pred[r : r + 16, c : c + 16], target[r : r + 16, c : c + 16]) for r, c in tiles]
    )
    assert L.windowed_spectral_loss_np(pred, target) == pytest.approx(manual, rel=1e-12)
    with pytest.raises(ValueError, match="window"):
        L.windowed_spectral_loss_np(pred[:10], target[:10])


def test_gram_loss_with_a_user_network():
    import keras

    inp = keras.Input((None, None, 3))
    a = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
    b = keras.layers.Conv2D(5, 3, padding="same")(a)
    net = keras.Model(inp, [a, b])
    rng = np.random.default_rng(3)
    x, y = rng.random((2, 16, 16)).astype(np.float32), rng.random((16, 16)).astype(np.float32)
    losses = L.gram_loss(x, y, net).numpy()
    fa, fb = net(np.repeat(x[..., None], 3, -1))
    ga, gb = net(np.repeat(y[None, ..., None], 3, -1))

    def gram(f):
        f = np.asarray(f).reshape(len(f), -1, f.shape[-1])
        return np.einsum("bpi,bpj->bij", f, f) / f.shape[1]

    manual = np.mean((gram(fa) - gram(ga)) ** 2, axis=(1, 2)) + np.mean((gram(fb) - gram(gb)) ** 2, axis=(1, 2))
    np.testing.assert_allclose(losses, manual, rtol=1e-4)
    assert float(L.gram_loss(y, y, net)) == 0


def _offline(monkeypatch, tmp_path):
    """An empty Keras cache and a download that fails as it does without network access."""
    import urllib.error

    from keras.src.utils import file_utils

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(file_utils, "urlretrieve", no_network)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return tmp_path / "keras_home" / "models"


def test_vgg19_offline_error_names_the_cache_and_the_alternatives(tmp_path, monkeypatch):
    cache = _offline(monkeypatch, tmp_path)
    assert L.keras_cache_dir() == cache
    x = np.zeros((16, 16), np.float32)
    for weights in (None, "imagenet"):
        with pytest.raises(L.WeightsUnavailableError) as info:
            L.gram_loss(x, x, weights=weights)
        message = str(info.value)
        assert str(cache / L.VGG19_WEIGHTS_FILE) in message and "download" in message
        assert 'features="pass1"' in message and "weights=" in message
        assert not __import__("re").search(r"\bhere\b", message)
    assert not (cache / L.VGG19_WEIGHTS_FILE).exists()  # no partial file left behind
    with pytest.raises(L.WeightsUnavailableError, match="no weights file at"):
        L.vgg19_features(tmp_path / "missing.h5")
    with pytest.raises(L.WeightsUnavailableError, match="download=False"):
        L.vgg19_weights_file(download=False)


def test_vgg19_weights_in_the_cache_work_offline(tmp_path, monkeypatch):
    import h5py
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    cache = _offline(monkeypatch, tmp_path)

    def tiny_vgg():  # VGG-19's layer names, a few channels: the loading path without an 80 MB file
        inp = keras.Input((None, None, 3))
        a = keras.layers.Conv2D(3, 3, padding="same", activation="relu", name="block1_conv1")(inp)
        b = keras.layers.MaxPooling2D(name="block1_pool")(a)
        c = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="block2_conv1")(b)
        return keras.Model(inp, c, name="vgg19")

    source = tiny_vgg()
    cache.mkdir(parents=True)
    with h5py.File(cache / L.VGG19_WEIGHTS_FILE, "w") as fh:  # the legacy layout of Keras' notop file
        legacy_h5_format.save_weights_to_hdf5_group(fh, source)
    monkeypatch.setattr(L.losses, "_vgg19_architecture", tiny_vgg)
    features = L.vgg19_features("imagenet", layers=("block1_conv1", "block2_conv1"))
    img = np.random.default_rng(0).random((1, 8, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(features(img)[1], source(img), rtol=1e-6)
    assert L.vgg19_weights_file(download=False) == cache / L.VGG19_WEIGHTS_FILE
    with pytest.raises(ValueError, match="block1_conv1"):
        L.vgg19_features("imagenet", layers=("block9_conv1",))
    (cache / L.VGG19_WEIGHTS_FILE).write_bytes(b"not an HDF5 file")
    with pytest.raises(L.WeightsUnavailableError, match="could not be read"):
        L.vgg19_features("imagenet", layers=("block1_conv1",))


def test_the_shipped_classifier_as_feature_network():
    from gslib import cnn

    features = L.cnn_features("pass1")
    assert L.cnn_features("pass1") is features  # built once
    net, _ = cnn.load_pretrained("pass1")
    np.testing.assert_array_equal(features.get_layer("conv3").get_weights()[0], net.get_layer("conv3").get_weights()[0])
    rng = np.random.default_rng(1)
    x, y = rng.random((2, 48, 56)), rng.random((48, 56))
    maps = features(np.repeat(x[..., None], 3, -1).astype(np.float32))
    assert [m.shape[-1] for m in maps] == [32, 64, 128, 128]
    batch = L.gram_loss(x, y, "pass1").numpy()
    np.testing.assert_allclose(L.gram_loss_np(x, y), batch, rtol=1e-5)
    assert L.gram_loss_np(y, y) == 0 and np.all(batch > 0)
    bad = np.array(x)
    bad[0, 3, 3] = np.nan
    out = L.gram_loss_np(bad, y)
    assert np.isnan(out[0]) and out[1] == pytest.approx(batch[1], rel=1e-5)
    pred = tf.Variable(x[0])
    with tf.GradientTape() as tape:
        value = L.gram_loss(pred, y, "pass1")
    grad = tape.gradient(value, pred).numpy()
    assert value.shape == () and np.all(np.isfinite(grad)) and np.abs(grad).max() > 0
    with pytest.raises(ValueError, match="pass1"):
        L.cnn_features("pass9")
    with pytest.raises(ValueError, match="conv1"):
        L.cnn_features("pass1", layers=("logits",))
    with pytest.raises(ValueError, match="at least 48"):
        L.gram_loss_np(rng.random((16, 16)), rng.random((16, 16)))
    with pytest.raises(ValueError, match="features="):
        L.gram_loss(x, y, "resnet")


def test_gram_loss_in_cross_sections_and_gradients():
    setup = L.setup_for("ci", n=48, max_steps=200, target_tol=1e-12, train_tol=1e-12)
    target = L.target_pattern(setup, dtype=np.float64)
    cs = L.cross_section(setup, target.u, target.v, {"k": [0.06, setup.k]}, losses=("gram", "spectral"))
    assert cs.losses["gram"].shape == (2,) and cs.losses["gram"][1] < 1e-3 < cs.losses["gram"][0]
    with pytest.raises(ValueError, match="gram_field"):
        L.cross_section(setup, target.u, target.v, {"k": [0.06]}, losses=("gram",), gram_field="w")
    u0, v0 = L.initial_state(setup)
    value, grad, run = L.value_and_grad(setup.params * 1.01, u0, v0, target.u, loss="gram", field="u", steps=100)
    assert value == pytest.approx(float(L.gram_loss_np(run.u, target.u)), rel=1e-5)
    assert np.all(np.isfinite(grad)) and np.abs(grad).max() > 0


# ----------------------------------------------------------------------------- gradient descent


def test_parametrisation_round_trip_and_derivative():
    p = np.array([0.16, 0.08, 0.035, 0.065])
    raw = L.raw_from_params(p)
    np.testing.assert_allclose(L.params_from_raw(raw), p, rtol=1e-14)
    h = 1e-6
    fd = (L.params_from_raw(raw + h) - L.params_from_raw(raw - h)) / (2 * h)
    np.testing.assert_allclose(L.landscapes._dparams_draw(raw), fd, rtol=1e-7)
    assert np.all(np.isfinite(L.params_from_raw([-800.0, 800.0, -800.0, 800.0])))
    with pytest.raises(ValueError, match="range"):
        L.raw_from_params([0.16, 0.08, 0.12, 0.065])


def test_fit_backprop_steps_and_safeguard(seed12):
    h = L.fit_backprop(TINY, TINY.params * np.array([1.05, 0.95, 1.04, 0.98]), 3)
    a = h.arrays()
    assert a["loss"].shape == (4,) and a["params"].shape == (4, 4) and np.all(np.isfinite(a["loss"]))
    assert a["lr"][0] == 0 and np.all(a["lr"][1:] == 1e-4) and np.all(a["rejected"] == 0)
    # the SGD step with weight decay on the raw parameters
    raw0 = L.raw_from_params(a["params"][0])
    expected = raw0 - 1e-4 * (a["grad"][0] * L.landscapes._dparams_draw(raw0) + 5e-4 * raw0)
    np.testing.assert_allclose(L.raw_from_params(a["params"][1]), expected, rtol=1e-10)
    # a huge learning rate: the trial leaves the stable range (or v leaves [0, 1]) and lr is cut by 10
    big = L.fit_backprop(TINY, TINY.params * np.array([1.05, 0.95, 1.04, 0.98]), 2, lr=1e4, max_reductions=4)
    b = big.arrays()
    assert np.all(b["rejected"][1:] >= 1)
    for lr, rej in zip(b["lr"][1:], b["rejected"][1:]):
        assert (lr == 0 and rej == 5) or lr == pytest.approx(1e4 * 0.1**rej)
    assert np.all(big.relative_error() >= 0)


# ----------------------------------------------------------------------------- cross-sections


def test_cross_sections_1d_and_2d():
    s = L.setup_for("ci", n=24, square=10, max_steps=400, train_tol=1e-9, f=0.045, k=0.062)
    target = L.forward(s.params, *L.initial_state(s), 400)
    values = np.array([0.03, s.f, 0.06])
    cs = L.cross_section(s, target.u, target.v, {"f": values}, backend="numpy", dtype=np.float64)
    assert cs.grid == (3,) and cs.names == ("f",) and cs.params.shape == (3, 4)
    assert cs.losses["spectral"][1] < 1e-12 and cs.losses["windowed"][1] < 1e-12
    assert cs.losses["spectral"][0] > 0.1 and np.all(cs.steps == 400)
    assert cs.losses["residual"].argmin() == 1 or cs.losses["residual"][1] <= cs.losses["residual"].min() + 1e-12
    cs2 = L.cross_section(
        s,
        target.u,
        target.v,
        {"f": values[:2], "k": [0.055, s.k, 0.07]},
        losses=("spectral",),
        backend="numpy",
        dtype=np.float64,
        keep_fields=True,
    )
    assert cs2.grid == (2, 3) and cs2.losses["spectral"].shape == (2, 3) and cs2.v.shape == (2, 3, 24, 24)
    assert cs2.losses["spectral"][1, 1] < 1e-12
    assert cs2.params[0, 2, 2] == 0.03 and cs2.params[0, 2, 3] == 0.07 and cs2.params[0, 2, 0] == s.Du
    with pytest.raises(ValueError, match="not a parameter"):
        L.cross_section(s, target.u, target.v, {"F": values})


# ----------------------------------------------------------------------------- the residual


def test_residual_is_the_ftcs_increment(steady):
    u, v, theta = steady
    rng = np.random.default_rng(4)
    u2, v2 = u + 0.01 * rng.standard_normal(u.shape), v + 0.01 * rng.standard_normal(v.shape)
    for stencil in ("5pt", "9pt"):
        un, vn = step(u2, v2, f=theta[2], k=theta[3], Du=theta[0], Dv=theta[1], dt=1.0, dx=1.0, stencil=stencil)
        direct = np.mean((un - u2) ** 2 + (vn - v2) ** 2)
        assert L.residual_loss(u2, v2, theta, stencil=stencil) == pytest.approx(direct, rel=1e-9)
    A, b = L.residual_design(u2, v2, 0.5, "5pt")
    r = A @ theta - b
    lap_u = laplacian(u2, 0.5, "5pt")
    np.testing.assert_allclose(r[: u.size], (theta[0] * lap_u - u2 * v2**2 + theta[2] * (1 - u2)).ravel())


def test_residual_fit_recovers_the_parameters(steady):
    u, v, theta = steady
    fit = L.residual_fit(u, v, 1.0, "5pt")
    err = fit.array() / theta - 1
    assert np.abs(err).max() < 1e-5
    assert all(fit.stderr[p] > 0 for p in L.PARAMS) and fit.residual_rms < 1e-6 and fit.condition < 100
    # the loss is a quadratic bowl whose minimum is the fit
    grid = fit.array() * (1 + 0.01 * np.eye(4))
    assert np.all(L.residual_loss(u, v, grid) > L.residual_loss(u, v, fit.array()))
    d = fit.to_dict()
    assert set(d["params"]) == set(d["stderr"]) == set(L.PARAMS)
    # noise on the pattern degrades it gracefully
    noisy = L.residual_fit(u + 1e-4 * np.random.default_rng(5).standard_normal(u.shape), v, 1.0, "5pt")
    assert np.abs(noisy.array() / theta - 1).max() < 0.05


@pytest.mark.parametrize("stencil", ["5pt", "9pt"])
def test_noise_correction_removes_the_errors_in_variables_bias(stencil):
    u0, v0 = gslib.initial.landscape_seed(1, n=24, square=10)
    res = gslib.integrate(
        u0,
        v0,
        f=0.045,
        k=0.062,
        Du=0.16,
        Dv=0.08,
        dt=1.0,
        steps=20_000,
        stencil=stencil,
        backend="numpy",
        dtype=np.float64,
        steady_tol=1e-7,
        check_every=50,
    )
    theta = np.array([0.16, 0.08, 0.045, 0.062])
    plain, corrected = [], []
    for draw in range(8):
        rng = np.random.default_rng(draw)
        u = res.u + 3e-3 * rng.standard_normal(res.u.shape)
        v = res.v + 3e-3 * rng.standard_normal(res.v.shape)
        plain.append(L.residual_fit(u, v, 1.0, stencil, on_unexplained="ignore").array() / theta - 1)
        fit = L.residual_fit(u, v, 1.0, stencil, noise=3e-3)
        assert fit.noise == 3e-3 and fit.to_dict()["noise"] == 3e-3
        corrected.append(fit.array() / theta - 1)
    bias_plain, bias_corrected = np.mean(plain, axis=0), np.mean(corrected, axis=0)
    assert bias_plain[0] < -0.02 and bias_plain[1] < -0.02  # attenuation of the diffusivities
    assert np.all(np.abs(bias_corrected[:2]) < np.abs(bias_plain[:2]) / 4)
    with pytest.raises(ValueError, match="noise"):
        L.residual_fit(res.u, res.v, noise=-1.0)
    with pytest.raises(ValueError, match="too large"):
        L.residual_fit(res.u, res.v, noise=1.0)


def test_residual_fit_refuses_bad_patterns(steady):
    u, v, _ = steady
    with pytest.raises(ValueError, match="uniform.*no information"):
        L.residual_fit(np.ones((8, 8)), np.zeros((8, 8)))
    with pytest.raises(ValueError, match="NaN"):
        L.residual_fit(np.where(u == u.max(), np.nan, u), v)
    with pytest.raises(ValueError, match="same shape"):
        L.residual_fit(u, v[:-1])
    with pytest.raises(ValueError, match=r"shape \(N, M\)"):
        L.residual_fit(u[0], v[0])
    with pytest.raises(ValueError, match="no information on Dv, k"):
        L.residual_fit(u, np.zeros_like(v))
    with pytest.raises(ValueError, match="dx"):
        L.residual_fit(u, v, dx=-1)
    with pytest.raises(ValueError, match="stencil"):
        L.residual_fit(u, v, stencil="7pt")
