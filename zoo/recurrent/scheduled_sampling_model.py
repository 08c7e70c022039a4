"""Scheduled sampling for the recurrent backbones, inside `fit`."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_svq")
class ScheduledSamplingModel(keras.Model):
    """Wraps a recurrent backbone to train it with (reverse) scheduled sampling.

    The backbones themselves map the observed frames to the forecast by pure
    auto-regression, which is the reference's evaluation path and what is
    saved and exported. Scheduled sampling needs the future frames during
    training: this model takes them as a second input, `((frames, future),
    future)` batches (`ScheduledSamplingModel.pack` maps a `(x, y)` dataset to
    that), and in training feeds the backbone's predictor a Bernoulli mask
    that replaces each fed-back prediction by the true frame with probability
    `eta`. `eta` follows the reference's schedules of the number of training
    steps taken, counted by the non-trainable `sampling_step` variable (one
    per training call; it is saved with the model, so a resumed run goes on
    where it stopped). No callback and no custom `train_step` is involved, so
    `fit`, `tf.distribute`, mixed precision and the JAX and torch backends
    work as usual:

    * scheduled sampling (`backbone.predictor.reverse_scheduled_sampling` is
      False): `eta = start - rate * (step + 1)` until `stop_iteration`, then 0,
      over the `T_out - 1` fed-back frames (`schedule_sampling`);
    * reverse scheduled sampling (PredRNN v2): the `T_in - 1` observed frames
      after the first are kept with probability `r_eta` (0.5, then rising to 1
      as `1 - 0.5 exp(-(step - s1) / alpha)` between `s1` and `s2`), the
      `T_out - 1` predictions replaced with probability `eta` (0.5, falling
      linearly to 0 between `s1` and `s2`) (`reserve_schedule_sampling_exp`).

    The mask is one draw per sample and step, broadcast over the frame, as in
    the reference. Outside training, or given frames alone, the backbone runs
    its evaluation path. The loss covers the `T_out` future frames (the
    reference also adds the reconstruction of the observed frames).

    Args:
        backbone: a `RecurrentBackbone`.
        sampling_start_value: float. Defaults to 1.0.
        sampling_changing_rate: float. Defaults to 2e-5.
        sampling_stop_iteration: int. Defaults to 50000.
        reverse_sampling_start: int. `r_sampling_step_1`. Defaults to 25000.
        reverse_sampling_stop: int. `r_sampling_step_2`. Defaults to 50000.
        reverse_sampling_alpha: float. `r_exp_alpha`. Defaults to 5000.
        seed: int. Seed of the masks. Defaults to None.

    Call arguments:
        inputs: `(frames, future_frames)`, or frames alone.
        training: bool.

    Example:

    ```python
    trainer = ScheduledSamplingModel(PredRNNBackbone(4, 4, 16, 16, 1, hidden_dims=[8, 8]))
    trainer.compile(optimizer="adam", loss="mse")
    trainer.fit(dataset.map(ScheduledSamplingModel.pack), epochs=1)
    forecast = trainer.backbone.predict(x)  # the backbone alone serves
    ```
    """

    def __init__(
        self,
        backbone,
        sampling_start_value=1.0,
        sampling_changing_rate=2e-5,
        sampling_stop_iteration=50000,
        reverse_sampling_start=25000,
        reverse_sampling_stop=50000,
        reverse_sampling_alpha=5000.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(backbone, dict):
            backbone = keras.saving.deserialize_keras_object(backbone)
        if not hasattr(backbone, "predictor"):
            raise ValueError(
                "`backbone` must be a recurrent backbone with a `predictor` (for "
                f"example `PredRNNBackbone`). Received: backbone={backbone!r}"
            )
        if not 0.0 <= sampling_start_value <= 1.0:
            raise ValueError(
                "`sampling_start_value` must be in [0, 1]. "
                f"Received: sampling_start_value={sampling_start_value}"
            )
        if reverse_sampling_stop <= reverse_sampling_start:
            raise ValueError(
                "`reverse_sampling_stop` must be larger than `reverse_sampling_start`. "
                f"Received: {reverse_sampling_start}, {reverse_sampling_stop}"
            )
        self.backbone = backbone
        self.sampling_start_value = sampling_start_value
        self.sampling_changing_rate = sampling_changing_rate
        self.sampling_stop_iteration = sampling_stop_iteration
        self.reverse_sampling_start = reverse_sampling_start
        self.reverse_sampling_stop = reverse_sampling_stop
        self.reverse_sampling_alpha = reverse_sampling_alpha
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.sampling_step = self.add_weight(
            shape=(),
            initializer="zeros",
            dtype="int32",
            trainable=False,
            aggregation="only_first_replica",
            name="sampling_step",
        )

    @staticmethod
    def pack(x, y):
        """`(x, y) -> ((x, y), y)`: the batches this model trains on.

        The true future frames fed back as inputs get 0 (the training mean)
        where a target is missing (NaN); the loss target keeps the NaN.
        """
        return (x, ops.where(ops.isnan(y), ops.zeros_like(y), y)), y

    def sampling_probabilities(self, step):
        """`(r_eta, eta)` at training step `step` (`r_eta` only in reverse mode)."""
        step = ops.cast(step, "float32")
        predictor = self.backbone.predictor
        if not predictor.reverse_scheduled_sampling:
            eta = self.sampling_start_value - self.sampling_changing_rate * (step + 1.0)
            eta = ops.where(step < self.sampling_stop_iteration, eta, 0.0)
            return None, eta
        s1, s2 = float(self.reverse_sampling_start), float(self.reverse_sampling_stop)
        rising = 1.0 - 0.5 * ops.exp(-(step - s1) / self.reverse_sampling_alpha)
        r_eta = ops.where(step < s1, 0.5, ops.where(step < s2, rising, 1.0))
        falling = 0.5 - (0.5 / (s2 - s1)) * (step - s1)
        eta = ops.where(step < s1, 0.5, ops.where(step < s2, falling, 0.0))
        return r_eta, eta

    def sample_mask(self, batch_size, step=None):
        """A `(B, S, 1, 1, 1)` mask of ones (true frame) and zeros (prediction)."""
        predictor = self.backbone.predictor
        r_eta, eta = self.sampling_probabilities(
            self.sampling_step if step is None else step
        )
        future_steps = predictor.output_length - 1
        probability = ops.full((future_steps,), eta)
        if r_eta is not None:
            observed = ops.full((predictor.input_length - 1,), r_eta)
            probability = ops.concatenate([observed, probability])
        draw = keras.random.uniform(
            (batch_size, predictor.mask_length), seed=self.seed_generator
        )
        mask = ops.cast(draw < probability[None, :], self.compute_dtype)
        return ops.reshape(mask, (batch_size, predictor.mask_length, 1, 1, 1))

    def call(self, inputs, training=None):
        if isinstance(inputs, dict):
            frames, future = inputs["frames"], inputs.get("future_frames")
        elif isinstance(inputs, (list, tuple)):
            frames, future = inputs
        else:
            frames, future = inputs, None
        if not training or future is None:
            return self.backbone(frames, training=training)
        mask = self.sample_mask(ops.shape(frames)[0])
        self.sampling_step.assign_add(ops.ones((), "int32"))
        outputs = self.backbone.predictor(frames, future, mask, training=True)
        # The backbone's physical bounds, which its own graph applies last.
        constraint = getattr(self.backbone, "output_constraint_layer", None)
        return outputs if constraint is None else constraint(outputs)

    def get_config(self):
        return {
            **super().get_config(),
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "sampling_start_value": self.sampling_start_value,
            "sampling_changing_rate": self.sampling_changing_rate,
            "sampling_stop_iteration": self.sampling_stop_iteration,
            "reverse_sampling_start": self.reverse_sampling_start,
            "reverse_sampling_stop": self.reverse_sampling_stop,
            "reverse_sampling_alpha": self.reverse_sampling_alpha,
            "seed": self.seed,
        }
