import keras
import numpy as np
import pytest

from keras_svq.training.config import training_config
from keras_svq.training.losses import DifferentialDivergence
from keras_svq.training.losses import MaskedLoss
from keras_svq.training.losses import TAULoss
from keras_svq.training.optimizers import get_loss


def reference_diff_div_reg(pred, true, tau=0.1, eps=1e-12):
    """TAU's `diff_div_reg`, written in numpy from the paper's definition."""
    batch, frames = pred.shape[:2]
    if frames <= 2:
        return 0.0

    def softmax(diff):
        z = diff.reshape(batch, frames - 1, -1) / tau
        z = np.exp(z - z.max(-1, keepdims=True))
        return z / z.sum(-1, keepdims=True)

    p = softmax(pred[:, 1:] - pred[:, :-1])
    q = softmax(true[:, 1:] - true[:, :-1])
    return float(np.mean(p * np.log(p / (q + eps) + eps)))


def _data(frames=5, seed=0):
    rng = np.random.default_rng(seed)
    shape = (3, frames, 4, 6, 2)
    return (
        rng.standard_normal(shape).astype("float32"),
        rng.standard_normal(shape).astype("float32"),
    )


def test_matches_reference():
    y_true, y_pred = _data()
    value = float(DifferentialDivergence()(y_true, y_pred))
    np.testing.assert_allclose(value, reference_diff_div_reg(y_pred, y_true), rtol=1e-4)


def test_tau_loss_is_mse_plus_alpha_times_regulariser():
    y_true, y_pred = _data(seed=1)
    expected = np.mean((y_pred - y_true) ** 2) + 0.1 * reference_diff_div_reg(
        y_pred, y_true
    )
    np.testing.assert_allclose(
        float(TAULoss(alpha=0.1)(y_true, y_pred)), expected, rtol=1e-4
    )


def test_zero_for_two_frames_or_fewer_and_for_equal_inputs():
    y_true, y_pred = _data(frames=2)
    assert float(DifferentialDivergence()(y_true, y_pred)) == 0.0
    y_true, _ = _data()
    assert abs(float(DifferentialDivergence()(y_true, y_true))) < 1e-6


@pytest.mark.parametrize("cls", [DifferentialDivergence, TAULoss])
def test_serialization(cls):
    loss = cls(tau=0.2)
    revived = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(revived, cls) and revived.tau == 0.2
    y_true, y_pred = _data(seed=2)
    np.testing.assert_allclose(
        float(revived(y_true, y_pred)), float(loss(y_true, y_pred))
    )


# ---------------------------------------------------------------- MaskedLoss
def _masked_data(seed=0, shape=(2, 4, 6, 5, 2), fraction=0.3):
    """Targets with NaN at about `fraction` of the pixels, and predictions."""
    rng = np.random.default_rng(seed)
    y_true = rng.standard_normal(shape).astype("float32")
    y_pred = rng.standard_normal(shape).astype("float32")
    y_true[rng.random(shape) < fraction] = np.nan
    return y_true, y_pred


def _elementwise(name, error, delta=1.0):
    if name == "mse":
        return error**2
    if name == "mae":
        return np.abs(error)
    small = np.abs(error) <= delta  # Huber
    return np.where(small, 0.5 * error**2, delta * (np.abs(error) - 0.5 * delta))


@pytest.mark.parametrize("name", ["mse", "mae", "huber"])
def test_masked_loss_is_the_mean_over_valid_pixels(name):
    y_true, y_pred = _masked_data()
    valid = ~np.isnan(y_true)
    # Sum of the valid errors over the valid count: not a mean of sample means.
    errors = _elementwise(name, y_pred[valid].astype("float64") - y_true[valid])
    expected = errors.sum() / valid.sum()
    np.testing.assert_allclose(
        float(MaskedLoss(name)(y_true, y_pred)), expected, rtol=1e-5
    )


