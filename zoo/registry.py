"""The backbone registry: configs and presets name a backbone class by its name.

Every concrete backbone registers itself where it is defined:

```python
@keras.saving.register_keras_serializable(package="keras_svq")
@register_backbone("SimVPBackbone")
class SimVPBackbone(Backbone):
    ...
```

and `get_backbone_class("SimVPBackbone")` returns it. Abstract bases
(`Backbone`, `RecurrentBackbone`) are not registered, so they never appear
as a choice. Lookups import `zoo` first, so every backbone the package ships
is registered before a name is resolved.
"""

import difflib
import importlib

from keras_svq.io_utils import UserError

_BACKBONES = {}


def register_backbone(name):
    """Class decorator: makes a backbone class available under `name`.

    Args:
        name: str. The name configs use in their `backbone` key (by
            convention the class name).

    Raises:
        ValueError: `name` is already registered to another class.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(
            f"A backbone name must be a non-empty string. Received: name={name!r}"
        )

    def decorator(cls):
        known = _BACKBONES.get(name)
        if known is not None and _qualified(known) != _qualified(cls):
            raise ValueError(
                f"The backbone name {name!r} is already registered to "
                f"{_qualified(known)}. Received: {_qualified(cls)}"
            )
        _BACKBONES[name] = cls
        return cls

    return decorator


def available_backbones():
    """Sorted names of every registered backbone."""
    _import_zoo()
    return sorted(_BACKBONES)


def get_backbone_class(name):
    """The backbone class registered under `name`.

    Raises:
        UserError: (a `ValueError`) for an unknown name, with the closest
            known names, or all of them when none is close.
    """
    _import_zoo()
    if name not in _BACKBONES:
        known = sorted(_BACKBONES)
        close = difflib.get_close_matches(str(name), known, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UserError(
            f"Unknown backbone {name!r}.{hint} Known backbones: {', '.join(known)}"
        )
    return _BACKBONES[name]


def _import_zoo():
    # `zoo/__init__.py` imports every backbone module, which registers them.
    importlib.import_module("zoo")


def _qualified(cls):
    # Reloading a module (tests, notebooks) re-registers an equal class.
    return f"{cls.__module__}.{cls.__qualname__}"
