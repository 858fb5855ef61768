"""Tests of the stochastic Gray-Scott simulator gslib.spde (small grids, a few seconds in all)."""

import numpy as np
import pytest

import gslib
from gslib import spde
from gslib.initial import sfi_seed
from gslib.solvers import reference

# ----------------------------------------------------------------------------- noise


@pytest.mark.parametrize("shape", [(16, 16), (12, 20)])
def test_conserved_noise_has_exactly_zero_mean(shape):
    n, m = shape
    rng = np.random.default_rng(0)
    amp = spde._amplitude(n, m, 0.01, 1.0, "conserved", 0.125)
    xi = spde.noise_increment(rng.standard_normal((50, n, m)), amp)
    assert np.abs(xi.mean(axis=(-1, -2))).max() < 1e-17
    assert xi.std() > 1e-4  # but it is not zero


@pytest.mark.parametrize("noise", ["conserved", "white"])
def test_noise_spectrum_and_effective_diffusion(noise):
    n, h, sigma = 16, 0.2, 0.03
    rng = np.random.default_rng(1)
    amp = spde._amplitude(n, n, sigma, 1.0, noise, h)
    xi = spde.noise_increment(rng.standard_normal((4000, n, n)), amp)
    power = (np.abs(np.fft.fft2(xi)) ** 2).mean(axis=0) / (n * n)  # per-mode covariance of the increment
    expected = h * spde.noise_symbol(n, n, sigma, 1.0, noise)
    nonzero = expected > 0
    ratio = power[nonzero] / expected[nonzero]
    assert abs(ratio.mean() - 1) < 0.01 and np.abs(ratio - 1).max() < 0.15
    if noise == "conserved":
        assert power[0, 0] < 1e-28 and expected[0, 0] == 0
    # per-cell variance 2 D_eff h
    d_eff = spde.effective_diffusion(n, n, sigma, 1.0, noise)
    assert abs(xi.var() / (2 * d_eff * h) - 1) < 0.02


def test_symbol_values():
    a = spde.noise_symbol(8, 8, 0.1, dx=2.0)
    qy, qx = spde.wave_numbers(8, 8, 2.0)
    assert np.allclose(a, 2 * 0.01 * (qx**2 + qy**2) / 4.0)
    assert np.allclose(spde.noise_symbol(8, 8, 0.1, 1.0, "white"), 0.02)
    # the SFI value quoted in the reference: D_eff about 6.6e-4 on 64 x 64
    assert abs(spde.effective_diffusion(64, 64, 0.01) - 6.6e-4) < 0.05e-4


def test_conserved_noise_conserves_u_plus_v_without_feed():
    # f = k = 0: the reactions turn u into v, the Laplacians and the conserved noise move matter around,
    # so the total amount of u + v is conserved exactly (up to rounding); a white noise does not conserve it
    u0, v0 = sfi_seed(3, n=16)
    total0 = (u0 + v0).mean()
    res = spde.simulate_spde(u0, v0, f=0.0, k=0.0, sigma=0.05, dt=0.5, frames=20, seed=1)
    drift = np.abs((res.u + res.v).mean(axis=(-1, -2)) - total0).max()
    assert drift < 1e-12
    white = spde.simulate_spde(u0, v0, f=0.0, k=0.0, sigma=0.05, noise="white", dt=0.5, frames=20, seed=1)
    assert np.abs((white.u + white.v).mean(axis=(-1, -2)) - total0).max() > 1e-4


# ----------------------------------------------------------------------------- runs


def test_determinism_and_batch():
    u0, v0 = sfi_seed(0, n=16)
    kw = dict(dt=0.5, substeps=2, frames=5, burn_in=3)
    a = spde.simulate_spde(u0, v0, f=0.042, k=0.063, seed=7, **kw)
    b = spde.simulate_spde(u0, v0, f=0.042, k=0.063, seed=7, **kw)
    c = spde.simulate_spde(u0, v0, f=0.042, k=0.063, seed=8, **kw)
    assert np.array_equal(a.u, b.u) and np.array_equal(a.v, b.v)
    assert not np.array_equal(a.u, c.u)
    assert a.u.shape == (5, 16, 16) and np.allclose(a.times, 0.5 * np.arange(3, 8))
    batch = spde.simulate_spde(
        np.stack([u0, u0]), np.stack([v0, v0]), f=[0.042, 0.03], k=[0.063, 0.057], seed=[7, 8], **kw
    )
    assert batch.u.shape == (2, 5, 16, 16)
    assert np.array_equal(batch.u[0], a.u)
    assert np.array_equal(batch.member(1).u, spde.simulate_spde(u0, v0, f=0.03, k=0.057, seed=8, **kw).u)


