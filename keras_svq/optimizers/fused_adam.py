"""Adam and AdamW whose TensorFlow update is one fused kernel per variable.

Keras 3 builds Adam's update from about 25 small ops per variable (casts, the
bias-correction powers, the two moment updates, the step). For SimVP-gSTA's
198 variables that is half of the time spent tracing the first training step
and thousands of nodes for Grappler to optimise and the executor to run every
step. On the TensorFlow backend these classes hand each variable to
TensorFlow's own `ResourceApplyAdam` kernel (the one `tf.keras` used): the same
formula in one op and one pass over memory, with the bias-correction scalars
computed once per step rather than once per variable.

Everything else is Keras' `Adam`/`AdamW`: the same moment variables (so
checkpoints of either load into the other), the same schedules, clipping,
weight decay, EMA, gradient accumulation, loss scaling and `tf.distribute`
support. AMSGrad, sparse gradients, low-precision variables and the JAX and
torch backends (which compile or fuse the update themselves) take Keras' own
update.
"""

import keras

_FUSED_DTYPES = ("float32", "float64")


def _resource_handle(variable):
    if isinstance(variable, keras.Variable):
        variable = variable.value
    return variable.handle


class _FusedAdamUpdate:
    """Mixin: `update_step` through `ResourceApplyAdam` on TensorFlow."""

    _step_scalars = None

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        # One set of bias-correction scalars per dtype for this step's update
        # (set around Keras' attribute tracking: a cache, not optimizer state).
        object.__setattr__(self, "_step_scalars", {})
        try:
            return super()._backend_update_step(
                grads, trainable_variables, learning_rate
            )
        finally:
            object.__setattr__(self, "_step_scalars", None)

    def _fuses(self, gradient, variable):
        if keras.backend.backend() != "tensorflow" or self.amsgrad:
            return False
        import tensorflow as tf

        return (
            not isinstance(gradient, tf.IndexedSlices)
            and keras.backend.standardize_dtype(variable.dtype) in _FUSED_DTYPES
        )

    def _scalars(self, dtype, learning_rate):
        import tensorflow as tf

        cache = self._step_scalars if self._step_scalars is not None else {}
        if dtype not in cache:
            step = tf.cast(self.iterations + 1, dtype)
            beta_1 = tf.cast(self.beta_1, dtype)
            beta_2 = tf.cast(self.beta_2, dtype)
            cache[dtype] = {
                "beta1_power": tf.pow(beta_1, step),
                "beta2_power": tf.pow(beta_2, step),
                "lr": tf.cast(learning_rate, dtype),
                "beta1": beta_1,
                "beta2": beta_2,
                "epsilon": tf.cast(self.epsilon, dtype),
            }
        return cache[dtype]

    def update_step(self, gradient, variable, learning_rate):
        if not self._fuses(gradient, variable):
            return super().update_step(gradient, variable, learning_rate)
        import tensorflow as tf

        dtype = variable.dtype
        index = self._get_variable_index(variable)
        return tf.raw_ops.ResourceApplyAdam(
            var=_resource_handle(variable),
            m=_resource_handle(self._momentums[index]),
            v=_resource_handle(self._velocities[index]),
            grad=tf.cast(gradient, dtype),
            use_locking=False,
            use_nesterov=False,
            **self._scalars(dtype, learning_rate),
        )


@keras.saving.register_keras_serializable(package="keras_svq")
class FusedAdam(_FusedAdamUpdate, keras.optimizers.Adam):
    """`keras.optimizers.Adam` with one fused update op per variable on TensorFlow.

    Takes Keras' `Adam` arguments and computes the same update (see the
    module's docstring); only the TensorFlow graph is smaller.

    Example:

    ```python
    model.compile(optimizer=FusedAdam(1e-3), loss="mse")
    ```
    """


@keras.saving.register_keras_serializable(package="keras_svq")
class FusedAdamW(_FusedAdamUpdate, keras.optimizers.AdamW):
    """`keras.optimizers.AdamW` with one fused Adam op per variable on TensorFlow.

    The decoupled weight decay is Keras' own, applied before the update.
    """
