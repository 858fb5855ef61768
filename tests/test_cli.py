"""Tests of the ``gslib`` console command (gslib.cli), run in-process through ``main`` and once as a script."""

import json
import shutil
import subprocess
import sys
import types
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import gslib  # noqa: E402
from gslib import cli, initial  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TINY = ["--size", "16", "--t-end", "2.5", "--backend", "numpy", "--quiet"]


def _script() -> str:
    script = Path(sys.executable).parent / "gslib"
    if script.exists():
        return str(script)
    found = shutil.which("gslib")
    if found is None:
        pytest.skip("the gslib console script is not installed")
    return found


# ----------------------------------------------------------------------------- parser and help


def test_console_script_help():
    proc = subprocess.run([_script(), "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "simulate" in proc.stdout and "bench" in proc.stdout


def test_version(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"gslib {gslib.__version__}"


@pytest.mark.parametrize(
    "command, options",
    [
        (
            "simulate",
            [
                "--f",
                "--k",
                "--size",
                "--t-end",
                "--Du",
                "--Dv",
                "--dt",
                "--dx",
                "--stencil",
                "--backend",
                "--dtype",
                "--seed",
                "--initial",
                "--record",
                "--steady-tol",
                "--out",
                "--png",
                "--quiet",
            ],
        ),
        ("bench", ["--size", "--batch", "--steps", "--backends", "--stencils", "--dtypes", "--json", "--quiet"]),
    ],
)
def test_subcommand_help_lists_options_with_defaults(capsys, command, options):
    assert cli.main([command, "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # independent of the terminal's width
    for option in options:
        assert option in out
    assert "(default: " in out
    if command == "simulate":
        assert "(default: 0.042)" in out and "(default: 15000.0)" in out and "time unit" in out
    else:
        assert "(default: None)" in out and "automatic" in out


def test_no_command_is_a_usage_error(capsys):
    assert cli.main([]) == 2
    assert "simulate" in capsys.readouterr().err


def test_unknown_option_is_a_usage_error(capsys):
    assert cli.main(["simulate", "--no-such-option"]) == 2
    assert "--no-such-option" in capsys.readouterr().err


def test_every_subcommand_registered_once():
    names = [name for name, *_ in cli._SUBCOMMANDS]
    assert names[:2] == ["simulate", "bench"]
    assert len(names) == len(set(names))


# ----------------------------------------------------------------------------- simulate


def test_simulate_writes_npz_with_metadata(tmp_path, capsys):
    out = tmp_path / "sub" / "p.npz"
    code = cli.main(["simulate", *TINY, "--dtype", "float64", "--seed", "3", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    with np.load(out, allow_pickle=False) as data:
        d = {key: data[key] for key in data.files}
    for key in (
        "u",
        "v",
        "f",
        "k",
        "Du",
        "Dv",
        "dt",
        "dx",
        "steps",
        "stencil",
        "dtype",
        "seed",
        "initial",
        "backend",
        "gslib_version",
    ):
        assert key in d, key
    assert "frames_u" not in d and "frame_times" not in d
    assert d["u"].shape == d["v"].shape == (16, 16) and d["u"].dtype == np.float64
    assert float(d["f"]) == 0.042 and float(d["k"]) == 0.063
    assert float(d["Du"]) == 0.2 and float(d["Dv"]) == 0.1
    assert float(d["dt"]) == 0.25 and float(d["dx"]) == 1.0 and float(d["t_end"]) == 2.5
    assert int(d["steps"]) == 10 and int(d["steps_taken"]) == 10 and not bool(d["steady"])
    assert str(d["stencil"]) == "9pt" and str(d["dtype"]) == "float64" and str(d["initial"]) == "cnn"
    assert str(d["backend"]) == "numpy" and int(d["seed"]) == 3
    assert str(d["gslib_version"]) == gslib.__version__
    assert all(a.dtype != object for a in d.values())
    # the same run through the library gives the same fields
    u0, v0 = initial.cnn_seed(3, n=16, square=int(d["square"]))
    u, v = gslib.simulate(u0, v0, f=0.042, k=0.063, steps=10, backend="numpy", dtype=np.float64)
    np.testing.assert_array_equal(d["u"], u)
    np.testing.assert_array_equal(d["v"], v)


def test_simulate_records_frames_and_options(tmp_path):
    out = tmp_path / "frames.npz"
    code = cli.main(
        [
            "simulate",
            *TINY,
            "--initial",
            "sfi",
            "--stencil",
            "5pt",
            "--dt",
            "0.5",
            "--Du",
            "0.16",
            "--Dv",
            "0.08",
            "--f",
            "0.03",
            "--k",
            "0.055",
            "--record",
            "2.5",
            "0",
            "1.0",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    with np.load(out, allow_pickle=False) as d:
        assert d["frames_u"].shape == d["frames_v"].shape == (3, 16, 16)
        np.testing.assert_array_equal(d["frame_times"], [0.0, 1.0, 2.5])
        np.testing.assert_array_equal(d["frames_u"][-1], d["u"])
        assert d["u"].dtype == np.float32
        assert int(d["steps"]) == 5 and str(d["stencil"]) == "5pt" and str(d["initial"]) == "sfi"
        assert float(d["Du"]) == 0.16 and float(d["f"]) == 0.03 and float(d["noise"]) == 0.02


@pytest.mark.parametrize("record", [[], ["0", "1.25", "2.5"]], ids=["fields", "rgb"])
def test_simulate_png(tmp_path, record):
    png = tmp_path / "pics" / "p.png"
    extra = ["--record", *record] if record else []
    assert cli.main(["simulate", *TINY, *extra, "--png", str(png)]) == 0
    assert png.read_bytes()[:8] == PNG_MAGIC


def test_simulate_progress_and_summary(tmp_path, capsys):
    out = tmp_path / "p.npz"
    argv = [
        "simulate",
        *[a for a in TINY if a != "--quiet"],
        "--initial",
        "landscape",
        "--steady-tol",
        "1e-12",
        "--out",
        str(out),
    ]
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    assert "10 steps" in captured.out and str(out) in captured.out
    assert "step" in captured.err  # the progress bar
    with np.load(out, allow_pickle=False) as d:
        assert float(d["steady_tol"]) == 1e-12 and str(d["initial"]) == "landscape"


@pytest.mark.parametrize(
    "argv, names",
    [
        (["--t-end", "2.6"], ["--t-end", "--dt", "2.5", "2.75"]),
        (["--f", "-1"], ["--f"]),
        (["--k", "-0.5"], ["--k"]),
        (["--f", "nan"], ["--f"]),
        (["--dt", "0"], ["--dt"]),
        (["--dt", "5", "--t-end", "10"], ["dt", "stability"]),
        (["--record", "3.0"], ["--record"]),
        (["--record", "0.1"], ["--record", "--dt"]),
        (["--size", "2"], ["--size"]),
        (["--square", "20"], ["--size", "--square"]),
        (["--noise", "-1", "--initial", "sfi"], ["--noise"]),
        (["--stencil", "7pt"], ["--stencil"]),
    ],
)
def test_simulate_bad_input_exits_2(tmp_path, capsys, argv, names):
    out = tmp_path / "p.npz"
    base = ["simulate", "--size", "16", "--t-end", "2.5", "--backend", "numpy", "--quiet", "--out", str(out)]
    assert cli.main(base + argv) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err
    for name in names:
        assert name in err
    assert not out.exists()


def test_simulate_needs_an_output(capsys):
    assert cli.main(["simulate", *TINY]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gslib: error:") and "--out" in err and "--png" in err


@pytest.mark.parametrize("option, name", [("--out", "p.txt"), ("--png", "p.jpg")])
def test_simulate_checks_output_suffix(tmp_path, capsys, option, name):
    assert cli.main(["simulate", *TINY, option, str(tmp_path / name)]) == 2
    assert option in capsys.readouterr().err


def test_simulate_blow_up_exits_1(tmp_path, capsys):
    out = tmp_path / "p.npz"
    assert (
        cli.main(
            [
                "simulate",
                "--size",
                "16",
                "--t-end",
                "250",
                "--f",
                "100",
                "--backend",
                "numpy",
                "--quiet",
                "--out",
                str(out),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert err.startswith("gslib: error:") and "blew up" in err and "Traceback" not in err
    assert not out.exists()


# ----------------------------------------------------------------------------- bench


def test_bench_passes_options_and_writes_json(tmp_path, monkeypatch, capsys):
    calls = []
    fake = types.ModuleType("gslib.benchmark")

    def run_benchmark(**kwargs):
        calls.append(kwargs)
        return [
            {
                "backend": "cpu",
                "stencil": "5pt",
                "dtype": "float64",
                "updates_per_s": np.float64(1e9),
                "steps": np.int64(4),
            },
            {"backend": "cuda", "stencil": "-", "dtype": "-", "updates_per_s": float("nan"), "steps": 0},
        ]

    fake.run_benchmark = run_benchmark
    fake.format_table = lambda rows: f"TABLE with {len(rows)} rows"
    monkeypatch.setitem(sys.modules, "gslib.benchmark", fake)

    path = tmp_path / "out" / "bench.json"
    assert (
        cli.main(
            [
                "bench",
                "--size",
                "16",
                "--steps",
                "4",
                "--backends",
                "numpy",
                "cpu",
                "--dtypes",
                "float64",
                "--stencils",
                "5pt",
                "--json",
                str(path),
                "--quiet",
            ]
        )
        == 0
    )
    assert calls == [
        dict(
            size=16,
            batch=None,
            steps=4,
            backends=["numpy", "cpu"],
            stencils=["5pt"],
            dtypes=["float64"],
            progress=False,
        )
    ]
    assert "TABLE with 2 rows" in capsys.readouterr().out
    record = json.loads(path.read_text())
    assert record["command"].startswith("gslib bench --size 16") and record["gslib_version"] and record["machine"]
    rows = record["rows"]
    assert rows[0] == {"backend": "cpu", "stencil": "5pt", "dtype": "float64", "updates_per_s": 1e9, "steps": 4}
    assert rows[1]["updates_per_s"] is None  # NaN written as null: strict JSON

    calls.clear()
    assert cli.main(["bench"]) == 0
    assert calls == [
        dict(
            size=128,
            batch=None,
            steps=None,
            backends=["numpy", "cpu", "cuda"],
            stencils=["5pt", "9pt"],
            dtypes=["float32", "float64"],
            progress=True,
        )
    ]


def test_bench_rejects_bad_choices(capsys):
    assert cli.main(["bench", "--backends", "tpu"]) == 2
    assert "--backends" in capsys.readouterr().err
    assert cli.main(["bench", "--size", "0"]) == 2


def test_bench_real_tiny(tmp_path, capsys):
    path = tmp_path / "bench.json"
    code = cli.main(
        [
            "bench",
            "--size",
            "16",
            "--batch",
            "1",
            "--steps",
            "4",
            "--backends",
            "numpy",
            "cpu",
            "--dtypes",
            "float64",
            "--stencils",
            "5pt",
            "--json",
            str(path),
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err
    rows = json.loads(path.read_text())["rows"]
    assert {row["backend"] for row in rows} >= {"numpy", "cpu"}
    assert "cpu" in capsys.readouterr().out