def test_euler_without_noise_is_the_engines_forward_euler():
    u0, v0 = sfi_seed(2, n=16)
    res = spde.simulate_spde(
        u0, v0, f=0.042, k=0.063, Du=0.2, Dv=0.1, sigma=0.0, dt=1.0, substeps=4, frames=6, scheme="euler"
    )
    eng = gslib.integrate(
        u0,
        v0,
        f=0.042,
        k=0.063,
        Du=0.2,
        Dv=0.1,
        dt=0.25,
        steps=20,
        backend="numpy",
        dtype=np.float64,
        record_times=[0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
    )
    assert np.abs(res.u - eng.frames_u).max() < 1e-13
    assert np.abs(res.v - eng.frames_v).max() < 1e-13


def test_heun_converges_at_second_order_and_euler_at_first():
    u0, v0 = sfi_seed(4, n=16)
    kw = dict(Du=0.16, Dv=0.08, sigma=0.0, dt=2.0, frames=2)

    def final(scheme, substeps):
        r = spde.simulate_spde(u0, v0, f=0.042, k=0.063, scheme=scheme, substeps=substeps, **kw)
        return np.concatenate([r.u[-1].ravel(), r.v[-1].ravel()])

    ref = final("heun", 256)
    err = {(s, m): np.abs(final(s, m) - ref).max() for s in ("heun", "euler") for m in (4, 8)}
    assert 3.3 < err["heun", 4] / err["heun", 8] < 4.7
    assert 1.7 < err["euler", 4] / err["euler", 8] < 2.3
    assert err["heun", 8] < err["euler", 8] / 10


def test_sfi_example_and_save(tmp_path):
    run = spde.sfi_example("spots", seed=1, n=16, frames=4, burn_in=2)
    assert run.params["f"] == 0.030 and run.params["k"] == 0.057 and run.params["regime"] == "spots"
    assert run.params["sigma"] == 0.01 and run.params["Du"] == 0.16 and run.params["substeps"] == 4
    path = tmp_path / "run.npz"
    run.save(path)
    with np.load(path, allow_pickle=False) as d:
        assert np.array_equal(d["u"], run.u) and float(d["dt"]) == 0.5 and float(d["dx"]) == 1.0
        assert str(d["regime"]) == "spots"
    batch = spde.sfi_example(["spots", "holes"], seed=[1, 2], n=16, frames=3, burn_in=1)
    assert batch.u.shape == (2, 3, 16, 16) and batch.params["regime"] == ["spots", "holes"]
    truth = spde.true_coefficients(0.042, 0.063)
    assert truth["u"] == {"1": 0.042, "U": -0.042, "UV^2": -1.0, "lap U": 0.16}
    assert truth["v"]["V"] == pytest.approx(-0.105)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(u0=np.ones(5)), "u0"),
        (dict(v0=np.ones((8, 9))), "v0"),
        (dict(f=-0.1), "f"),
        (dict(k=float("nan")), "k"),
        (dict(Du=-1.0), "Du"),
        (dict(sigma=-0.1), "sigma"),
        (dict(noise="pink"), "noise"),
        (dict(dt=0.0), "dt"),
        (dict(substeps=0), "substeps"),
        (dict(frames=0), "frames"),
        (dict(burn_in=-1), "burn_in"),
        (dict(scheme="rk4"), "scheme"),
        (dict(stencil="7pt"), "stencil"),
        (dict(dx=0), "dx"),
        (dict(seed=-3), "seed"),
    ],
)
def test_invalid_arguments_name_the_argument(kwargs, name):
    u0, v0 = sfi_seed(0, n=8)
    args = dict(u0=u0, v0=v0, f=0.04, k=0.06, frames=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        spde.simulate_spde(args.pop("u0"), args.pop("v0"), f=args.pop("f"), k=args.pop("k"), **args)


def test_batch_needs_one_seed_per_member_and_blowup_is_reported():
    u0, v0 = sfi_seed([0, 1], n=8)
    with pytest.raises(ValueError, match="seed"):
        spde.simulate_spde(u0, v0, f=0.04, k=0.06, seed=3, frames=2)
    with pytest.raises(ValueError, match="regime"):
        spde.sfi_example("stripes")
    u1, v1 = sfi_seed(0, n=8)
    with pytest.raises(ValueError, match="non-finite"):
        spde.simulate_spde(u1, v1, f=0.04, k=0.06, Du=50.0, dt=1.0, substeps=1, frames=50)


def test_drift_matches_the_reference_terms():
    u, v = sfi_seed(5, n=12)
    fu, fv = spde.drift(u, v, 0.04, 0.06, 0.2, 0.1)
    ru, rv = reference.reaction(u, v, f=0.04, k=0.06)
    assert np.allclose(fu, 0.2 * reference.laplacian(u) + ru) and np.allclose(fv, 0.1 * reference.laplacian(v) + rv)


def test_simulate_force_reproduces_simulate_spde():
    u0, v0 = sfi_seed(6, n=16)
    kw = dict(dt=0.5, substeps=2, frames=6, burn_in=2, seed=11)
    ref = spde.simulate_spde(u0, v0, f=0.042, k=0.063, **kw)

    def force(x):
        fu, fv = spde.drift(x["u"], x["v"], 0.042, 0.063, 0.16, 0.08)
        return {"u": fu, "v": fv}

    a = spde.noise_symbol(16, 16, 0.01)
    out = spde.simulate_force(force, {"u": u0, "v": v0}, {"u": a, "v": a}, **kw)
    assert np.abs(out["u"] - ref.u).max() < 1e-12 and np.abs(out["v"] - ref.v).max() < 1e-12
    assert np.allclose(out["times"], ref.times)
    with pytest.raises(ValueError, match="noise_symbols"):
        spde.simulate_force(force, {"u": u0, "v": v0}, {"u": a}, frames=2)
