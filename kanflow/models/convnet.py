"""Small image classifiers: CNN, ConvKAN and S-ConvKAN (``[B, H, W, C] -> [B, classes]``).

``len(channels)`` convolution blocks (kernel ``kernel_size``, ``SAME``
padding); after every block but the last a 2×2 average pool (while the image
is at least 2 pixels wide); then a global average pool and a linear head.

* ``conv="cnn"``: ``flax.linen.Conv`` + ``activation`` (the baseline);
* ``conv="kan"``: :class:`kanflow.layers.KANConv` over ``basis``;
* ``conv="skan"``: :class:`kanflow.layers.SKANConv` (S-ConvKAN), per-layer
  ``selections`` after :func:`select_conv` (stage 2), fewer ``channels``
  after :func:`prune_conv` (stage 3); :func:`kanflow.recipes.fit_sconvkan`
  runs the three stages.

KAN blocks are followed by a LayerNorm over channels (``norm``), which keeps
the next layer's inputs on its grid; the CNN uses none. The KAN edge settings
are :class:`kanflow.layers.KANConfig`'s (keyword-only; S-ConvKAN uses its
edge parametrisation, the pool replacing the basis).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp
import numpy as np
from jax import Array

from kanflow import activations as _act
from kanflow.checks import as_int
from kanflow.layers.capture import edge_scores, layer_inputs
from kanflow.layers.config import KANConfig, Space
from kanflow.layers.conv import KANConv, SKANConv
from kanflow.layers.pruning import live_nodes
from kanflow.layers.skan import DEFAULT_SPACES, SKANLayer
from kanflow.models.common import check_images

__all__ = ["CONVS", "ConvNet", "prune_conv", "select_conv"]

CONVS = ("cnn", "kan", "skan")


class ConvNet(KANConfig):
    """CNN / ConvKAN / S-ConvKAN classifier. ``[B, H, W, C] -> [B, num_classes]``.

    Attributes:
      num_classes: head outputs.
      channels: output channels of each convolution block.
      conv: one of :data:`CONVS`.
      kernel_size: convolution window.
      activation: CNN activation (name, function or learnable class).
      spaces, selections: SKANConv pool and per-layer selections.
      norm: LayerNorm after each KAN block.
      keyword-only: the KAN edge settings, :class:`kanflow.layers.KANConfig`
        (``param_dtype`` also sets the CNN's).
    """

    num_classes: int
    channels: Sequence[int] = (8, 16)
    conv: str = "cnn"
    kernel_size: int = 3
    activation: Any = "relu"
    spaces: Sequence[Space | str] = DEFAULT_SPACES
    selections: tuple[tuple[int, ...] | None, ...] | None = None
    norm: bool = True

    def __post_init__(self):
        if self.conv not in CONVS:
            raise ValueError(f"conv must be one of {CONVS}, got {self.conv!r}")
        channels = tuple(self.channels) if isinstance(self.channels, (list, tuple)) else ()
        if not channels:
            raise ValueError(f"channels must be positive ints, got {self.channels!r}")
        object.__setattr__(self, "channels", tuple(as_int(c, "channels") for c in channels))
        as_int(self.kernel_size, "kernel_size")
        super().__post_init__()

    @nn.nowrap
    def block(self, i: int, name: str | None = None) -> nn.Module:
        """Block ``i``'s convolution (standalone unless called inside ``__call__``)."""
        c, k = self.channels[i], self.kernel_size
        if self.conv == "cnn":
            return nn.Conv(
                c, (k, k), padding="SAME", dtype=self.dtype, param_dtype=self.param_dtype, name=name
            )
        if self.conv == "kan":
            return KANConv(c, k, **self.kan_settings(), name=name)
        sel = None if self.selections is None else self.selections[i]
        return SKANConv(c, k, spaces=self.spaces, selection=sel, **self.edge_settings(), name=name)

    @nn.compact
    def __call__(self, images: Array, train: bool | None = None) -> Array:
        check_images(images, "ConvNet")
        x, pd = images, self.param_dtype
        for i in range(len(self.channels)):
            x = self.block(i, name=f"conv_{i}")(x)
            if self.conv == "cnn":
                x = _act.apply(
                    _act.build(self.activation, name=f"act_{i}", param_dtype=pd), x, train
                )
            elif self.norm:
                x = nn.LayerNorm(dtype=self.dtype, param_dtype=pd, name=f"norm_{i}")(x)
            if i < len(self.channels) - 1 and min(x.shape[1:3]) >= 2:
                x = nn.avg_pool(x, (2, 2), strides=(2, 2))
        x = jnp.mean(x, axis=(1, 2))
        return nn.Dense(self.num_classes, dtype=self.dtype, param_dtype=pd, name="head")(x)


def select_conv(model: ConvNet, variables: dict[str, Any]) -> tuple[ConvNet, dict[str, Any]]:
    """S-ConvKAN stage 2: every output channel keeps its strongest space."""
    if model.conv != "skan":
        raise ValueError("select_conv needs an S-ConvKAN (conv='skan')")
    params = dict(variables["params"])
    sels = []
    for i in range(len(model.channels)):
        conv, params[f"conv_{i}"] = model.block(i).select(params[f"conv_{i}"])
        sels.append(conv.selection)
    rest = {k: v for k, v in variables.items() if k != "params"}
    return model.clone(selections=tuple(sels)), {"params": params, **rest}


def _is_head(module: nn.Module) -> bool:
    return isinstance(module, nn.Dense) and module.name == "head"


def prune_conv(
    model: ConvNet, variables: dict[str, Any], images: Array, threshold: float = 1e-2
) -> tuple[ConvNet, dict[str, Any]]:
    """S-ConvKAN stage 3: drop output channels that are dead on either side.

    S-KAN's (pykan's) node rule on channels (:func:`kanflow.layers.live_nodes`):
    channel ``j`` of block ``i`` is kept if some edge into it (from any input
    channel and kernel offset) **and** some edge out of it (into block
    ``i + 1``, or the head's ``|feature_j w_jk|`` for the last block) have
    ``mean |phi| > threshold``, averaged over ``images`` and all positions. At
    least one channel per block is kept. The channel's edges, base scales,
    LayerNorm scale/bias and its rows in the next block (or the head) are
    dropped.

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
    scores = edge_scores(model, variables, images, SKANLayer)
    imp = [scores[(f"conv_{i}", "skan")] for i in range(len(model.channels))]  # [in rows, out]
    feats = layer_inputs(model, variables, images, _is_head)[("head",)]  # [B, channels[-1]]
    kernel = variables["params"]["head"]["kernel"]
    head = np.asarray(jnp.mean(jnp.abs(feats[:, :, None] * kernel[None]), axis=0))
    params = {k: dict(v) for k, v in variables["params"].items()}
    channels, sels = list(model.channels), list(model.selections)
    blocks = [model.block(i) for i in range(len(channels))]
    for i, block in enumerate(blocks):
        incoming = imp[i].max(axis=0)  # [c]
        if i + 1 < len(blocks):
            outgoing = blocks[i + 1].input_channel_scores(imp[i + 1].max(axis=1))
        else:
            outgoing = head.max(axis=1)
        keep = live_nodes(incoming, outgoing, threshold)
        pruned, params[f"conv_{i}"] = block.keep_channels(params[f"conv_{i}"], keep)
        if f"norm_{i}" in params:
            params[f"norm_{i}"] = {k: v[keep] for k, v in params[f"norm_{i}"].items()}
        if i + 1 < len(blocks):
            params[f"conv_{i + 1}"] = blocks[i + 1].keep_input_channels(
                params[f"conv_{i + 1}"], keep
            )
        else:
            params["head"] = {**params["head"], "kernel": params["head"]["kernel"][keep]}
        channels[i], sels[i] = pruned.features, pruned.selection
    rest = {k: v for k, v in variables.items() if k != "params"}
    pruned_model = model.clone(channels=tuple(channels), selections=tuple(sels))
    return pruned_model, {"params": params, **rest}
