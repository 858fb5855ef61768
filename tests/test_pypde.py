"""The analyses with their defaults on data from someone else's simulator: py-pde (its own Euler and
Euler-Maruyama steppers, its own 5-point Laplacian where the paper's code uses 9 points, white noise through
the ``noise`` argument of ``pde.PDE``): ``infer``, ``invert`` and the discovery of ``flag_candidates``.

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


# ----------------------------------------------------------------------------- discovery


def pypde_snapshots(f, k, seed, n=128, t_end=15000.0, gap=30.0, dt=0.25):
    """The CNN paper's recipe (its seed, Du = 0.2, Dv = 0.1, three snapshots of u) simulated by py-pde."""
    from gslib.initial import cnn_seed

    u0, v0 = cnn_seed(seed, n=n)
    grid = pde.CartesianGrid([[0, n], [0, n]], [n, n], periodic=True)
    state = pde.FieldCollection([pde.ScalarField(grid, u0), pde.ScalarField(grid, v0)])
    eq = pde.PDE(
        {"u": f"0.2 * laplace(u) - u * v**2 + {f} * (1 - u)", "v": f"0.1 * laplace(v) + u * v**2 - ({f} + {k}) * v"}
    )
    storage = pde.MemoryStorage()
    times = [t_end - 2 * gap, t_end - gap, t_end]
    eq.solve(state, t_range=(0, t_end), dt=dt, solver="euler", backend="numba", tracker=[storage.tracker(times)])
    return np.stack([frame[0] for frame in storage.data], axis=-1).astype(np.float32)


#: (class, f, k): the paper's pi point and the first-pass training points of three known classes
DISCOVERY_POINTS = [("pi", 0.068, 0.060625), ("kappa", 0.046, 0.063), ("lambda", 0.04, 0.065), ("alpha", 0.015, 0.05)]


@pytest.fixture(scope="module")
def pypde_patterns():
    return np.stack([pypde_snapshots(f, k, seed=11) for _, f, k in DISCOVERY_POINTS])


def flag_pypde(x):
    """flag_candidates, the criterion motion added to its defaults, with the shipped pass-1 network and reference."""
    from gslib import cnn, scan

    table = scan.load_shipped_scan("pass1")
    ref = table.reference
    model, names = cnn.load_pretrained("pass1")
    probabilities, embedding = scan.classify_samples(model, x)
    contrast, motion = scan.pattern_measures(x)
    points = dict(f=np.array([p[1] for p in DISCOVERY_POINTS]), k=np.array([p[2] for p in DISCOVERY_POINTS]))
    patterns = dict(**points, embedding=embedding, probabilities=probabilities, contrast=contrast, motion=motion)
    found = scan.flag_with_reference(patterns, ref, criteria=("entropy", "distance", "motion"), min_size=1)
    return np.array(names)[probabilities.argmax(axis=1)], found


@pytest.mark.slow
def test_discovery_flags_pypde_pi_and_not_pypde_patterns_of_known_classes(pypde_patterns):
    """py-pde's pattern at the paper's pi point fits no class the shipped network knows, although the network
    names it iota with confidence (as on gslib's own scan); its patterns of three known classes fit theirs."""
    labels, found = flag_pypde(pypde_patterns)
    assert labels.tolist() == ["iota", "kappa", "lambda", "alpha"]
    novel = found.relative_distance > found.thresholds["novelty"]
    assert novel.tolist() == [True, False, False, False], found.relative_distance
    # each of the three both looks and moves like its class: joint novelty within the threshold
    assert (found.joint_novelty[1:] < found.thresholds["motion"]).all(), found.joint_novelty
    assert found.flag_motion[0] and found.joint_novelty[0] >= found.relative_distance[0]  # pi: like no class


@pytest.mark.slow
@pytest.mark.parametrize("std", [0.003, 0.03])
def test_discovery_under_measurement_noise(pypde_patterns, std):
    """Measurement noise on every snapshot (std up to a fifth of the patterns' contrast) leaves the distance
    of the embeddings and its verdicts as they are. The motion index cannot tell noise from motion: the
    steady kappa and lambda seem to move about an e-fold more already at std 0.003. The joint novelty
    still finds them known, but by another class (eta or zeta, classes that move), and pi still novel: its
    verdicts hold, its reasons do not."""
    from gslib import scan

    rng = np.random.default_rng(5)
    noisy = pypde_patterns + rng.normal(scale=std, size=pypde_patterns.shape).astype(np.float32)
    labels, found = flag_pypde(noisy)
    assert labels.tolist() == ["iota", "kappa", "lambda", "alpha"]
    assert (found.relative_distance > found.thresholds["novelty"]).tolist() == [True, False, False, False]
    clean = scan.motion_index(*scan.pattern_measures(pypde_patterns))
    moved = scan.motion_index(*scan.pattern_measures(noisy))
    assert (moved[1:3] - clean[1:3] > 0.8).all()  # steady kappa and lambda now "move"
    assert found.flag_motion.tolist() == [True, False, False, False], found.joint_novelty
