"""Tests of the chapter-5 figures of gslib.plotting: target and spectrum, descent, cross-sections, maps."""

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


class _History:
    def __init__(self, loss, err):
        self._loss, self._err = np.asarray(loss), np.asarray(err)

    def arrays(self):
        return {"loss": self._loss}

    def relative_error(self):
        return self._err


class _Section:
    def __init__(self, x, **losses):
        self.axes, self.losses = (np.asarray(x),), {k: np.asarray(v) for k, v in losses.items()}


def test_target_spectrum_and_descent_figures():
    rng = np.random.default_rng(0)
    u, v, s = rng.random((3, 32, 32))
    fig = plotting.plot_target_spectrum(u, v, s, window=16)
    assert len(fig.axes) == 6 and fig.axes[2].get_xlabel().startswith("wave number")  # 3 panels, 3 colorbars
    with pytest.raises(ValueError, match="one shape"):
        plotting.plot_target_spectrum(u, v, s[:4])
    with pytest.raises(ValueError, match="window"):
        plotting.plot_target_spectrum(u, v, s, window=-1)
    fig = plotting.plot_descent([_History([5, 4, 190], np.full((3, 4), 0.1))], 190.0)
    assert fig.axes[0].get_xlabel() == "iteration" and "dead plateau" in [
        t.get_text() for t in fig.axes[0].get_legend().get_texts()
    ]
    with pytest.raises(ValueError, match="at least one"):
        plotting.plot_descent([], 1.0)


def test_sections_maps_surface_and_relative_losses():
    x = np.linspace(0.04, 0.075, 9)
    sections = {name: _Section(x, spectral=x * 10, windowed=x * 5, residual=x**2 + 1e-6) for name in ("Du", "k")}
    fig = plotting.plot_loss_sections(
        sections, {"Du": 0.05, "k": 0.065}, 0.7, lines={"k": [(0.058, "saddle-node", "black", "-")]}
    )
    assert fig.axes[0].get_xlabel().startswith("diffusivity Du") and fig.axes[1].get_xlabel().startswith("kill rate k")
    with pytest.raises(ValueError, match="lacks the losses"):
        plotting.plot_loss_sections({"k": _Section(x, spectral=x)}, {"k": 0.065}, 0.7)
    k, f = np.linspace(0.04, 0.075, 5), np.linspace(0.005, 0.08, 4)
    fig, ax = plt.subplots()
    mesh = plotting.plot_loss_map(
        ax, np.ones((4, 5)), f_axis=f, k_axis=k, label="loss", truth=(0.035, 0.065), paths=[(f[:2], k[:2])]
    )
    assert mesh.get_array().size == 20 and ax.get_ylabel().startswith("feed rate f")
    with pytest.raises(ValueError, match="shape"):
        plotting.plot_loss_map(ax, np.ones((5, 4)), f_axis=f, k_axis=k, label="loss")
    fig = plotting.plot_loss_surface(np.ones((4, 5)), f_axis=f, k_axis=k, truth=(0.035, 0.065), level=1.0)
    assert fig.axes[0].get_zlabel() == "spectral loss"
    fig, ax = plt.subplots()
    plotting.plot_relative_losses(ax, x, {"gram": (x, 2.0)}, xlabel="kill rate k (1/time)", truth=0.065)
    assert ax.get_yscale() == "log" and np.allclose(ax.get_lines()[0].get_ydata(), x / 2)
    with pytest.raises(ValueError, match="plateau"):
        plotting.plot_relative_losses(ax, x, {"gram": (x, 0.0)}, xlabel="k")
    with pytest.raises(ValueError, match="shape"):
        plotting.plot_relative_losses(ax, x, {"gram": (x[:3], 1.0)}, xlabel="k")


def test_residual_robustness_figure():
    names = ("Du", "Dv", "F", "k")
    fig = plotting.plot_residual_robustness(
        [1e-2, 1e-4],
        [100, 2000],
        [0.5, 1e-5],
        [0.1, 1e-4],
        [1e-4, 1e-2],
        np.full((2, 4), 1e-3),
        np.full((2, 4), 1e-4),
        [1e-4, 1e-2],
        names,
    )
    assert fig.axes[1].get_xlabel().startswith("noise") and fig.axes[0].xaxis_inverted()
    with pytest.raises(ValueError, match="one length"):
        plotting.plot_residual_robustness(
            [1e-2], [1, 2], [1], [1], [1e-4], np.ones((1, 4)), np.ones((1, 4)), [1], names
        )
