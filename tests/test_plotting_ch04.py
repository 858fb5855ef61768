"""Tests of the chapter-4 figures of gslib.plotting (equations from stochastic data)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from gslib import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_field_grid_shares_one_colour_scale_and_keeps_the_extent_of_coarse_grids():
    fine, coarse = np.random.default_rng(0).random((8, 8)), np.ones((4, 4))
    fig, axes = plotting.plot_field_grid([[fine, coarse]], titles=[["fine", "coarse"]], dx=[[1.0, 2.0]], vmin=0, vmax=1)
    assert axes.shape == (1, 2)
    assert [ax.get_title() for ax in axes[0]] == ["fine", "coarse"]
    assert axes[0, 0].images[0].get_extent() == axes[0, 1].images[0].get_extent() == [0, 8, 0, 8]
    assert all(ax.images[0].get_clim() == (0, 1) for ax in axes[0])
    with pytest.raises(ValueError, match="titles"):
        plotting.plot_field_grid([fine, fine], titles=["one"])


def test_lag_errors_plots_percent_and_checks_shapes():
    fig, ax = plt.subplots()
    plotting.plot_lag_errors(ax, [0.5, 1.0], [[0.1, -0.05], [0.2, -0.1]], [0.0, 0.01], ["a", "b"])
    assert np.allclose(ax.lines[0].get_ydata(), [10, 20])
    assert "%" in ax.get_ylabel() and "time" in ax.get_xlabel()
    with pytest.raises(ValueError, match="errors"):
        plotting.plot_lag_errors(ax, [0.5], [[0.1, 0.2]], [0.0], ["a"])


def test_pareto_fronts_draw_the_gain_beyond_the_reference_size():
    sizes = np.arange(6)
    fig = plotting.plot_pareto_fronts({"model": (sizes, [0, 10, 50, 60, 61, 62])}, {"AIC": 1.0}, reference_size=3)
    gain = fig.axes[1].lines[0]
    assert np.allclose(gain.get_ydata(), [0, 1, 2])
    with pytest.raises(ValueError, match="reference_size"):
        plotting.plot_pareto_fronts({"model": ([0, 1], [0, 1])}, {}, reference_size=3)


def test_structure_factors_apparent_diffusivity_and_ratios():
    fig, (a, b, c) = plt.subplots(1, 3)
    plotting.plot_structure_factors(a, [0.5, 1.0], {"data": [2.0, 1.0], "model": [2.1, 0.9]})
    assert len(a.lines) == 2 and a.get_yscale() == "log"
    plotting.plot_apparent_diffusivity(
        b, {"grid": ([0.5, 1.0, 2.0], [0.1, 0.16, 0.2])}, true_value=0.16, name="u", q_min=0.75
    )
    assert np.allclose(b.lines[0].get_xdata(), [1.0, 2.0])
    with pytest.raises(ValueError, match="true_value"):
        plotting.plot_apparent_diffusivity(b, {}, true_value=-1, name="u")
    plotting.plot_ratio_by_factor(c, [1, 2, 4], {"Du": [1.0, 1.5, 1.4]}, ylabel="inferred / true")
    assert c.get_xscale() == "log"
    with pytest.raises(ValueError, match="factors"):
        plotting.plot_ratio_by_factor(c, [1, 2], {"Du": [1.0]}, ylabel="r")


def test_animation_html_is_a_self_contained_player():
    movie = np.random.default_rng(1).random((5, 6, 6))
    html = plotting.animation_html([movie, movie], titles=["data", "model"], times=np.arange(5) * 0.5, frames=3)
    assert "<script" in html and html.count("data:image/png;base64") == 3
    assert not plt.get_fignums()
    with pytest.raises(ValueError, match="frames"):
        plotting.animation_html([movie], titles=["a"], times=np.arange(5), frames=9)


def test_coefficient_check_draws_error_bars_of_two_standard_errors_and_the_prediction():
    fig, ax = plt.subplots()
    plotting.plot_coefficient_check(
        ax, ["a", "b"], [1.0, -2.0], [0.1, 0.2], [1.05, -1.9], ylabel="coefficient (unit)", title="check"
    )
    assert ax.get_ylabel() == "coefficient (unit)" and ax.get_title() == "check"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    bars = ax.collections[0].get_segments()  # the error bars: +- 2 standard errors
    assert np.allclose([s[:, 1] for s in bars], [[0.8, 1.2], [-2.4, -1.6]])
    predicted = [line for line in ax.lines if line.get_label() == "predicted"][0]
    assert np.allclose(predicted.get_ydata(), [1.05, -1.9])
    with pytest.raises(ValueError, match="one value per label"):
        plotting.plot_coefficient_check(ax, ["a", "b"], [1.0], [0.1], [1.0])
    with pytest.raises(ValueError, match="stderr"):
        plotting.plot_coefficient_check(ax, ["a"], [1.0], [-0.1], [1.0])


def test_noise_study_plots_rate_and_worst_error_per_regime_and_estimator():
    from gslib.inference.robustness import NoiseStudy

    runs = [
        {
            "regime": regime,
            "level": level,
            "corrected": corrected,
            "exact": corrected or level == 0.0,
            "worst_error": 0.01 + level * (1 if corrected else 10),
        }
        for regime in ("spots", "coral")
        for level in (0.0, 0.01)
        for corrected in (False, True)
    ]
    fig = plotting.plot_noise_study(NoiseStudy(runs, ["spots", "coral"], [0.0, 0.01], [1]), title="noise")
    ax_rate, ax_err = fig.axes
    assert "noise" in ax_rate.get_xlabel() and "fraction" in ax_rate.get_ylabel() and "%" in ax_err.get_ylabel()
    assert len(ax_rate.lines) == 4 and ax_err.get_yscale() == "log"
    rates = {line.get_label(): list(line.get_ydata()) for line in ax_rate.lines}
    assert rates["coral, corrected"] == [1.0, 1.0] and rates["coral, uncorrected"] == [1.0, 0.0]
    errors = {line.get_label(): line.get_ydata() for line in ax_err.lines if not line.get_label().startswith("_")}
    assert np.allclose(errors["spots, uncorrected"], [1.0, 11.0])
    with pytest.raises(ValueError, match="level"):
        plotting.plot_noise_study(NoiseStudy([], ["coral"], [], [1]))
