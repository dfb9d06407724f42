"""Small image classifiers: CNN, ConvKAN and S-ConvKAN (``[B, H, W, C] -> [B, classes]``).

``len(channels)`` convolution blocks (kernel ``kernel_size``, ``SAME``
padding); after every block but the last a 2×2 average pool (while the image
is at least 2 pixels wide); then a global average pool and a linear head.

* ``conv="cnn"``: ``flax.linen.Conv`` + ``activation`` (the baseline);
* ``conv="kan"``: :class:`kanflow.layers.KANConv` over ``basis``;
* ``conv="skan"``: :class:`kanflow.layers.SKANConv` (S-ConvKAN), per-layer
  ``selections`` after :func:`select_conv` (stage 2), fewer ``channels``
  after :func:`prune_conv` (stage 3); :func:`kanflow.train.fit_sconvkan`
  runs the three stages.

KAN blocks are followed by a LayerNorm over channels (``norm``), which keeps
the next layer's inputs on its grid; the CNN uses none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from kanflow import activations as _act
from kanflow.layers.conv import KANConv, SKANConv
from kanflow.layers.skan import (
    DEFAULT_SPACES,
    SKANLayer,
    Space,
    keep_inputs,
    keep_nodes,
    select_spaces,
)

__all__ = ["CONVS", "ConvNet", "prune_conv", "select_conv"]

CONVS = ("cnn", "kan", "skan")


class ConvNet(nn.Module):
    """CNN / ConvKAN / S-ConvKAN classifier. ``[B, H, W, C] -> [B, num_classes]``.

    Attributes:
      num_classes: head outputs.
      channels: output channels of each convolution block.
      conv: one of :data:`CONVS`.
      kernel_size: convolution window.
      activation: CNN activation (name, function or learnable class).
      basis, grid_size, order: KANConv edge functions.
      spaces, selections: SKANConv pool and per-layer selections.
      norm: LayerNorm after each KAN block.
      param_dtype: dtype of the parameters.
    """

    num_classes: int
    channels: Sequence[int] = (8, 16)
    conv: str = "cnn"
    kernel_size: int = 3
    activation: Any = "relu"
    basis: str = "bspline"
    grid_size: int = 5
    order: int = 3
    spaces: Sequence[Space | str] = DEFAULT_SPACES
    selections: tuple[tuple[int, ...] | None, ...] | None = None
    norm: bool = True
    param_dtype: jnp.dtype = jnp.float32

    def __post_init__(self):
        if self.conv not in CONVS:
            raise ValueError(f"conv must be one of {CONVS}, got {self.conv!r}")
        if not self.channels or not all(isinstance(c, int) and c >= 1 for c in self.channels):
            raise ValueError(f"channels must be positive ints, got {self.channels!r}")
        super().__post_init__()

    @nn.compact
    def __call__(self, images: Array, train: bool | None = None) -> Array:
        if images.ndim != 4:
            raise ValueError(f"ConvNet expects images [batch, H, W, C], got shape {images.shape}")
        x, pd = images, self.param_dtype
        for i, c in enumerate(self.channels):
            if self.conv == "cnn":
                x = nn.Conv(
                    c, (self.kernel_size,) * 2, padding="SAME", param_dtype=pd, name=f"conv_{i}"
                )(x)
                x = _act.apply(_act.build(self.activation, name=f"act_{i}"), x, train)
            else:
                if self.conv == "kan":
                    layer = KANConv(
                        c,
                        self.kernel_size,
                        basis=self.basis,
                        grid_size=self.grid_size,
                        order=self.order,
                        param_dtype=pd,
                        name=f"conv_{i}",
                    )
                else:
                    sel = None if self.selections is None else self.selections[i]
                    layer = SKANConv(
                        c,
                        self.kernel_size,
                        spaces=self.spaces,
                        selection=sel,
                        param_dtype=pd,
                        name=f"conv_{i}",
                    )
                x = layer(x)
                if self.norm:
                    x = nn.LayerNorm(param_dtype=pd, name=f"norm_{i}")(x)
            if i < len(self.channels) - 1 and min(x.shape[1:3]) >= 2:
                x = nn.avg_pool(x, (2, 2), strides=(2, 2))
        x = jnp.mean(x, axis=(1, 2))
        return nn.Dense(self.num_classes, param_dtype=pd, name="head")(x)


def _edge_layer(model: ConvNet, i: int) -> SKANLayer:
    """Block ``i``'s KAN layer as its SKANConv builds it. ``[..., in] -> [..., channels[i]]``."""
    sel = None if model.selections is None else model.selections[i]
    return SKANLayer(model.channels[i], model.spaces, sel, param_dtype=model.param_dtype)


def select_conv(model: ConvNet, variables: dict[str, Any]) -> tuple[ConvNet, dict[str, Any]]:
    """S-ConvKAN stage 2: every output channel keeps its strongest space."""
    if model.conv != "skan":
        raise ValueError("select_conv needs an S-ConvKAN (conv='skan')")
    params = dict(variables["params"])
    sels = []
    for i in range(len(model.channels)):
        new_layer, p = select_spaces(_edge_layer(model, i), params[f"conv_{i}"]["skan"])
        params[f"conv_{i}"] = {"skan": p}
        sels.append(new_layer.selection)
    rest = {k: v for k, v in variables.items() if k != "params"}
    return model.clone(selections=tuple(sels)), {"params": params, **rest}


