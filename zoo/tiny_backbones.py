"""Tiny instances of every zoo backbone and translator, for cross-cutting checks.

`keras_svq.testing.model_catalogue` (the cross-backend test, the GPU
benchmark's smoke mode) builds one small model per entry, so a new backbone or
translator is covered once it is added here. The sizes are those of
`keras_svq.testing.tiny_models` (imported on use: `import zoo` loads no test
helpers).
"""

from zoo.translators import available_translators

# Which tiny SimVPs carry an SVQ, and where (the rest run without one).
_SIMVP_QUANTIZERS = {"gsta": "pre", "incepu": "post", "swin": "pre"}
_RECURRENT = {
    "ConvLSTMBackbone": dict(hidden_dims=[8, 8], kernel_size=3, patch_size=2),
    "PredRNNBackbone": dict(hidden_dims=[8, 8], kernel_size=3, patch_size=2),
    "PredRNNppBackbone": dict(hidden_dims=[8, 8], kernel_size=3, patch_size=2),
    "PredRNNv2Backbone": dict(hidden_dims=[8, 8], kernel_size=3, patch_size=2),
    "MIMBackbone": dict(hidden_dims=[8, 8], kernel_size=3, patch_size=2),
    "MAUBackbone": dict(hidden_dims=[8, 8], kernel_size=3, attention_length=2),
    "E3DLSTMBackbone": dict(hidden_dims=[8, 8], kernel_size=3, patch_size=2),
    "PhyDNetBackbone": dict(hidden_dims=[16, 64]),
}


def _simvp(translator):
    from keras_svq.testing.tiny_models import tiny_simvp_config
    from zoo.simvp.simvp_backbone import SimVPBackbone

    position = _SIMVP_QUANTIZERS.get(translator)
    return SimVPBackbone(
        **tiny_simvp_config(
            svq=position is not None,
            temporal_hidden_dim=32,
            translator=translator,
            quantizer_position=position or "pre",
        )
    )


def _recurrent(class_name):
    import zoo.recurrent
    from keras_svq.testing.tiny_models import TINY_FRAMES

    return getattr(zoo.recurrent, class_name)(**TINY_FRAMES, **_RECURRENT[class_name])


def tiny_backbones():
    """`{name: (factory, input_shape)}` for every translator and recurrent backbone."""
    from keras_svq.testing.tiny_models import TINY_INPUT_SHAPE as INPUT_SHAPE

    cases = {}
    for translator in available_translators():
        cases[f"simvp_{translator}"] = (lambda t=translator: _simvp(t), INPUT_SHAPE)
    for class_name in _RECURRENT:
        cases[class_name] = (lambda c=class_name: _recurrent(c), INPUT_SHAPE)
    return cases
