"""The interface every quantizer in keras-svq shares."""

import keras


class Quantizer(keras.layers.Layer):
    """Base class of all quantizers: `(..., D) -> (..., D)`.

    A quantizer maps each vector on the last axis to a combination of codebook
    entries. Subclasses implement:

    * `encode(x)`: the codes of `x`. Hard quantizers return integer indices
      `(...)`; soft quantizers such as SVQ return code weights `(..., K)`.
    * `decode(codes)`: the inverse, so that
      `decode(encode(x)) == call(x, training=False)`.
    * `call(x, training=None)`: the quantized `x`, same shape and dtype as `x`.
      Auxiliary losses, if any, go through `add_loss` in float32.

    Axis letters used in docstrings: `K` is the codebook size, `D` the code
    dimension (the input's last axis); the codebook is `(K, D)`.
    """

    def encode(self, inputs):
        raise NotImplementedError

    def decode(self, codes):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def _check_input_rank(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(
                f"{self.__class__.__name__} expects inputs of rank >= 2, "
                "`(..., D)` with D the vector dimension. Received: "
                f"input_shape={tuple(input_shape)}"
            )

    def _check_dim(self, inputs):
        """Refuses an input whose last axis is not the `input_dim` built for.

        For quantizers that set `self.input_dim` in `build()` (the vector
        dimension D their weights were made for).
        """
        if len(inputs.shape) < 2:
            self._check_input_rank(inputs.shape)
        dim = inputs.shape[-1]
        if dim is not None and dim != self.input_dim:
            raise ValueError(
                f"{self.__class__.__name__} '{self.name}' was built for vectors of "
                f"dimension D={self.input_dim}, but the last axis of its input "
                f"changed. Received: input_shape={tuple(inputs.shape)}"
            )
