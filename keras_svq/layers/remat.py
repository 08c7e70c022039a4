"""Gradient checkpointing (`keras.RematScope`) for layers with keyword arguments."""

import contextlib
import functools

import keras


class KeywordSafeRemat:
    """Mixin: lets `keras.RematScope` recompute a layer called with keywords.

    Keras rematerialises a layer by wrapping its `call` in `keras.remat`. On
    the TensorFlow backend that is `tf.recompute_grad`, which refuses keyword
    arguments inside a `tf.function` ("The custom_gradient decorator
    currently supports keywords arguments only when eager execution is
    enabled"), so a layer called as `layer(x, training=True)` fails to train
    under the scope. This mixin binds the keyword arguments into the
    recomputed function and passes only the tensors positionally; on every
    backend the result is the same function and the same gradients.

    A layer that draws random numbers in training (an attribute
    `*dropout_rate` above 0) is refused: the recomputation would draw a
    different mask from the one the forward pass used, and the gradients
    would be wrong.

    List the mixin before `keras.layers.Layer`:

    ```python
    class MyMLP(KeywordSafeRemat, keras.layers.Layer): ...

    with keras.RematScope(mode="list_of_layers", layer_names=["mlp"]):
        model = build_model()  # the layers named "mlp" are recomputed
    ```
    """

    def rematerialized_call(self, layer_call, *args, **kwargs):
        rematerialize = super().rematerialized_call
        if not self._remat_mode:
            return layer_call
        rates = {
            name: value
            for name, value in vars(self).items()
            if name.endswith("dropout_rate") and value
        }
        if kwargs.get("training") and rates:
            settings = ", ".join(f"{name}={value}" for name, value in rates.items())
            raise ValueError(
                f"Layer '{self.name}' is rematerialised (keras.RematScope) and "
                f"has {settings}: the backward pass would recompute it with a "
                "different dropout mask. Leave it out of the RematScope, or set "
                "its dropout rates to 0."
            )

        def call(*call_args, **call_kwargs):
            bound = functools.partial(layer_call, **call_kwargs)
            return rematerialize(bound, *call_args)(*call_args)

        return call


def supports_remat_on_tensorflow(layer):
    """Whether `keras.RematScope` can recompute `layer` in a TensorFlow graph.

    True for layers with this mixin, and for layers whose `call` takes no
    `training` or `mask` argument (Keras passes those as keywords).
    """
    if isinstance(layer, KeywordSafeRemat):
        return True
    return not (
        getattr(layer, "_call_has_training_arg", False)
        or getattr(layer, "_call_has_mask_arg", False)
    )


def remat_scope(layer_names):
    """`keras.RematScope` recomputing the named layers; no scope for None or []."""
    if not layer_names:
        return contextlib.nullcontext()
    return keras.RematScope(mode="list_of_layers", layer_names=list(layer_names))


def check_remat_layers(model, layer_names):
    """Checks the names given to `remat_scope` against the model built in it.

    Raises:
        ValueError: a name matches no layer of `model` (a typo), or, on the
            TensorFlow backend, names a layer that `tf.recompute_grad` cannot
            recompute in a traced step (`supports_remat_on_tensorflow`).
    """
    if not layer_names:
        return
    layers = {}
    for layer in model._flatten_layers(include_self=False):
        layers.setdefault(layer.name, []).append(layer)
    unknown = [name for name in layer_names if name not in layers]
    if unknown:
        raise ValueError(
            f"no layer of the model is named {', '.join(map(repr, unknown))}. "
            f"Layer names: {', '.join(sorted(layers))}"
        )
    if keras.backend.backend() != "tensorflow":
        return
    refused = sorted(
        {
            f"'{layer.name}' ({type(layer).__name__})"
            for name in layer_names
            for layer in layers[name]
            if not supports_remat_on_tensorflow(layer)
        }
    )
    if refused:
        raise ValueError(
            f"{', '.join(refused)} cannot be recomputed on the TensorFlow backend: "
            "it is called with keyword arguments (training, mask), which "
            "tf.recompute_grad refuses in a traced step. Name the layers that "
            "wrap it instead (for SimVP's translators: attn, mlp)."
        )
