"""The PredRNNv2 presets: the YAML experiments of `zoo/presets/` that build a `PredRNNv2Backbone`.

The presets live only in the YAML files (`zoo/presets/<dataset>/predrnnv2.yaml`);
this module is their PredRNNv2 view. A preset's `model` section is exactly the
`PredRNNv2Backbone` constructor arguments, `training.scheduled_sampling` the
`ScheduledSamplingModel` arguments of the official config (absent when it
trains without), and `reference` the official config's key in the
reference's `param_counts.json`.
"""

from zoo import presets

BACKBONE = "PredRNNv2Backbone"


def list_presets():
    """Sorted names of the presets whose backbone is `PredRNNv2Backbone`."""
    return presets.list_presets(backbone=BACKBONE)


def get_preset(name):
    """The experiment mapping of a PredRNNv2 preset; another name raises a `ValueError`."""
    return presets.load_preset(name, backbone=BACKBONE)
