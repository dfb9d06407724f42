"""plot_network: pykan-style KAN diagram (edge insets, score opacity, pruning, symbolic labels)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from matplotlib.text import Text

import kanflow as kf
from kanflow.plot import close, plot_network

WIDTHS = (2, 3, 1)


def _curves(widths=WIDTHS, num=32):
    """Synthetic ``edge_functions``-like curves: ``phi_ij(t) = sin((i + 1) t + j)``."""
    out = []
    for n_in, n_out in zip(widths[:-1], widths[1:], strict=True):
        t = np.linspace(-1.0, 1.0, num)[:, None] * np.ones(n_in)
        i = np.arange(n_in)[None, :, None]
        j = np.arange(n_out)[None, None, :]
        out.append((t, np.sin((i + 1) * t[:, :, None] + j)))
    return out


def _insets(fig):
    return {a.get_label(): a for a in fig.axes if a.get_label().startswith("edge ")}


def _dashed(fig):
    net = next(a for a in fig.axes if a.get_label() == "network")
    return [ln for ln in net.get_lines() if ln.get_linestyle() == "--"]


def test_one_inset_per_unmasked_edge_and_pruned_modes():
    fig = plot_network(_curves())
    insets = _insets(fig)
    assert len(insets) == 2 * 3 + 3 * 1 == 9
    assert set(insets) == {f"edge 0 {i} {j}" for i in range(2) for j in range(3)} | {
        f"edge 1 {i} 0" for i in range(3)
    }
    # each inset shows its own edge's curve
    line = insets["edge 0 1 2"].get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), np.sin(2 * np.linspace(-1, 1, 32) + 2))
    assert _dashed(fig) == []
    close(fig)

    masks = [np.ones((2, 3), bool), np.ones((3, 1), bool)]
    masks[0][1, 0] = False
    masks[1][2, 0] = False
    fig = plot_network(_curves(), masks=masks, pruned="dashed")
    assert len(_insets(fig)) == 7
    assert "edge 0 1 0" not in _insets(fig) and "edge 1 2 0" not in _insets(fig)
    dashed = _dashed(fig)
    assert len(dashed) == 2
    assert all(ln.get_alpha() == pytest.approx(0.15) for ln in dashed)
    close(fig)

    fig = plot_network(_curves(), masks=masks, pruned="hidden")
    assert len(_insets(fig)) == 7
    assert _dashed(fig) == []
    close(fig)


def test_alpha_is_clipped_tanh_of_beta_times_score():
    rng = np.random.default_rng(1)
    scores = [rng.uniform(0.0, 0.6, (2, 3)), rng.uniform(0.0, 0.6, (3, 1))]
    scores[0][0, 0] = 0.0  # clipped up to 0.05
    scores[1][1, 0] = 5.0  # saturates at 1
    beta = 2.5
    fig = plot_network(_curves(), scores=scores, beta=beta)
    insets = _insets(fig)
    for l, s in enumerate(scores):
        for i, j in np.ndindex(s.shape):
            want = np.clip(np.tanh(beta * s[i, j]), 0.05, 1.0)
            got = insets[f"edge {l} {i} {j}"].get_lines()[0].get_alpha()
            assert got == pytest.approx(want, rel=1e-6), (l, i, j)
    alphas = {a.get_lines()[0].get_alpha() for a in insets.values()}
    assert len(alphas) > 2  # opacity really varies with the scores
    close(fig)

    fig = plot_network(_curves())
    assert all(a.get_lines()[0].get_alpha() == 1.0 for a in _insets(fig).values())
    close(fig)


def test_symbolic_labels_are_drawn_and_coloured():
    labels = [[[None, "sin", None], [None, None, ""]], [["x^2"], [None], [None]]]
    fig = plot_network(
        _curves(), labels=labels, input_names=["a", "b"], output_names=["out"], title="net"
    )
    texts = {t.get_text() for t in fig.findobj(Text)}
    assert {"sin", "x^2", "a", "b", "out", "net"} <= texts
    insets = _insets(fig)
    symbolic = insets["edge 0 0 1"].get_lines()[0].get_color()
    numeric = insets["edge 0 0 0"].get_lines()[0].get_color()
    empty = insets["edge 0 1 2"].get_lines()[0].get_color()  # "" counts as numeric
    assert symbolic != numeric
    assert insets["edge 1 0 0"].get_lines()[0].get_color() == symbolic
    assert empty == numeric
    close(fig)

    fig = plot_network(_curves())
    texts = {t.get_text() for t in fig.findobj(Text)}
    assert {"$x_{1}$", "$x_{2}$", "$y_{1}$"} <= texts
    close(fig)


def test_png_is_written(tmp_path):
    path = tmp_path / "net.png"
    fig = plot_network(_curves(), path=path, title="t")
    close(fig)
    data = path.read_bytes()
    assert len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_input_names_the_argument():
    good = _curves()
    bad_chain = [good[0], _curves((4, 1))[0]]
    with pytest.raises(ValueError, match=r"curves\[1\].*chain"):
        plot_network(bad_chain)
    with pytest.raises(ValueError, match=r"scores\[0\].*\(2, 3\)"):
        plot_network(good, scores=[np.ones((3, 2)), np.ones((3, 1))])
    with pytest.raises(ValueError, match="scores"):
        plot_network(good, scores=[np.ones((2, 3))])
    with pytest.raises(ValueError, match=r"masks\[1\]"):
        plot_network(good, masks=[np.ones((2, 3), bool), np.ones((3, 2), bool)])
    with pytest.raises(ValueError, match="labels"):
        plot_network(good, labels=[[[None] * 3] * 2, [[None]] * 2])
    with pytest.raises(ValueError, match="pruned"):
        plot_network(good, pruned="faded")
    with pytest.raises(ValueError, match="input_names"):
        plot_network(good, input_names=["a"])
    with pytest.raises(ValueError, match="output_names"):
        plot_network(good, output_names=["a", "b"])


def test_real_model_curves(tmp_path):
    model = kf.models.KAN((2, 3, 1))
    variables = model.init(jax.random.key(0), jnp.zeros((1, 2)))
    x = np.random.default_rng(0).uniform(-1, 1, (64, 2))
    curves = kf.plot.edge_functions(model, variables, x, num=50)
    fig = kf.plot.plot_network(curves, path=tmp_path / "kan.png")
    insets = _insets(fig)
    assert len(insets) == 9
    t, phi = curves[0]
    line = insets["edge 0 1 2"].get_lines()[0]
    np.testing.assert_allclose(line.get_xdata(), t[:, 1], rtol=1e-6)
    np.testing.assert_allclose(line.get_ydata(), phi[:, 1, 2], rtol=1e-6)
    close(fig)
    assert (tmp_path / "kan.png").stat().st_size > 0
