"""Loading official OpenSTL / SVQ-Forecasting PyTorch checkpoints into Keras models.

The official SimVP, TAU and SimVPVQ models name their parameters
`enc.enc.{i}.conv.conv.weight`, `hid.enc.{i}.block.attn.proj_1.weight`,
`vq.vq.codebook`, ... This module walks a `SimVPBackbone` and converts each
PyTorch tensor to the layout of the matching Keras weight:

* `Conv2d` `(out, in/groups, kh, kw)` -> `Conv2D` `(kh, kw, in/groups, out)`;
* depthwise `Conv2d` `(C, 1, kh, kw)` -> `DepthwiseConv2D` `(kh, kw, C, 1)`;
* 1x1 `Conv2d` `(out, in, 1, 1)` and `Linear` `(out, in)` -> `Dense` `(in, out)`;
* `BatchNorm2d` and `GroupNorm` affine parameters and running statistics
  map one to one.

Converters are looked up by layer class, so new translator blocks add their
own with `register_converter`.
"""

import numpy as np

_CONVERTERS = {}


def register_converter(cls):
    """Decorator: `fn(loader, layer, prefix)` loads `layer` from `prefix` names."""

    def decorator(fn):
        _CONVERTERS[cls] = fn
        return fn

    return decorator


class _Loader:
    def __init__(self, state_dict):
        self.state_dict = state_dict
        self.consumed = set()

    def get(self, key):
        if key not in self.state_dict:
            near = sorted(
                k for k in self.state_dict if k.startswith(key.rsplit(".", 1)[0])
            )
            raise ValueError(
                f"The state dict has no entry {key!r}, which the Keras model needs. "
                f"Entries under that module: {near[:20]}. Check that the model "
                "was built with the checkpoint's settings."
            )
        self.consumed.add(key)
        return np.asarray(self.state_dict[key], dtype="float32")

    def has(self, key):
        return key in self.state_dict

    def assign(self, variable, value, key):
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(
                f"Shape mismatch for {key!r}: the checkpoint gives {value.shape} "
                f"after conversion, the Keras weight {variable.path} is "
                f"{tuple(variable.shape)}. Check the model's settings."
            )
        variable.assign(value)

    # -------------------------------------------------------------- primitives
    def dense(self, layer, prefix, bias=True):
        """A `Linear` or a 1x1 `Conv2d` into a `Dense`."""
        weight = self.get(prefix + "weight")
        weight = weight.reshape(weight.shape[0], -1) if weight.ndim == 4 else weight
        self.assign(layer.kernel, weight.T, prefix + "weight")
        if bias:
            self.assign(layer.bias, self.get(prefix + "bias"), prefix + "bias")

    def conv(self, layer, prefix):
        weight = self.get(prefix + "weight").transpose(2, 3, 1, 0)
        self.assign(layer.kernel, weight, prefix + "weight")
        self.assign(layer.bias, self.get(prefix + "bias"), prefix + "bias")

    def depthwise(self, layer, prefix):
        weight = self.get(prefix + "weight").transpose(2, 3, 0, 1)
        self.assign(layer.kernel, weight, prefix + "weight")
        self.assign(layer.bias, self.get(prefix + "bias"), prefix + "bias")

    def group_norm(self, layer, prefix):
        self.assign(layer.gamma, self.get(prefix + "weight"), prefix + "weight")
        self.assign(layer.beta, self.get(prefix + "bias"), prefix + "bias")

    def batch_norm(self, layer, prefix):
        self.group_norm(layer, prefix)
        for torch_name, variable in (
            ("running_mean", layer.moving_mean),
            ("running_var", layer.moving_variance),
        ):
            self.assign(variable, self.get(prefix + torch_name), prefix + torch_name)
        self.consumed.add(prefix + "num_batches_tracked")

    def load(self, layer, prefix):
        for cls in type(layer).__mro__:
            if cls in _CONVERTERS:
                return _CONVERTERS[cls](self, layer, prefix)
        raise ValueError(
            f"No OpenSTL converter for layer {layer.name!r} of class "
            f"{type(layer).__name__}. Register one with "
            "`zoo.openstl_state_dict.register_converter`."
        )


