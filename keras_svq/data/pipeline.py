"""From a window source to a `tf.data.Dataset`: shuffle, batch, read, cache, prefetch.

Every dataset has a known cardinality (its number of batches), so `fit`
knows the epoch length. Determinism: with a `seed`, the order of every epoch (and, for generated data,
every generated sequence) is a fixed function of the seed and the epoch number,
and `deterministic` is forced on. Distribution: the auto-shard policy is `DATA`,
so under `tf.distribute` each worker keeps its share of the batches whatever the
source (in-memory tensors, memory maps or generators have no files to shard by).
"""

import tensorflow as tf

SHUFFLE_BUFFER_LIMIT = 10_000


def make_dataset(
    source,
    *,
    batch_size,
    shuffle=False,
    seed=None,
    cache=False,
    drop_remainder=False,
    prefetch=True,
):
    """A batched `tf.data.Dataset` of `(x, y)` from a source.

    Args:
        source: a `WindowSource` (or any object with `num_examples` and
            `tf_read(positions) -> (x, y)`), or a generated source (with
            `generated = True` and `tf_generate(seeds) -> (x, y)`).
        batch_size: int. Examples per batch.
        shuffle: bool. Shuffle examples (a fresh order every epoch).
        seed: int or None. Makes shuffling and generation reproducible.
        cache: bool. Keep the decoded examples in memory after the first pass
            (cache is placed before shuffling so epochs still differ).
        drop_remainder: bool. Drop the last partial batch.
        prefetch: bool. Overlap reading with training.

    Returns:
        A `tf.data.Dataset` of `(x, y)`, `x: (B, T_in, H, W, C)`,
        `y: (B, T_out, H, W, C)`, float32, whose `cardinality()` is its
        number of batches.
    """
    if batch_size < 1:
        raise ValueError(
            f"`batch_size` must be >= 1. Received: batch_size={batch_size}"
        )
    autotune = tf.data.AUTOTUNE
    n = source.num_examples
    if getattr(source, "generated", False):
        # Each element is a fresh random seed; `rerandomize_each_iteration` gives a
        # new (but seed-determined) set of sequences every epoch.
        ds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(n)
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
        ds = ds.map(source.tf_generate, num_parallel_calls=autotune, deterministic=True)
    else:
        ds = tf.data.Dataset.range(n)
        if cache:
            ds = ds.batch(256).map(source.tf_read, num_parallel_calls=autotune)
            # `unbatch` loses the length; stating it keeps every split's
            # cardinality known, so Keras never warns "ran out of data".
            ds = ds.unbatch().apply(tf.data.experimental.assert_cardinality(n))
            ds = ds.cache()
            if shuffle:
                ds = ds.shuffle(
                    min(max(n, 1), SHUFFLE_BUFFER_LIMIT),
                    seed=seed,
                    reshuffle_each_iteration=True,
                )
            ds = ds.batch(batch_size, drop_remainder=drop_remainder)
        else:
            if shuffle:
                ds = ds.shuffle(max(n, 1), seed=seed, reshuffle_each_iteration=True)
            ds = ds.batch(batch_size, drop_remainder=drop_remainder)
            ds = ds.map(source.tf_read, num_parallel_calls=autotune, deterministic=True)
    if prefetch:
        ds = ds.prefetch(autotune)
    options = tf.data.Options()
    options.deterministic = True
    options.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.DATA
    )
    return ds.with_options(options)
