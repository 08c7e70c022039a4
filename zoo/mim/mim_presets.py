"""The MIM presets: the YAML experiments of `zoo/presets/` that build a `MIMBackbone`.

The presets live only in the YAML files (`zoo/presets/<dataset>/mim.yaml`);
this module is their MIM view. A preset's `model` section is exactly the
`MIMBackbone` constructor arguments, `training.scheduled_sampling` the
`ScheduledSamplingModel` arguments of the official config (absent when it
trains without), and `reference` the official config's key in the
reference's `param_counts.json`.
"""

from zoo import presets

BACKBONE = "MIMBackbone"


def list_presets():
    """Sorted names of the presets whose backbone is `MIMBackbone`."""
    return presets.list_presets(backbone=BACKBONE)


def get_preset(name):
    """The experiment mapping of a MIM preset; another name raises a `ValueError`."""
    return presets.load_preset(name, backbone=BACKBONE)
