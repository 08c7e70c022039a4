"""The PredRNN presets: the YAML experiments of `zoo/presets/` that build a `PredRNNBackbone`.

The presets live only in the YAML files (`zoo/presets/<dataset>/predrnn.yaml`);
this module is their PredRNN view. A preset's `model` section is exactly the
`PredRNNBackbone` constructor arguments, `training.scheduled_sampling` the
`ScheduledSamplingModel` arguments of the official config (absent when it
trains without), and `reference` the official config's key in the
reference's `param_counts.json`.
"""

from zoo import presets

BACKBONE = "PredRNNBackbone"


def list_presets():
    """Sorted names of the presets whose backbone is `PredRNNBackbone`."""
    return presets.list_presets(backbone=BACKBONE)


def get_preset(name):
    """The experiment mapping of a PredRNN preset; another name raises a `ValueError`."""
    return presets.load_preset(name, backbone=BACKBONE)
