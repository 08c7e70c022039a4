"""`keras-svq summary`: a model's layers and parameter counts, Keras' and PyTorch's."""

from keras_svq.commands import common

HELP = "print a model's layers and parameter counts"


def add_arguments(parser):
    common.add_experiment_args(parser, flags=False)


def buffer_counts(model):
    """`{kind: count}` of the weights Keras counts and PyTorch keeps as buffers.

    Keras' "Total params" counts every weight; PyTorch's `parameters()` (the
    reference's "total params") leaves out buffers: BatchNorm's moving mean
    and variance, and what a layer lists in `torch_buffer_variables`.
    """
    import math

    import keras

    counts = {"BatchNorm moving means and variances": 0, "other buffers": 0}
    seen = set()
    for layer in model._flatten_layers(include_self=True, recursive=True):
        if isinstance(layer, keras.layers.BatchNormalization):
            for variable in (layer.moving_mean, layer.moving_variance):
                if id(variable) not in seen:
                    seen.add(id(variable))
                    counts["BatchNorm moving means and variances"] += math.prod(
                        variable.shape
                    )
        for variable in getattr(layer, "torch_buffer_variables", ()):
            if id(variable) not in seen:
                seen.add(id(variable))
                counts["other buffers"] += math.prod(variable.shape)
    return {kind: count for kind, count in counts.items() if count}


def explain_counts(keras_total, torch_total, buffers):
    """One line on why Keras' total and the reference's differ."""
    difference = keras_total - torch_total
    if difference == 0:
        return "Keras and PyTorch count the same parameters (the model has no buffers)."
    parts = ", ".join(f"{count:,} {kind}" for kind, count in buffers.items())
    explained = sum(buffers.values())
    rest = "" if explained == difference else f" (and {difference - explained:,} other)"
    return (
        f"Keras' total ({keras_total:,}) exceeds PyTorch's ({torch_total:,}) by "
        f"{difference:,}: {parts}{rest}, which PyTorch keeps as buffers, not "
        "parameters; frozen weights (e.g. a frozen SVQ codebook) count in both."
    )


def run(args):
    from keras_svq.training import trainer
    from zoo.param_count import count_torch_params

    config, _ = common.experiment(args)
    model = trainer.build_model(config)
    model.summary(print_fn=lambda line, **kwargs: print(line))
    total = count_torch_params(model)
    print(f"total params: {total}")
    print(f"trainable params: {count_torch_params(model, trainable_only=True)}")
    print(explain_counts(model.count_params(), total, buffer_counts(model)))
