"""Throughput of the engine's backends, measured against the source paper's NumPy approach in one run.

The workload is what the book's datasets and scans do: a batch of 128 x 128 grids started from the
CNN paper's seed at its 15 training points (H and L included, where v decays towards zero), first
run to t = ``burn_in`` so that the timed window sits in the long middle of a t = 15000 run where
subnormal numbers would appear. Every backend then advances the same state; the baseline is the
paper's vectorised NumPy code (np.roll 9-point stencil, float64), timed in the same process so that
the ratios hold on a noisy machine. Ratios, not absolute numbers, are what the table is for.
"""

from __future__ import annotations

import functools
import platform
import time

import numpy as np

from ._log import progress_logger
from ._validate import check_choice, check_int
from .classes import PASS1_CLASSES
from .initial import cnn_seed
from .params import DTYPES
from .solvers import BACKENDS, STENCILS, cuda_available, simulate

#: The CNN paper's first-pass training points as (f, k), used to fill the benchmark batch.
TRAINING_POINTS = tuple(c.training_point for c in PASS1_CLASSES)
#: The backends that can be timed (the engine's, without "auto").
TIMED_BACKENDS = tuple(b for b in BACKENDS if b != "auto")
#: Peak memory bandwidth of an H100 SXM (bytes/s), the limit one GPU update is compared with.
GPU_BANDWIDTH = 3.35e12


def paper_numpy_steps(u, v, f, k, steps, Du=0.2, Dv=0.1, dt=0.25):
    """The source paper's approach: each grid on its own, np.roll 9-point Laplacian in float64, forward Euler.

    Parameters
    ----------
    u, v : numpy.ndarray
        Fields ``(B, N, M)``.
    f, k : numpy.ndarray
        Feed and kill rates ``(B,)``.
    steps : int
        Number of steps.
    Du, Dv, dt : float, optional
        Diffusivities and time step.

    Returns
    -------
    u, v : numpy.ndarray
        The fields after ``steps`` steps.
    """
    u, v = u.copy(), v.copy()
    for b in range(len(u)):
        ub, vb = u[b], v[b]
        for _ in range(steps):
            lu = (
                0.5 * (np.roll(ub, 1, 0) + np.roll(ub, -1, 0) + np.roll(ub, 1, 1) + np.roll(ub, -1, 1))
                + 0.25
                * (
                    np.roll(ub, (1, 1), (0, 1))
                    + np.roll(ub, (1, -1), (0, 1))
                    + np.roll(ub, (-1, 1), (0, 1))
                    + np.roll(ub, (-1, -1), (0, 1))
                )
                - 3 * ub
            )
            lv = (
                0.5 * (np.roll(vb, 1, 0) + np.roll(vb, -1, 0) + np.roll(vb, 1, 1) + np.roll(vb, -1, 1))
                + 0.25
                * (
                    np.roll(vb, (1, 1), (0, 1))
                    + np.roll(vb, (1, -1), (0, 1))
                    + np.roll(vb, (-1, 1), (0, 1))
                    + np.roll(vb, (-1, -1), (0, 1))
                )
                - 3 * vb
            )
            uvv = ub * vb * vb
            ub, vb = ub + dt * (Du * lu - uvv + f[b] * (1 - ub)), vb + dt * (Dv * lv + uvv - (f[b] + k[b]) * vb)
        u[b], v[b] = ub, vb
    return u, v


def workload(batch: int, size: int, burn_in: float = 2500.0):
    """The benchmark's workload: patterned fields at points of the (k, f) plane.

    Parameters
    ----------
    batch : int
        Number of grids.
    size : int
        Grid side.
    burn_in : float, optional
        Model time the CNN paper's seed is run before the fields are returned.

    Returns
    -------
    u, v : numpy.ndarray
        Fields ``(batch, size, size)`` at t = burn_in.
    f, k : numpy.ndarray
        Their feed and kill rates ``(batch,)``.
    """
    fk = np.array([TRAINING_POINTS[b % len(TRAINING_POINTS)] for b in range(batch)])
    f, k = fk[:, 0], fk[:, 1]
    u, v = cnn_seed(list(range(batch)), n=size)
    if burn_in > 0:
        u, v = simulate(u, v, f=f, k=k, steps=int(round(burn_in / 0.25)), backend="cpu", dtype=np.float64)
    return u, v, f, k


def _dtype_name(dtype) -> str:
    """The name of a floating-point type (``"float32"``), or the text given where it names none."""
    try:
        return np.dtype(dtype).name
    except TypeError:
        return str(dtype)


def _timed(fn, min_seconds):
    """Run fn() until at least min_seconds have passed; return seconds per call (best of the repeats)."""
    best, total = np.inf, 0.0
    while total < min_seconds:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best, total = min(best, dt), total + dt
    return best


