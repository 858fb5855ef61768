"""The CUDA backend against the NumPy reference: on the simulator (CI) or a real GPU.

Numba reads NUMBA_ENABLE_CUDASIM when it is imported, so the checks run in a fresh interpreter.
Set GSLIB_TEST_REAL_GPU=1 to run them on a real GPU instead of the simulator.
"""

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import numpy as np, gslib
    rng = np.random.default_rng(3)
    for shape in [(2, 5, 7), (1, 9, 4), (3, 6, 6)]:
        u0 = 1 - 0.6 * rng.random(shape); v0 = 0.3 * rng.random(shape)
        B = shape[0]
        f, k = np.linspace(0.02, 0.06, B), np.linspace(0.05, 0.065, B)
        for stencil in ("5pt", "9pt"):
            run = dict(f=f, k=k, dt=0.5, dx=1.2, steps=7, stencil=stencil, dtype=np.float64)
            ref = gslib.simulate(u0, v0, backend="numpy", **run)
            out = gslib.simulate(u0, v0, backend="cuda", **run)
            for a, b in zip(out, ref):
                assert a.shape == shape and np.abs(a - b).max() < 1e-12, (shape, stencil, np.abs(a - b).max())
            run32 = dict(f=f, k=k, dt=0.5, steps=3, stencil=stencil, dtype=np.float32)
            out32 = gslib.simulate(u0, v0, backend="cuda", **run32)
            ref32 = gslib.simulate(u0, v0, backend="numpy", **run32)
            assert out32[0].dtype == np.float32 and np.abs(out32[0] - ref32[0]).max() < 1e-5
    # frames, steady stop and marked blow-up
    u0 = np.stack([np.ones((6, 6)), 1 - 0.5 * rng.random((6, 6)), 1 - 0.5 * rng.random((6, 6))])
    v0 = np.stack([np.zeros((6, 6)), 0.3 * rng.random((6, 6)), 0.3 * rng.random((6, 6))])
    Du = np.array([0.2, 0.2, 0.7])
    res = gslib.integrate(u0, v0, f=0.03, k=0.06, Du=Du, dt=1.0, steps=40, backend="cuda", dtype=np.float64,
                          record_times=[3.0, 40.0], steady_tol=1e-12, check_every=3, on_blowup="mark",
                          allow_unstable=True)
    ref = gslib.integrate(u0, v0, f=0.03, k=0.06, Du=Du, dt=1.0, steps=40, backend="numpy", dtype=np.float64,
                          record_times=[3.0, 40.0], steady_tol=1e-12, check_every=3, on_blowup="mark",
                          allow_unstable=True)
    assert res.steady.tolist() == ref.steady.tolist() == [True, False, False]
    assert res.steps.tolist() == ref.steps.tolist(), (res.steps, ref.steps)
    assert res.failed.tolist() == ref.failed.tolist() == [False, False, True], res.failed
    assert np.abs(res.frames_u[:2] - ref.frames_u[:2]).max() < 1e-12
    print("CUDA-OK", res.backend)
""")


def test_cuda_backend_matches_reference():
    env = dict(os.environ)
    if env.get("GSLIB_TEST_REAL_GPU") != "1":
        env["NUMBA_ENABLE_CUDASIM"] = "1"
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=900)
    if "No module named 'numba.cuda'" in proc.stderr or "numba_cuda" in proc.stderr and "ModuleNotFound" in proc.stderr:
        pytest.fail("numba-cuda is not installed; it is part of the dev extra")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "CUDA-OK cuda" in proc.stdout
