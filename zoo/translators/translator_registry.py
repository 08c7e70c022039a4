"""Translators by name.

A SimVP translator maps the latent sequence `(B, T, H', W', C)` to a sequence
of the same shape. Two kinds are registered here:

* MetaFormer blocks (`"gsta"`, `"tau"`, and the blocks of later issues):
  `register_meta_block(name, factory)` registers a factory that builds one
  block; `MetaTranslator` stacks them in SimVP v2's `MidMetaNet` layout.
* Whole translators with their own layout (`"incepu"`, SimVP v1's U-Net):
  `register_translator(name, cls)`.

`get_translator(name, **kwargs)` builds either kind from the same arguments,
so the backbone never branches per translator.
"""

_META_BLOCKS = {}
_TRANSLATORS = {}


def register_meta_block(name, factory):
    """Registers a MetaFormer block for `MetaTranslator`.

    Args:
        name: str. Lower-case translator name, e.g. `"gsta"`.
        factory: callable `factory(*, mlp_ratio, drop_rate, drop_path_rate,
            layer_index, num_layers, input_dim, output_dim, input_resolution,
            name, dtype)` returning a Keras layer `(B, H', W', D) -> (B, H', W', D)`
            named `name` with the dtype policy `dtype` (the translator's).
            The arguments give what the OpenSTL blocks read (`layer_i`,
            the in/out widths of `MetaBlock`, the latent resolution).

    Returns:
        `factory`, so it can be used as a decorator argument.
    """
    _check_free(name)
    _META_BLOCKS[name.lower()] = factory
    return factory


def register_translator(name, cls):
    """Registers a translator class taking `get_translator`'s arguments."""
    _check_free(name)
    _TRANSLATORS[name.lower()] = cls
    return cls


def _check_free(name):
    key = name.lower()
    if key in _META_BLOCKS or key in _TRANSLATORS:
        raise ValueError(f"A translator is already registered as {name!r}.")


def _ensure_builtins():
    # Importing the modules registers the built-in translators.
    from zoo.translators import convmixer_block  # noqa: F401
    from zoo.translators import convnext_block  # noqa: F401
    from zoo.translators import gsta_block  # noqa: F401
    from zoo.translators import hornet_block  # noqa: F401
    from zoo.translators import incepu_translator  # noqa: F401
    from zoo.translators import mlpmixer_block  # noqa: F401
    from zoo.translators import moganet_block  # noqa: F401
    from zoo.translators import poolformer_block  # noqa: F401
    from zoo.translators import swin_block  # noqa: F401
    from zoo.translators import tau_block  # noqa: F401
    from zoo.translators import uniformer_block  # noqa: F401
    from zoo.translators import van_block  # noqa: F401
    from zoo.translators import vit_block  # noqa: F401


def available_translators():
    """Sorted names accepted by `get_translator` and `SimVPBackbone`."""
    _ensure_builtins()
    return sorted(set(_META_BLOCKS) | set(_TRANSLATORS))


def get_meta_block_factory(name):
    _ensure_builtins()
    key = _normalize(name)
    if key not in _META_BLOCKS:
        raise ValueError(
            "Unknown MetaFormer block. Valid names: "
            f"{sorted(_META_BLOCKS)}. Received: block={name!r}"
        )
    return _META_BLOCKS[key]


def _normalize(name):
    if not isinstance(name, str):
        raise ValueError(
            "`translator` must be a string naming a registered translator. "
            f"Valid names: {available_translators()}. Received: translator={name!r}"
        )
    return name.lower()


def check_translator_name(name):
    """Raises a `ValueError` listing the valid names if `name` is unknown."""
    _ensure_builtins()
    key = _normalize(name)
    if key not in _META_BLOCKS and key not in _TRANSLATORS:
        raise ValueError(
            f"Unknown translator. Valid names: {available_translators()}. "
            f"Received: translator={name!r}"
        )
    return key


def get_translator(
    translator,
    hidden_dim,
    num_layers,
    mlp_ratio=8.0,
    drop_rate=0.0,
    drop_path_rate=0.0,
    **kwargs,
):
    """Builds the translator `translator`: `(B, T, H', W', C) -> (B, T, H', W', C)`.

    Args:
        translator: str. A name from `available_translators()` (case-insensitive).
        hidden_dim: int. The translator width (OpenSTL's `hid_T`).
        num_layers: int. The number of blocks (OpenSTL's `N_T`), at least 2.
        mlp_ratio: float. MLP expansion of MetaFormer blocks. Defaults to 8.0.
        drop_rate: float. Dropout of MetaFormer blocks. Defaults to 0.0.
        drop_path_rate: float. Stochastic depth of the last block; the others
            follow OpenSTL's schedule. Defaults to 0.0.
        **kwargs: Keras layer arguments (`name`, `dtype`).
    """
    key = check_translator_name(translator)
    if key in _TRANSLATORS:
        return _TRANSLATORS[key](hidden_dim=hidden_dim, num_layers=num_layers, **kwargs)
    from zoo.translators.meta_translator import MetaTranslator

    return MetaTranslator(
        block=key,
        hidden_dim=hidden_dim,
        num_layers=num_layers,
        mlp_ratio=mlp_ratio,
        drop_rate=drop_rate,
        drop_path_rate=drop_path_rate,
        **kwargs,
    )
