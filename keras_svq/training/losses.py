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


# Short names that map to a Keras `Loss` class; other names go through
# `keras.losses.get`, which may give a `Loss` or a bare loss function.
_NAMED_LOSSES = {
    "mse": keras.losses.MeanSquaredError,
    "mae": keras.losses.MeanAbsoluteError,
    "huber": keras.losses.Huber,
    "log_cosh": keras.losses.LogCosh,
}


def _resolve_loss(loss):
    """A `keras.losses.Loss` instance or a loss function for `loss`."""
    if isinstance(loss, str):
        if loss.lower() in _NAMED_LOSSES:
            return _NAMED_LOSSES[loss.lower()]()
        return keras.losses.get(loss)
    if isinstance(loss, keras.losses.Loss) or callable(loss):
        return loss
    raise ValueError(
        "`loss` must be a loss name, a `keras.losses.Loss` or a loss function. "
        f"Received: loss={loss!r}"
    )


@keras.saving.register_keras_serializable(package="keras_svq")
class MaskedLoss(keras.losses.Loss):
    """Any Keras loss, averaged over the valid target pixels only.

    Targets mark invalid pixels (land in a sea-surface-temperature field,
    radar out of range) with NaN. The loss is the inner loss averaged over the
    valid elements of the whole batch: the sum of the valid errors divided by
    the number of valid elements, not a mean of per-sample means. On targets
    without NaN it equals the inner loss exactly.

    How: at invalid pixels the target is replaced by the (gradient-stopped)
    prediction, and the prediction there is gradient-stopped too, so those
    pixels add no error and receive a zero gradient (no NaN can reach the
    gradients). The inner loss' unreduced values are then scaled by
    `size / max(num_valid, 1)`, which makes this loss' own reduction
    (`"sum_over_batch_size"`) return the valid-pixel mean. This is exact for
    element-wise losses (MSE, MAE, Huber, log-cosh, ...) and for the MSE term of
    `TAULoss`; a non-local term such as TAU's differential divergence is
    evaluated on the filled target and scaled the same way. The inner loss'
    own `reduction` is not used. Computed in float32.

    Args:
        loss: str, `keras.losses.Loss` or loss function. The inner loss, e.g.
            `"mse"`, `"mae"`, `"huber"` or `TAULoss()`. Defaults to `"mse"`.
        reduction: str. As `keras.losses.Loss`. Defaults to
            `"sum_over_batch_size"`, the only one for which the result is the
            valid-pixel mean.
        name: str or None. Defaults to `"masked_" + inner loss name`.
        dtype: as `keras.losses.Loss`.

    Call arguments:
        y_true: tensor `(B, T, H, W, C)`. Targets; NaN marks an invalid pixel.
        y_pred: tensor `(B, T, H, W, C)`. Predictions, never NaN.
        sample_weight: optional, as `keras.losses.Loss`.

    Returns:
        A float32 scalar.

    Example:

    ```python
    y_true = np.array([[1.0, np.nan], [3.0, 4.0]])
    y_pred = np.array([[2.0, 9.0], [3.0, 6.0]])
    MaskedLoss("mse")(y_true, y_pred)  # (1 + 0 + 4) / 3
    model.compile(optimizer="adam", loss=MaskedLoss(TAULoss(alpha=0.1)))
    ```
    """

    def __init__(
        self,
        loss="mse",
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        loss = _resolve_loss(loss)
        inner_name = getattr(loss, "name", None) or getattr(loss, "__name__", "loss")
        super().__init__(
            name=name or f"masked_{inner_name}", reduction=reduction, dtype=dtype
        )
        self.loss = loss

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "float32")
        y_pred = ops.cast(y_pred, "float32")
        valid = ops.isfinite(y_true)
        frozen = ops.stop_gradient(y_pred)
        filled = ops.where(valid, y_true, frozen)
        y_pred = ops.where(valid, y_pred, frozen)
        # The inner loss' unreduced values: its reduction is replaced by ours.
        inner = (
            self.loss.call if isinstance(self.loss, keras.losses.Loss) else self.loss
        )
        losses = ops.cast(inner(filled, y_pred), "float32")
        size = ops.cast(ops.size(valid), "float32")
        count = ops.sum(ops.cast(valid, "float32"))
        return losses * (size / ops.maximum(count, 1.0))

    def get_config(self):
        inner = keras.saving.serialize_keras_object(self.loss)
        # Keras' `Huber` leaves `delta` out of its config; its function
        # arguments are its constructor arguments, so they are put back.
        fn_kwargs = getattr(self.loss, "_fn_kwargs", None)
        if fn_kwargs and isinstance(inner.get("config"), dict):
            inner["config"] = {**fn_kwargs, **inner["config"]}
        return {**super().get_config(), "loss": inner}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["loss"] = keras.saving.deserialize_keras_object(config["loss"])
        return cls(**config)
