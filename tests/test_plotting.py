"""Tests of gslib.plotting: the book's figure style, field plots, RGB composites, the phase plane."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402

from gslib import model, plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _field(n=12, m=20):
    y, x = np.mgrid[0:n, 0:m]
    return np.sin(x / 3.0) + 0.1 * y


# ----------------------------------------------------------------------------- style


def test_use_style_sets_rcparams_and_is_idempotent():
    with matplotlib.rc_context():
        plotting.use_style()
        first = dict(matplotlib.rcParams)
        plotting.use_style()
        assert dict(matplotlib.rcParams) == first
        assert matplotlib.rcParams["figure.dpi"] == 110
        assert matplotlib.rcParams["image.cmap"] == "viridis"
        assert matplotlib.rcParams["savefig.bbox"] == "tight"
        assert matplotlib.rcParams["figure.constrained_layout.use"] is True
        assert matplotlib.rcParams["font.size"] >= 10


# ----------------------------------------------------------------------------- plot_field


def test_plot_field_labels_extent_and_colorbar():
    fig, ax = plt.subplots()
    field = _field(12, 20)
    im = plotting.plot_field(ax, field, title="a field", label="v", dx=0.5)
    assert isinstance(im, AxesImage)
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "y"
    assert ax.get_title() == "a field"
    assert im.origin == "lower"
    assert list(im.get_extent()) == [0.0, 20 * 0.5, 0.0, 12 * 0.5]
    assert im.colorbar is not None
    assert im.colorbar.ax.get_ylabel() == "v"
    assert len(fig.axes) == 2  # the field and its colour bar
    np.testing.assert_array_equal(im.get_array(), field)


def test_plot_field_options():
    fig, ax = plt.subplots()
    im = plotting.plot_field(ax, np.arange(12.0).reshape(3, 4), cmap="gray", vmin=-1, vmax=20, colorbar=False)
    assert im.colorbar is None and len(fig.axes) == 1
    assert im.get_cmap().name == "gray"
    assert im.get_clim() == (-1, 20)
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "y"


@pytest.mark.parametrize(
    "bad",
    [np.zeros(5), np.zeros((2, 3, 4)), np.array([[0.0, np.nan]]), np.array([[np.inf, 1.0]]), np.zeros((0, 3)), "text"],
)
def test_plot_field_rejects_bad_fields(bad):
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="field"):
        plotting.plot_field(ax, bad)


@pytest.mark.parametrize("dx", [0, -1.0, float("nan"), "1"])
def test_plot_field_rejects_bad_dx(dx):
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="dx"):
        plotting.plot_field(ax, _field(), dx=dx)


# ----------------------------------------------------------------------------- plot_fields


def test_plot_fields_two_panels_with_colorbars():
    u, v = _field(), 0.25 * _field()
    fig = plotting.plot_fields(u, v, title="f = 0.042, k = 0.063", dx=2.0)
    assert isinstance(fig, matplotlib.figure.Figure)
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 2
    assert [im.colorbar.ax.get_ylabel() for im in images] == ["u", "v"]
    assert len(fig.axes) == 4  # two panels and two colour bars
    panels = [im.axes for im in images]
    assert [ax.get_title() for ax in panels] == ["u", "v"]
    assert all(ax.get_xlabel() == "x" and ax.get_ylabel() == "y" for ax in panels)
    assert fig._suptitle is not None and fig._suptitle.get_text() == "f = 0.042, k = 0.063"
    assert list(images[0].get_extent()) == [0.0, 40.0, 0.0, 24.0]


def test_plot_fields_errors():
    with pytest.raises(ValueError, match="same shape"):
        plotting.plot_fields(np.zeros((4, 4)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="v"):
        plotting.plot_fields(np.zeros((4, 4)), np.full((4, 4), np.nan))


# ----------------------------------------------------------------------------- rgb_composite


def test_rgb_composite_layouts_agree_and_range():
    rng = np.random.default_rng(0)
    frames = rng.normal(size=(3, 6, 7))
    img = plotting.rgb_composite(frames)
    assert img.shape == (6, 7, 3)
    assert img.dtype == np.float64
    assert img.min() == 0.0 and img.max() == 1.0
    np.testing.assert_allclose(plotting.rgb_composite(np.moveaxis(frames, 0, -1)), img)
    np.testing.assert_allclose(plotting.rgb_composite(list(frames)), img)
    # one shared normalisation: channel i is frame i mapped by the same affine map
    lo, hi = frames.min(), frames.max()
    for i in range(3):
        np.testing.assert_allclose(img[..., i], (frames[i] - lo) / (hi - lo))


def test_rgb_composite_constant_is_mid_gray():
    img = plotting.rgb_composite(np.full((3, 5, 4), 0.7))
    assert img.shape == (5, 4, 3)
    np.testing.assert_array_equal(img, 0.5)


def test_rgb_composite_stationary_regions_are_gray():
    base = _field(8, 10)
    frames = np.stack([base, base, base])
    frames[:, :, 5:] += np.array([0.0, 0.5, 1.0])[:, None, None]  # the right half moves
    img = plotting.rgb_composite(frames)
    still, moving = img[:, :5], img[:, 5:]
    np.testing.assert_allclose(still[..., 0], still[..., 1])
    np.testing.assert_allclose(still[..., 0], still[..., 2])
    assert np.all(np.ptp(moving, axis=-1) > 0.1)
    # fully stationary input (not constant in space) is gray everywhere
    gray = plotting.rgb_composite(np.stack([base] * 3))
    assert np.allclose(gray[..., 0], gray[..., 1]) and np.allclose(gray[..., 1], gray[..., 2])
    assert gray.min() == 0.0 and gray.max() == 1.0


@pytest.mark.parametrize(
    "bad",
    [np.zeros((2, 4, 4)), np.zeros((4, 4)), np.zeros((4, 4, 4)), np.zeros((3, 4, 4, 1)), np.zeros((3, 0, 4)), "abc"],
)
def test_rgb_composite_rejects_bad_shapes(bad):
    with pytest.raises(ValueError, match="frames"):
        plotting.rgb_composite(bad)


def test_rgb_composite_rejects_non_finite():
    frames = np.zeros((3, 4, 4))
    frames[1, 2, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or Inf"):
        plotting.rgb_composite(frames)
    frames[1, 2, 2] = -np.inf
    with pytest.raises(ValueError, match="NaN or Inf"):
        plotting.rgb_composite(frames)


def test_rgb_composite_huge_span_stays_in_range():
    frames = np.zeros((3, 2, 2))
    frames[0, 0, 0], frames[2, 1, 1] = -1e308, 1e308
    img = plotting.rgb_composite(frames)
    assert np.all(np.isfinite(img)) and img.min() == 0.0 and img.max() == 1.0
    assert img[0, 1, 0] == pytest.approx(0.5)


def test_plot_rgb():
    fig, ax = plt.subplots()
    frames = np.random.default_rng(1).random((3, 6, 9))
    im = plotting.plot_rgb(ax, frames, title="rgb", dx=0.5)
    assert isinstance(im, AxesImage)
    assert im.get_array().shape == (6, 9, 3)
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "y" and ax.get_title() == "rgb"
    assert list(im.get_extent()) == [0.0, 4.5, 0.0, 3.0]
    with pytest.raises(ValueError, match="frames"):
        plotting.plot_rgb(ax, frames[:2])


# ----------------------------------------------------------------------------- phase plane


def test_plot_phase_plane_curves_labels_and_legend():
    fig, ax = plt.subplots()
    out = plotting.plot_phase_plane(ax)
    assert out is ax
    assert ax.get_xlabel() == "kill rate k" and ax.get_ylabel() == "feed rate f"
    assert ax.get_xlim() == pytest.approx((0.03, 0.07))
    assert ax.get_ylim() == pytest.approx((0.0, 0.1))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["saddle-node", "Hopf"]
    lines = {line.get_label(): line for line in ax.get_lines()}
    k, f = lines["saddle-node"].get_data()
    np.testing.assert_allclose(k, model.saddle_node_k(f))  # x is k, y is f
    k, f = lines["Hopf"].get_data()
    np.testing.assert_allclose(f, model.hopf_f(k))


def test_plot_phase_plane_options():
    fig, ax = plt.subplots()
    plotting.plot_phase_plane(ax, k_range=(0.0, 0.08), f_range=(0.01, 0.3), hopf=False)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["saddle-node"]
    assert ax.get_xlim() == pytest.approx((0.0, 0.08)) and ax.get_ylim() == pytest.approx((0.01, 0.3))
    fig, ax = plt.subplots()
    plotting.plot_phase_plane(ax, legend=False)
    assert ax.get_legend() is None and len(ax.get_lines()) == 2
    fig, ax = plt.subplots()
    plotting.plot_phase_plane(ax, saddle_node=False, hopf=False)
    assert ax.get_legend() is None and len(ax.get_lines()) == 0


@pytest.mark.parametrize(
    "kw", [{"k_range": (0.07, 0.03)}, {"f_range": (0.0,)}, {"k_range": (0.0, np.inf)}, {"f_range": "ab"}]
)
def test_plot_phase_plane_rejects_bad_ranges(kw):
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="range"):
        plotting.plot_phase_plane(ax, **kw)


# ----------------------------------------------------------------------------- save


def test_save_creates_directories(tmp_path):
    fig = plotting.plot_fields(_field(), _field())
    path = plotting.save(fig, tmp_path / "a" / "b" / "fig.png")
    assert path == tmp_path / "a" / "b" / "fig.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = plotting.save(fig, str(tmp_path / "fig.pdf"))
    assert pdf.read_bytes()[:4] == b"%PDF"


def test_html_table_escapes_and_has_every_cell():
    from gslib.plotting import html_table

    text = html_table(["a", "b<c"], [[1, "x&y"], [2.5, None]], caption="T <1>")
    assert text.startswith("<table><caption>T &lt;1&gt;</caption>")
    assert "<th>b&lt;c</th>" in text and "<td>x&amp;y</td>" in text and "<td>None</td>" in text
    assert text.count("<tr>") == 3


def test_animation_player_loads_nothing_from_other_hosts():
    from gslib import plotting as _plotting

    html = _plotting.animation_html(
        [np.random.default_rng(0).random((3, 8, 8))], titles=["u"], times=np.arange(3.0), frames=2
    )
    assert "<img" in html or "data:image/png" in html
    assert "https://" not in html and "http://" not in html
