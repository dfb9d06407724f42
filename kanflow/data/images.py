"""Image-classification data: tensorflow-datasets sources fed through grain.

Every data set is a random-access *source* of examples ``{"image": uint8
[H, W, C], "label": int}``:

* any tensorflow-datasets name (``"mnist"``, ``"fashion_mnist"``,
  ``"cifar10"``, ``"cifar100"``, ``"imagenet2012"``, ...) through
  ``tfds.data_source`` (ArrayRecord files, no TensorFlow needed). The data
  must already be prepared under ``data_dir`` (default: ``$TFDS_DATA_DIR``,
  else tfds' own default ``~/tensorflow_datasets``); set ``download=True`` to
  let tfds fetch and prepare it.
* ``"digits"``: scikit-learn's 8×8 handwritten digits (1797 images shipped
  inside scikit-learn, scaled to uint8 0..255, one channel), split into a
  fixed 80/20 train/test partition. It is the built-in default that runs with
  no download.

:func:`batches` turns a source into a deterministic random-access sequence of
batches (``batches(...)[step]``), which is exactly what
:func:`kanflow.train.fit` wants as ``data``: resumed runs see the same batches.
Images become float32 in ``[0, 1]`` (``[batch, H, W, C]``), labels int32
``[batch]``; each epoch is reshuffled from the seed.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # grain (with orbax) is imported where it is used: ~0.3 s
    import grain

__all__ = [
    "DIGITS",
    "ImageSource",
    "batches",
    "eval_batches",
    "image_source",
    "load_arrays",
]

DIGITS = "digits"


@dataclasses.dataclass(frozen=True)
class ImageSource:
    """A random-access image data set split.

    Attributes:
      name: the data set name (``"digits"`` or a tfds name).
      split: the split it holds (``"train"``, ``"test"``, tfds slicing allowed).
      source: a ``Sequence`` of ``{"image": uint8 [H, W, C], "label": int}``.
      image_shape: ``(H, W, C)``.
      num_classes: number of labels.
    """

    name: str
    split: str
    source: Sequence[dict[str, Any]]
    image_shape: tuple[int, int, int]
    num_classes: int

    def __len__(self) -> int:
        return len(self.source)


class _ArraySource(Sequence):
    """In-memory source over ``images [N, H, W, C]`` and ``labels [N]``."""

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        self._images, self._labels = images, labels

    def __len__(self) -> int:
        return len(self._labels)

    def __getitem__(self, i):
        return {"image": self._images[i], "label": self._labels[i]}


def _digits(split: str) -> ImageSource:
    from sklearn.datasets import load_digits

    if split not in ("train", "test"):
        raise ValueError(f"split for 'digits' must be 'train' or 'test', got {split!r}")
    d = load_digits()
    images = np.round(d.images * (255.0 / 16.0)).astype(np.uint8)[..., None]  # [N, 8, 8, 1]
    labels = d.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(labels))  # fixed split, not a tunable
    cut = int(0.8 * len(labels))
    idx = order[:cut] if split == "train" else order[cut:]
    return ImageSource(DIGITS, split, _ArraySource(images[idx], labels[idx]), (8, 8, 1), 10)


def image_source(
    name: str = DIGITS,
    split: str = "train",
    *,
    data_dir: str | os.PathLike | None = None,
    download: bool = False,
) -> ImageSource:
    """Opens split ``split`` of data set ``name`` as a random-access source.

    Images stay uint8 in the source; :func:`batches`, :func:`eval_batches` and
    :func:`load_arrays` scale them to float32 ``[0, 1]`` (the image models refuse
    integer images).

    Args:
      name: ``"digits"`` (built in) or a tensorflow-datasets name.
      split: split name; tfds slicing such as ``"train[:90%]"`` is accepted.
      data_dir: where prepared tfds data lives; default ``$TFDS_DATA_DIR``.
      download: let tfds download and prepare missing data.

    Raises:
      ValueError: unknown data set name, or a split/feature layout that is not
        an image-classification one.
      FileNotFoundError: the data set is known but not prepared under
        ``data_dir`` (and ``download`` is off); the message says how to fix it.
      OSError: ``download=True`` and downloading or preparing failed (e.g. offline).
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty data set name, got {name!r}")
    if name == DIGITS:
        return _digits(split)
    import tensorflow_datasets as tfds

    data_dir = data_dir or os.environ.get("TFDS_DATA_DIR")
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError as e:
        raise ValueError(
            f"tensorflow-datasets does not know a data set named {name!r} "
            f"(use 'digits' for the built-in data, or a tfds name such as 'mnist', "
            f"'fashion_mnist', 'cifar10', 'cifar100')"
        ) from e
    features = builder.info.features
    if "image" not in features or "label" not in features:
        raise ValueError(
            f"data set {name!r} has features {sorted(features)}; an image-classification "
            "data set with 'image' and 'label' is expected"
        )
    try:
        source = tfds.data_source(name, split=split, data_dir=data_dir, download=download)
    except (ValueError, KeyError):
        raise  # a bad split name: tfds says which ones exist
    except Exception as e:
        if download:
            raise OSError(
                f"downloading and preparing data set {name!r} failed ({type(e).__name__}: {e}). "
                f"Without network access, prepare it where there is one (`tfds build {name} "
                "--file_format=array_record`) and point TFDS_DATA_DIR at the result."
            ) from e
        if not isinstance(e, (AssertionError, FileNotFoundError, NotImplementedError)):
            raise
        where = data_dir or "~/tensorflow_datasets"
        raise FileNotFoundError(
            f"data set {name!r} split {split!r} is not prepared under {where}: prepare it "
            f"in ArrayRecord format with `tfds build {name} --file_format=array_record` (or "
            "pass download=True) and point TFDS_DATA_DIR at it"
        ) from e
    shape = tuple(features["image"].shape)
    num_classes = int(features["label"].num_classes)
    return ImageSource(name, split, source, shape, num_classes)


