"""Loading official OpenSTL / SVQ-Forecasting PyTorch checkpoints into recurrent backbones.

Every cell and stack lists its PyTorch children with `torch_modules()`:
`(torch name, keras object, kind)` where kind is

* `"module"`: a nested module, loaded recursively under `name.`;
* `"sequential"`: a `GateConv` that torch wraps as `nn.Sequential(conv, norm)`:
  `name.0.weight` (`name.0.bias`) and, with layer norm, `name.1.weight/bias`;
* `"conv"`: a `GateConv` that is a bare `nn.Conv2d`: `name.weight` (`name.bias`);
* `"conv3d"`: the same for an `nn.Conv3d`;
* `"sequential3d"`, `"tf_conv3d"`: a `WindowConv3D`, which torch holds as
  `nn.Sequential(tf_Conv3d, norm)` (`name.0.conv3d.weight`) or as a bare
  `tf_Conv3d` (`name.conv3d.weight`);
* `"chw"`: a raw parameter `(C, H, W)` stored as `(H, W, C)`;
* `"layer_norm"`: a `LayerNormalization` over `(C, H, W)` / `(C, T, H, W)` maps;
* `"group_norm"`, `"conv_transpose"`: as their names say;
* `"concat_conv_lstm"`: a `ConvLSTMCell` stored as PhyDNet's single biased
  `conv` over `[x, h]` with gates `i, f, o, g`: split into `conv_x` (with
  the bias) and `conv_h`, gates reordered to `i, f, g, o`;
* `"alias"`: every entry under this prefix is a second name of weights
  loaded elsewhere (or a constant buffer) and is skipped.

Layouts: `Conv2d` `(out, in, kh, kw)` -> `(kh, kw, in, out)`; `Conv3d`
`(out, in, kt, kh, kw)` -> `(kt, kh, kw, in, out)`; `ConvTranspose2d`
`(in, out, kh, kw)` -> Keras `Conv2DTranspose` `(kh, kw, out, in)` (both use
the same correlation convention, so no flip); LayerNorm `(C, H, W)` ->
`(H, W, C)`.
"""

import numpy as np


