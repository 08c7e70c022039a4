"""VQ-VAE vector quantization with an EMA or gradient-learned codebook."""

import math

import keras
from keras import ops

from keras_svq.quantizers.projected_quantizer import ProjectedQuantizer
from keras_svq.quantizers.projected_quantizer import _non_negative_float
from keras_svq.quantizers.projected_quantizer import _positive_int
from keras_svq.quantizers.projected_quantizer import straight_through

CODEBOOK_UPDATES = ("ema", "gradient")


def _read(variable):
    """The current value of a weight as a backend tensor (JAX cannot take the
    Variable object itself in every op)."""
    return ops.convert_to_tensor(variable)


def _l2_normalize(x):
    return x / ops.maximum(ops.norm(x, axis=-1, keepdims=True), 1e-12)


class _CodebookInitializer(keras.initializers.Initializer):
    """`kaiming_uniform_` on the reference's `(1, K, c)` codebook tensor:
    `U(+-sqrt(6 / (K * c)))`, l2-normalised rows for the cosine variant."""

    def __init__(self, normalize=False):
        self.normalize = normalize

    def __call__(self, shape, dtype=None):
        bound = math.sqrt(6.0 / (shape[0] * shape[1]))
        values = keras.random.uniform(shape, -bound, bound, dtype=dtype)
        return _l2_normalize(values) if self.normalize else values


