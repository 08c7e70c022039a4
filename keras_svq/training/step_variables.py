"""Create the training step's variables before `fit` traces the step.

Keras 3 on TensorFlow, without a `tf.distribute` strategy, defers building
the optimizer, the compiled loss and the compiled metrics to the trace of the
first training step. Variables created inside a `tf.function` get their
initialisers lifted out one `tf.cond` at a time (Adam: two per model
variable), and TensorFlow then traces the whole step a second time, now
without creating variables. For SimVP-gSTA this is most of the first step's
overhead (`bench/startup.py`). Under a strategy Keras builds them itself
before tracing; this does the same in the other case.
"""

import keras


def build_step_variables(model, dataset, strategy=None):
    """Builds `model`'s optimizer, loss and metric state for `dataset`'s batches.

    Compiles nothing and changes no weight: the optimizer's slots are
    created at their initial values, and the loss and metrics see one batch
    of zeros of the targets' shape (no forward pass) and are reset.

    Args:
        model: a compiled `keras.Model`.
        dataset: a `tf.data.Dataset` of `(x, y)` or `(x, y, sample_weight)`
            batches, as `fit` gets them.
        strategy: the `tf.distribute.Strategy` the model was compiled under,
            or None.
    """
    if keras.backend.backend() != "tensorflow" or _has_real_strategy(strategy):
        return  # Keras builds them symbolically before tracing
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    _, y_spec, _ = keras.utils.unpack_x_y_sample_weight(dataset.element_spec)
    y = keras.tree.map_structure(
        lambda spec: keras.ops.zeros(
            (1,) + tuple(spec.shape[1:]), dtype=spec.dtype.name
        ),
        y_spec,
    )
    model.compute_loss(y=y, y_pred=y)
    model.compute_metrics(None, y, y, sample_weight=None)
    model.reset_metrics()


def _has_real_strategy(strategy):
    import tensorflow as tf

    if strategy is None:
        return False
    with strategy.scope():
        return tf.distribute.has_strategy()
