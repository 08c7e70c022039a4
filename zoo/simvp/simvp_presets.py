"""The SimVP presets: the YAML experiments of `zoo/presets/` that build a `SimVPBackbone`.

The presets live only in the YAML files (`zoo/presets/<dataset>/<model>.yaml`,
generated from the official configs by `zoo/presets/generate_presets.py`);
this module is their SimVP view. A preset's `model` section is exactly the
`SimVPBackbone` constructor arguments, its `training` section the
`TrainingConfig` arguments (the loss: `keras_svq.training.optimizers.get_loss`)
and its `reference` the official config's key in the reference's
`param_counts.json`.

Example:

```python
from zoo.simvp import simvp_presets
"weather_t2m/simvp_gsta_svq_frozen" in simvp_presets.list_presets()  # True
simvp_presets.get_preset("weather_t2m/simvp_gsta")["model"]["translator"]  # "gsta"
```
"""

from zoo import presets

BACKBONE = "SimVPBackbone"


def list_presets():
    """Sorted names of the presets whose backbone is `SimVPBackbone`."""
    return presets.list_presets(backbone=BACKBONE)


def get_preset(name):
    """The experiment mapping of a SimVP preset; another name raises a `ValueError`."""
    return presets.load_preset(name, backbone=BACKBONE)
