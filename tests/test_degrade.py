"""Tests of gslib.inference.degrade: missing pixels, measurement noise, coarsening (well under a second)."""

import numpy as np
import pytest

import gslib.inference as inference
from gslib.inference import add_measurement_noise, coarsen, degrade, random_mask


def test_exported_from_the_package():
    for name in ("random_mask", "add_measurement_noise", "coarsen"):
        assert name in inference.__all__ and getattr(inference, name) is getattr(degrade, name)


# ----------------------------------------------------------------------------- random_mask


def test_random_mask_shape_dtype_and_fraction():
    mask = random_mask((40, 32, 32), 0.1, seed=3)
    assert mask.shape == (40, 32, 32) and mask.dtype == np.bool_
    missing = 1 - mask.mean()  # 40 960 cells: the std of the fraction is 0.0015
    assert abs(missing - 0.1) < 0.006
    assert random_mask((16, 16), 0.5, seed=0).shape == (16, 16)


def test_random_mask_is_the_documented_draw_and_reproducible():
    mask = random_mask((5, 8, 8), 0.001, seed=7)
    np.testing.assert_array_equal(mask, np.random.default_rng(7).random((5, 8, 8)) >= 0.001)
    np.testing.assert_array_equal(mask, random_mask((5, 8, 8), 0.001, seed=7))
    assert not np.array_equal(random_mask((20, 20), 0.5, seed=1), random_mask((20, 20), 0.5, seed=2))


def test_random_mask_extremes():
    assert random_mask((4, 6), 0.0, seed=0).all()
    assert not random_mask((4, 6), 1.0, seed=0).any()


@pytest.mark.parametrize("fraction", [-0.1, 1.5, float("nan"), True, "0.1"])
def test_random_mask_rejects_bad_fractions(fraction):
    with pytest.raises(ValueError, match="fraction"):
        random_mask((4, 4), fraction, seed=0)


@pytest.mark.parametrize("shape", [(-1, 4), (4.5, 4), "ab", None])
def test_random_mask_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match="shape"):
        random_mask(shape, 0.1, seed=0)


# ----------------------------------------------------------------------------- add_measurement_noise


def test_measurement_noise_std_shape_and_independence():
    u = np.full((20, 32, 32), 0.7)
    v = np.linspace(0, 1, 20 * 32 * 32).reshape(20, 32, 32)
    noisy_u, noisy_v = add_measurement_noise(u, v, std=0.003, seed=11)
    assert noisy_u.shape == u.shape and noisy_v.shape == v.shape
    du, dv = noisy_u - u, noisy_v - v
    for d in (du, dv):  # 20 480 values: the std is known to about 0.5 %
        assert abs(d.std() / 0.003 - 1) < 0.03 and abs(d.mean()) < 1e-4
    assert abs(np.corrcoef(du.ravel(), dv.ravel())[0, 1]) < 0.03
    assert np.all(u == 0.7)  # the inputs are not modified


def test_measurement_noise_is_the_documented_draw():
    u, v = np.zeros((3, 6, 6)), np.ones((3, 6, 6))
    noisy_u, noisy_v = add_measurement_noise(u, v, std=0.5, seed=4)
    rng = np.random.default_rng(4)
    np.testing.assert_array_equal(noisy_u, 0.5 * rng.standard_normal(u.shape))
    np.testing.assert_array_equal(noisy_v, 1 + 0.5 * rng.standard_normal(v.shape))
    again = add_measurement_noise(u, v, std=0.5, seed=4)
    np.testing.assert_array_equal(again[0], noisy_u)


def test_zero_measurement_noise_returns_copies():
    u, v = np.arange(8.0).reshape(2, 2, 2), -np.arange(8.0).reshape(2, 2, 2)
    noisy_u, noisy_v = add_measurement_noise(u, v, std=0.0, seed=0)
    np.testing.assert_array_equal(noisy_u, u)
    np.testing.assert_array_equal(noisy_v, v)
    assert noisy_u is not u


@pytest.mark.parametrize("std", [-0.01, float("inf"), None])
def test_measurement_noise_rejects_bad_std(std):
    with pytest.raises(ValueError, match="std"):
        add_measurement_noise(np.zeros((2, 4, 4)), np.zeros((2, 4, 4)), std, seed=0)


# ----------------------------------------------------------------------------- coarsen


