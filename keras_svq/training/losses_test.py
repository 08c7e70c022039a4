import keras
import numpy as np
import pytest

from keras_svq.training.losses import DifferentialDivergence
from keras_svq.training.losses import TAULoss


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