def _layer_inputs(model: ConvNet, variables: dict[str, Any], images: Array) -> dict[str, Array]:
    """What each SKANConv's KAN layer (its patches) and the head received on ``images``."""

    def run(variables, images):
        seen = {}

        def grab(next_fun, args, kwargs, context):
            mod = context.module
            if context.method_name == "__call__":
                if isinstance(mod, SKANLayer):
                    seen[mod.parent.name] = args[0]
                elif mod.name == "head":
                    seen["head"] = args[0]
            return next_fun(*args, **kwargs)

        with nn.intercept_methods(grab):
            model.apply(variables, images)
        return seen

    return jax.jit(run)(variables, images)


def _conv_importance(model: ConvNet, variables: dict[str, Any], images: Array) -> list[np.ndarray]:
    """Per layer, mean ``|phi|`` of every edge over images and positions, ``[in, out]``.

    The last entry is the head's ``mean |feature_j w_jk|``, ``[channels[-1], classes]``.
    """
    inputs = _layer_inputs(model, variables, images)
    params = variables["params"]
    out = []
    for i in range(len(model.channels)):
        layer = _edge_layer(model, i)
        p = {"params": params[f"conv_{i}"]["skan"]}
        edges = jax.jit(lambda p, h, layer=layer: layer.apply(p, h, per_edge=True))(
            p, inputs[f"conv_{i}"]
        )
        out.append(np.asarray(jnp.mean(jnp.abs(edges), axis=(0, 1, 2))))
    feats, kernel = inputs["head"], params["head"]["kernel"]
    out.append(np.asarray(jnp.mean(jnp.abs(feats[:, :, None] * kernel[None]), axis=0)))
    return out


def prune_conv(
    model: ConvNet, variables: dict[str, Any], images: Array, threshold: float = 1e-2
) -> tuple[ConvNet, dict[str, Any]]:
    """S-ConvKAN stage 3: drop output channels whose edges are all below ``threshold``.

    S-KAN's (pykan's) node rule on channels: channel ``j`` of block ``i`` is
    kept if some edge into it (from any input channel and kernel offset) and
    some edge out of it (into block ``i + 1``, or the head's
    ``|feature_j w_jk|`` for the last block) have ``mean |phi| > threshold``,
    averaged over ``images`` and all positions. At least one channel per block
    is kept. The channel's edges, base scales, LayerNorm scale/bias and its
    rows in the next block (or the head) are dropped.

    Without ``norm`` a channel whose edges are all exactly zero is removed
    without changing the function; with ``norm`` the LayerNorm statistics
    change slightly (the removed channel no longer enters them), which the
    fine-tuning that follows absorbs.

    Args:
      model: a selected S-ConvKAN (:func:`select_conv`).
      variables: its variables.
      images: ``[B, H, W, C]`` examples to measure the edges on.
      threshold: importance below which an edge counts as dead.

    Returns:
      ``(pruned_model, pruned_variables)``.
    """
    if model.conv != "skan" or model.selections is None or None in model.selections:
        raise ValueError("prune_conv needs a selected S-ConvKAN (conv='skan', call select_conv)")
    imp = _conv_importance(model, variables, images)
    params = {k: dict(v) for k, v in variables["params"].items()}
    kk = model.kernel_size**2
    channels, sels = list(model.channels), list(model.selections)
    for i, c in enumerate(model.channels):
        incoming = imp[i].max(axis=0)  # [c]
        if i + 1 < len(channels):  # rows of block i+1 are ordered (channel, row, col)
            outgoing = imp[i + 1].reshape(c, kk, -1).max(axis=(1, 2))
        else:
            outgoing = imp[i + 1].max(axis=1)
        score = np.minimum(incoming, outgoing)
        keep = np.flatnonzero(score > threshold)
        if keep.size == 0:
            keep = np.array([int(np.argmax(score))])
        layer, p = keep_nodes(_edge_layer(model, i), params[f"conv_{i}"]["skan"], keep)
        params[f"conv_{i}"] = {"skan": p}
        if f"norm_{i}" in params:
            params[f"norm_{i}"] = {k: v[keep] for k, v in params[f"norm_{i}"].items()}
        if i + 1 < len(channels):
            rows = (keep[:, None] * kk + np.arange(kk)).ravel()
            params[f"conv_{i + 1}"] = {"skan": keep_inputs(params[f"conv_{i + 1}"]["skan"], rows)}
        else:
            params["head"] = {**params["head"], "kernel": params["head"]["kernel"][keep]}
        channels[i], sels[i] = int(keep.size), layer.selection
    rest = {k: v for k, v in variables.items() if k != "params"}
    pruned = model.clone(channels=tuple(channels), selections=tuple(sels))
    return pruned, {"params": params, **rest}
