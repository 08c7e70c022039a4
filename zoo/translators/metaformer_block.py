"""The MetaFormer block: the residual layout shared by SimVP's translator blocks."""

import keras

from keras_svq.layers import MLP
from keras_svq.layers import DropPath
from keras_svq.layers import LayerScale


@keras.saving.register_keras_serializable(package="keras_svq")
class MetaFormerBlock(keras.layers.Layer):
    """Base class of the pre-norm MetaFormer blocks.

    ```
    x = x + drop_path(layer_scale_1 · token_mixer(norm1(x)))
    x = x + drop_path(layer_scale_2 · mlp(norm2(x)))
    ```

    The block owns the two residual branches, the shared arguments, `build`,
    `call` and `get_config`; a subclass provides its layers through hooks:

    - `make_norm(name)`: the normalisation layer of either branch.
    - `make_attention(input_shape)`: the token mixer, stored as `attn` (the
      reference's name), or None for a mixer without weights.
    - `attention_input_shape(input_shape)`: the shape `attn` is built on.
      Defaults to the block's input shape.
    - `mix_tokens(x, training)`: the token mixer on the normalised map.
      Defaults to `attn(x)`.
    - `make_mlp(dim)`: the channel MLP, stored as `mlp`. Defaults to a GELU
      `MLP` of width `int(dim · mlp_ratio)`.

    Sublayers are created in the order `norm1, attn, norm2, mlp,
    layer_scale_1, layer_scale_2`, then built in that order, so that the
    weight paths match the reference (`zoo/openstl_state_dict.py`) and the
    seeded initial weights do not depend on the subclass. The stochastic
    depth layer `drop_path` is created in `__init__`, or, when the class sets
    `create_drop_path_in_build`, in `build` after the other sublayers.

    Args:
        mlp_ratio: float. Hidden width of the MLP as a multiple of C.
            Defaults to 4.0.
        drop_rate: float. Dropout in the MLP. Defaults to 0.0.
        drop_path_rate: float. Stochastic depth rate. Defaults to 0.0.
        layer_scale_init_value: float or None. Initial value of both layer
            scales, or None for no layer scale. Defaults to 1e-5.

    Call arguments:
        inputs: a tensor `(B, H, W, C)`.
        training: bool.

    Example:

    ```python
    class BatchNormBlock(MetaFormerBlock):
        def make_norm(self, name):
            return keras.layers.BatchNormalization(name=name, dtype=self.dtype_policy)

        def make_attention(self, input_shape):
            return keras.layers.DepthwiseConv2D(
                3, padding="same", name="attn", dtype=self.dtype_policy
            )

    y = BatchNormBlock(mlp_ratio=2.0)(np.zeros((2, 8, 8, 16)))
    ```

    Reference:
        Yu et al., "MetaFormer Is Actually What You Need for Vision",
        https://arxiv.org/abs/2111.11418
    """

    create_drop_path_in_build = False

    def __init__(
        self,
        mlp_ratio=4.0,
        drop_rate=0.0,
        drop_path_rate=0.0,
        layer_scale_init_value=1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if mlp_ratio <= 0:
            raise ValueError(
                f"`mlp_ratio` must be positive. Received: mlp_ratio={mlp_ratio}"
            )
        self.mlp_ratio = mlp_ratio
        self.drop_rate = drop_rate
        self.drop_path_rate = drop_path_rate
        self.layer_scale_init_value = layer_scale_init_value
        if not self.create_drop_path_in_build:
            self.drop_path = self._make_drop_path()

    def _make_drop_path(self):
        return DropPath(self.drop_path_rate, dtype=self.dtype_policy, name="drop_path")

    def make_norm(self, name):
        """The normalisation layer named `name` (`norm1` or `norm2`)."""
        raise NotImplementedError(f"{type(self).__name__} must define `make_norm`.")

    def make_attention(self, input_shape):
        """The token mixer named `attn`, or None for a mixer without weights."""
        raise NotImplementedError(
            f"{type(self).__name__} must define `make_attention`."
        )

    def attention_input_shape(self, input_shape):
        """The shape `attn` is built on."""
        return input_shape

    def mix_tokens(self, x, training=None):
        """The token mixer on the normalised map `x`."""
        return self.attn(x, training=training)

    def make_mlp(self, dim):
        """The channel MLP named `mlp`."""
        return MLP(
            int(dim * self.mlp_ratio),
            dropout_rate=self.drop_rate,
            name="mlp",
            dtype=self.dtype_policy,
        )

    def _make_layer_scale(self, name):
        if self.layer_scale_init_value is None:
            return None
        return LayerScale(
            self.layer_scale_init_value, name=name, dtype=self.dtype_policy
        )

    def build(self, input_shape):
        self.norm1 = self.make_norm("norm1")
        self.attn = self.make_attention(input_shape)
        self.norm2 = self.make_norm("norm2")
        self.mlp = self.make_mlp(input_shape[-1])
        self.layer_scale_1 = self._make_layer_scale("layer_scale_1")
        self.layer_scale_2 = self._make_layer_scale("layer_scale_2")
        if self.create_drop_path_in_build:
            self.drop_path = self._make_drop_path()
        self.norm1.build(input_shape)
        if self.attn is not None:
            self.attn.build(self.attention_input_shape(input_shape))
        for layer in (self.norm2, self.mlp, self.layer_scale_1, self.layer_scale_2):
            if layer is not None:
                layer.build(input_shape)
        self.built = True

    def _residual(self, x, branch, layer_scale, training):
        if layer_scale is not None:
            branch = layer_scale(branch)
        return x + self.drop_path(branch, training=training)

    def call(self, inputs, training=None):
        x = inputs
        branch = self.mix_tokens(self.norm1(x, training=training), training=training)
        x = self._residual(x, branch, self.layer_scale_1, training)
        branch = self.mlp(self.norm2(x, training=training), training=training)
        return self._residual(x, branch, self.layer_scale_2, training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "mlp_ratio": self.mlp_ratio,
            "drop_rate": self.drop_rate,
            "drop_path_rate": self.drop_path_rate,
            "layer_scale_init_value": self.layer_scale_init_value,
        }
