"""Tests of ``gslib infer`` (gslib.cli): a round trip on small simulated data and clear errors for bad files."""

import json

import numpy as np
import pytest

from gslib import cli, spde


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    """A small coral run (32 x 32, 100 frames 0.5 apart) saved as the input of ``gslib infer``."""
    run = spde.sfi_example("coral", seed=3, n=32, frames=100, burn_in=60)
    path = tmp_path_factory.mktemp("infer") / "coral.npz"
    run.save(path)
    return path, run


def _error(capsys, argv):
    code = cli.main(argv)
    err = capsys.readouterr().err
    return code, err


def test_help_lists_the_options(capsys):
    assert cli.main(["infer", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for option in (
        "--out",
        "--criterion",
        "--p",
        "--method",
        "--lags",
        "--weight",
        "--noise",
        "--stencil",
        "--simulate",
        "--seed",
        "--save-data",
        "--quiet",
        "DATA.npz",
    ):
        assert option in out
    assert "(default: 0.001)" in out and "(default: PASTIS)" in out


def test_round_trip(frames, tmp_path, capsys):
    path, run = frames
    out = tmp_path / "sub" / "result.json"
    assert cli.main(["infer", str(path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "PASTIS" in printed and "UV^2" in printed and "wrote" in printed
    result = json.loads(out.read_text())
    assert result["criterion"] == "PASTIS" and result["p"] == 0.001 and result["n0"] == 34
    assert set(result["terms"]) == {"u", "v"} and set(result["stderr"]) == {"u", "v"}
    truth = spde.true_coefficients(*spde.REGIMES["coral"])
    for name in ("u", "v"):
        assert set(result["terms"][name]) == set(truth[name])  # exactly the 7 true terms
        assert set(result["stderr"][name]) == set(result["terms"][name])
        for label, c in truth[name].items():
            assert result["terms"][name][label] == pytest.approx(c, rel=0.05)
    assert result["diffusion"]["u"]["conserved_sigma"] == pytest.approx(0.01, rel=0.05)
    assert result["n_frames"] == 100 and result["grid"] == [32, 32] and result["dt"] == 0.5
    assert result["front"][0]["size"] == 0 and result["provenance"]["command"].startswith("gslib infer")
    assert set(result["library"]) >= {"1", "lap^2 V", "grad U.grad V"}


def test_options_and_mask(frames, tmp_path, capsys):
    path, run = frames
    mask = np.ones(run.u.shape, bool)
    mask[5, 3, 4] = False
    u = run.u.copy()
    u[5, 3, 4] = np.nan
    data = tmp_path / "masked.npz"
    np.savez(data, u=u, v=run.v, dt=0.5, dx=1.0, mask=mask)
    out = tmp_path / "r.json"
    assert cli.main(["infer", str(data), "--out", str(out), "--criterion", "BIC", "--lags", "2", "-q"]) == 0
    assert capsys.readouterr().out == ""
    result = json.loads(out.read_text())
    assert result["criterion"] == "BIC" and result["lags"] == 2 and result["weight"] == "white"
    assert result["valid_fraction"] < 1
    # without dx the grid spacing defaults to 1
    nodx = tmp_path / "nodx.npz"
    np.savez(nodx, u=run.u, v=run.v, dt=0.5)
    assert cli.main(["infer", str(nodx), "--method", "ito", "--lags", "1", "-q"]) == 0


def test_simulate_helper(tmp_path, capsys):
    out, data = tmp_path / "r.json", tmp_path / "d.npz"
    assert (
        cli.main(
            [
                "infer",
                "--simulate",
                "holes",
                "--seed",
                "1",
                "--frames",
                "40",
                "--save-data",
                str(data),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "true" in printed
    result = json.loads(out.read_text())
    assert result["simulated"] == "holes" and result["truth"]["u"]["UV^2"] == -1.0
    with np.load(data, allow_pickle=False) as d:
        assert d["u"].shape == (40, 64, 64)


def _save(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing_v", "missing key(s) v"),
        ("missing_dt", "missing key(s) dt"),
        ("flat_u", "shape (T, N, M)"),
        ("shapes_differ", "same shape"),
        ("few_frames", "too few frames"),
        ("nan", "non-finite"),
        ("nan_outside_mask", "outside the mask"),
        ("mask_not_bool", "boolean"),
        ("mask_shape", "mask must have shape"),
        ("dt_negative", "dt = -0.5"),
        ("dt_array", "dt must be one number"),
        ("objects", "Python objects"),
        ("text_u", "real array"),
    ],
)
def test_bad_files_exit_2_with_a_clear_message(case, message, tmp_path, capsys):
    rng = np.random.default_rng(0)
    u = 1 + 0.01 * rng.standard_normal((12, 8, 8))
    v = 0.01 * rng.standard_normal((12, 8, 8))
    p = tmp_path / f"{case}.npz"
    arrays = dict(u=u, v=v, dt=0.5, dx=1.0)
    if case == "missing_v":
        del arrays["v"]
    elif case == "missing_dt":
        del arrays["dt"]
    elif case == "flat_u":
        arrays["u"] = u[0]
    elif case == "shapes_differ":
        arrays["v"] = v[:, :7]
    elif case == "few_frames":
        arrays.update(u=u[:3], v=v[:3])
    elif case == "nan":
        arrays["u"] = np.where(np.arange(8) == 2, np.nan, u)
    elif case == "nan_outside_mask":
        arrays["u"] = np.where(np.arange(8) == 2, np.nan, u)
        mask = np.ones(u.shape, bool)
        mask[0, 0, 0] = False
        arrays["mask"] = mask
    elif case == "mask_not_bool":
        arrays["mask"] = np.ones(u.shape)
    elif case == "mask_shape":
        arrays["mask"] = np.ones((8, 9), bool)
    elif case == "dt_negative":
        arrays["dt"] = -0.5
    elif case == "dt_array":
        arrays["dt"] = np.array([0.5, 0.5])
    elif case == "objects":
        arrays["u"] = np.array([u, "x"], dtype=object)
        np.savez(p, **arrays)  # np.savez pickles object arrays; np.load(allow_pickle=False) refuses them
    elif case == "text_u":
        arrays["u"] = np.full((12, 8, 8), "a")
    if case != "objects":
        _save(p, **arrays)
    code, err = _error(capsys, ["infer", str(p), "--out", str(tmp_path / "r.json")])
    assert code == 2, err
    assert err.startswith("gslib: error:") and message in err, err
    assert not (tmp_path / "r.json").exists()


def test_other_errors(tmp_path, capsys):
    code, err = _error(capsys, ["infer", str(tmp_path / "absent.npz")])
    assert code == 2 and "no such file" in err
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file")
    code, err = _error(capsys, ["infer", str(junk)])
    assert code == 2 and "not a readable .npz" in err
    code, err = _error(capsys, ["infer", str(tmp_path / "x.txt")])
    assert code == 2 and ".npz" in err
    code, err = _error(capsys, ["infer"])
    assert code == 2 and "no data" in err
    code, err = _error(capsys, ["infer", "--simulate", "coral", str(junk)])
    assert code == 2 and "not both" in err
    code, err = _error(capsys, ["infer", str(junk), "--out", "r.txt"])
    assert code == 2 and "--out" in err
    code, err = _error(capsys, ["infer", "--simulate", "coral", "--p", "2"])
    assert code == 2 and "--p" in err


def test_measurement_noise_is_estimated_reported_and_refused_when_bad(frames, tmp_path, capsys):
    from gslib.inference import add_measurement_noise

    _, run = frames
    noisy_u, noisy_v = add_measurement_noise(run.u, run.v, 0.005, seed=0)
    path = tmp_path / "noisy.npz"
    np.savez(path, u=noisy_u, v=noisy_v, dt=run.dt, dx=run.dx)
    out = tmp_path / "noisy.json"
    assert cli.main(["infer", str(path), "--stencil", "5pt", "--out", str(out)]) == 0
    assert "measurement noise (estimated)" in capsys.readouterr().out
    record = json.loads(out.read_text())["measurement_noise"]
    assert record["source"] == "estimated"
    for name in ("u", "v"):
        assert abs(record["std"][name] / 0.005 - 1) < 0.3, record
    assert cli.main(["infer", str(path), "--stencil", "5pt", "--measurement-noise", "none", "--out", str(out)]) == 0
    capsys.readouterr()
    assert json.loads(out.read_text())["measurement_noise"]["source"] == "none"
    code, err = _error(capsys, ["infer", str(path), "--measurement-noise", "-1"])
    assert code == 2 and "--measurement-noise" in err