def test_masked_loss_example_and_all_invalid():
    y_true = np.array([[1.0, np.nan], [3.0, 4.0]], "float32")
    y_pred = np.array([[2.0, 9.0], [3.0, 6.0]], "float32")
    np.testing.assert_allclose(
        float(MaskedLoss("mse")(y_true, y_pred)), 5 / 3, rtol=1e-6
    )
    nothing = np.full_like(y_true, np.nan)
    assert float(MaskedLoss("mse")(nothing, y_pred)) == 0.0


@pytest.mark.parametrize(
    "inner",
    ["mse", "mae", "huber", TAULoss(alpha=0.1)],
    ids=["mse", "mae", "huber", "tau"],
)
def test_masked_loss_equals_inner_loss_without_nan(inner):
    y_true, y_pred = _data(seed=3)
    masked = MaskedLoss(inner)
    # `masked.loss` is the inner Keras loss, here reduced by itself.
    assert float(masked(y_true, y_pred)) == float(masked.loss(y_true, y_pred))


@pytest.mark.parametrize(
    "inner",
    ["mse", "mae", "huber", TAULoss(alpha=0.1)],
    ids=["mse", "mae", "huber", "tau"],
)
def test_masked_loss_gradients_are_finite_and_zero_at_invalid_pixels(inner):
    import tensorflow as tf

    y_true, y_pred = _masked_data(seed=4)
    y_pred = tf.Variable(y_pred)
    with tf.GradientTape() as tape:
        value = MaskedLoss(inner)(y_true, y_pred)
    gradient = tape.gradient(value, y_pred).numpy()
    assert np.isfinite(float(value))
    assert np.all(np.isfinite(gradient))
    assert np.all(gradient[np.isnan(y_true)] == 0.0)
    assert np.any(gradient[~np.isnan(y_true)] != 0.0)


def test_masked_loss_in_fit_on_targets_with_nan():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3, 6, 5, 2)).astype("float32")
    y, _ = _masked_data(seed=5, shape=(4, 3, 6, 5, 1))
    inputs = keras.Input((3, 6, 5, 2))
    model = keras.Model(inputs, keras.layers.Conv3D(1, 1)(inputs))
    # A zero learning rate keeps the weights, so the step's loss can be
    # recomputed from the model's predictions.
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss=MaskedLoss("mse"))
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    pred = model.predict(x, verbose=0)
    valid = ~np.isnan(y)
    expected = np.mean((pred[valid].astype("float64") - y[valid]) ** 2)
    np.testing.assert_allclose(history.history["loss"][0], expected, rtol=1e-5)
    model.compile(
        optimizer=keras.optimizers.SGD(0.1), loss=MaskedLoss("mse"), jit_compile=True
    )
    history = model.fit(x, y, batch_size=2, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


def test_masked_loss_computes_in_float32():
    y_true, y_pred = _masked_data(seed=6)
    value = MaskedLoss("mse")(y_true.astype("float16"), y_pred.astype("float16"))
    assert value.dtype == "float32"


@pytest.mark.parametrize(
    "inner",
    ["mae", keras.losses.Huber(delta=2.5), TAULoss(alpha=0.3)],
    ids=["mae", "huber", "tau"],
)
def test_masked_loss_serialization(inner):
    loss = MaskedLoss(inner)
    revived = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(revived, MaskedLoss)
    assert type(revived.loss) is type(loss.loss) and revived.name == loss.name
    if isinstance(inner, TAULoss):
        assert revived.loss.alpha == 0.3
    y_true, y_pred = _masked_data(seed=7)
    y_pred = 3.0 * y_pred  # errors beyond Huber's delta of 1
    assert float(revived(y_true, y_pred)) == float(loss(y_true, y_pred))


def test_masked_loss_rejects_what_is_not_a_loss():
    with pytest.raises(ValueError, match="Received: loss=3"):
        MaskedLoss(3)


@pytest.mark.parametrize(
    "name, cls", [("mse", keras.losses.MeanSquaredError), ("tau", TAULoss)]
)
def test_get_loss_wraps_the_configured_loss(name, cls):
    loss = get_loss(training_config({"loss": name}))
    assert isinstance(loss, MaskedLoss) and isinstance(loss.loss, cls)
