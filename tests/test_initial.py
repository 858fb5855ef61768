"""Tests of gslib.initial: seeds of the Gray-Scott model."""

import numpy as np
import pytest

from gslib import initial

GENERATORS = [
    (initial.cnn_seed, {}, 128),
    (initial.cnn_seed, {"shift": "one_axis"}, 128),
    (initial.sfi_seed, {}, 64),
    (initial.landscape_seed, {}, 128),
]


# ----------------------------------------------------------------------------- common


@pytest.mark.parametrize("gen, kw, n", GENERATORS)
def test_shapes_and_dtypes(gen, kw, n):
    u, v = gen(3, **kw)
    assert u.shape == v.shape == (n, n)
    assert u.dtype == v.dtype == np.float64
    ub, vb = gen([1, 2, 3], **kw)
    assert ub.shape == vb.shape == (3, n, n)
    assert ub.dtype == vb.dtype == np.float64
    assert np.all(np.isfinite(ub)) and np.all(np.isfinite(vb))


@pytest.mark.parametrize("gen, kw, n", GENERATORS)
def test_determinism(gen, kw, n):
    u1, v1 = gen(7, **kw)
    u2, v2 = gen(7, **kw)
    assert np.array_equal(u1, u2) and np.array_equal(v1, v2)
    u3, v3 = gen(np.int64(7), **kw)
    assert np.array_equal(u1, u3) and np.array_equal(v1, v3)
    u4, _ = gen(8, **kw)
    assert not np.array_equal(u1, u4)


@pytest.mark.parametrize("gen, kw, n", GENERATORS)
def test_batch_equals_stacked_singles(gen, kw, n):
    seeds = [5, 0, 11, 5]
    ub, vb = gen(seeds, **kw)
    for b, s in enumerate(seeds):
        u, v = gen(s, **kw)
        assert np.array_equal(ub[b], u) and np.array_equal(vb[b], v)
    ua, va = gen(np.array(seeds), **kw)
    assert np.array_equal(ua, ub) and np.array_equal(va, vb)
    ut, _ = gen(tuple(seeds), **kw)
    assert np.array_equal(ut, ub)


# ----------------------------------------------------------------------------- cnn_seed


def test_block_index_convention_and_wrap():
    # side 20 at centre 64: rows 55 .. 74, i.e. c-9 .. c+10
    assert list(initial._block_index(64, 20, 128)) == list(range(55, 75))
    wrapped = initial._block_index(125, 20, 128)
    assert list(wrapped) == list(range(116, 128)) + list(range(0, 8))


def _expected_masks(n, square, centre):
    """Masks of the three blocks, built independently with slices on a tiled grid."""
    sx, sy = centre
    r2, c2 = round(n * sx), round(n * sy)
    half = (square - 1) // 2

    def block(r, c):
        big = np.zeros((3 * n, 3 * n), dtype=bool)
        r0, c0 = r - half + n, c - half + n
        big[r0 : r0 + square, c0 : c0 + square] = True
        return big.reshape(3, n, 3, n).any(axis=(0, 2))

    c = n // 2
    return block(c, c), block(r2, c2), block(r2 + 6, c2 + 9)


@pytest.mark.parametrize("seed", range(12))
def test_cnn_squares_structure(seed):
    n, square = 128, 20
    u, v, centre = initial._cnn_squares(np.random.default_rng(seed), n, square)
    centre_blk, second, notch = _expected_masks(n, square, centre)

    # values are exactly those of the recipe
    assert set(np.unique(u)) <= {0.5, 0.99, 1.0}
    assert set(np.unique(v)) <= {0.0, 0.01, 0.25}
    # the notch is a full square x square block with u = 0.99, v = 0.01
    assert np.all(u[notch] == 0.99) and np.all(v[notch] == 0.01)
    assert np.count_nonzero(u == 0.99) == square**2
    # centre block exact (outside whatever the notch cut)
    keep = centre_blk & ~notch
    assert np.all(u[keep] == 0.5) and np.all(v[keep] == 0.25)
    assert keep.sum() > square**2 // 2
    # the second block with its notch: a Gamma
    gamma = second & ~notch
    assert np.all(u[gamma] == 0.5) and np.all(v[gamma] == 0.25)
    assert 0 < gamma.sum() < square**2
    assert gamma.sum() == square**2 - (square - 6) * (square - 9)
    # everything else is the background
    rest = ~(centre_blk | second | notch)
    assert np.all(u[rest] == 1.0) and np.all(v[rest] == 0.0)
    # fewer u = 0.5 cells than two full squares
    assert np.count_nonzero(u == 0.5) < 2 * square**2
    assert np.count_nonzero(u == 0.5) == (keep | gamma).sum()


def test_cnn_squares_centre_exact_when_clear():
    # for a centre far from the middle block, the middle block is untouched
    n, square = 128, 20
    for seed in range(50):
        u, v, centre = initial._cnn_squares(np.random.default_rng(seed), n, square)
        centre_blk, _, notch = _expected_masks(n, square, centre)
        if not (centre_blk & notch).any():
            assert np.all(u[55:75, 55:75] == 0.5) and np.all(v[55:75, 55:75] == 0.25)
            assert np.count_nonzero(u == 0.5) == 2 * square**2 - 14 * 11
            break
    else:  # pragma: no cover
        pytest.fail("no seed with a clear middle block")


