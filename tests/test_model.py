"""Tests of gslib.model: homogeneous states, stability, bifurcation curves, Turing analysis."""

import numpy as np
import pytest

from gslib import model

# The parameter range of the CNN paper's phase diagram.
F_GRID = np.linspace(0.005, 0.1, 31)
K_GRID = np.linspace(0.03, 0.07, 33)
FK_GRID = [(float(f), float(k)) for f in F_GRID for k in K_GRID]


def naive_C(f, k):
    return f * f - 4 * f * (f + k) ** 2


def reaction(u, v, f, k):
    uvv = u * v * v
    return np.array([-uvv + f * (1 - u), uvv - (f + k) * v])


def brute_force_states(f, k):
    """Steady states by eliminating u: v = 0 (then u = 1) or u = (f+k)/v with
    (f+k) v^2 - f v + f (f+k) = 0, solved by np.roots."""
    states = [(1.0, 0.0)]
    roots = np.roots([f + k, -f, f * (f + k)])
    for r in sorted(roots, key=lambda z: -z.real):
        if abs(r.imag) < 1e-9 and r.real > 0:
            v = r.real
            states.append(((f + k) / v, v))
    return states


# ----------------------------------------------------------------------------- homogeneous states


def test_states_are_steady_and_uv_equals_f_plus_k():
    for f, k in FK_GRID:
        states = model.homogeneous_states(f=f, k=k)
        assert states[0] == (1.0, 0.0)
        for u, v in states:
            assert np.all(np.abs(reaction(u, v, f, k)) < 1e-12), (f, k, u, v)
        for u, v in states[1:]:
            assert u * v == pytest.approx(f + k, rel=1e-13)


def test_state_count_matches_sign_of_C_and_order():
    n_three = n_one = 0
    for f, k in FK_GRID:
        C = naive_C(f, k)
        states = model.homogeneous_states(f=f, k=k)
        if C > 1e-12:
            assert len(states) == 3
            assert states[1][1] > states[2][1]  # L (larger v) before S
            n_three += 1
        elif C < -1e-12:
            assert len(states) == 1
            n_one += 1
        assert model.nontrivial_states_exist(f=f, k=k) == (len(states) > 1)
    assert n_three > 50 and n_one > 50  # the grid straddles the saddle-node curve


def test_closed_form_matches_brute_force_roots():
    for f, k in FK_GRID:
        if abs(naive_C(f, k)) < 1e-10:
            continue  # nearly double roots: np.roots loses half the digits
        ours = model.homogeneous_states(f=f, k=k)
        brute = brute_force_states(f, k)
        assert len(ours) == len(brute), (f, k)
        np.testing.assert_allclose(np.array(ours), np.array(brute), rtol=1e-9, atol=1e-12)


def test_nontrivial_states_exist_vectorised():
    F, K = np.meshgrid(F_GRID, K_GRID, indexing="ij")
    ex = model.nontrivial_states_exist(f=F, k=K)
    assert ex.shape == F.shape and ex.dtype == bool
    np.testing.assert_array_equal(ex, naive_C(F, K) >= 0)
    assert model.nontrivial_states_exist(f=0.3, k=0.0) is False  # f > 1/4: never
    assert model.nontrivial_states_exist(f=0.09, k=0.05) is True


def test_k_zero_is_allowed():
    states = model.homogeneous_states(f=0.1, k=0.0)
    assert len(states) == 3
    for u, v in states:
        assert np.all(np.abs(reaction(u, v, 0.1, 0.0)) < 1e-13)


# -------------------------------------------------------------------------------- linearisation


def test_jacobian_matches_finite_differences():
    rng = np.random.default_rng(1)
    h = 1e-6
    for _ in range(20):
        u, v = rng.uniform(0, 1, 2)
        f, k = rng.uniform(0.005, 0.1), rng.uniform(0.03, 0.07)
        J = model.jacobian(u, v, f=f, k=k)
        assert J.shape == (2, 2)
        fd = np.column_stack(
            [
                (reaction(u + h, v, f, k) - reaction(u - h, v, f, k)) / (2 * h),
                (reaction(u, v + h, f, k) - reaction(u, v - h, f, k)) / (2 * h),
            ]
        )
        np.testing.assert_allclose(J, fd, atol=1e-8)


