"""Sparse Vector Quantization (SVQ)."""

import keras
from keras import ops

from keras_svq.initializers import TorchUniform
from keras_svq.initializers import get_codebook_initializer
from keras_svq.quantizers.base_quantizer import Quantizer


def _get_activation(name, argument):
    """Resolves an activation, None meaning identity; bad names raise ValueError."""
    if name is None:
        return None
    try:
        activation = keras.activations.get(name)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"Unknown activation for `{argument}`. Use None, a Keras activation "
            f"name such as 'relu', or a callable. Received: {argument}={name!r}"
        ) from error
    if activation is keras.activations.linear:
        return None
    return activation


@keras.saving.register_keras_serializable(package="keras_svq")
class SparseVectorQuantizer(Quantizer):
    """Sparse Vector Quantization: a learned sparse regression over a big codebook.

    Each input vector `x` (dimension D) is mapped by a two-layer MLP to dense
    regression weights `w` over a codebook `C` of K codes, and the output is
    `w @ C`:

    ```
    w = output_activation(hidden_activation(x @ W1 + b1) @ W2 + b2)   # (..., K)
    y = w @ C                                                         # (..., D)
    ```

    There is no auxiliary loss and no straight-through estimator: the layer is
    fully differentiable. The codebook can be learned or frozen at its random
    initialisation (`freeze_codebook=True`, the paper's "frozen" setting), and
    the MLP can be frozen at its initialisation too (`freeze_projection=True`,
    the paper's appendix ablation).

    When `output_activation` is None (the default, as in the paper), the layer
    never materialises the `(N, K)` weights: it computes the same function as
    `h @ (W2 @ C) + b2 @ C`, which has the same gradient for every weight and
    costs `O(K * hidden * D)` once per step instead of `O(N * K * D)`. Use
    `encode()` to get the code weights when you want to look at them.

    Initialisation follows the reference PyTorch code, so training dynamics
    match: dense kernels and biases as `torch.nn.Linear` initialises them
    (`U(+-1/sqrt(fan_in))`), the codebook as the reference's `init_method`.
    Under mixed precision the quantizer computes in float32 and returns the
    layer's compute dtype.

    Args:
        codebook_size: int. Number of codes K. Defaults to 10000.
        hidden_dim: int. Width of the MLP's hidden layer. When
            `codebook_size < hidden_dim` the hidden width is reduced to
            `codebook_size`, as in the reference. Defaults to 128.
        freeze_codebook: bool. Keep the codebook at its initial random value
            (a non-trainable weight). Defaults to False.
        freeze_projection: bool. Keep the MLP's kernels and biases at their
            initial random values (non-trainable weights), so that only the
            codebook (if not frozen too) learns; the reference's
            `--freeze_projection`. Defaults to False.
        codebook_initializer: str or initializer. One of "normal" (N(0, 1)),
            "kaiming", "xavier", "trunc", "orthogonal", "sparse" (the
            reference's `init_method` values, drawn as torch draws them on a
            `(K, D)` tensor), or any Keras initializer. Defaults to "normal".
        hidden_activation: str or None. Activation after the first dense
            layer (the reference's `hid_relu`). Defaults to "relu".
        output_activation: str or None. Activation on the code weights (the
            reference's `out_relu`). Setting one disables the fast path.
            Defaults to None.
        linear: bool. Use a single dense layer `x @ W + b` to the code
            weights (the reference's `nonlinear=False`). Defaults to False.
        **kwargs: standard `keras.layers.Layer` arguments (`name`, `dtype`...).

    Call arguments:
        inputs: float tensor `(..., D)` of rank >= 2.
        training: unused; accepted for a uniform quantizer interface.

    Input shape: `(..., D)`. Output shape: `(..., D)`.

    Example:

    ```python
    import keras, numpy as np
    from keras_svq import SparseVectorQuantizer

    inputs = keras.Input((16, 16, 32))            # an encoder's latent map
    outputs = SparseVectorQuantizer(codebook_size=1024)(inputs)
    model = keras.Model(inputs, outputs)
    y = model(np.random.rand(2, 16, 16, 32).astype("float32"))
    ```

    Reference:
        Chen et al., "Does Vector Quantization Fail in Spatio-Temporal
        Forecasting? Exploring a Differentiable Sparse Soft-Vector Quantization
        Approach", https://arxiv.org/abs/2312.03406.
    """

    def __init__(
        self,
        codebook_size=10000,
        hidden_dim=128,
        freeze_codebook=False,
        codebook_initializer="normal",
        hidden_activation="relu",
        output_activation=None,
        linear=False,
        freeze_projection=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for argument, value in (
            ("codebook_size", codebook_size),
            ("hidden_dim", hidden_dim),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"`{argument}` must be a positive integer. Received: "
                    f"{argument}={value!r}"
                )
        self.codebook_size = codebook_size
        self.hidden_dim = hidden_dim
        self.freeze_codebook = bool(freeze_codebook)
        self.freeze_projection = bool(freeze_projection)
        self.codebook_initializer = get_codebook_initializer(codebook_initializer)
        self._codebook_initializer_config = codebook_initializer
        self.hidden_activation = _get_activation(hidden_activation, "hidden_activation")
        self.output_activation = _get_activation(output_activation, "output_activation")
        self._hidden_activation_config = hidden_activation
        self._output_activation_config = output_activation
        self.linear = bool(linear)
        # Capture hook for diagnostics (see `codebook_usage`): a Python-level
        # switch, so the compiled training step never pays for it.
        self._captured_inputs = None

    # ---------------------------------------------------------------- state
    @property
    def effective_hidden_dim(self):
        """The MLP's hidden width: `min(hidden_dim, codebook_size)`."""
        return min(self.hidden_dim, self.codebook_size)

    @property
    def uses_fast_path(self):
        """True when `call` folds the codebook into the last dense layer."""
        return self.output_activation is None

    def build(self, input_shape):
        self._check_input_rank(input_shape)
        dim = input_shape[-1]
        if dim is None:
            raise ValueError(
                "The last axis (D) of the SparseVectorQuantizer input must be "
                f"known when the layer is built. Received: input_shape={tuple(input_shape)}"
            )
        self.input_dim = int(dim)
        # float32 weights read without autocasting: under mixed or pure
        # low-precision policies the quantizer computes in float32 (`call`).
        dense = dict(
            dtype="float32", autocast=False, trainable=not self.freeze_projection
        )
        projection_in = self.input_dim
        if not self.linear:
            hidden = self.effective_hidden_dim
            self.hidden_kernel = self.add_weight(
                name="hidden_kernel",
                shape=(self.input_dim, hidden),
                initializer=TorchUniform(),
                **dense,
            )
            self.hidden_bias = self.add_weight(
                name="hidden_bias",
                shape=(hidden,),
                initializer=TorchUniform(fan_in=self.input_dim),
                **dense,
            )
            projection_in = hidden
        self.output_kernel = self.add_weight(
            name="output_kernel",
            shape=(projection_in, self.codebook_size),
            initializer=TorchUniform(),
            **dense,
        )
        self.output_bias = self.add_weight(
            name="output_bias",
            shape=(self.codebook_size,),
            initializer=TorchUniform(fan_in=projection_in),
            **dense,
        )
        self.codebook = self.add_weight(
            name="codebook",
            shape=(self.codebook_size, self.input_dim),
            initializer=self.codebook_initializer,
            trainable=not self.freeze_codebook,
            dtype="float32",
            autocast=False,
        )
        self.built = True

    # ------------------------------------------------------------------ math
    def _hidden(self, x):
        """The features the last dense layer reads: `act(x @ W1 + b1)`, or x."""
        if self.linear:
            return x
        h = ops.matmul(x, self.hidden_kernel) + self.hidden_bias
        return self.hidden_activation(h) if self.hidden_activation else h

    def _code_weights(self, x):
        w = ops.matmul(self._hidden(x), self.output_kernel) + self.output_bias
        return self.output_activation(w) if self.output_activation else w

    def call(self, inputs, training=None):
        self._check_dim(inputs)
        if self._captured_inputs is not None:
            self._captured_inputs.append(inputs)
        x = ops.cast(inputs, "float32")
        if self.uses_fast_path:
            # w @ C == h @ (W2 @ C) + b2 @ C: the (N, K) weights never exist.
            folded_kernel = ops.matmul(self.output_kernel, self.codebook)
            folded_bias = ops.matmul(self.output_bias, self.codebook)
            outputs = ops.matmul(self._hidden(x), folded_kernel) + folded_bias
        else:
            outputs = ops.matmul(self._code_weights(x), self.codebook)
        return ops.cast(outputs, self.compute_dtype)

    def encode(self, inputs):
        """Code weights `w` of `inputs`: `(..., D) -> (..., K)`, in float32."""
        self._ensure_built(inputs)
        return self._code_weights(ops.cast(inputs, "float32"))

    def decode(self, codes):
        """`w @ C`: code weights `(..., K)` back to vectors `(..., D)`."""
        if not self.built:
            raise ValueError(
                "decode() needs a built layer: call the layer or encode() on "
                "inputs first, so that D is known."
            )
        outputs = ops.matmul(ops.cast(codes, "float32"), self.codebook)
        return ops.cast(outputs, self.compute_dtype)

    def _ensure_built(self, inputs):
        if not self.built:
            self.build(tuple(inputs.shape))
        self._check_dim(inputs)

    # ---------------------------------------------------------------- config
    def get_config(self):
        config = super().get_config()
        initializer = self._codebook_initializer_config
        if not isinstance(initializer, (str, dict)):
            initializer = keras.saving.serialize_keras_object(initializer)
        activations = {}
        for key in ("hidden_activation", "output_activation"):
            value = getattr(self, f"_{key}_config")
            if value is not None and not isinstance(value, str):
                value = keras.saving.serialize_keras_object(value)
            activations[key] = value
        config.update(
            {
                "codebook_size": self.codebook_size,
                "hidden_dim": self.hidden_dim,
                "freeze_codebook": self.freeze_codebook,
                "freeze_projection": self.freeze_projection,
                "codebook_initializer": initializer,
                "linear": self.linear,
                **activations,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        initializer = config.get("codebook_initializer")
        if isinstance(initializer, dict) and "class_name" in initializer:
            config["codebook_initializer"] = keras.saving.deserialize_keras_object(
                initializer
            )
        return cls(**config)


def load_svq_state_dict(layer, state_dict, prefix=""):
    """Loads the official PyTorch `SVQ` module's weights into a layer.

    Args:
        layer: a `SparseVectorQuantizer`, built (call it once) or not.
        state_dict: mapping of torch parameter names to arrays in PyTorch
            layouts, e.g. `{"codebook": ..., "proj_regression_weight.
            linear_proj.weight": ...}`.
        prefix: str. Prefix of the SVQ module's names in `state_dict`, e.g.
            `"vq.vq."` inside an official SimVPVQ checkpoint.

    Returns:
        The set of `state_dict` keys that were consumed.
    """
    import numpy as np

    def get(name):
        key = prefix + name
        if key not in state_dict:
            raise KeyError(
                f"The state dict has no entry {key!r} needed by SVQ layer "
                f"'{layer.name}'. Keys with this prefix: "
                f"{sorted(k for k in state_dict if k.startswith(prefix))}"
            )
        return np.asarray(state_dict[key], dtype="float32")

    codebook = get("codebook")
    if not layer.built:
        layer.build((None, codebook.shape[1]))
    names = {
        "codebook": (layer.codebook, lambda a: a),
    }
    if layer.linear:
        names["proj_regression_weight.linear_proj.weight"] = (
            layer.output_kernel,
            np.transpose,
        )
        names["proj_regression_weight.linear_proj.bias"] = (
            layer.output_bias,
            lambda a: a,
        )
    else:
        names["proj_regression_weight.linear_proj.weight"] = (
            layer.hidden_kernel,
            np.transpose,
        )
        names["proj_regression_weight.linear_proj.bias"] = (
            layer.hidden_bias,
            lambda a: a,
        )
        names["proj_regression_weight.linear_proj2.weight"] = (
            layer.output_kernel,
            np.transpose,
        )
        names["proj_regression_weight.linear_proj2.bias"] = (
            layer.output_bias,
            lambda a: a,
        )
    for name, (variable, convert) in names.items():
        value = convert(get(name))
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(
                f"Shape mismatch for {prefix + name}: the checkpoint has "
                f"{value.shape} (converted), layer '{layer.name}' expects "
                f"{tuple(variable.shape)}. Check codebook_size, hidden_dim and linear."
            )
        variable.assign(value)
    return {prefix + name for name in names}
