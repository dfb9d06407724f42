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

__all__ = ["close", "edge_functions", "plot_activations", "plot_history"]


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