def test_jacobian_broadcasts():
    u = np.linspace(0, 1, 5)
    J = model.jacobian(u, 0.3, f=0.04, k=0.06)
    assert J.shape == (5, 2, 2)
    np.testing.assert_allclose(J[2], model.jacobian(u[2], 0.3, f=0.04, k=0.06))


def test_trace_and_det_on_nontrivial_states():
    for f, k in FK_GRID:
        for u, v in model.homogeneous_states(f=f, k=k)[1:]:
            J = model.jacobian(u, v, f=f, k=k)
            assert np.trace(J) == pytest.approx(k - v * v, abs=1e-13)
            assert np.linalg.det(J) == pytest.approx((f + k) * (v * v - f), abs=1e-13)


def test_stability_kinds():
    st = model.stability(f=0.09, k=0.05)
    assert [s.kind for s in st] == ["stable node", "stable focus", "saddle"]
    assert [s.stable for s in st] == [True, True, False]
    for s, (u, v) in zip(st, model.homogeneous_states(f=0.09, k=0.05)):
        assert (s.u, s.v) == (u, v)
        assert s.eigenvalues.shape == (2,) and np.iscomplexobj(s.eigenvalues)
        assert s.eigenvalues[0].real >= s.eigenvalues[1].real
        np.testing.assert_allclose(
            np.sort_complex(s.eigenvalues), np.sort_complex(np.linalg.eigvals(model.jacobian(u, v, f=0.09, k=0.05)))
        )
    # the trivial state is always a stable node; the smaller-v state always a saddle
    for f, k in FK_GRID:
        st = model.stability(f=f, k=k)
        assert st[0].stable and st[0].kind == "stable node"
        if len(st) == 3:
            assert st[2].kind == "saddle" and not st[2].stable
            assert st[1].det > 0
    # below the Hopf curve L is an unstable focus
    assert model.stability(f=0.02, k=0.05)[1].kind == "unstable focus"
    # exactly on the saddle-node curve the double state has a zero eigenvalue
    st = model.stability(f=0.04, k=model.saddle_node_k(0.04))
    assert len(st) == 2 and st[1].kind == "saddle-node (zero eigenvalue)" and not st[1].stable


# --------------------------------------------------------------------------- bifurcation curves


def test_saddle_node_curve_has_C_zero_and_a_double_state():
    f, k = model.saddle_node_curve(200)
    assert k.shape == f.shape == (200,)
    assert f.min() > 0 and f.max() == 0.25 and k[-1] == 0.0
    assert np.all(np.abs(naive_C(f, k)) < 1e-15)
    np.testing.assert_allclose(k, np.sqrt(f) / 2 - f)
    for kk, ff in zip(k, f):
        states = model.homogeneous_states(f=ff, k=kk)
        assert len(states) == 2
        assert states[1][0] == pytest.approx(0.5, abs=1e-7)
    assert model.existence_boundary is model.saddle_node_curve
    # just inside the curve: three states; just outside: one
    for kk, ff in zip(k[5:-5:20], f[5:-5:20]):
        assert len(model.homogeneous_states(f=ff, k=kk * (1 - 1e-6))) == 3
        assert len(model.homogeneous_states(f=ff, k=kk * (1 + 1e-6))) == 1


def test_hopf_curve_trace_vanishes_at_L_with_positive_det():
    f, k = model.hopf_curve(300)
    assert k.shape == f.shape == (300,)
    assert k.min() > 0 and k.max() == pytest.approx(1 / 16)
    for kk, ff in zip(k[:-1], f[:-1]):
        states = model.homogeneous_states(f=ff, k=kk)
        assert len(states) == 3
        u, v = states[1]  # the larger-v state
        J = model.jacobian(u, v, f=ff, k=kk)
        assert abs(np.trace(J)) < 1e-12 * max(1.0, abs(J).max())
        assert v * v == pytest.approx(kk, rel=1e-9)
        assert np.linalg.det(J) > 0
    # closed form as stated (minus root) agrees with the evaluated curve
    np.testing.assert_allclose(f, ((np.sqrt(k) - 2 * k) - np.sqrt(k - 4 * k**1.5)) / 2, rtol=1e-7, atol=1e-15)


