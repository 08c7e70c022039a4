"""Gradients of a model in a traced TensorFlow step, with the graph's op types."""

import numpy as np


def traced_gradients(model, x):
    """The gradients of `sum(model(x, training=True) ** 2)` in a `tf.function`.

    Traced, as `fit` runs them: there `tf.recompute_grad` (Keras' remat on
    TensorFlow) behaves differently from eager mode.

    Returns:
        `(gradients, op_types)`: numpy arrays, one per trainable variable that
        gets a gradient, and the types of the traced graph's ops (to count
        what a recomputation adds).
    """
    import tensorflow as tf

    x = np.asarray(x, "float32")

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(model(x, training=True)))
        return tape.gradient(loss, model.trainable_variables)

    graph = step.get_concrete_function(tf.TensorSpec(x.shape)).graph
    op_types = [op.type for op in graph.get_operations()]
    gradients = [tf.convert_to_tensor(g).numpy() for g in step(x) if g is not None]
    return gradients, op_types