def test_cnn_chessboard_distance_constraint():
    seen = []
    for seed in range(400):
        rng = np.random.default_rng(seed)
        sx, sy = initial._draw_centre(rng)
        assert 0.1 <= sx <= 0.9 and 0.1 <= sy <= 0.9
        d = max(abs(sx - 0.5), abs(sy - 0.5))
        assert 0.2 <= d <= 0.4
        seen.append(d)
    # the constraint is not degenerate: both ends of the range are reached
    assert min(seen) < 0.22 and max(seen) > 0.38


def test_cnn_info_and_draw_order():
    n, square = 128, 20
    angles = set()
    for seed in range(60):
        _, _, info = initial._cnn_single(np.random.default_rng(seed), n, square, "both")
        rng = np.random.default_rng(seed)
        centre = initial._draw_centre(rng)
        angle = int(rng.integers(0, 89))
        rolls = (int(rng.integers(0, n)), int(rng.integers(0, n)))
        assert info["centre"] == centre
        assert info["angle"] == angle and 0 <= angle <= 88
        assert info["roll"] == rolls
        angles.add(angle)
    assert len(angles) > 20


def test_rotation_bounds_and_mean():
    n, square = 128, 20
    deviations = []
    for seed in range(40):
        u0, v0, _ = initial._cnn_squares(np.random.default_rng(seed), n, square)
        u, v = initial.cnn_seed(seed, n=n, square=square)
        # cubic B-spline without prefilter is a convex smoothing: no over/undershoot
        assert u.min() >= 0.5 - 1e-12 and u.max() <= 1.0 + 1e-12
        assert v.min() >= -1e-12 and v.max() <= 0.25 + 1e-12
        assert 0.4 <= u.min() and u.max() <= 1.05
        # the blocks got smoothed: values other than the recipe's appear
        assert np.count_nonzero((u > 0.5 + 1e-6) & (u < 0.99 - 1e-6)) > 0
        # wrapped rotation roughly keeps the content: at most about one block is gained/lost
        dev = abs(u.mean() - u0.mean())
        assert dev <= 0.5 * square**2 / n**2
        deviations.append(dev)
    assert np.median(deviations) < 1e-3


def test_rotation_angle_zero_preserves_mean_exactly():
    u0, v0, _ = initial._cnn_squares(np.random.default_rng(1), 128, 20)
    u = initial._rotate(u0, 0)
    v = initial._rotate(v0, 0)
    assert u.mean() == pytest.approx(u0.mean(), abs=1e-12)
    assert v.mean() == pytest.approx(v0.mean(), abs=1e-12)
    assert not np.array_equal(u, u0)  # no prefilter: even angle 0 smooths


@pytest.mark.parametrize("seed", [0, 4, 9])
def test_one_axis_shift_keeps_column_profile(seed):
    n, square = 128, 20
    # un-shifted field rotated identically
    rng = np.random.default_rng(seed)
    u0, v0, _ = initial._cnn_squares(rng, n, square)
    angle = int(rng.integers(0, 89))
    d_row, d_col = int(rng.integers(0, n)), int(rng.integers(0, n))
    ur, vr = initial._rotate(u0, angle), initial._rotate(v0, angle)

    u1, v1 = initial.cnn_seed(seed, n=n, square=square, shift="one_axis")
    assert np.array_equal(u1, np.roll(ur, d_row, axis=0))
    assert np.array_equal(v1, np.roll(vr, d_row, axis=0))
    # column profile (sum over rows) is untouched by the one-axis bug
    np.testing.assert_allclose(u1.sum(axis=0), ur.sum(axis=0), rtol=0, atol=1e-9)
    # ... while the row profile is rolled
    np.testing.assert_allclose(u1.sum(axis=1), np.roll(ur.sum(axis=1), d_row), atol=1e-9)

    ub, vb = initial.cnn_seed(seed, n=n, square=square, shift="both")
    assert np.array_equal(ub, np.roll(ur, (d_row, d_col), axis=(0, 1)))
    assert np.array_equal(ub, np.roll(u1, d_col, axis=1))
    np.testing.assert_allclose(ub.sum(axis=0), np.roll(ur.sum(axis=0), d_col), atol=1e-9)
    if d_col % n:
        assert not np.allclose(ub.sum(axis=0), ur.sum(axis=0))


def test_cnn_other_sizes():
    u, v = initial.cnn_seed([0, 1], n=64, square=11)
    assert u.shape == (2, 64, 64)
    u, v = initial.cnn_seed(2, n=40, square=20)
    assert u.shape == (40, 40)


# ----------------------------------------------------------------------------- sfi_seed