def test_other_root_of_hopf_quadratic_is_a_neutral_saddle():
    kk = 0.04
    f_plus = ((np.sqrt(kk) - 2 * kk) + np.sqrt(kk - 4 * kk**1.5)) / 2
    states = model.stability(f=f_plus, k=kk)
    assert states[1].trace < -1e-3  # not on L
    assert abs(states[2].trace) < 1e-12 and states[2].det < 0  # trace 0 on the saddle S


def test_crossing_the_hopf_curve_changes_stability_of_L():
    f, k = model.hopf_curve(50)
    for kk, ff in zip(k[5:-1:5], f[5:-1:5]):
        above = model.stability(f=ff * (1 + 1e-3), k=kk)[1]
        below = model.stability(f=ff * (1 - 1e-3), k=kk)[1]
        assert above.stable and above.kind == "stable focus"
        assert not below.stable and below.kind == "unstable focus"
        assert model.classify_region(f=ff * (1 - 1e-3), k=kk) == "L Hopf-unstable"


def test_curves_meet_at_bogdanov_takens_point():
    f_sn, k_sn = model.saddle_node_curve(400)
    f_h, k_h = model.hopf_curve(400)
    assert (k_h[-1], f_h[-1]) == pytest.approx((1 / 16, 1 / 16), abs=1e-15)
    i = np.argmax(k_sn)  # the nose of the saddle-node curve
    assert (k_sn[i], f_sn[i]) == pytest.approx((1 / 16, 1 / 16), abs=1e-15)
    assert model.saddle_node_k(1 / 16) == pytest.approx(1 / 16)
    assert model.hopf_f(1 / 16) == pytest.approx(1 / 16)
    # the Hopf curve lies inside the existence region, below the saddle-node curve
    assert np.all(k_h[:-1] < np.sqrt(f_h[:-1]) / 2 - f_h[:-1])
    st = model.stability(f=1 / 16, k=1 / 16)
    assert len(st) == 2 and np.all(np.abs(st[1].eigenvalues) < 1e-12)


# ------------------------------------------------------------------------------ Turing analysis


@pytest.mark.parametrize("dx", [1.0, 0.5])
def test_laplacian_symbols(dx):
    q = np.array([1e-2, 2e-2, 4e-2]) / dx
    cont = model.laplacian_symbol(q, 0.0, stencil="continuum", dx=dx)
    np.testing.assert_allclose(cont, -(q**2))
    for stencil in ("9pt", "5pt"):
        err = model.laplacian_symbol(q, 0.0, stencil=stencil, dx=dx) - cont
        # leading error +dx^2 q^4 / 12 along an axis: O(q^4)
        np.testing.assert_allclose(err / q**4, dx**2 / 12, rtol=1e-2)
        err_diag = model.laplacian_symbol(q, q, stencil=stencil, dx=dx) + 2 * q**2
        assert np.all(np.abs(err_diag) < dx**2 * q**4)
    g = np.linspace(-np.pi / dx, np.pi / dx, 201)
    QX, QY = np.meshgrid(g, g)
    assert model.laplacian_symbol(QX, QY, stencil="9pt", dx=dx).min() == pytest.approx(-4 / dx**2)
    assert model.laplacian_symbol(QX, QY, stencil="5pt", dx=dx).min() == pytest.approx(-8 / dx**2)
    assert model.laplacian_symbol(QX, QY, stencil="9pt", dx=dx).max() == pytest.approx(0, abs=1e-14)
    assert isinstance(model.laplacian_symbol(0.3, stencil="5pt"), float)


