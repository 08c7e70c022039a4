"""The shared skeleton of the hard quantizers: project, quantize, project back."""

import keras
from keras import ops

from keras_svq.initializers import TorchUniform
from keras_svq.quantizers.base_quantizer import Quantizer


def _positive_int(value, argument):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"`{argument}` must be a positive integer. Received: {argument}={value!r}"
        )
    return value


def _non_negative_float(value, argument):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(
            f"`{argument}` must be a non-negative number. Received: {argument}={value!r}"
        )
    return float(value)


class ProjectedQuantizer(Quantizer):
    """Base of the hard (index-producing) quantizers.

    Every vector `x` of dimension D is projected to the quantizer's code space
    of dimension `c` (a `torch.nn.Linear`-initialised dense layer, only when
    `c != D`), quantized there, and projected back:

    ```
    z = x @ W_in + b_in          # (..., c), skipped when c == D
    q, indices, loss = quantize(z)
    y = q @ W_out + b_out        # (..., D)
    ```

    Subclasses implement the code space only:

    * `_code_dim(input_dim)`: `c`.
    * `_build_codes(code_dim)`: create codebooks and sub-quantizers.
    * `_quantize(z, training)`: `(q, indices, loss)` with `q` carrying a
      straight-through gradient; `loss` is a float32 scalar or None. EMA
      state is updated here, under `training` only.
    * `_lookup(indices)`: the code vectors of `indices`, so that
      `_lookup(_quantize(z)[1]) == _quantize(z)[0]`.

    All math is float32 (the projections are float32 sub-layers), and the
    output is cast to the layer's compute dtype. The auxiliary loss is added
    with `add_loss` in training only, as the reference computes it.
    """

    # ---------------------------------------------------------- subclass API
    def _code_dim(self, input_dim):
        return input_dim

    def _build_codes(self, code_dim):
        pass

    def _quantize(self, z, training):
        raise NotImplementedError

    def _lookup(self, indices):
        raise NotImplementedError

    # ---------------------------------------------------------------- state
    def build(self, input_shape):
        self._check_input_rank(input_shape)
        dim = input_shape[-1]
        if dim is None:
            raise ValueError(
                f"The last axis (D) of the {self.__class__.__name__} input must be "
                f"known when the layer is built. Received: input_shape={tuple(input_shape)}"
            )
        self.input_dim = int(dim)
        self.code_dim = int(self._code_dim(self.input_dim))
        self.project_in = None
        self.project_out = None
        if self.code_dim != self.input_dim:
            self.project_in = _dense(self.code_dim, self.input_dim, "project_in")
            self.project_out = _dense(self.input_dim, self.code_dim, "project_out")
            self.project_in.build((None, self.input_dim))
            self.project_out.build((None, self.code_dim))
        self._build_codes(self.code_dim)
        self.built = True

    # ------------------------------------------------------------------ math
    def _to_code_space(self, x):
        return self.project_in(x) if self.project_in is not None else x

    def _from_code_space(self, q):
        return self.project_out(q) if self.project_out is not None else q

    def _forward(self, x, training):
        """float32 `(..., D)` -> `(y, indices, loss)`, without `add_loss`."""
        q, indices, loss = self._quantize(self._to_code_space(x), training)
        return self._from_code_space(q), indices, loss

    def call(self, inputs, training=None):
        self._check_dim(inputs)
        training = bool(training)
        outputs, _, loss = self._forward(ops.cast(inputs, "float32"), training)
        if training and loss is not None:
            self.add_loss(ops.cast(loss, "float32"))
        return ops.cast(outputs, self.compute_dtype)

    def encode(self, inputs):
        """Integer code indices of `inputs` (int32), in inference mode."""
        if not self.built:
            self.build(tuple(inputs.shape))
        self._check_dim(inputs)
        z = self._to_code_space(ops.cast(inputs, "float32"))
        return self._quantize(z, training=False)[1]

    def decode(self, codes):
        """Vectors `(..., D)` of the indices returned by `encode`."""
        if not self.built:
            raise ValueError(
                "decode() needs a built layer: call the layer or encode() on "
                "inputs first, so that D is known."
            )
        outputs = self._from_code_space(self._lookup(ops.cast(codes, "int32")))
        return ops.cast(outputs, self.compute_dtype)


def _dense(units, fan_in, name):
    # float32 whatever the global policy: the quantizer's math stays float32.
    return keras.layers.Dense(
        units,
        kernel_initializer=TorchUniform(),
        bias_initializer=TorchUniform(fan_in=fan_in),
        dtype="float32",
        name=name,
    )


def straight_through(z, q):
    """`q` in the forward pass, the identity's gradient with respect to `z`."""
    return z + ops.stop_gradient(q - z)


def mean_loss(losses):
    """Mean of the non-None scalar losses, or None when there are none."""
    losses = [loss for loss in losses if loss is not None]
    if not losses:
        return None
    return ops.mean(ops.stack(losses))
