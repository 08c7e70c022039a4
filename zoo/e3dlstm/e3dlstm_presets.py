"""The E3DLSTM presets: the YAML experiments of `zoo/presets/` that build a `E3DLSTMBackbone`.

The presets live only in the YAML files (`zoo/presets/<dataset>/e3dlstm.yaml`);
this module is their E3DLSTM view. A preset's `model` section is exactly the
`E3DLSTMBackbone` constructor arguments, `training.scheduled_sampling` the
`ScheduledSamplingModel` arguments of the official config (absent when it
trains without), and `reference` the official config's key in the
reference's `param_counts.json`.
"""

from zoo import presets

BACKBONE = "E3DLSTMBackbone"


def list_presets():
    """Sorted names of the presets whose backbone is `E3DLSTMBackbone`."""
    return presets.list_presets(backbone=BACKBONE)


def get_preset(name):
    """The experiment mapping of a E3DLSTM preset; another name raises a `ValueError`."""
    return presets.load_preset(name, backbone=BACKBONE)
