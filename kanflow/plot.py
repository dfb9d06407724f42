"""Plots: learned KAN activations and training curves (matplotlib, PNG).

Functions return the ``matplotlib.figure.Figure`` and save it when given a
``path``; they never call ``plt.show`` (notebooks display the returned figure).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from kanflow.layers.capture import map_layers
from kanflow.layers.kan import KANLayer

__all__ = ["close", "edge_functions", "plot_activations", "plot_history", "plot_network"]


def _pyplot():
    import matplotlib

    if os.environ.get("MPLBACKEND") is None and not _in_notebook():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython  # noqa: PLC0415

        return get_ipython() is not None
    except ImportError:
        return False


def edge_functions(model, variables, x, num: int = 200) -> list[tuple[np.ndarray, np.ndarray]]:
    r"""Every edge function ``phi_ij`` of the KAN layers of ``model``, on its input range.

    Args:
      model: a ``KAN``, or any model built of ``KANLayer`` modules.
      variables: its variables.
      x: model inputs ``[n, ...]`` that set each layer's input range.
      num: points per curve.

    Returns:
      Per KAN layer, in call order, ``(t [num, in], phi [num, in, out])``:
      ``t[:, i]`` spans the range of input ``i`` on ``x``,
      ``phi[:, i, j] = phi_ij(t[:, i])``.
    """

    def curves(layer, v, h):
        h = h.reshape(-1, h.shape[-1])
        lo, hi = h.min(0), h.max(0)
        t = lo + (hi - lo) * jnp.linspace(0.0, 1.0, num, dtype=h.dtype)[:, None]
        return t, layer.apply(v, t, per_edge=True)

    out = map_layers(model, variables, jnp.asarray(x), KANLayer, curves)
    return [(np.asarray(t), np.asarray(phi)) for t, phi in out.values()]


def plot_activations(
    model, variables, x, path: str | os.PathLike | None = None, max_edges: int = 6
):
    """Grid of learned edge functions, one block per layer (at most ``max_edges`` a side).

    Row ``j`` of a block is output ``j``, column ``i`` input ``i``.
    """
    plt = _pyplot()
    curves = edge_functions(model, variables, x)
    shapes = [(min(p.shape[2], max_edges), min(p.shape[1], max_edges)) for _, p in curves]
    n_rows = sum(r for r, _ in shapes)
    n_cols = max(c for _, c in shapes)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(1.8 * n_cols, 1.4 * n_rows), squeeze=False, constrained_layout=True
    )
    for ax in axes.flat:
        ax.set_axis_off()
    row = 0
    for l, ((t, phi), (r, c)) in enumerate(zip(curves, shapes, strict=True)):
        for j in range(r):
            for i in range(c):
                ax = axes[row + j, i]
                ax.set_axis_on()
                ax.plot(t[:, i], phi[:, i, j], lw=1.5)
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_title(f"L{l} {i}->{j}", fontsize=7)
        row += r
    fig.suptitle("learned activations phi_ij (layer, input -> output)", fontsize=9)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def plot_history(
    histories: dict[str, dict[str, Sequence[float]]] | dict[str, Sequence[float]],
    key: str = "loss",
    path: str | os.PathLike | None = None,
    log: bool = True,
    xlabel: str = "step",
):
    """Curves of ``history[key]`` against ``history["step"]``.

    ``histories`` is one history, or ``{label: history}`` for several curves.
    """
    plt = _pyplot()
    if "step" in histories:
        histories = {key: histories}
    fig, ax = plt.subplots(figsize=(5, 3.4), constrained_layout=True)
    for label, h in histories.items():
        if key in h:
            steps = h.get("step", range(len(h[key])))
            ax.plot(list(steps)[: len(h[key])], h[key], label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(key)
    ax.legend(fontsize=8)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def close(fig) -> None:
    """Frees a figure (long runs create many)."""
    _pyplot().close(fig)


def _node_x(n: int) -> np.ndarray:
    """Horizontal positions (figure fraction) of ``n`` nodes spread evenly over a row."""
    return (np.arange(n) + 0.5) / n


def _edge_grids(name: str, values, shapes: list[tuple[int, int]]) -> list[np.ndarray] | None:
    """``values`` as one ``[in_l, out_l]`` array per layer, or ``ValueError`` naming ``name``."""
    if values is None:
        return None
    if len(values) != len(shapes):
        raise ValueError(f"{name}: expected {len(shapes)} layers, got {len(values)}")
    out = []
    for l, (v, shape) in enumerate(zip(values, shapes, strict=True)):
        v = np.asarray(v)
        if v.shape != shape:
            raise ValueError(f"{name}[{l}]: expected shape [in, out] = {shape}, got {v.shape}")
        out.append(v)
    return out


def plot_network(
    curves: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    scores: Sequence[np.ndarray] | None = None,
    masks: Sequence[np.ndarray] | None = None,
    labels: Sequence[Sequence[Sequence[str | None]]] | None = None,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    beta: float = 3.0,
    pruned: str = "dashed",
    path: str | os.PathLike | None = None,
    title: str | None = None,
):
    r"""KAN diagram in the style of pykan's ``MultKAN.plot`` (Liu et al. 2024, arXiv 2404.19756).

    Nodes are dots in rows, the inputs at the bottom and the outputs at the top. Edge
    ``i -> j`` of layer ``l`` is a small inset of its learned curve ``phi_ij``, placed as in
    pykan in slot ``i * out_l + j`` of the band between rows ``l`` and ``l + 1``, with thin
    connectors from node ``i`` to the inset and from the inset to node ``j``. An edge's
    opacity is pykan's ``score2alpha``, ``tanh(beta * score)``, clipped to ``[0.05, 1]``.

    Args:
      curves: per layer ``l``, ``(t [num, in_l], phi [num, in_l, out_l])`` as returned by
        ``edge_functions``; consecutive layers chain (``out_l == in_{l+1}``).
      scores: per layer, edge importances ``[in_l, out_l]``; ``None`` draws every edge opaque.
      masks: per layer, booleans ``[in_l, out_l]``; ``False`` marks a pruned edge.
      labels: per layer, ``labels[l][i][j]``: the symbolic formula fitted to edge ``i -> j``
        (drawn in red with the label under the inset), or ``None``/``""`` for a numeric edge.
      input_names: ``in_0`` names under the bottom row (default ``x_1 .. x_n``).
      output_names: ``out_{L-1}`` names above the top row (default ``y_1 .. y_m``).
      beta: sharpness of the score-to-opacity map.
      pruned: ``"dashed"`` draws pruned edges as faint grey dashed connectors without an
        inset; ``"hidden"`` leaves them out.
      path: where to save the PNG (dpi 150), if given.
      title: figure title.

    Returns:
      The ``matplotlib.figure.Figure``. Its edge insets are axes labelled ``"edge l i j"``.

    Raises:
      ValueError: when an argument's shape does not match the network, or ``pruned`` is
        neither ``"dashed"`` nor ``"hidden"``.
    """
    if pruned not in ("dashed", "hidden"):
        raise ValueError(f"pruned: expected 'dashed' or 'hidden', got {pruned!r}")
    if len(curves) == 0:
        raise ValueError("curves: expected at least one layer (t [num, in], phi [num, in, out])")
    curves = [(np.asarray(t), np.asarray(phi)) for t, phi in curves]
    for l, (t, phi) in enumerate(curves):
        if phi.ndim != 3 or t.shape != phi.shape[:2]:
            raise ValueError(
                f"curves[{l}]: expected t [num, in] and phi [num, in, out], "
                f"got t {t.shape} and phi {phi.shape}"
            )
        if l and phi.shape[1] != curves[l - 1][1].shape[2]:
            raise ValueError(
                f"curves[{l}]: layers must chain, expected in = {curves[l - 1][1].shape[2]} "
                f"(out of layer {l - 1}), got phi {phi.shape}"
            )
    shapes = [phi.shape[1:] for _, phi in curves]
    widths = [shapes[0][0]] + [o for _, o in shapes]
    scores = _edge_grids("scores", scores, shapes)
    masks = _edge_grids("masks", masks, shapes)
    if labels is not None:
        if len(labels) != len(shapes) or any(
            len(lab) != i or any(len(row) != o for row in lab)
            for lab, (i, o) in zip(labels, shapes, strict=False)
        ):
            raise ValueError(f"labels: expected labels[l][i][j] for [in, out] = {shapes}")
    input_names = (
        [f"$x_{{{k + 1}}}$" for k in range(widths[0])] if input_names is None else input_names
    )
    output_names = (
        [f"$y_{{{k + 1}}}$" for k in range(widths[-1])] if output_names is None else output_names
    )
    if len(input_names) != widths[0]:
        raise ValueError(f"input_names: expected {widths[0]} names, got {len(input_names)}")
    if len(output_names) != widths[-1]:
        raise ValueError(f"output_names: expected {widths[-1]} names, got {len(output_names)}")

    plt = _pyplot()
    depth, slots = len(shapes), max(i * o for i, o in shapes)
    fig_w = min(max(3.0, 1.2 * max(widths), 0.45 * slots), 30.0)
    gap, margin = 1.6, 0.4  # inches between rows, above and below them
    fig_h = depth * gap + 2 * margin
    fig = plt.figure(figsize=(fig_w, fig_h))
    ax = fig.add_axes((0, 0, 1, 1), label="network")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_axis_off()
    row_y = (margin + gap * np.arange(depth + 1)) / fig_h
    for r, (n, y) in enumerate(zip(widths, row_y, strict=True)):
        ax.scatter(_node_x(n), np.full(n, y), s=16, color="black", zorder=3)
        names, dy, va = (input_names, -0.1, "top") if r == 0 else (output_names, 0.1, "bottom")
        if r in (0, depth):
            for x, name in zip(_node_x(n), names, strict=True):
                ax.text(x, y + dy / fig_h, name, ha="center", va=va, fontsize=9)

    for l, ((t, phi), (n_in, n_out)) in enumerate(zip(curves, shapes, strict=True)):
        n_slots = n_in * n_out
        side = min(0.8 * fig_w / n_slots, 0.45 * gap)  # inches, square insets
        w, h = side / fig_w, side / fig_h
        y_mid = (row_y[l] + row_y[l + 1]) / 2
        for i in range(n_in):
            for j in range(n_out):
                x_i, x_j = _node_x(n_in)[i], _node_x(n_out)[j]
                x_s = (i * n_out + j + 0.5) / n_slots
                if masks is not None and not masks[l][i, j]:
                    if pruned == "dashed":
                        ax.plot(
                            [x_i, x_s, x_j],
                            [row_y[l], y_mid, row_y[l + 1]],
                            ls="--",
                            color="grey",
                            alpha=0.15,
                            lw=0.8,
                        )
                    continue
                alpha = 1.0
                if scores is not None:
                    alpha = float(np.clip(np.tanh(beta * np.nan_to_num(scores[l][i, j])), 0.05, 1))
                label = labels[l][i][j] if labels is not None else None
                color = "red" if label else "black"
                line = dict(color=color, alpha=alpha, lw=0.6)
                ax.plot([x_i, x_s], [row_y[l], y_mid - h / 2], **line)
                ax.plot([x_s, x_j], [y_mid + h / 2, row_y[l + 1]], **line)
                inset = fig.add_axes((x_s - w / 2, y_mid - h / 2, w, h), label=f"edge {l} {i} {j}")
                order = np.argsort(t[:, i], kind="stable")
                inset.plot(t[order, i], phi[order, i, j], color=color, alpha=alpha, lw=1.0)
                inset.set_xticks([])
                inset.set_yticks([])
                for spine in inset.spines.values():
                    spine.set_linewidth(0.5)
                    spine.set_alpha(alpha)
                inset.patch.set_alpha(0.0)
                if label:
                    ax.text(
                        x_s,
                        y_mid - h / 2 - 0.02 / fig_h,
                        label,
                        ha="center",
                        va="top",
                        fontsize=6,
                        color="red",
                        bbox=dict(fc="white", ec="none", pad=0.3, alpha=0.8),
                    )
    if title is not None:
        ax.set_title(title, fontsize=9)
    if path is not None:
        fig.savefig(path, dpi=150, bbox_inches="tight")
    return fig
