"""`ForecastTransform`: raw windows <-> model space, the same in numpy and in a TF graph."""

import numpy as np
import pytest
import tensorflow as tf

from keras_svq.data.forecast_transform import ForecastTransform
from keras_svq.data.normalizer import Normalizer
from keras_svq.data.preprocessing import Preprocessing


def _transform(**kwargs):
    kwargs.setdefault("nan_policy", "fill")
    input_mask = np.ones((6, 8, 1), bool)
    input_mask[0] = False  # the first row is "land"
    valid = np.ones((4, 4, 1), bool)
    valid[3] = False  # padding
    return ForecastTransform(
        Normalizer([10.0], [2.0]),
        Preprocessing(
            crop={"rows": [0, 6], "cols": [0, 8]},
            coarsen=2,
            pad_to_multiple=4,
            pad_mode="constant",
            input_shape=(6, 8),
        ),
        missing_value=(-9999,),
        input_mask=input_mask,
        valid_mask=valid,
        **kwargs,
    )


def _windows():
    x = np.random.default_rng(0).normal(10, 2, (3, 2, 6, 8, 1)).astype("float32")
    x[0, 0, 2, 2, 0] = np.nan
    x[1, 1, 4, 4, 0] = -9999
    return x


def test_prepare_fills_missing_and_matches_tf():
    transform = _transform()
    x = _windows()
    z = transform.prepare(x)
    assert z.shape == (3, 2, 4, 4, 1) and np.isfinite(z).all()
    # Block (1, 1) of window 0 averages its 3 finite values; the code is missing too.
    block = x[0, 0, 2:4, 2:4, 0].ravel()
    assert z[0, 0, 1, 1, 0] == pytest.approx((np.nanmean(block) - 10) / 2, rel=1e-5)
    block = x[1, 1, 4:6, 4:6, 0].ravel()[1:]
    assert z[1, 1, 2, 2, 0] == pytest.approx((block.mean() - 10) / 2, rel=1e-5)
    # Row 0 is masked: the top blocks average raw row 1 alone.
    top = (x[:, :, 1, 0::2] + x[:, :, 1, 1::2]) / 2
    np.testing.assert_allclose(z[:, :, 0], (top - 10) / 2, rtol=1e-5, atol=1e-6)
    graph = tf.function(
        transform.tf_prepare, input_signature=[tf.TensorSpec((None, 2, 6, 8, 1))]
    )
    np.testing.assert_allclose(graph(x).numpy(), z, rtol=1e-5, atol=1e-6)


def test_finish_masks_and_undoes_and_matches_tf():
    transform = _transform()
    y = np.random.default_rng(1).normal(0, 1, (2, 3, 4, 4, 1)).astype("float32")
    out = transform.finish(y)
    assert out.shape == (2, 3, 6, 8, 1)
    np.testing.assert_allclose(
        out[:, :, 0:2, 0:2],
        (y[:, :, :1, :1] * 2 + 10).repeat(2, 2).repeat(2, 3),
        rtol=1e-6,
    )
    assert not np.isnan(out).any()  # the padded row 3 lies outside the raw grid
    processed = transform.finish(y, processed_grid=True)
    assert np.isnan(processed[:, :, 3]).all()
    graph = tf.function(
        transform.tf_finish, input_signature=[tf.TensorSpec((None, 3, 4, 4, 1))]
    )
    np.testing.assert_allclose(graph(y).numpy(), out, rtol=1e-6)
    coded = _transform(fill_value=-1.0).finish(y, processed_grid=True)
    assert (coded[:, :, 3] == -1).all()


def test_a_window_without_valid_pixels_is_an_error():
    transform = _transform()
    x = _windows()
    x[2] = np.nan
    with pytest.raises(
        ValueError, match=r"Input window\(s\) \[2\] have no valid pixel"
    ):
        transform.prepare(x)
    graph = tf.function(
        transform.tf_prepare, input_signature=[tf.TensorSpec((None, 2, 6, 8, 1))]
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="no valid pixel"):
        graph(x)


def test_config_round_trip():
    transform = _transform(fill_value=-1.0)
    again = ForecastTransform.from_config(transform.get_config(), transform.masks())
    y = np.zeros((1, 1, 4, 4, 1), "float32")
    np.testing.assert_array_equal(again.finish(y), transform.finish(y))
    assert again.missing_value == (-9999.0,) and again.raw_shape == (6, 8)


@pytest.mark.parametrize("policy", ["raise", "drop"])
def test_missing_inputs_are_refused_unless_the_run_filled(policy):
    transform = _transform(nan_policy=policy)
    x = _windows()  # a NaN at [0, 0, 2, 2, 0] and a code at [1, 1, 4, 4, 0]
    x[:, :, 0] = np.nan  # the masked first row never counts
    with pytest.raises(ValueError, match=r"2 input value\(s\).*\[0, 0, 2, 2, 0\]"):
        transform.prepare(x)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"count:\W+2\W"):
        transform.tf_prepare(tf.constant(x))
    clean = _windows()
    clean[0, 0, 2, 2, 0] = 10.0
    clean[1, 1, 4, 4, 0] = 10.0
    np.testing.assert_allclose(
        transform.prepare(clean),
        transform.tf_prepare(tf.constant(clean)).numpy(),
        atol=1e-6,
    )


def test_old_configs_without_a_policy_keep_filling():
    config = _transform(nan_policy="raise").get_config()
    assert config["nan_policy"] == "raise"
    del config["nan_policy"]
    assert ForecastTransform.from_config(config).nan_policy == "fill"