def run_benchmark(
    size=128,
    batch=None,
    steps=None,
    backends=("numpy", "cpu", "cuda"),
    stencils=("5pt", "9pt"),
    dtypes=("float32", "float64"),
    burn_in=2500.0,
    min_seconds=1.0,
    progress=True,
    log=None,
):
    """Measure cell updates per second of every backend.

    Each call is repeated for at least ``min_seconds`` and the fastest repeat counts.

    Parameters
    ----------
    size : int, optional
        Grid side.
    batch : int, optional
        Grids per run (default 16 on the CPU, 1024 with a GPU).
    steps : int, optional
        Steps per timed call of the compiled backends (default 2000; the NumPy runs use 1/40
        of it).
    backends, stencils, dtypes : sequence of str, optional
        What to measure; the cuda backend is skipped without a GPU.
    burn_in : float, optional
        Model time the workload is run before timing (:func:`workload`).
    min_seconds : float, optional
        Least time spent on each measurement.
    progress : bool, optional
        Report each row as it is measured, to ``log``.
    log : callable, optional
        Where the rows are reported (default: the logger ``gslib.benchmark``).

    Returns
    -------
    list of dict
        One row per measurement, the baseline row (the paper's NumPy code) first.

    Raises
    ------
    ValueError
        For a size, batch or step count that is not a positive integer, or an unknown backend,
        stencil or dtype.
    """
    size = check_int("size", size, minimum=4)
    batch = None if batch is None else check_int("batch", batch, minimum=1)
    steps = None if steps is None else check_int("steps", steps, minimum=1)
    backends = [check_choice("backends", name, TIMED_BACKENDS) for name in backends]
    stencils = [check_choice("stencils", name, STENCILS) for name in stencils]
    dtypes = [check_choice("dtypes", _dtype_name(d), DTYPES) for d in dtypes]
    gpu = "cuda" in backends and cuda_available(real_gpu_only=True)
    batch = batch or (1024 if gpu else 16)
    steps = steps or 2000
    np_steps = max(1, steps // 40)
    u, v, f, k = workload(batch, size, burn_in)
    cells = batch * size * size
    say = progress_logger(log, __name__) if progress else (lambda message: None)
    rows = []

    def add(backend, stencil, dtype, n, seconds, note=""):
        rate = cells * n / seconds
        itemsize = np.dtype(dtype).itemsize
        if backend == "cuda":
            note = f"{100 * rate * 4 * itemsize / GPU_BANDWIDTH:.0f} % of H100 memory bandwidth"
        rows.append(
            dict(
                backend=backend,
                stencil=stencil,
                dtype=dtype,
                batch=batch,
                size=size,
                steps=n,
                seconds=seconds,
                updates_per_s=rate,
                bandwidth_Bps=rate * 4 * itemsize,
                ratio=rate / rows[0]["updates_per_s"] if rows else 1.0,
                note=note,
            )
        )
        say(f"  {backend:12s} {stencil} {dtype:8s} {rate:10.3g} updates/s")

    say(f"benchmark: {batch} x {size}x{size} grids, machine {platform.machine()} {platform.processor() or ''}")
    sec = _timed(lambda: paper_numpy_steps(u, v, f, k, np_steps), min_seconds)
    add("paper-numpy", "9pt", "float64", np_steps, sec, "the source paper's np.roll code")
    for backend in backends:
        if backend == "cuda" and not gpu:
            rows.append(
                dict(
                    backend="cuda",
                    stencil="-",
                    dtype="-",
                    batch=batch,
                    size=size,
                    steps=0,
                    seconds=np.nan,
                    updates_per_s=np.nan,
                    bandwidth_Bps=np.nan,
                    ratio=np.nan,
                    note="skipped: no GPU visible",
                )
            )
            continue
        n = np_steps if backend == "numpy" else steps
        for stencil in stencils:
            for dtype in dtypes:
                run = functools.partial(
                    simulate, u, v, f=f, k=k, steps=n, stencil=stencil, backend=backend, dtype=dtype
                )
                simulate(
                    u[:2], v[:2], f=f[:2], k=k[:2], steps=2, stencil=stencil, backend=backend, dtype=dtype
                )  # compile
                add(backend, stencil, dtype, n, _timed(run, min_seconds))
    return rows


def format_table(rows) -> str:
    """A Markdown table of benchmark rows: updates/s and the ratio to the paper's NumPy code.

    Parameters
    ----------
    rows : list of dict
        Rows of :func:`run_benchmark`.

    Returns
    -------
    str
        The table.
    """
    lines = [
        "| backend | stencil | dtype | batch x grid | cell updates/s | x paper NumPy | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        rate = "-" if not np.isfinite(r["updates_per_s"]) else f"{r['updates_per_s']:.3g}"
        ratio = (
            "-" if not np.isfinite(r["ratio"]) else f"{r['ratio']:.0f}x" if r["ratio"] >= 10 else f"{r['ratio']:.2f}x"
        )
        grid = f"{r['batch']} x {r['size']}^2"
        lines.append(f"| {r['backend']} | {r['stencil']} | {r['dtype']} | {grid} | {rate} | {ratio} | {r['note']} |")
    return "\n".join(lines)
