"""The MAU presets: the YAML experiments of `zoo/presets/` that build a `MAUBackbone`.

The presets live only in the YAML files (`zoo/presets/<dataset>/mau.yaml`);
this module is their MAU view. A preset's `model` section is exactly the
`MAUBackbone` constructor arguments, `training.scheduled_sampling` the
`ScheduledSamplingModel` arguments of the official config (absent when it
trains without), and `reference` the official config's key in the
reference's `param_counts.json`.
"""

from zoo import presets

BACKBONE = "MAUBackbone"


def list_presets():
    """Sorted names of the presets whose backbone is `MAUBackbone`."""
    return presets.list_presets(backbone=BACKBONE)


def get_preset(name):
    """The experiment mapping of a MAU preset; another name raises a `ValueError`."""
    return presets.load_preset(name, backbone=BACKBONE)
