"""The tiny SimVP that tests, notebooks' checks and benchmark smoke modes build.

One definition of the small model, so a change to SimVP's arguments is made
once: 4 -> 4 frames of 16x16x1 (the `B=2, T=4, 16x16` test shape), 8 spatial
and 16 temporal hidden channels, two encoder and two translator layers, the
gSTA translator with `mlp_ratio=2.0`, and optionally a 32-code SVQ. It builds
in well under a second on a CPU. A test that needs another size overrides
just that argument (`tiny_simvp_config(temporal_hidden_dim=32)`).

`zoo.tiny_backbones()` builds one tiny model of every translator and
recurrent backbone from the same frame sizes.

Example:

```python
from keras_svq.testing import tiny_experiment_config
from keras_svq.testing import tiny_simvp

model = tiny_simvp(svq=True)
model(np.zeros((2, 4, 16, 16, 1), "float32")).shape  # (2, 4, 16, 16, 1)
config = tiny_experiment_config({"sample": "era5_t2m_uk", "crop": [16, 16]})
```
"""

TINY_FRAMES = {
    "input_length": 4,
    "output_length": 4,
    "height": 16,
    "width": 16,
    "channels": 1,
}
# `(B, T, H, W, C)` of a batch for the tiny models.
TINY_INPUT_SHAPE = (2, 4, 16, 16, 1)
# The quantizer `svq=True` adds: K=32 codes in a D=16 hidden space.
TINY_SVQ = {"name": "svq", "codebook_size": 32, "hidden_dim": 16}


def tiny_simvp_config(svq=False, **overrides):
    """Constructor arguments of the tiny `SimVPBackbone` (a config's `model` section).

    Args:
        svq: bool. Add the tiny SVQ (`TINY_SVQ`) before the translator.
            Defaults to False (`quantizer=None`).
        **overrides: `SimVPBackbone` arguments that replace the tiny ones.

    Returns:
        A new dict; changing it leaves the defaults intact.
    """
    config = {
        **TINY_FRAMES,
        "spatial_hidden_dim": 8,
        "temporal_hidden_dim": 16,
        "num_spatial_layers": 2,
        "num_temporal_layers": 2,
        "translator": "gsta",
        "mlp_ratio": 2.0,
        "quantizer": dict(TINY_SVQ) if svq else None,
    }
    config.update(overrides)
    return config


def tiny_simvp(svq=False, **overrides):
    """A tiny `SimVPBackbone` (see `tiny_simvp_config` for the arguments)."""
    # `keras_svq` imports `zoo` only when a model is built.
    from zoo.simvp.simvp_backbone import SimVPBackbone

    return SimVPBackbone(**tiny_simvp_config(svq, **overrides))


def tiny_experiment_config(data, *, svq=False, training=None, **model_overrides):
    """An experiment mapping (`backbone`, `data`, `model`, `training`) of the tiny SimVP.

    Args:
        data: dict. The `data` section, e.g. `{"array": path, "input_length":
            4, "output_length": 4, "batch_size": 4}`.
        svq: bool. Whether the model has the tiny SVQ. Defaults to False.
        training: dict or None. The `training` section. Defaults to one
            epoch at learning rate 0.005.
        **model_overrides: `SimVPBackbone` arguments that replace the tiny ones.
    """
    return {
        "backbone": "SimVPBackbone",
        "data": dict(data),
        "model": tiny_simvp_config(svq, **model_overrides),
        "training": dict(
            training if training is not None else {"epochs": 1, "learning_rate": 0.005}
        ),
    }