@keras.saving.register_keras_serializable(package="keras_svq")
class VectorQuantizer(ProjectedQuantizer):
    """VQ-VAE vector quantization: each vector is replaced by its nearest code.

    With a codebook `C` of K codes of dimension c, each input vector `x`
    (projected to `z` of dimension c when `codebook_dim` differs from D) is
    quantized to `q = C[argmin_k ||z - C_k||]` (or the largest cosine
    similarity, `use_cosine_similarity=True`). Gradients pass straight
    through, `z + stop_gradient(q - z)`, and a commitment loss
    `commitment_weight * mean((z - stop_gradient(q))**2)` is added in
    training.

    The codebook is learned either

    * by exponential moving averages (`codebook_update="ema"`, VQ-VAE-2 and
      the reference's setting): with one-hot assignments `e` of the batch,
      `N <- decay * N + (1 - decay) * sum(e)`,
      `S <- decay * S + (1 - decay) * e^T z`, and `C = S / N'` where `N'` is
      `N` with Laplace smoothing `(N + epsilon) / (sum(N) + K * epsilon) *
      sum(N)`. The EMA state are non-trainable weights created with
      `aggregation="mean"` and updated with `assign` in training only, so
      replicas under `tf.distribute` average their statistics and stay
      identical; or
    * by gradient (`codebook_update="gradient"`): the codebook is trainable and
      the loss adds the VQ-VAE codebook term `mean((stop_gradient(z) - q)**2)`.

    Optional: k-means initialisation on the first training batch
    (`kmeans_init`), replacement of codes whose EMA cluster size fell below
    `dead_code_threshold` by vectors of the current batch, and stochastic code
    choice in training (`sample_temperature`: the code is drawn with the
    Gumbel-max trick from `softmax(-||z - C_k|| / temperature)`, or
    `softmax(cos / temperature)`; inference always takes the nearest).

    The codebook is initialised as the reference's (vector-quantize-pytorch
    1.12.5): `U(+-sqrt(6 / (K * c)))`, or zeros with `kmeans_init`. As in the
    reference, a code that is never chosen drifts away under EMA (its sum
    decays while the smoothed count stays near `epsilon`) and stays unused;
    `kmeans_init` and `dead_code_threshold` are the remedies.

    Args:
        codebook_size: int. Number of codes K. Defaults to 1024.
        codebook_dim: int or None. Code dimension c; when it differs from the
            input's D, dense projections map to and from it. None means D.
            Defaults to None.
        commitment_weight: float. Weight of the commitment loss. Defaults to 1.
        codebook_update: str. "ema" or "gradient". Defaults to "ema".
        decay: float in [0, 1). EMA decay. Defaults to 0.8 (the reference's).
        epsilon: float. Laplace smoothing of the EMA cluster sizes. Defaults to
            1e-5.
        kmeans_init: bool. Initialise the codebook by k-means on the first
            training batch. Defaults to False.
        kmeans_iters: int. Lloyd iterations of that k-means. Defaults to 10.
        dead_code_threshold: float. Codes whose EMA cluster size is below it
            are replaced by random vectors of the batch (0 disables it).
            Defaults to 0.
        use_cosine_similarity: bool. Nearest code by cosine similarity, with
            l2-normalised codes and inputs. Defaults to False.
        sample_temperature: float or None. Sample the codes in training at
            this temperature instead of taking the nearest (the reference's
            `stochastic_sample_codes` with `sample_codebook_temp`). None (or
            0) disables it. Defaults to None.
        seed: int or None. Seed of the random draws of k-means and dead-code
            replacement. Defaults to None.
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float tensor `(..., D)` of rank >= 2.
        training: bool. Updates the EMA codebook and adds the losses when True.

    Input shape: `(..., D)`. Output shape: `(..., D)`. `encode` returns int32
    indices `(...)`; `decode` maps them back to `(..., D)`.

    Example:

    ```python
    import numpy as np
    from keras_svq.quantizers import VectorQuantizer

    vq = VectorQuantizer(codebook_size=256)
    x = np.random.rand(2, 8, 8, 32).astype("float32")
    y = vq(x, training=True)            # EMA update + commitment loss
    indices = vq.encode(x)              # (2, 8, 8) int32
    np.testing.assert_allclose(vq.decode(indices), vq(x), atol=1e-6)
    ```

    Reference:
        van den Oord et al., "Neural Discrete Representation Learning",
        https://arxiv.org/abs/1711.00937; Razavi et al., "Generating Diverse
        High-Fidelity Images with VQ-VAE-2", https://arxiv.org/abs/1906.00446.
    """

    def __init__(
        self,
        codebook_size=1024,
        codebook_dim=None,
        commitment_weight=1.0,
        codebook_update="ema",
        decay=0.8,
        epsilon=1e-5,
        kmeans_init=False,
        kmeans_iters=10,
        dead_code_threshold=0.0,
        use_cosine_similarity=False,
        sample_temperature=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.codebook_size = _positive_int(codebook_size, "codebook_size")
        if codebook_dim is not None:
            _positive_int(codebook_dim, "codebook_dim")
        self.codebook_dim = codebook_dim
        self.commitment_weight = _non_negative_float(
            commitment_weight, "commitment_weight"
        )
        if codebook_update not in CODEBOOK_UPDATES:
            raise ValueError(
                f"`codebook_update` must be one of {CODEBOOK_UPDATES}. "
                f"Received: codebook_update={codebook_update!r}"
            )
        self.codebook_update = codebook_update
        if (
            isinstance(decay, bool)
            or not isinstance(decay, (int, float))
            or not 0 <= decay < 1
        ):
            raise ValueError(f"`decay` must be in [0, 1). Received: decay={decay!r}")
        self.decay = float(decay)
        if (
            isinstance(epsilon, bool)
            or not isinstance(epsilon, (int, float))
            or epsilon <= 0
        ):
            raise ValueError(
                f"`epsilon` must be positive. Received: epsilon={epsilon!r}"
            )
        self.epsilon = float(epsilon)
        self.kmeans_init = bool(kmeans_init)
        self.kmeans_iters = _positive_int(kmeans_iters, "kmeans_iters")
        self.dead_code_threshold = _non_negative_float(
            dead_code_threshold, "dead_code_threshold"
        )
        self.use_cosine_similarity = bool(use_cosine_similarity)
        if sample_temperature is not None:
            sample_temperature = _non_negative_float(
                sample_temperature, "sample_temperature"
            )
        self.sample_temperature = sample_temperature or None
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    @property
    def use_ema(self):
        return self.codebook_update == "ema"

    def _code_dim(self, input_dim):
        return self.codebook_dim or input_dim

    def _build_codes(self, code_dim):
        # Same state as the reference's EuclideanCodebook, so parameter and
        # buffer counts match: `initted`, `cluster_size`, `embed_avg`, `embed`.
        shape = (self.codebook_size, code_dim)
        # float32 even under a pure low-precision policy: the distances and
        # the moving averages are computed in float32.
        state = dict(
            trainable=False, aggregation="mean", dtype="float32", autocast=False
        )
        if self.kmeans_init:
            initializer = "zeros"
        else:
            initializer = _CodebookInitializer(normalize=self.use_cosine_similarity)
        self.initialized = self.add_weight(
            name="initialized",
            shape=(),
            initializer="zeros" if self.kmeans_init else "ones",
            **state,
        )
        self.cluster_size = self.add_weight(
            name="cluster_size",
            shape=(self.codebook_size,),
            initializer="zeros",
            **state,
        )
        if self.use_ema:
            self.codebook = self.add_weight(
                name="codebook", shape=shape, initializer=initializer, **state
            )
            self.codebook_average = self.add_weight(
                name="codebook_average", shape=shape, initializer="zeros", **state
            )
            # The reference starts `embed_avg` as a copy of `embed` (a real
            # copy: JAX must not see two variables sharing one buffer).
            self.codebook_average.assign(ops.copy(_read(self.codebook)))
        else:
            self.codebook = self.add_weight(
                name="codebook",
                shape=shape,
                initializer=initializer,
                trainable=True,
                dtype="float32",
                autocast=False,
            )

    # ------------------------------------------------------------------ math
    def _codebook(self):
        codebook = _read(self.codebook)
        return _l2_normalize(codebook) if self.use_cosine_similarity else codebook

    def _nearest(self, flat, codebook):
        if self.use_cosine_similarity:
            return ops.argmax(ops.matmul(flat, ops.transpose(codebook)), axis=-1)
        # argmin ||z - c||^2 = argmin ||c||^2 - 2 z.c (||z||^2 is constant).
        scores = ops.sum(codebook * codebook, axis=-1) - 2.0 * ops.matmul(
            flat, ops.transpose(codebook)
        )
        return ops.argmin(scores, axis=-1)

    def _sample(self, flat, codebook):
        """Gumbel-max draw of a code per vector (training with a temperature)."""
        if self.use_cosine_similarity:
            logits = ops.matmul(flat, ops.transpose(codebook))
        else:
            squared = (
                ops.sum(flat * flat, axis=-1, keepdims=True)
                - 2.0 * ops.matmul(flat, ops.transpose(codebook))
                + ops.sum(codebook * codebook, axis=-1)
            )
            logits = -ops.sqrt(ops.maximum(squared, 0.0))
        uniform = keras.random.uniform(
            ops.shape(logits), minval=1e-20, maxval=1.0, seed=self.seed_generator
        )
        gumbel = -ops.log(-ops.log(uniform))
        return ops.argmax(logits / self.sample_temperature + gumbel, axis=-1)

    def _quantize(self, z, training):
        if self.use_cosine_similarity:
            z = _l2_normalize(z)
        flat = ops.reshape(z, (-1, self.code_dim))
        if training and self.kmeans_init:
            self._kmeans_init_once(flat)
        codebook = self._codebook()
        if training and self.sample_temperature:
            indices = ops.cast(self._sample(flat, codebook), "int32")
        else:
            indices = ops.cast(self._nearest(flat, codebook), "int32")
        quantized = ops.reshape(ops.take(codebook, indices, axis=0), ops.shape(z))
        indices = ops.reshape(indices, ops.shape(z)[:-1])
        loss = None
        if training:
            loss = self.commitment_weight * ops.mean(
                ops.square(z - ops.stop_gradient(quantized))
            )
            if self.use_ema:
                self._ema_update(flat, ops.reshape(indices, (-1,)))
            else:
                loss = loss + ops.mean(ops.square(ops.stop_gradient(z) - quantized))
        return straight_through(z, quantized), indices, loss

    def _lookup(self, indices):
        return ops.take(self._codebook(), indices, axis=0)

    def _random_rows(self, flat):
        """K rows of `flat` drawn uniformly with replacement."""
        count = ops.cast(ops.shape(flat)[0], "float32")
        draws = keras.random.uniform((self.codebook_size,), seed=self.seed_generator)
        rows = ops.cast(ops.floor(draws * count), "int32")
        rows = ops.minimum(rows, ops.cast(count, "int32") - 1)
        return ops.take(flat, rows, axis=0)

    def _cluster_statistics(self, flat, indices):
        """Per code: how many vectors chose it `(K,)` and their sum `(K, c)`."""
        # Segment sums instead of an (N, K) one-hot matrix: O(N * c) memory.
        counts = ops.segment_sum(
            ops.ones_like(indices, dtype="float32"),
            indices,
            num_segments=self.codebook_size,
        )
        sums = ops.segment_sum(flat, indices, num_segments=self.codebook_size)
        return counts, sums

    def _ema_update(self, flat, indices):
        flat = ops.stop_gradient(flat)
        counts, sums = self._cluster_statistics(flat, indices)
        decay = self.decay
        self.cluster_size.assign(
            decay * _read(self.cluster_size) + (1.0 - decay) * counts
        )
        self.codebook_average.assign(
            decay * _read(self.codebook_average) + (1.0 - decay) * sums
        )
        # Read back after the assigns: under tf.distribute the "mean"
        # aggregation has averaged the replicas' statistics by now, so every
        # replica derives the same codebook.
        cluster_size = _read(self.cluster_size)
        total = ops.sum(cluster_size)
        smoothed = (
            (cluster_size + self.epsilon)
            / (total + self.codebook_size * self.epsilon)
            * total
        )
        codebook = _read(self.codebook_average) / smoothed[:, None]
        if self.use_cosine_similarity:
            codebook = _l2_normalize(codebook)
        self.codebook.assign(codebook)
        if self.dead_code_threshold > 0:
            self._replace_dead_codes(flat)

    def _replace_dead_codes(self, flat):
        threshold = self.dead_code_threshold
        cluster_size = _read(self.cluster_size)
        dead = (cluster_size < threshold)[:, None]
        samples = self._random_rows(flat)
        self.codebook.assign(ops.where(dead, samples, _read(self.codebook)))
        self.codebook_average.assign(
            ops.where(dead, samples * threshold, _read(self.codebook_average))
        )
        self.cluster_size.assign(
            ops.where(dead[:, 0], threshold * ops.ones_like(cluster_size), cluster_size)
        )

    def _kmeans(self, flat, centroids):
        for _ in range(self.kmeans_iters):
            assignment = ops.cast(self._nearest(flat, centroids), "int32")
            bins, sums = self._cluster_statistics(flat, assignment)
            means = sums / ops.maximum(bins, 1.0)[:, None]
            if self.use_cosine_similarity:
                means = _l2_normalize(means)
            centroids = ops.where((bins == 0)[:, None], centroids, means)
        return centroids, bins

    def _kmeans_init_once(self, flat):
        flat = ops.stop_gradient(flat)
        # Drawn outside the cond so that the branches stay free of state.
        start = self._random_rows(flat)
        current = (
            _read(self.codebook),
            _read(self.cluster_size),
        )
        codebook, cluster_size = ops.cond(
            _read(self.initialized) > 0.5,
            lambda: current,
            lambda: self._kmeans(flat, start),
        )
        self.codebook.assign(codebook)
        self.cluster_size.assign(cluster_size)
        if self.use_ema:
            # EMA sums, not means: the codebook is `average / cluster_size`.
            self.codebook_average.assign(
                ops.where(
                    _read(self.initialized) > 0.5,
                    _read(self.codebook_average),
                    codebook * cluster_size[:, None],
                )
            )
        self.initialized.assign(ops.ones_like(_read(self.initialized)))

    # ---------------------------------------------------------------- config
    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "codebook_size": self.codebook_size,
                "codebook_dim": self.codebook_dim,
                "commitment_weight": self.commitment_weight,
                "codebook_update": self.codebook_update,
                "decay": self.decay,
                "epsilon": self.epsilon,
                "kmeans_init": self.kmeans_init,
                "kmeans_iters": self.kmeans_iters,
                "dead_code_threshold": self.dead_code_threshold,
                "use_cosine_similarity": self.use_cosine_similarity,
                "sample_temperature": self.sample_temperature,
                "seed": self.seed,
            }
        )
        return config


# Arguments of the quantizers made of `VectorQuantizer`s that their stages
# must not receive through `quantizer_kwargs`.
_RESERVED = ("codebook_size", "codebook_dim", "name", "dtype")


def vector_codebook_options(
    layer, codebook_size, codebook_dim, shared_codebook, quantizer_kwargs
):
    """Validates and sets the codebook arguments of a quantizer made of `VectorQuantizer`s.

    Sets `codebook_size`, `codebook_dim`, `shared_codebook` and
    `quantizer_kwargs` (the stages' other arguments) on `layer`, as the
    residual, grouped-residual and multi-head quantizers take them.
    """
    from keras_svq.quantizers.residual_quantizer import quantizer_kwargs_or_empty

    layer.codebook_size = _positive_int(codebook_size, "codebook_size")
    if codebook_dim is not None:
        _positive_int(codebook_dim, "codebook_dim")
    layer.codebook_dim = codebook_dim
    layer.shared_codebook = bool(shared_codebook)
    layer.quantizer_kwargs = quantizer_kwargs_or_empty(
        quantizer_kwargs, _RESERVED, VectorQuantizer
    )