@pytest.mark.parametrize("stencil", ["continuum", "5pt", "9pt"])
@pytest.mark.parametrize("state", ["L", "S", "H"])
def test_dispersion_at_q0_equals_jacobian_eigenvalues(stencil, state):
    f, k = 0.09, 0.05
    idx = {"H": 0, "L": 1, "S": 2}[state]
    u, v = model.homogeneous_states(f=f, k=k)[idx]
    lam = model.dispersion_relation([0.0, 0.3], f=f, k=k, state=state, stencil=stencil)
    assert lam.shape == (2, 2) and np.iscomplexobj(lam)
    np.testing.assert_allclose(lam[0], model.stability(f=f, k=k)[idx].eigenvalues, atol=1e-14)
    np.testing.assert_allclose(
        np.sort_complex(lam[0]), np.sort_complex(np.linalg.eigvals(model.jacobian(u, v, f=f, k=k))), atol=1e-14
    )
    # explicit (u, v) gives the same
    np.testing.assert_allclose(model.dispersion_relation([0.0, 0.3], f=f, k=k, state=(u, v), stencil=stencil), lam)


def test_dispersion_shape_and_order():
    q = np.linspace(0, 2, 101)
    lam = model.dispersion_relation(q, f=0.05, k=0.06, Du=0.2, Dv=0.1)
    assert lam.shape == (101, 2)
    assert np.all(lam[:, 0].real >= lam[:, 1].real)
    assert model.dispersion_relation(0.5, f=0.05, k=0.06).shape == (1, 2)
    # H decouples: growth rates are -f - Du s and -(f+k) - Dv s
    lam_h = model.dispersion_relation(q, f=0.05, k=0.06, state="H")
    np.testing.assert_allclose(lam_h[:, 0].real, np.maximum(-0.05 - 0.2 * q**2, -0.11 - 0.1 * q**2))
    # the lattice symbol converges to the continuum for small q
    lam9 = model.dispersion_relation(q[:5], f=0.05, k=0.06, stencil="9pt")
    np.testing.assert_allclose(lam9, lam[:5], atol=1e-4)


def _max_growth_positive_q(f, k, Du, Dv):
    q = np.linspace(1e-3, 6.0, 6000)
    return model.dispersion_relation(q, f=f, k=k, Du=Du, Dv=Dv, state="L")[:, 0].real.max()


@pytest.mark.parametrize("Du,Dv", [(0.2, 0.1), (1.0, 0.05)])
def test_turing_unstable_agrees_with_dispersion_on_q_grid(Du, Dv):
    n_turing = 0
    for f in np.linspace(0.005, 0.1, 13):
        for k in np.linspace(0.03, 0.07, 13):
            if not model.nontrivial_states_exist(f=f, k=k):
                assert not model.turing_unstable(f=f, k=k, Du=Du, Dv=Dv)
                assert model.classify_region(f=f, k=k, Du=Du, Dv=Dv) == "no nontrivial state"
                continue
            L = model.stability(f=f, k=k)[1]
            g = _max_growth_positive_q(f, k, Du, Dv)
            if abs(g) < 1e-7:
                continue  # marginal: the q grid cannot decide
            expected = L.stable and g > 0
            assert model.turing_unstable(f=f, k=k, Du=Du, Dv=Dv) == expected, (f, k)
            n_turing += expected
            label = model.classify_region(f=f, k=k, Du=Du, Dv=Dv)
            if not L.stable:
                assert label == "L Hopf-unstable"
            else:
                assert label == ("L Turing-unstable" if expected else "L stable")
    if Du / Dv > 10:
        assert n_turing > 3


def test_known_turing_case():
    # near the saddle-node curve, L is stable to uniform perturbations but a band of q grows
    f, k = 0.07, 0.062
    L = model.stability(f=f, k=k)[1]
    assert L.stable
    assert model.turing_unstable(f=f, k=k)
    assert _max_growth_positive_q(f, k, 0.2, 0.1) > 1e-4
    assert model.classify_region(f=f, k=k) == "L Turing-unstable"
    # equal diffusion never destabilises a stable state
    assert not model.turing_unstable(f=f, k=k, Du=0.1, Dv=0.1)
    assert _max_growth_positive_q(f, k, 0.1, 0.1) < 0