@pytest.mark.parametrize("factor", [1, 2, 4, 8])
def test_coarsen_constant_fields(factor):
    u, v = np.full((3, 16, 24), 0.25), np.full((3, 16, 24), -2.0)
    cu, cv, dx = coarsen(u, v, factor)
    assert cu.shape == cv.shape == (3, 16 // factor, 24 // factor)
    assert dx == factor
    np.testing.assert_allclose(cu, 0.25, atol=1e-15)
    np.testing.assert_allclose(cv, -2.0, atol=1e-15)


def test_coarsen_scales_the_spacing_and_keeps_the_mean():
    rng = np.random.default_rng(0)
    u, v = rng.random((4, 12, 12)), rng.random((4, 12, 12))
    cu, cv, dx = coarsen(u, v, 3, dx=0.5)
    assert dx == 1.5 and cu.shape == (4, 4, 4)
    np.testing.assert_allclose(cu.mean(axis=(1, 2)), u.mean(axis=(1, 2)), rtol=1e-13)
    np.testing.assert_allclose(cv.mean(axis=(1, 2)), v.mean(axis=(1, 2)), rtol=1e-13)
    np.testing.assert_allclose(cu[2, 1, 3], u[2, 3:6, 9:12].mean(), rtol=1e-13)  # block (1, 3) of frame 2


def test_coarsen_undoes_block_replication_and_factor_one_copies():
    rng = np.random.default_rng(1)
    a = rng.random((2, 5, 7))
    blocky = np.kron(a, np.ones((1, 4, 4)))  # each value repeated over a 4 x 4 block
    cu, cv, dx = coarsen(blocky, 2 * blocky, 4)
    np.testing.assert_allclose(cu, a, rtol=1e-13)
    np.testing.assert_allclose(cv, 2 * a, rtol=1e-13)
    same_u, _, dx1 = coarsen(a, a, 1)
    np.testing.assert_array_equal(same_u, a)
    assert dx1 == 1.0 and same_u is not a


@pytest.mark.parametrize("factor", [2, 4])
def test_coarsen_of_a_smooth_periodic_field_is_an_attenuated_sine(factor):
    # the block average of sin(q x) over cells x = f J .. f J + f - 1 is A(q) sin(q X_J), with
    # X_J = f J + (f - 1) / 2 the block centre and A(q) = sin(q f / 2) / (f sin(q / 2))
    n, m = 32, 48
    qy, qx = 2 * np.pi * 2 / n, 2 * np.pi * 3 / m
    y, x = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    u = np.sin(qx * x) * np.cos(qy * y)
    cu, _, dx = coarsen(u, u, factor)

    def gain(q):
        return np.sin(q * factor / 2) / (factor * np.sin(q / 2))

    Y, X = np.meshgrid(
        factor * np.arange(n // factor) + (factor - 1) / 2,
        factor * np.arange(m // factor) + (factor - 1) / 2,
        indexing="ij",
    )
    expected = gain(qx) * gain(qy) * np.sin(qx * X) * np.cos(qy * Y)
    np.testing.assert_allclose(cu, expected, atol=1e-13)
    assert gain(qx) * gain(qy) < 1  # attenuated, and more so for larger blocks


def test_coarsen_accepts_a_single_frame():
    cu, cv, dx = coarsen(np.ones((8, 8)), np.zeros((8, 8)), 2)
    assert cu.shape == cv.shape == (4, 4)


@pytest.mark.parametrize("factor", [0, -2, 1.5, True, "2", None])
def test_coarsen_rejects_bad_factors(factor):
    with pytest.raises(ValueError, match="factor"):
        coarsen(np.zeros((2, 8, 8)), np.zeros((2, 8, 8)), factor)


@pytest.mark.parametrize("shape", [(2, 30, 32), (2, 32, 30), (30, 30)])
def test_coarsen_rejects_grids_not_divisible(shape):
    with pytest.raises(ValueError, match="not divisible"):
        coarsen(np.zeros(shape), np.zeros(shape), 4)


def test_coarsen_rejects_mismatched_or_flat_fields_and_bad_dx():
    with pytest.raises(ValueError, match="one shape"):
        coarsen(np.zeros((2, 8, 8)), np.zeros((3, 8, 8)), 2)
    with pytest.raises(ValueError, match="grid"):
        coarsen(np.zeros(8), np.zeros(8), 2)
    with pytest.raises(ValueError, match="dx"):
        coarsen(np.zeros((8, 8)), np.zeros((8, 8)), 2, dx=0.0)