def _to_float(example: dict[str, Any]) -> dict[str, np.ndarray]:
    image = np.asarray(example["image"])
    if image.ndim == 2:
        image = image[..., None]
    return {
        "image": image.astype(np.float32) / 255.0,
        "label": np.asarray(example["label"], np.int32),
    }


def batches(
    data: ImageSource,
    batch_size: int,
    *,
    seed: int = 0,
    transform: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]] | None = None,
) -> grain.MapDataset:
    """Endless, reshuffled-every-epoch training batches: ``batches(...)[step]``.

    Args:
      data: from :func:`image_source`.
      batch_size: examples per batch (the last partial batch of each pass
        over the repeated stream is never short: batches span epochs).
      seed: shuffle seed (each epoch gets its own permutation from it).
      transform: optional per-example host-side function applied after
        scaling to float32 ``[0, 1]``.

    Returns:
      a grain ``MapDataset``; element ``i`` is ``{"image": [B, H, W, C]
      float32, "label": [B] int32}`` and is the same on every call.
    """
    import grain

    _check_batch_size(batch_size)
    if batch_size > len(data):
        raise ValueError(
            f"batch_size={batch_size} is larger than the {len(data)} examples of {data.name!r} "
            f"split {data.split!r}: every batch would repeat examples"
        )
    ds = grain.MapDataset.source(data.source).shuffle(seed=seed).repeat(None).map(_to_float)
    if transform is not None:
        ds = ds.map(transform)
    return ds.batch(batch_size, drop_remainder=True)


def eval_batches(data: ImageSource, batch_size: int) -> Iterator[dict[str, np.ndarray]]:
    """One ordered pass over ``data`` (the last batch may be short)."""
    import grain

    _check_batch_size(batch_size)
    ds = grain.MapDataset.source(data.source).map(_to_float).batch(batch_size)
    for i in range(len(ds)):
        yield ds[i]


def load_arrays(data: ImageSource) -> dict[str, np.ndarray]:
    """The whole split as ``{"image": [N, H, W, C] float32, "label": [N] int32}``."""
    parts = list(eval_batches(data, 1024))
    return {k: np.concatenate([p[k] for p in parts]) for k in ("image", "label")}


def _check_batch_size(batch_size: int) -> None:
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