def test_classify_region_vectorised():
    F, K = np.meshgrid(np.linspace(0.005, 0.1, 12), np.linspace(0.03, 0.07, 9), indexing="ij")
    labels = model.classify_region(f=F, k=K)
    assert labels.shape == F.shape
    assert set(np.unique(labels)) <= set(model.REGIONS)
    for i in range(F.shape[0]):
        for j in range(F.shape[1]):
            assert labels[i, j] == model.classify_region(f=F[i, j], k=K[i, j])
    assert isinstance(model.classify_region(f=0.09, k=0.05), str)
    assert model.classify_region(f=0.09, k=0.05) == "L stable"
    assert model.classify_region(f=0.01, k=0.07) == "no nontrivial state"
    tu = model.turing_unstable(f=F, k=K)
    assert tu.shape == F.shape and tu.dtype == bool
    np.testing.assert_array_equal(tu, labels == "L Turing-unstable")


# ------------------------------------------------------------------------------ bad arguments


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: model.homogeneous_states(f=0.0, k=0.05), "f must be > 0"),
        (lambda: model.homogeneous_states(f=-0.01, k=0.05), "f must be > 0"),
        (lambda: model.homogeneous_states(f=0.05, k=-0.01), "k must be >= 0"),
        (lambda: model.homogeneous_states(f=np.nan, k=0.05), "f must be finite"),
        (lambda: model.homogeneous_states(f=0.05, k=np.inf), "k must be finite"),
        (lambda: model.homogeneous_states(f="a", k=0.05), "f must be a real number"),
        (lambda: model.homogeneous_states(f=[0.1, 0.2], k=0.05), "f must be a scalar"),
        (lambda: model.stability(f=0.05, k=-1), "k must be >= 0"),
        (lambda: model.jacobian(np.nan, 0.1, f=0.05, k=0.06), "u must be finite"),
        (lambda: model.nontrivial_states_exist(f=np.array([0.1, -0.1]), k=0.05), "f must be > 0"),
        (lambda: model.saddle_node_curve(1), "n must be an integer"),
        (lambda: model.hopf_curve(10.5), "n must be an integer"),
        (lambda: model.saddle_node_k(0.3), r"f must be in \(0, 1/4\]"),
        (lambda: model.hopf_f(0.1), r"k must be in \(0, 1/16\]"),
        (lambda: model.laplacian_symbol(0.1, stencil="7pt"), "stencil must be one of '9pt', '5pt', 'continuum'"),
        (lambda: model.laplacian_symbol(0.1, dx=0.0), "dx must be a scalar > 0"),
        (lambda: model.laplacian_symbol(np.nan), "qx must be finite"),
        (lambda: model.dispersion_relation([0.1, np.nan], f=0.09, k=0.05), "q must be finite"),
        (lambda: model.dispersion_relation(0.1, f=0.09, k=0.05, Du=-0.1), "Du must be >= 0"),
        (lambda: model.dispersion_relation(0.1, f=0.09, k=0.05, Dv=-0.1), "Dv must be >= 0"),
        (lambda: model.dispersion_relation(0.1, f=0.09, k=0.05, state="X"), "state must be 'L', 'S', 'H'"),
        (lambda: model.dispersion_relation(0.1, f=0.09, k=0.05, state=(1.0,)), "state must be"),
        (lambda: model.dispersion_relation(0.1, f=0.09, k=0.05, stencil="fd"), "stencil must be one of"),
        (lambda: model.dispersion_relation(0.1, f=0.01, k=0.07, state="L"), "state 'L' does not exist"),
        (lambda: model.turing_unstable(f=0.05, k=0.06, Du=-1.0), "Du must be >= 0"),
        (lambda: model.classify_region(f=0.05, k=0.06, Dv=np.nan), "Dv must be finite"),
        (lambda: model.classify_region(f=-0.05, k=0.06), "f must be > 0"),
    ],
)
def test_invalid_arguments_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
