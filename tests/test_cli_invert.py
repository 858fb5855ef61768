"""Tests of ``gslib invert`` (gslib.cli): a round trip from ``gslib simulate`` and clear errors for bad files."""

import json

import numpy as np
import pytest

from gslib import cli

SIMULATE = [
    "simulate",
    "--initial",
    "landscape",
    "--size",
    "24",
    "--square",
    "10",
    "--seed",
    "1",
    "--Du",
    "0.16",
    "--Dv",
    "0.08",
    "--f",
    "0.045",
    "--k",
    "0.062",
    "--dt",
    "1",
    "--stencil",
    "5pt",
    "--dtype",
    "float64",
    "--backend",
    "numpy",
    "--t-end",
    "20000",
    "--steady-tol",
    "1e-7",
    "--quiet",
]


@pytest.fixture(scope="module")
def steady(tmp_path_factory):
    """A steady spot pattern (24 x 24, 5-point stencil) written by `gslib simulate`."""
    path = tmp_path_factory.mktemp("invert") / "steady.npz"
    assert cli.main(SIMULATE + ["--out", str(path)]) == 0
    with np.load(path) as npz:
        assert bool(npz["steady"]) and np.ptp(npz["v"]) > 0.2
    return path


def _run(capsys, argv):
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_help_lists_the_options(capsys):
    code, out, _ = _run(capsys, ["invert", "--help"])
    assert code == 0
    out = " ".join(out.split())
    for option in ("STEADY.npz", "--stencil", "--noise", "--out", "--quiet", "5pt", "9pt", "relative_stderr"):
        assert option in out


def test_round_trip(steady, tmp_path, capsys):
    out = tmp_path / "sub" / "params.json"
    code, printed, err = _run(capsys, ["invert", str(steady), "--stencil", "5pt", "--out", str(out)])
    assert code == 0, err
    assert "Du" in printed and "relative error" in printed and "wrote" in printed
    result = json.loads(out.read_text())
    truth = {"Du": 0.16, "Dv": 0.08, "f": 0.045, "k": 0.062}
    assert set(k for k in ("Du", "Dv", "f", "k") if k in result) == set(result["stderr"]) == set(truth)
    for name, value in truth.items():
        assert result[name] == pytest.approx(value, rel=1e-3)
        assert abs(result["relative_errors"][name]) < 1e-3
        assert 0 < result["stderr"][name] < 1e-3 * value
    assert result["truth"] == truth and result["stencil"] == "5pt" and result["grid"] == [24, 24]
    assert result["dx"] == 1.0 and len(result["covariance"]) == 4
    assert result["provenance"]["command"].startswith("gslib invert")


def test_stencil_defaults_to_the_files_and_a_mismatch_warns(steady, tmp_path, capsys):
    code, printed, _ = _run(capsys, ["invert", str(steady), "--quiet", "--out", str(tmp_path / "a.json")])
    assert code == 0 and printed == ""
    assert json.loads((tmp_path / "a.json").read_text())["stencil"] == "5pt"
    code, _, err = _run(capsys, ["invert", str(steady), "--stencil", "9pt", "--out", str(tmp_path / "b.json")])
    assert code == 0 and "warning" in err and "biased" in err
    wrong = json.loads((tmp_path / "b.json").read_text())
    assert max(abs(e) for e in wrong["relative_errors"].values()) > 1e-2


def test_a_file_with_only_u_v_dx(steady, tmp_path, capsys):
    with np.load(steady) as npz:
        u, v = npz["u"], npz["v"]
    path = tmp_path / "plain.npz"
    np.savez(path, u=u, v=v, dx=2.0)
    code, _, err = _run(capsys, ["invert", str(path), "--out", str(tmp_path / "p.json")])
    assert code == 0, err
    result = json.loads((tmp_path / "p.json").read_text())
    assert "truth" not in result and result["dx"] == 2.0
    assert result["Du"] == pytest.approx(4 * 0.16, rel=1e-3)  # lengths in units of dx = 2


@pytest.mark.parametrize(
    "case, message",
    [
        ("uniform", "uniform"),
        ("nan", "NaN"),
        ("shape3d", "shape (N, M)"),
        ("mismatch", "same shape"),
        ("no_dx", "missing key(s) dx"),
        ("no_v", "missing key(s) v"),
        ("bad_dx", "dx must be one finite number > 0"),
        ("pickle", "pickled"),
        ("not_zip", "not a readable .npz"),
        ("suffix", "must be an .npz file"),
        ("missing", "no such file"),
        ("zero_v", "no information on Dv, k"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(tmp_path, capsys, case, message):
    rng = np.random.default_rng(0)
    u, v = 0.5 + 0.1 * rng.random((10, 12)), 0.2 * rng.random((10, 12))
    path = tmp_path / "bad.npz"
    if case == "uniform":
        np.savez(path, u=np.ones((10, 12)), v=np.zeros((10, 12)), dx=1.0)
    elif case == "nan":
        u[2, 3] = np.nan
        np.savez(path, u=u, v=v, dx=1.0)
    elif case == "shape3d":
        np.savez(path, u=u[None], v=v[None], dx=1.0)
    elif case == "mismatch":
        np.savez(path, u=u, v=v[:, :-1], dx=1.0)
    elif case == "no_dx":
        np.savez(path, u=u, v=v)
    elif case == "no_v":
        np.savez(path, u=u, dx=1.0)
    elif case == "bad_dx":
        np.savez(path, u=u, v=v, dx=0.0)
    elif case == "pickle":
        np.savez(path, u=np.array([u, "x"], dtype=object), v=v, dx=1.0)
    elif case == "not_zip":
        path.write_text("not an archive")
    elif case == "suffix":
        path = tmp_path / "bad.txt"
        path.write_text("x")
    elif case == "missing":
        path = tmp_path / "nothing.npz"
    elif case == "zero_v":
        np.savez(path, u=u, v=np.zeros_like(v), dx=1.0)
    code, _, err = _run(capsys, ["invert", str(path)])
    assert code == 2
    assert err.startswith("gslib: error:") and message in err, err


def test_out_must_be_json(steady, capsys):
    code, _, err = _run(capsys, ["invert", str(steady), "--out", "params.txt"])
    assert code == 2 and "must end in .json" in err


def test_noise_correction(steady, tmp_path, capsys):
    with np.load(steady) as npz:
        u, v = npz["u"], npz["v"]
    rng = np.random.default_rng(1)
    path = tmp_path / "noisy.npz"
    np.savez(path, u=u + 3e-3 * rng.standard_normal(u.shape), v=v + 3e-3 * rng.standard_normal(v.shape), dx=1.0)
    errors = {}
    for sigma in ("0", "3e-3"):
        out = tmp_path / f"n{sigma}.json"
        code, printed, err = _run(capsys, ["invert", str(path), "--noise", sigma, "--out", str(out)])
        # uncorrected, the noise leaves a residual the model does not explain (and biases Du): exit 3
        assert code == (3 if sigma == "0" else 0), err
        result = json.loads(out.read_text())
        assert result["noise"] == float(sigma)
        errors[sigma] = abs(result["Du"] / 0.16 - 1)
    assert "corrected for noise" in printed
    assert errors["0"] > 0.02 and errors["3e-3"] < errors["0"] / 3
    code, _, err = _run(capsys, ["invert", str(path), "--noise", "-1"])
    assert code == 2 and "--noise" in err