def test_sfi_structure_and_noise():
    n, noise = 256, 0.02
    u, v = initial.sfi_seed(0, n=n, noise=noise)
    side, start = n // 4, (n - n // 4) // 2
    mask = np.zeros((n, n), dtype=bool)
    mask[start : start + side, start : start + side] = True
    du = np.where(mask, u - 0.5, u - 1.0)
    dv = np.where(mask, v - 0.25, v)
    for d in (du, dv):
        assert abs(d.mean()) < 5 * noise / n
        assert d.std() == pytest.approx(noise, rel=0.02)
    assert abs(np.corrcoef(du.ravel(), dv.ravel())[0, 1]) < 0.02


def test_sfi_noise_zero_is_clean():
    u, v = initial.sfi_seed(3, n=64, noise=0.0)
    assert np.count_nonzero(u == 0.5) == 16 * 16
    assert np.all(u[24:40, 24:40] == 0.5) and np.all(v[24:40, 24:40] == 0.25)
    assert np.count_nonzero(u == 1.0) == 64 * 64 - 256
    assert np.count_nonzero(v == 0.0) == 64 * 64 - 256


# ----------------------------------------------------------------------------- landscape_seed


def test_landscape_clamping_and_block():
    u, v = initial.landscape_seed(list(range(4)), n=128, noise=0.3)
    assert u.min() >= 0.0 and u.max() <= 1.5
    assert v.min() >= 0.0 and v.max() <= 1.0
    assert np.any(v == 0.0) and np.any(u == 1.5)  # the clamps were active at this noise
    assert np.all(u[:, 55:75, 55:75] == 0.5) and np.all(v[:, 55:75, 55:75] == 0.25)


def test_landscape_noise_small():
    u, v = initial.landscape_seed(1, n=128, noise=0.02)
    out = np.ones((128, 128), dtype=bool)
    out[55:75, 55:75] = False
    assert u[out].std() == pytest.approx(0.02, rel=0.05)
    assert abs(u[out].mean() - 1.0) < 1e-3
    assert np.all(v >= 0.0)
    u0, v0 = initial.landscape_seed(1, n=128, noise=0.0)
    assert np.all(u0[out] == 1.0) and np.all(v0[out] == 0.0)


# ----------------------------------------------------------------------------- uniform_state


def test_uniform_state():
    u, v = initial.uniform_state(1.0, 0.0)
    assert u.shape == v.shape == (128, 128) and u.dtype == v.dtype == np.float64
    assert np.all(u == 1.0) and np.all(v == 0.0)
    u, v = initial.uniform_state(0.3, 0.2, n=16, batch=5)
    assert u.shape == v.shape == (5, 16, 16)
    assert np.all(u == 0.3) and np.all(v == 0.2)


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: initial.cnn_seed(0, n=30, square=20), "n"),
        (lambda: initial.cnn_seed(0, n=128.0), "n"),
        (lambda: initial.cnn_seed(0, square=0), "square"),
        (lambda: initial.cnn_seed(0, square=2.5), "square"),
        (lambda: initial.cnn_seed(0, shift="rows"), "shift"),
        (lambda: initial.cnn_seed(0, shift=None), "shift"),
        (lambda: initial.cnn_seed(1.5), "seed"),
        (lambda: initial.cnn_seed(-1), "seed"),
        (lambda: initial.cnn_seed([0, 1.0]), "seed"),
        (lambda: initial.cnn_seed([]), "seed"),
        (lambda: initial.cnn_seed("12"), "seed"),
        (lambda: initial.cnn_seed(True), "seed"),
        (lambda: initial.cnn_seed(np.zeros((2, 2), dtype=int)), "seed"),
        (lambda: initial.sfi_seed(0, n=3), "n"),
        (lambda: initial.sfi_seed(0, noise=-0.1), "noise"),
        (lambda: initial.sfi_seed(0, noise=float("nan")), "noise"),
        (lambda: initial.sfi_seed(0, noise="a"), "noise"),
        (lambda: initial.sfi_seed([1, -2]), "seed"),
        (lambda: initial.landscape_seed(0, n=10, square=20), "n"),
        (lambda: initial.landscape_seed(0, square=-1), "square"),
        (lambda: initial.landscape_seed(0, noise=-1), "noise"),
        (lambda: initial.uniform_state(1.0, 0.0, n=0), "n"),
        (lambda: initial.uniform_state(1.0, 0.0, batch=0), "batch"),
        (lambda: initial.uniform_state(1.0, 0.0, batch=2.0), "batch"),
        (lambda: initial.uniform_state(float("inf"), 0.0), "u"),
        (lambda: initial.uniform_state(1.0, "x"), "v"),
    ],
)
def test_invalid_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_error_message_names_range():
    with pytest.raises(ValueError, match=r"n must be an integer >= 40"):
        initial.cnn_seed(0, n=30, square=20)
    with pytest.raises(ValueError, match=r"noise must be .*>= 0"):
        initial.sfi_seed(0, noise=-1)
    with pytest.raises(ValueError, match=r"one of \('both', 'one_axis'\)"):
        initial.cnn_seed(0, shift="x")
