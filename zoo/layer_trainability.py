"""Which sub-layers of a backbone are trainable, kept across a save and load.

A backbone is rebuilt from its constructor arguments on load
(`Backbone.from_config`), so a sub-layer the user froze for fine-tuning
(`model.get_layer("encoder").trainable = False`) would come back trainable,
and the optimizer saved with a compiled model would no longer match the
trainable variables ("Skipping variable loading for optimizer"). Keras'
functional models keep each layer's `trainable` in their config; a backbone
keeps the flags of its sub-layers, by layer path, under `CONFIG_KEY`, and
only when they differ from what its constructor builds, so configs of
untouched models (and the YAML presets) are unchanged.
"""

CONFIG_KEY = "sublayer_trainable"


def _sublayers(model):
    """`{path: layer}` of every sub-layer, a path like `"3:Translator/0:Block"`.

    Paths are built from each layer's position among its parent's layers and
    its class: Keras' `layer.path` is only set once a layer is built (some are
    built only by a training call), and auto-generated names (`dropout_1`)
    depend on what else the process created.
    """
    found, seen = {}, set()

    def visit(layer, prefix):
        for index, child in enumerate(layer._layers):
            if id(child) in seen:
                continue
            seen.add(id(child))
            path = f"{prefix}{index}:{type(child).__name__}"
            found[path] = child
            visit(child, f"{path}/")

    visit(model, "")
    return found


def trainable_flags(model):
    """`{path: trainable}` of every sub-layer."""
    return {path: bool(layer.trainable) for path, layer in _sublayers(model).items()}


def changed_flags(model, constructed):
    """The full flag map when any flag differs from `constructed`, else None.

    The full map, not the differences: setting a layer's `trainable` sets its
    children's too, so they must be set again after it.
    """
    flags = trainable_flags(model)
    return flags if flags != constructed else None


def restore_flags(model, flags):
    """Sets the sub-layers' `trainable` from `flags` (parents first).

    Raises:
        ValueError: `flags` names a layer the model does not have.
    """
    layers = _sublayers(model)
    unknown = sorted(set(flags) - set(layers))
    if unknown:
        raise ValueError(
            f"`{CONFIG_KEY}` names layers that {type(model).__name__} does not have "
            f"(the config was written for another architecture). Received: {unknown[:5]}"
        )
    for path in sorted(flags, key=lambda p: p.count("/")):
        layers[path].trainable = flags[path]
