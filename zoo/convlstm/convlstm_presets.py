"""The ConvLSTM presets: the YAML experiments of `zoo/presets/` that build a `ConvLSTMBackbone`.

The presets live only in the YAML files (`zoo/presets/<dataset>/convlstm.yaml`);
this module is their ConvLSTM view. A preset's `model` section is exactly the
`ConvLSTMBackbone` constructor arguments, `training.scheduled_sampling` the
`ScheduledSamplingModel` arguments of the official config (absent when it
trains without), and `reference` the official config's key in the
reference's `param_counts.json`.
"""

from zoo import presets

BACKBONE = "ConvLSTMBackbone"


def list_presets():
    """Sorted names of the presets whose backbone is `ConvLSTMBackbone`."""
    return presets.list_presets(backbone=BACKBONE)


def get_preset(name):
    """The experiment mapping of a ConvLSTM preset; another name raises a `ValueError`."""
    return presets.load_preset(name, backbone=BACKBONE)
