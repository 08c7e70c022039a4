"""BatchNorm with PyTorch's defaults whose moving statistics stay in sync across replicas."""

import keras


@keras.saving.register_keras_serializable(package="keras_svq")
class TorchBatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization` with PyTorch's `BatchNorm2d` defaults.

    * `epsilon=1e-5` and `momentum=0.9` (PyTorch's `momentum=0.1` counts the
      other way); Keras defaults to 1e-3 and 0.99.
    * The moving mean and variance are created with `aggregation="mean"`: under
      `tf.distribute` each replica's update is averaged, so every replica
      keeps the same moving statistics (plain Keras BatchNorm lets them drift
      apart per replica). Each replica still normalises with its own batch
      statistics, as PyTorch's (non-synchronised) `BatchNorm2d` does.

    The moving statistics are PyTorch buffers, not parameters:
    `zoo.count_torch_params` leaves them out.

    Args:
        epsilon: float. Defaults to 1e-5.
        momentum: float. Defaults to 0.9.
        **kwargs: other `keras.layers.BatchNormalization` arguments.

    Call arguments:
        inputs: a tensor `(..., C)`.
        training: bool.

    Example:

    ```python
    y = TorchBatchNormalization()(np.zeros((2, 4, 4, 8)), training=True)
    ```

    Reference:
        Ioffe and Szegedy, "Batch Normalization", https://arxiv.org/abs/1502.03167
    """

    def __init__(self, epsilon=1e-5, momentum=0.9, **kwargs):
        super().__init__(epsilon=epsilon, momentum=momentum, **kwargs)

    def add_weight(self, *args, **kwargs):
        if kwargs.get("trainable") is False:
            kwargs.setdefault("aggregation", "mean")
        return super().add_weight(*args, **kwargs)