class _Loader:
    def __init__(self, state_dict):
        self.state_dict = {k: v for k, v in state_dict.items()}
        self.consumed = set()

    def get(self, key):
        if key not in self.state_dict:
            prefix = key.rsplit(".", 1)[0]
            near = sorted(k for k in self.state_dict if k.startswith(prefix))
            raise ValueError(
                f"The state dict has no entry {key!r}, which the Keras model needs. "
                f"Entries under {prefix!r}: {near[:20]}. Check that the model was "
                "built with the checkpoint's settings."
            )
        self.consumed.add(key)
        return np.asarray(self.state_dict[key], dtype="float32")

    def assign(self, variable, value, key):
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(
                f"Shape mismatch for {key!r}: the checkpoint gives {value.shape} after "
                f"conversion, the Keras weight {variable.path} is "
                f"{tuple(variable.shape)}. Check the model's settings."
            )
        variable.assign(value)

    @staticmethod
    def _channels_last(value):
        # (C, d1, ..., dn) -> (d1, ..., dn, C)
        return np.moveaxis(value, 0, -1)

    def conv(self, layer, prefix):
        weight = self.get(prefix + "weight")
        # (out, in, *k) -> (*k, in, out)
        axes = tuple(range(2, weight.ndim)) + (1, 0)
        self.assign(layer.kernel, weight.transpose(axes), prefix + "weight")
        if layer.use_bias:
            self.assign(layer.bias, self.get(prefix + "bias"), prefix + "bias")

    def conv_transpose(self, layer, prefix):
        weight = self.get(prefix + "weight")
        # (in, out, kh, kw) -> (kh, kw, out, in)
        self.assign(layer.kernel, weight.transpose(2, 3, 1, 0), prefix + "weight")
        if layer.use_bias:
            self.assign(layer.bias, self.get(prefix + "bias"), prefix + "bias")

    def layer_norm(self, layer, prefix):
        self.assign(
            layer.gamma,
            self._channels_last(self.get(prefix + "weight")),
            prefix + "weight",
        )
        self.assign(
            layer.beta, self._channels_last(self.get(prefix + "bias")), prefix + "bias"
        )

    def group_norm(self, layer, prefix):
        self.assign(layer.gamma, self.get(prefix + "weight"), prefix + "weight")
        self.assign(layer.beta, self.get(prefix + "bias"), prefix + "bias")

    def concat_conv_lstm(self, cell, prefix):
        weight = self.get(prefix + "weight")  # (4h, in + h, k, k), gates i, f, o, g
        bias = self.get(prefix + "bias")
        h = cell.hidden_dim
        order = np.concatenate([np.arange(k * h, (k + 1) * h) for k in (0, 1, 3, 2)])
        weight, bias = weight[order], bias[order]
        inputs = weight.shape[1] - h
        self.assign(
            cell.conv_x.conv.kernel,
            weight[:, :inputs].transpose(2, 3, 1, 0),
            prefix + "weight",
        )
        self.assign(cell.conv_x.conv.bias, bias, prefix + "bias")
        self.assign(
            cell.conv_h.conv.kernel,
            weight[:, inputs:].transpose(2, 3, 1, 0),
            prefix + "weight",
        )

    def load(self, obj, prefix):
        for name, child, kind in obj.torch_modules():
            path = f"{prefix}{name}"
            if kind == "module":
                self.load(child, path + ".")
            elif kind == "sequential":
                self.conv(child.conv, path + ".0.")
                if child.norm is not None:
                    self.layer_norm(child.norm, path + ".1.")
            elif kind == "sequential3d":
                self.conv(child.conv, path + ".0.conv3d.")
                if child.norm is not None:
                    self.layer_norm(child.norm, path + ".1.")
            elif kind == "tf_conv3d":
                self.conv(child.conv, path + ".conv3d.")
            elif kind in ("conv", "conv3d"):
                self.conv(getattr(child, "conv", child), path + ".")
            elif kind == "conv_transpose":
                self.conv_transpose(getattr(child, "conv", child), path + ".")
            elif kind == "chw":
                self.assign(child, self._channels_last(self.get(path)), path)
            elif kind == "layer_norm":
                self.layer_norm(child, path + ".")
            elif kind == "group_norm":
                self.group_norm(child, path + ".")
            elif kind == "concat_conv_lstm":
                self.concat_conv_lstm(child, path + ".conv.")
            elif kind == "alias":
                self.consumed.update(k for k in self.state_dict if k.startswith(path))
            else:  # pragma: no cover - a programming error in a cell
                raise ValueError(f"Unknown torch module kind {kind!r} for {path!r}.")


def load_recurrent_state_dict(model, state_dict, strict=True):
    """Loads an official PyTorch state dict into a recurrent backbone.

    Args:
        model: a `RecurrentBackbone` (`ConvLSTMBackbone`, `PredRNNBackbone`, ...),
            built with the checkpoint's settings.
        state_dict: mapping from PyTorch parameter names
            (`cell_list.0.conv_x.0.weight`, ...) to arrays in PyTorch layout.
        strict: bool. Raise if the state dict has entries the model does not
            use. Defaults to True.

    Returns:
        The model.

    Example:

    ```python
    import numpy as np
    data = np.load("predrnn.npz")
    model = PredRNNBackbone(4, 4, 16, 16, 1, hidden_dims=[8, 8],
                            kernel_size=3, patch_size=2)
    load_recurrent_state_dict(model, {k: data[k] for k in data.files
                                      if not k.startswith(("x", "y", "in:", "out:", "meta"))})
    ```
    """
    owner = getattr(model, "stack", model)
    loader = _Loader(state_dict)
    loader.load(owner, "")
    left = sorted(set(loader.state_dict) - loader.consumed)
    if strict and left:
        raise ValueError(
            f"The state dict has {len(left)} entries the model does not use: "
            f"{left[:20]}. Pass strict=False to ignore them."
        )
    return model
