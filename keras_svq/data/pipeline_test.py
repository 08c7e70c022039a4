import math

import numpy as np
import pytest
import tensorflow as tf

from keras_svq.data import load_sample
from keras_svq.data.pipeline import make_dataset


class _Source:
    """`num_examples` windows whose frames hold their position."""

    def __init__(self, num_examples):
        self.num_examples = num_examples

    def tf_read(self, positions):
        x = tf.cast(tf.reshape(positions, (-1, 1, 1, 1, 1)), "float32")
        x = tf.broadcast_to(x, tf.concat([tf.shape(positions), [2, 3, 3, 1]], 0))
        return x, x + 1.0


@pytest.mark.parametrize("cache", [False, True])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_remainder", [False, True])
def test_cardinality_is_the_number_of_batches(cache, shuffle, drop_remainder):
    ds = make_dataset(
        _Source(10),
        batch_size=4,
        shuffle=shuffle,
        seed=0,
        cache=cache,
        drop_remainder=drop_remainder,
    )
    expected = 10 // 4 if drop_remainder else math.ceil(10 / 4)
    assert int(ds.cardinality()) == expected
    batches = list(ds)
    assert len(batches) == expected
    seen = np.concatenate([np.asarray(x)[:, 0, 0, 0, 0] for x, _ in batches])
    assert len(set(seen.tolist())) == len(seen)


def test_sample_splits_have_known_cardinality():
    for cache in (False, True):
        splits = load_sample(
            "moving_mnist", input_length=4, output_length=4, batch_size=8, cache=cache
        )
        for ds, n in zip(splits, splits.num_examples.values()):
            assert int(ds.cardinality()) == math.ceil(n / 8)
