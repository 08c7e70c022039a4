"""`Splits` unpacks like a tuple and carries the facts; the pipeline is seeded and sharded."""

import numpy as np
import tensorflow as tf

from keras_svq.data import Splits
from keras_svq.data import from_array


def test_tuple_and_attributes():
    series = np.random.default_rng(0).random((50, 4, 4)).astype("float32")
    splits = from_array(series, input_length=2, output_length=3, batch_size=5)
    train, val, test = splits
    assert isinstance(splits, Splits) and isinstance(splits, tuple) and len(splits) == 3
    assert splits.train is train and splits.val is val and splits.test is test
    assert splits.mean.shape == (1,) and splits.std.shape == (1,)
    assert (
        splits.input_length == 2
        and splits.output_length == 3
        and splits.frame_shape == (4, 4, 1)
    )
    assert "num_examples" in repr(splits)
    spec = train.element_spec
    assert spec[0].shape.as_list() == [None, 2, 4, 4, 1] and spec[1].dtype == tf.float32
    options = train.options()
    assert options.deterministic
    assert (
        options.experimental_distribute.auto_shard_policy
        == tf.data.experimental.AutoShardPolicy.DATA
    )


def test_drop_remainder_on_train_only():
    series = np.random.default_rng(0).random((50, 4, 4)).astype("float32")
    splits = from_array(
        series, input_length=2, output_length=2, batch_size=4, drop_remainder=True
    )
    sizes = [int(x.shape[0]) for x, _ in splits[0]]
    assert set(sizes) == {4} and sum(sizes) == splits.num_examples["train"] // 4 * 4
