"""Training losses of the reference methods."""

import math

import keras
from keras import ops


def differential_divergence(y_true, y_pred, tau=0.1, epsilon=1e-12):
    """TAU's differential divergence regulariser, per sample.

    The frame differences `y[:, 1:] - y[:, :-1]` of prediction and target are
    flattened per step, turned into distributions by `softmax(diff / tau)` over
    all pixels and channels, and compared with the KL-style term of the
    reference, `p · log(p / (q + eps) + eps)`, averaged over steps and
    positions. Sequences of 2 frames or fewer give 0, as in the reference.

    Args:
        y_true: tensor `(B, T, ...)`.
        y_pred: tensor `(B, T, ...)`.
        tau: float. Softmax temperature. Defaults to 0.1.
        epsilon: float. Defaults to 1e-12.

    Returns:
        A float32 tensor `(B,)`.
    """
    y_true = ops.cast(y_true, "float32")
    y_pred = ops.cast(y_pred, "float32")
    frames = y_pred.shape[1]
    if frames <= 2:
        return ops.zeros((ops.shape(y_pred)[0],), dtype="float32")
    steps = frames - 1
    size = math.prod(y_pred.shape[2:])

    def distribution(y):
        diff = ops.reshape(y[:, 1:] - y[:, :-1], (-1, steps, size))
        return ops.softmax(diff / tau, axis=-1)

    p = distribution(y_pred)
    q = distribution(y_true)
    divergence = p * ops.log(p / (q + epsilon) + epsilon)
    return ops.mean(divergence, axis=(1, 2))


@keras.saving.register_keras_serializable(package="keras_svq")
class DifferentialDivergence(keras.losses.Loss):
    """TAU's differential divergence regulariser as a loss.

    Args:
        tau: float. Softmax temperature. Defaults to 0.1.
        epsilon: float. Defaults to 1e-12.
        reduction, name, dtype: as `keras.losses.Loss`.

    Example:

    ```python
    loss = DifferentialDivergence()(y_true, y_pred)   # y: (B, T, H, W, C)
    ```

    Reference:
        Tan et al., "Temporal Attention Unit: Towards Efficient
        Spatiotemporal Predictive Learning", https://arxiv.org/abs/2206.12126
    """

    def __init__(
        self,
        tau=0.1,
        epsilon=1e-12,
        reduction="sum_over_batch_size",
        name="differential_divergence",
        dtype=None,
    ):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.tau = tau
        self.epsilon = epsilon

    def call(self, y_true, y_pred):
        return differential_divergence(y_true, y_pred, self.tau, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "tau": self.tau, "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="keras_svq")
class TAULoss(keras.losses.Loss):
    """TAU's training loss: `MSE + alpha · DifferentialDivergence`.

    The loss of the official TAU method (`alpha` is its config key; the
    papers' configs use 0.1). Over a batch it equals the reference's
    `MSELoss()(pred, true) + alpha * diff_div_reg(pred, true)`.

    Args:
        alpha: float. Weight of the regulariser. Defaults to 0.1.
        tau: float. Softmax temperature of the regulariser. Defaults to 0.1.
        epsilon: float. Defaults to 1e-12.
        reduction, name, dtype: as `keras.losses.Loss`.

    Example:

    ```python
    model.compile(optimizer="adam", loss=TAULoss(alpha=0.1))
    ```

    Reference:
        Tan et al., "Temporal Attention Unit: Towards Efficient
        Spatiotemporal Predictive Learning", https://arxiv.org/abs/2206.12126
    """

    def __init__(
        self,
        alpha=0.1,
        tau=0.1,
        epsilon=1e-12,
        reduction="sum_over_batch_size",
        name="tau_loss",
        dtype=None,
    ):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.alpha = alpha
        self.tau = tau
        self.epsilon = epsilon

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "float32")
        y_pred = ops.cast(y_pred, "float32")
        batch = ops.shape(y_pred)[0]
        squared = ops.square(ops.reshape(y_pred - y_true, (batch, -1)))
        mse = ops.mean(squared, axis=-1)
        return mse + self.alpha * differential_divergence(
            y_true, y_pred, self.tau, self.epsilon
        )

    def get_config(self):
        return {
            **super().get_config(),
            "alpha": self.alpha,
            "tau": self.tau,
            "epsilon": self.epsilon,
        }
