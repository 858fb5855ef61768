"""The engine: backends against the NumPy reference, scheduling features, and bad input."""

import numpy as np
import pytest

import gslib
from gslib.solvers import reference
from gslib.solvers.cpu import CpuBackend
from gslib.solvers.engine import check_arguments

RNG = np.random.default_rng(1234)


def random_fields(shape, rng=RNG):
    u = 1 - 0.6 * rng.random(shape)
    v = 0.3 * rng.random(shape)
    return u, v


SHAPES = [(3, 3), (5, 8), (17, 23), (2, 16, 16), (3, 9, 31), (5, 12, 7)]


@pytest.mark.parametrize("stencil", ["5pt", "9pt"])
@pytest.mark.parametrize("shape", SHAPES)
def test_cpu_matches_reference_float64(shape, stencil):
    u0, v0 = random_fields(shape)
    B = shape[0] if len(shape) == 3 else None
    f = 0.03 if B is None else np.linspace(0.02, 0.06, B)
    k = 0.06 if B is None else np.linspace(0.05, 0.065, B)
    Du = 0.2 if B is None else np.linspace(0.1, 0.2, B)
    ref = gslib.simulate(
        u0, v0, f=f, k=k, Du=Du, Dv=0.1, dt=0.5, dx=1.3, steps=150, stencil=stencil, backend="numpy", dtype=np.float64
    )
    out = gslib.simulate(
        u0, v0, f=f, k=k, Du=Du, Dv=0.1, dt=0.5, dx=1.3, steps=150, stencil=stencil, backend="cpu", dtype=np.float64
    )
    for a, b in zip(out, ref):
        assert a.shape == shape and a.dtype == np.float64
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    assert np.abs(ref[0] - u0).max() > 1e-3  # the run did something


def test_reference_step_matches_the_equations():
    """One reference step against the model written out cell by cell with explicit neighbours."""
    u, v = random_fields((6, 7))
    f, k, Du, Dv, dt = 0.04, 0.06, 0.2, 0.1, 0.25
    un, vn = reference.step(u, v, f=f, k=k, Du=Du, Dv=Dv, dt=dt, stencil="9pt")
    N, M = u.shape
    for i in range(N):
        for j in range(M):

            def lap(a, i=i, j=j):
                e = [a[(i + di) % N, (j + dj) % M] for di, dj in ((-1, 0), (1, 0), (0, -1), (0, 1))]
                c = [a[(i + di) % N, (j + dj) % M] for di, dj in ((-1, -1), (-1, 1), (1, -1), (1, 1))]
                return 0.5 * sum(e) + 0.25 * sum(c) - 3 * a[i, j]

            uvv = u[i, j] * v[i, j] ** 2
            assert un[i, j] == pytest.approx(u[i, j] + dt * (Du * lap(u) - uvv + f * (1 - u[i, j])), abs=1e-15)
            assert vn[i, j] == pytest.approx(v[i, j] + dt * (Dv * lap(v) + uvv - (f + k) * v[i, j]), abs=1e-15)


@pytest.mark.parametrize("stencil", ["5pt", "9pt"])
def test_reference_reaction_and_laplacian_make_the_backends_step(stencil):
    """reference.reaction and reference.laplacian, the pieces other modules reuse, add up to one engine step."""
    u, v = random_fields((2, 9, 11))
    f, k = np.array([0.03, 0.05]), np.array([0.06, 0.062])
    Du, Dv, dt, dx = 0.2, 0.1, 0.25, 1.1
    ru, rv = reference.reaction(u, v, f=f[:, None, None], k=k[:, None, None])
    want_u = u + dt * (Du * reference.laplacian(u, dx, stencil) + ru)
    want_v = v + dt * (Dv * reference.laplacian(v, dx, stencil) + rv)
    for backend in ("numpy", "cpu"):
        got_u, got_v = gslib.simulate(
            u, v, f=f, k=k, Du=Du, Dv=Dv, dt=dt, dx=dx, steps=1, stencil=stencil, backend=backend, dtype=np.float64
        )
        np.testing.assert_allclose(got_u, want_u, rtol=0, atol=1e-14)
        np.testing.assert_allclose(got_v, want_v, rtol=0, atol=1e-14)


