"""PyTorch's initialisation schemes as Keras initializers.

Training dynamics of a port only match the reference when the weights start
from the same distributions. Two conventions differ between the frameworks:

* Keras computes fans from a Dense kernel `(in, out)` or a conv kernel
  `(kh, kw, in, out)`; torch from `(out, in, kh, kw)`. For kernels the fans
  agree once the layout is converted, so `TorchUniform` reads Keras fans.
* A torch *parameter matrix that is not a layer kernel*, such as the SVQ
  codebook `(K, D)`, has `fan_in = D` (its second axis) and `fan_out = K`.
  Keras would swap them. The codebook initializers below therefore use the
  torch convention explicitly: `fan_in = shape[-1]`, `fan_out = shape[0]`.
"""

import math

import keras
from keras import ops

# torch.nn.init.calculate_gain("relu")
RELU_GAIN = math.sqrt(2.0)


def _keras_fan_in(shape):
    if len(shape) < 2:
        raise ValueError(
            "Cannot infer fan_in from a 1-D shape; pass `fan_in` explicitly. "
            f"Received: shape={tuple(shape)}"
        )
    receptive = math.prod(shape[:-2]) if len(shape) > 2 else 1
    return shape[-2] * receptive


def _torch_fans(shape):
    """Fans as `torch.nn.init._calculate_fan_in_and_fan_out` computes them."""
    if len(shape) < 2:
        raise ValueError(
            f"Fans need a tensor of rank >= 2. Received: shape={tuple(shape)}"
        )
    receptive = math.prod(shape[2:]) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


class _SeededInitializer(keras.initializers.Initializer):
    """An int seed gives the same draw at every call, as Keras initializers do;
    None draws fresh values from Keras' global generator."""

    def __init__(self, seed=None):
        self.seed = seed

    def get_config(self):
        return {"seed": self.seed}


@keras.saving.register_keras_serializable(package="keras_svq")
class TorchUniform(_SeededInitializer):
    """`U(-1/sqrt(fan_in), 1/sqrt(fan_in))`: torch's `nn.Linear`/`nn.Conv*` default.

    Torch initialises both the kernel (`kaiming_uniform_(a=sqrt(5))`) and the
    bias of `Linear` and `Conv` layers from this distribution.

    Args:
        fan_in: int. The layer's fan-in. Required for biases; inferred from
            the Keras kernel shape otherwise. Defaults to None.
        seed: int. Defaults to None.
    """

    def __init__(self, fan_in=None, seed=None):
        super().__init__(seed)
        self.fan_in = fan_in

    def __call__(self, shape, dtype=None):
        fan_in = self.fan_in or _keras_fan_in(shape)
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        return keras.random.uniform(shape, -bound, bound, dtype=dtype, seed=self.seed)

    def get_config(self):
        return {**super().get_config(), "fan_in": self.fan_in}


@keras.saving.register_keras_serializable(package="keras_svq")
class TorchKaimingUniform(_SeededInitializer):
    """`torch.nn.init.kaiming_uniform_` with its defaults (`a=0`, fan_in, leaky_relu).

    On a torch-layout matrix `(K, D)`: bound `sqrt(2) * sqrt(3 / D)`.
    """

    def __call__(self, shape, dtype=None):
        fan_in, _ = _torch_fans(shape)
        bound = math.sqrt(2.0) * math.sqrt(3.0 / fan_in)
        return keras.random.uniform(shape, -bound, bound, dtype=dtype, seed=self.seed)