def _register_builtin_converters():
    from keras_svq.layers import ConvNormAct
    from keras_svq.layers import MixMLP
    from keras_svq.quantizers import SparseVectorQuantizer
    from keras_svq.quantizers import load_svq_state_dict
    from zoo.simvp.simvp_backbone import SimVPBackbone
    from zoo.translators import GatedSpatialAttention
    from zoo.translators import GSTABlock
    from zoo.translators import IncepUBlock
    from zoo.translators import IncepUTranslator
    from zoo.translators import MetaTranslator
    from zoo.translators import TemporalAttention

    @register_converter(ConvNormAct)
    def _conv_norm_act(loader, layer, prefix):
        # ConvSC: `<p>conv.conv[.0]` and `<p>conv.norm`; GroupConv2d: `<p>conv`, `<p>norm`.
        loader.conv(layer.conv, prefix + "conv" + (".0." if layer.shuffle else "."))
        if layer.norm is not None:
            loader.group_norm(layer.norm, prefix + "norm.")

    @register_converter(SimVPBackbone)
    def _backbone(loader, model, prefix):
        for i, block in enumerate(model.encoder.blocks):
            loader.load(block, f"{prefix}enc.enc.{i}.conv.")
        loader.load(model.translator, prefix + "hid.")
        for i, block in enumerate(model.decoder.blocks):
            loader.load(block, f"{prefix}dec.dec.{i}.conv.")
        loader.dense(model.decoder.readout, prefix + "dec.readout.")
        if model.quantizer is not None:
            loader.load(model.quantizer, prefix + "vq.vq.")

    @register_converter(SparseVectorQuantizer)
    def _svq(loader, layer, prefix):
        loader.consumed.update(load_svq_state_dict(layer, loader.state_dict, prefix))

    @register_converter(MetaTranslator)
    def _meta(loader, layer, prefix):
        for i, (block, reduction) in enumerate(zip(layer.blocks, layer.reductions)):
            loader.load(block, f"{prefix}enc.{i}.block.")
            if reduction is not None:
                loader.dense(reduction, f"{prefix}enc.{i}.reduction.")

    @register_converter(GSTABlock)
    def _gsta_block(loader, layer, prefix):
        loader.batch_norm(layer.norm1, prefix + "norm1.")
        loader.load(layer.attn, prefix + "attn.")
        loader.batch_norm(layer.norm2, prefix + "norm2.")
        loader.load(layer.mlp, prefix + "mlp.")
        for name in ("layer_scale_1", "layer_scale_2"):
            loader.assign(
                getattr(layer, name).scale, loader.get(prefix + name), prefix + name
            )

    @register_converter(GatedSpatialAttention)
    def _attention(loader, layer, prefix):
        loader.dense(layer.proj_1, prefix + "proj_1.")
        gating = prefix + "spatial_gating_unit."
        loader.depthwise(layer.conv0, gating + "conv0.")
        loader.depthwise(layer.conv_spatial, gating + "conv_spatial.")
        loader.dense(layer.conv1, gating + "conv1.")
        if isinstance(layer, TemporalAttention):
            loader.dense(layer.fc1, gating + "fc.0.", bias=False)
            loader.dense(layer.fc2, gating + "fc.2.", bias=False)
        loader.dense(layer.proj_2, prefix + "proj_2.")

    @register_converter(MixMLP)
    def _mix_mlp(loader, layer, prefix):
        loader.dense(layer.fc1, prefix + "fc1.")
        loader.depthwise(layer.dwconv, prefix + "dwconv.dwconv.")
        loader.dense(layer.fc2, prefix + "fc2.")

    @register_converter(IncepUTranslator)
    def _incepu(loader, layer, prefix):
        for i, block in enumerate(layer.encoder_blocks):
            loader.load(block, f"{prefix}enc.{i}.")
        for i, block in enumerate(layer.decoder_blocks):
            loader.load(block, f"{prefix}dec.{i}.")

    @register_converter(IncepUBlock)
    def _incepu_block(loader, layer, prefix):
        loader.dense(layer.conv1, prefix + "conv1.")
        for j, branch in enumerate(layer.branches):
            loader.load(branch, f"{prefix}layers.{j}.")


def load_openstl_state_dict(model, state_dict, strict=True):
    """Loads an official OpenSTL / SVQ-Forecasting PyTorch state dict.

    Works for the SimVP, TAU and SimVPVQ models of the official code (gSTA,
    IncepU and TAU translators, SVQ before or after the translator), and for
    the recurrent baselines (ConvLSTM, PredRNN, ..., through
    `zoo.recurrent.load_recurrent_state_dict`). The
    Keras model must be built with the checkpoint's settings (see the YAML
    presets of `zoo/presets/` for the official configs).

    Args:
        model: a `SimVPBackbone` or a recurrent backbone of the zoo.
        state_dict: a mapping of PyTorch names to arrays in PyTorch layouts,
            e.g. `{k: v.numpy() for k, v in torch.load(path).items()}` (a
            `state_dict` key of a training checkpoint, or `np.load` of an
            `.npz`). A leading `module.` (DataParallel) is stripped.
        strict: bool. Raise if the state dict has entries the model does not
            use (BatchNorm's `num_batches_tracked` excepted). Missing entries
            always raise. Defaults to True.

    Returns:
        The model, with its weights replaced.

    Example:

    ```python
    import torch
    sd = {k: v.numpy() for k, v in torch.load("checkpoint.pth").items()}
    model = SimVPBackbone(12, 12, 32, 64, 1, 32, 256, 2, 8, translator="gsta")
    load_openstl_state_dict(model, sd)
    ```
    """
    from zoo.recurrent import RecurrentBackbone
    from zoo.recurrent import load_recurrent_state_dict

    if isinstance(model, RecurrentBackbone):
        return load_recurrent_state_dict(model, state_dict, strict=strict)
    if not _CONVERTERS:
        _register_builtin_converters()
    state_dict = {
        (k[len("module.") :] if k.startswith("module.") else k): v
        for k, v in state_dict.items()
    }
    loader = _Loader(state_dict)
    loader.load(model, "")
    unused = sorted(
        k
        for k in state_dict
        if k not in loader.consumed and not k.endswith("num_batches_tracked")
    )
    if strict and unused:
        raise ValueError(
            f"{len(unused)} entries of the state dict were not used by the Keras "
            f"model (pass strict=False to ignore them): {unused[:20]}"
        )
    return model


__all__ = ["load_openstl_state_dict", "register_converter"]