def test_model_and_scheme_objects_match_the_loose_keywords():
    u0, v0 = random_fields((2, 8, 8))
    loose = gslib.simulate(
        u0, v0, f=[0.03, 0.05], k=0.06, Du=0.18, dt=0.5, stencil="5pt", steps=20, backend="numpy", dtype=np.float64
    )
    grouped = gslib.simulate(
        u0,
        v0,
        model=gslib.GrayScott(f=[0.03, 0.05], k=0.06, Du=0.18),
        scheme=gslib.Scheme(dt=0.5, stencil="5pt", dtype="float64"),
        steps=20,
        backend="numpy",
    )
    for a, b in zip(loose, grouped):
        assert np.array_equal(a, b)
    with pytest.raises(ValueError, match="model= and Du= were both given"):
        gslib.simulate(u0, v0, model=gslib.GrayScott(f=0.03, k=0.06), Du=0.1, steps=2)
    with pytest.raises(ValueError, match="scheme= and dt=, stencil= were both given"):
        gslib.integrate(u0, v0, f=0.03, k=0.06, scheme=gslib.Scheme(), dt=0.1, stencil="5pt", steps=2)
    with pytest.raises(ValueError, match="model= and f=, k= were both given"):
        gslib.simulate(u0, v0, f=0.03, k=0.06, model=gslib.GrayScott(f=0.03, k=0.06), steps=2)
    with pytest.raises(TypeError, match="unexpected keyword"):
        gslib.simulate(u0, v0, f=0.03, k=0.06, steps=2, Dw=0.1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cpu_layouts_are_bitwise_identical(dtype):
    u0, v0 = random_fields((3, 16, 20))
    u, v, params, _ = check_arguments(
        u0,
        v0,
        gslib.GrayScott(f=[0.03, 0.04, 0.05], k=0.06, Du=0.2, Dv=0.1),
        gslib.Scheme(dt=0.25, dx=1.0, stencil="9pt", dtype=dtype),
        50,
    )
    active = np.ones(3, dtype=bool)
    results = []
    for layout in ("members", "rows"):
        be = CpuBackend(u, v, params, layout=layout)
        be.advance(37, active)
        be.advance(13, active)
        results.append(be.fields())
    for a, b in zip(*results):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("backend", ["numpy", "cpu"])
def test_determinism_same_input_same_bits(backend):
    u0, v0 = gslib.initial.cnn_seed([3, 4], n=48)
    runs = [gslib.simulate(u0, v0, f=[0.03, 0.05], k=[0.06, 0.065], steps=400, backend=backend) for _ in range(2)]
    assert all(np.array_equal(a, b) for a, b in zip(*runs))


def test_float32_close_to_float64_at_short_times():
    u0, v0 = gslib.initial.cnn_seed(7, n=64)
    a = gslib.simulate(u0, v0, f=0.035, k=0.06, steps=2000, backend="cpu", dtype=np.float32)
    b = gslib.simulate(u0, v0, f=0.035, k=0.06, steps=2000, backend="cpu", dtype=np.float64)
    assert a[0].dtype == np.float32 and b[0].dtype == np.float64
    assert np.abs(a[0] - b[0]).max() < 1e-3


def test_record_times_match_separate_runs():
    u0, v0 = gslib.initial.cnn_seed([1, 2], n=40)
    f, k = [0.03, 0.045], [0.06, 0.063]
    res = gslib.integrate(
        u0, v0, f=f, k=k, steps=400, backend="cpu", dtype=np.float64, record_times=[0, 12.5, 50.0, 100.0], check_every=7
    )
    assert res.frames_u.shape == (2, 4, 40, 40)
    np.testing.assert_array_equal(res.frame_times, [0, 12.5, 50, 100])
    np.testing.assert_array_equal(res.frames_u[:, 0], u0)
    for r, t in enumerate(res.frame_times[1:], start=1):
        u, v = gslib.simulate(u0, v0, f=f, k=k, steps=int(t / 0.25), backend="cpu", dtype=np.float64)
        np.testing.assert_array_equal(res.frames_u[:, r], u)
        np.testing.assert_array_equal(res.frames_v[:, r], v)
    np.testing.assert_array_equal(res.frames_u[:, -1], res.u)
    np.testing.assert_array_equal(res.steps, [400, 400])


@pytest.mark.parametrize("backend", ["numpy", "cpu"])
def test_steady_members_stop_without_stalling_the_rest(backend):
    n = 48
    L = gslib.homogeneous_states(f=0.035, k=0.055)[1]
    u0 = np.stack([np.full((n, n), L[0]), gslib.initial.cnn_seed(5, n=n)[0]])
    v0 = np.stack([np.full((n, n), L[1]), gslib.initial.cnn_seed(5, n=n)[1]])
    f, k = [0.035, 0.03], [0.055, 0.06]
    res = gslib.integrate(
        u0,
        v0,
        f=f,
        k=k,
        steps=600,
        backend=backend,
        dtype=np.float64,
        steady_tol=1e-9,
        check_every=50,
        record_times=[150.0],
    )
    assert res.steady.tolist() == [True, False]
    assert res.steps.tolist() == [50, 600]
    alone = gslib.simulate(u0[1], v0[1], f=f[1], k=k[1], steps=600, backend=backend, dtype=np.float64)
    np.testing.assert_array_equal(res.u[1], alone[0])
    np.testing.assert_allclose(res.frames_u[0, 0], L[0], atol=1e-9)  # frame owed after the stop


def make_unstable_batch():
    """Three members; the middle one has a diffusivity past the stability bound of dt = 1."""
    u0, v0 = random_fields((3, 12, 12))
    Du = np.array([0.2, 0.7, 0.2])  # 9pt bound for dt=1: Du <= 0.5
    return u0, v0, Du


@pytest.mark.parametrize("backend", ["numpy", "cpu"])
def test_blowup_raises_naming_the_member(backend):
    u0, v0, Du = make_unstable_batch()
    with pytest.raises(gslib.BlowUpError, match=r"member\(s\) 1 ") as err:
        gslib.simulate(
            u0,
            v0,
            f=0.03,
            k=0.06,
            Du=Du,
            dt=1.0,
            steps=3000,
            backend=backend,
            dtype=np.float64,
            allow_unstable=True,
            check_every=100,
        )
    assert err.value.members == [1]


@pytest.mark.parametrize("backend", ["numpy", "cpu"])
def test_blowup_marked_and_others_finish(backend):
    u0, v0, Du = make_unstable_batch()
    res = gslib.integrate(
        u0,
        v0,
        f=0.03,
        k=0.06,
        Du=Du,
        dt=1.0,
        steps=3000,
        backend=backend,
        dtype=np.float64,
        allow_unstable=True,
        on_blowup="mark",
        check_every=100,
    )
    assert res.failed.tolist() == [False, True, False]
    assert np.isnan(res.u[1]).all() and np.isfinite(res.u[[0, 2]]).all()
    assert res.steps[1] < 3000 and res.steps[0] == 3000
    alone = gslib.simulate(u0[2], v0[2], f=0.03, k=0.06, dt=1.0, steps=3000, backend=backend, dtype=np.float64)
    np.testing.assert_array_equal(res.u[2], alone[0])


@pytest.mark.parametrize("stencil", ["5pt", "9pt"])
def test_stability_bound_is_sharp(stencil):
    """Pure diffusion of a checkerboard: decays just below the bound, grows just above it."""
    D = 0.2
    limit = gslib.stability_limit(D, 1.0, stencil)
    assert limit == pytest.approx(1 / (4 * D) if stencil == "5pt" else 1 / (2 * D))
    n = 16
    i, j = np.indices((n, n))
    mode = (-1.0) ** (i + j) if stencil == "5pt" else (-1.0) ** i  # the most negative eigenmode
    u0 = 1 + 1e-3 * mode
    v0 = np.zeros((n, n))
    below = gslib.simulate(
        u0,
        v0,
        f=0.0,
        k=0.0,
        Du=D,
        Dv=0.0,
        dt=0.98 * limit,
        steps=200,
        stencil=stencil,
        backend="numpy",
        dtype=np.float64,
    )[0]
    above = gslib.simulate(
        u0,
        v0,
        f=0.0,
        k=0.0,
        Du=D,
        Dv=0.0,
        dt=1.02 * limit,
        steps=200,
        stencil=stencil,
        backend="numpy",
        dtype=np.float64,
        allow_unstable=True,
    )[0]
    assert np.abs(below - 1).max() < 1e-3 and np.abs(above - 1).max() > 1e-2


def test_float32_flushes_decaying_v_to_zero_without_subnormals():
    """At the H point v decays as exp(-(f+k)t); the engine sets it to 0 before it turns subnormal."""
    u0 = np.ones((2, 16, 16))
    v0 = np.full((2, 16, 16), 1e-3)
    for backend in ("numpy", "cpu"):
        u, v = gslib.simulate(u0, v0, f=0.005, k=0.05, steps=8000, backend=backend, dtype=np.float32)
        assert np.all(v == 0)
        u, v = gslib.simulate(u0, v0, f=0.005, k=0.05, steps=2000, backend=backend, dtype=np.float32)
        tiny = np.finfo(np.float32).tiny
        assert np.all((v == 0) | (np.abs(v) >= tiny))


def test_unbatched_input_keeps_its_shape_and_dtype():
    u0, v0 = gslib.initial.cnn_seed(0, n=40)
    u, v = gslib.simulate(u0, v0, f=0.03, k=0.06, steps=3, backend="cpu")
    assert u.shape == (40, 40) and u.dtype == np.float32
    res = gslib.integrate(u0, v0, f=0.03, k=0.06, steps=4, backend="numpy", record_times=[1.0])
    assert res.frames_u.shape == (1, 40, 40) and res.steps.tolist() == [4]


def test_auto_backend_without_gpu_is_cpu():
    assert gslib.solvers.resolve_backend("auto") in ("cpu", "cuda")
    if not gslib.solvers.cuda_available(real_gpu_only=True):
        assert gslib.solvers.resolve_backend("auto") == "cpu"


def test_progress_bar_runs(capsys):
    u0, v0 = gslib.initial.uniform_state(1.0, 0.0, n=8)
    gslib.integrate(u0, v0, f=0.03, k=0.06, steps=10, backend="numpy", progress=True, check_every=3)
    assert "step" in capsys.readouterr().err


GOOD = dict(f=0.03, k=0.06, steps=5)
U0, V0 = np.ones((8, 8)), np.zeros((8, 8))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(dt=2.6, stencil="9pt"), r"dt=2.6 exceeds the forward-Euler stability bound of the 9pt stencil.*= 2\.5 "),
        (dict(dt=0.7, stencil="5pt", Du=0.4), r"dt=0.7 exceeds .* 5pt stencil.*0\.625"),
        (dict(dt=0.0), r"dt=0.0 must be > 0"),
        (dict(dt=float("nan")), r"dt=nan must be a finite"),
        (dict(dx=-1.0), r"dx=-1.0 must be > 0"),
        (dict(f=-0.01), r"f must be >= 0"),
        (dict(k=np.inf), r"k must be finite"),
        (dict(Du=-0.2), r"Du must be >= 0"),
        (dict(Dv=[0.1, 0.1]), r"Dv has shape \(2,\) but u0 is a single grid"),
        (dict(steps=0), r"steps=0 must be a positive integer"),
        (dict(steps=-3), r"steps=-3 must be a positive integer"),
        (dict(steps=2.5), r"steps=2.5 must be a positive integer"),
        (dict(stencil="7pt"), r"stencil='7pt' is not a stencil; allowed: '5pt', '9pt'"),
        (dict(backend="gpu"), r"backend='gpu' is not a backend; allowed"),
        (dict(dtype=np.float16), r"dtype='float16' is not supported; allowed: float32, float64"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(kwargs, match):
    args = {**GOOD, **kwargs}
    with pytest.raises(ValueError, match=match):
        gslib.simulate(U0, V0, **args)


def test_bad_fields_raise_value_error():
    with pytest.raises(ValueError, match="u0 and v0 must have the same shape"):
        gslib.simulate(np.ones((8, 8)), np.zeros((8, 9)), **GOOD)
    bad = np.ones((2, 8, 8))
    bad[1, 3, 3] = np.nan
    with pytest.raises(ValueError, match=r"u0 contains NaN or Inf \(batch member\(s\) \[1\]\)"):
        gslib.simulate(bad, np.zeros((2, 8, 8)), **GOOD)
    with pytest.raises(ValueError, match=r"u0 has shape \(8,\); allowed: \(N, M\) or a batch"):
        gslib.simulate(np.ones(8), np.zeros(8), **GOOD)
    with pytest.raises(ValueError, match=r"N, M >= 3"):
        gslib.simulate(np.ones((2, 2)), np.zeros((2, 2)), **GOOD)
    with pytest.raises(ValueError, match=r"f has shape \(3,\); allowed: a scalar or shape \(2,\)"):
        gslib.simulate(np.ones((2, 8, 8)), np.zeros((2, 8, 8)), f=[0.1, 0.2, 0.3], k=0.06, steps=2)
    with pytest.raises(ValueError, match="steps must be given"):
        gslib.simulate(U0, V0, f=0.03, k=0.06)


def test_bad_integrate_options():
    with pytest.raises(ValueError, match=r"record_times must lie in \[0, steps\*dt\] = \[0, 1.25\]"):
        gslib.integrate(U0, V0, **GOOD, record_times=[2.0])
    with pytest.raises(ValueError, match="record_times must be multiples of dt=0.25"):
        gslib.integrate(U0, V0, **GOOD, record_times=[0.3])
    with pytest.raises(ValueError, match="on_blowup='ignore'; allowed: 'raise', 'mark'"):
        gslib.integrate(U0, V0, **GOOD, on_blowup="ignore")
    with pytest.raises(ValueError, match="steady_tol=-1.0 must be > 0"):
        gslib.integrate(U0, V0, **GOOD, steady_tol=-1.0)
    with pytest.raises(ValueError, match="check_every=0 must be a positive integer"):
        gslib.integrate(U0, V0, **GOOD, check_every=0)


def test_cuda_without_gpu_is_a_clear_error():
    if gslib.solvers.cuda_available():
        pytest.skip("a GPU (or the simulator) is visible here")
    with pytest.raises(RuntimeError, match="needs a CUDA GPU"):
        gslib.simulate(U0, V0, **GOOD, backend="cuda")


def test_parameter_objects_check_their_values():
    model = gslib.GrayScott(f=[0.03, 0.05], k=0.06)
    assert model.size == 2 and model.k == 0.06 and model.max_diffusivity == 0.2
    with pytest.raises(ValueError):
        model.f[0] = 1.0  # read-only
    assert model.replace(k=[0.06, 0.061]).size == 2
    with pytest.raises(ValueError, match="differ in length"):
        gslib.GrayScott(f=[0.03, 0.05], k=[0.06, 0.06, 0.06])
    with pytest.raises(ValueError, match="f must be >= 0"):
        gslib.GrayScott(f=-0.1, k=0.06)
    scheme = gslib.Scheme(dtype=np.float64)
    assert scheme.dtype == "float64" and scheme.stability_limit(0.2) == pytest.approx(2.5)
    with pytest.raises(ValueError, match=r"dt=0 must be > 0"):
        gslib.Scheme(dt=0)
    with pytest.raises(ValueError, match="exceeds the forward-Euler stability bound"):
        gslib.Scheme(dt=3.0).check_stable(0.2)