@keras.saving.register_keras_serializable(package="keras_svq")
class TorchXavierUniform(_SeededInitializer):
    """`torch.nn.init.xavier_uniform_(gain)`; the SVQ code uses the ReLU gain sqrt(2).

    Bound `gain * sqrt(6 / (fan_in + fan_out))` with torch's fans.
    """

    def __init__(self, gain=RELU_GAIN, seed=None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = _torch_fans(shape)
        bound = self.gain * math.sqrt(6.0 / (fan_in + fan_out))
        return keras.random.uniform(shape, -bound, bound, dtype=dtype, seed=self.seed)

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


@keras.saving.register_keras_serializable(package="keras_svq")
class TorchTruncatedNormal(_SeededInitializer):
    """`torch.nn.init.trunc_normal_`: N(mean, std) truncated to absolute `[a, b]`.

    Torch's bounds are absolute values, not multiples of std (Keras'
    `TruncatedNormal` cuts at 2 std). Defaults are torch's: N(0, 1) cut at +-2.
    """

    def __init__(self, mean=0.0, stddev=1.0, a=-2.0, b=2.0, seed=None):
        super().__init__(seed)
        self.mean, self.stddev, self.a, self.b = mean, stddev, a, b

    def __call__(self, shape, dtype=None):
        # Inverse-CDF sampling, as torch does.
        dtype = dtype or "float32"

        def cdf(v):
            return 0.5 * (1.0 + math.erf((v - self.mean) / self.stddev / math.sqrt(2)))

        lo, hi = cdf(self.a), cdf(self.b)
        u = keras.random.uniform(shape, 2 * lo - 1, 2 * hi - 1, seed=self.seed)
        x = ops.erfinv(ops.cast(u, "float32")) * (self.stddev * math.sqrt(2.0))
        x = ops.clip(x + self.mean, self.a, self.b)
        return ops.cast(x, dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "mean": self.mean,
            "stddev": self.stddev,
            "a": self.a,
            "b": self.b,
        }


@keras.saving.register_keras_serializable(package="keras_svq")
class TorchSparse(_SeededInitializer):
    """`torch.nn.init.sparse_`: in each column, a fraction `sparsity` of rows is 0.

    On a `(K, D)` matrix every one of the D columns gets `ceil(sparsity * K)`
    zeros at random rows; the other entries are N(0, stddev).
    """

    def __init__(self, sparsity=0.9, stddev=0.01, seed=None):
        super().__init__(seed)
        if not 0.0 <= sparsity <= 1.0:
            raise ValueError(
                f"`sparsity` must be in [0, 1]. Received: sparsity={sparsity}"
            )
        self.sparsity, self.stddev = sparsity, stddev

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError(
                f"TorchSparse initialises 2-D matrices only. Received: shape={tuple(shape)}"
            )
        rows = shape[0]
        num_zeros = int(math.ceil(self.sparsity * rows))
        seed = self.seed
        values = keras.random.normal(shape, stddev=self.stddev, seed=seed)
        order_seed = None if seed is None else seed + 1
        scores = keras.random.uniform(shape, seed=order_seed)
        # Rank of every entry within its column: the `num_zeros` lowest are zeroed.
        ranks = ops.argsort(ops.argsort(scores, axis=0), axis=0)
        values = ops.where(ranks < num_zeros, ops.zeros_like(values), values)
        return ops.cast(values, dtype or "float32")

    def get_config(self):
        return {
            **super().get_config(),
            "sparsity": self.sparsity,
            "stddev": self.stddev,
        }


def _normal():
    return keras.initializers.RandomNormal(mean=0.0, stddev=1.0)


# The reference SVQ module's `init_method` names, each as torch draws it.
CODEBOOK_INITIALIZERS = {
    "normal": _normal,
    "random": _normal,
    "kaiming": TorchKaimingUniform,
    "xavier": TorchXavierUniform,
    "trunc": TorchTruncatedNormal,
    "orthogonal": lambda: keras.initializers.Orthogonal(gain=1.0),
    "sparse": TorchSparse,
}


def get_codebook_initializer(identifier):
    """Resolves a codebook initializer: a reference name or any Keras initializer.

    Args:
        identifier: str, dict or `keras.initializers.Initializer`. One of
            `CODEBOOK_INITIALIZERS`' names (torch's distributions on a
            `(K, D)` matrix), or anything `keras.initializers.get` accepts.

    Returns:
        A `keras.initializers.Initializer`.
    """
    if isinstance(identifier, str) and identifier in CODEBOOK_INITIALIZERS:
        return CODEBOOK_INITIALIZERS[identifier]()
    try:
        initializer = keras.initializers.get(identifier)
    except (ValueError, TypeError) as error:
        raise ValueError(
            "Unknown codebook initializer. Use one of "
            f"{sorted(CODEBOOK_INITIALIZERS)} or a Keras initializer. "
            f"Received: codebook_initializer={identifier!r}"
        ) from error
    if initializer is None:
        raise ValueError(
            "`codebook_initializer` must not be None. Use one of "
            f"{sorted(CODEBOOK_INITIALIZERS)} or a Keras initializer."
        )
    return initializer
