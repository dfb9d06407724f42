"""Image sources: the built-in digits and tfds (on mock data) through grain."""

import numpy as np
import pytest
import tensorflow_datasets as tfds
from sklearn.datasets import load_digits

import kanflow as kf


def test_digits_split_is_a_fixed_partition_of_sklearn_digits():
    train = kf.data.image_source("digits", "train")
    test = kf.data.image_source("digits", "test")
    assert (train.image_shape, train.num_classes) == ((8, 8, 1), 10)
    assert len(train) + len(test) == 1797 and len(test) == 360
    a, b = kf.data.load_arrays(train), kf.data.load_arrays(test)
    ref = load_digits()
    # every image is an sklearn digit (rescaled 0..16 -> 0..1) with its own label, none twice
    flat = {
        tuple(np.round(im.ravel() * 16).astype(int)) + (int(y),)
        for im, y in zip(
            np.concatenate([a["image"], b["image"]]),
            np.concatenate([a["label"], b["label"]]),
            strict=True,
        )
    }
    ref_set = {
        tuple(im.astype(int)) + (int(y),) for im, y in zip(ref.data, ref.target, strict=True)
    }
    assert flat == ref_set
    assert a["image"].dtype == np.float32 and a["label"].dtype == np.int32
    assert 0.0 <= a["image"].min() and a["image"].max() <= 1.0


def test_batches_are_deterministic_and_reshuffled_each_epoch():
    train = kf.data.image_source("digits", "train")
    ds = kf.data.batches(train, 100, seed=3)
    b0, again = ds[0], kf.data.batches(train, 100, seed=3)[0]
    assert b0["image"].shape == (100, 8, 8, 1) and b0["label"].shape == (100,)
    np.testing.assert_array_equal(b0["image"], again["image"])
    other = kf.data.batches(train, 100, seed=4)[0]
    assert not np.array_equal(b0["label"], other["label"])
    # one epoch covers every example exactly once; the next epoch is a new order
    n = len(train)
    ds1 = kf.data.batches(train, 1, seed=0)
    first = [int(ds1[i]["label"][0]) for i in range(2 * n)]
    labels = kf.data.load_arrays(train)["label"]
    assert sorted(first[:n]) == sorted(labels.tolist())
    assert first[:n] != first[n:]


def test_eval_batches_cover_the_split_in_order():
    test = kf.data.image_source("digits", "test")
    parts = list(kf.data.eval_batches(test, 64))
    assert [len(p["label"]) for p in parts][-1] == 360 - 64 * 5
    np.testing.assert_array_equal(
        np.concatenate([p["label"] for p in parts]), kf.data.load_arrays(test)["label"]
    )


@pytest.mark.parametrize(
    "name,shape,classes", [("mnist", (28, 28, 1), 10), ("cifar100", (32, 32, 3), 100)]
)
def test_tfds_source_on_mock_data(name, shape, classes, tmp_path, monkeypatch):
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    with tfds.testing.mock_data(num_examples=24):
        src = kf.data.image_source(name, "train")
        assert (src.image_shape, src.num_classes, len(src)) == (shape, classes, 24)
        batch = kf.data.batches(src, 8, seed=0)[5]
    assert batch["image"].shape == (8, *shape) and batch["image"].dtype == np.float32
    assert batch["label"].dtype == np.int32
    assert ((0 <= batch["label"]) & (batch["label"] < classes)).all()


def test_image_source_errors(tmp_path):
    with pytest.raises(ValueError, match="does not know a data set named 'mnistt'"):
        kf.data.image_source("mnistt")
    with pytest.raises(ValueError, match="'image' and 'label'"):
        kf.data.image_source("imdb_reviews", data_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="not prepared under"):
        kf.data.image_source("mnist", "train", data_dir=tmp_path)
    with pytest.raises(ValueError, match="split for 'digits'"):
        kf.data.image_source("digits", "validation")
    with pytest.raises(ValueError, match="batch_size"):
        kf.data.batches(kf.data.image_source(), 0)
