"""The unrolled predictor shared by the PredRNN family."""

import keras
from keras import ops

from zoo.recurrent.patch_reshape import reshape_patch
from zoo.recurrent.patch_reshape import reshape_patch_back


@keras.saving.register_keras_serializable(package="keras_svq")
class RecurrentPredictor(keras.layers.Layer):
    """Runs a `RecurrentStack` over `T_in + T_out - 1` steps, feeding back its predictions.

    Frames are folded into `patch_size x patch_size` patches (see
    `reshape_patch`), then at step `t` the stack reads

    * the observed frame `t` for `t < T_in`, then its own previous prediction
      (pure auto-regression: the reference's evaluation path); or, in
      training with `future_frames` and a `mask` (scheduled sampling),
      `mask * frame_t + (1 - mask) * prediction` for `t >= T_in`;
    * with `reverse_scheduled_sampling=True` and a mask, the blend applies
      from `t = 1` on and the mask has `T_in + T_out - 2` steps (PredRNN v2's
      reverse scheduled sampling). Without a mask both modes are identical.

    Step `t` predicts frame `t + 1`; the last `T_out` predictions are returned.
    The loop is unrolled in Python (T is small), so it runs on every backend,
    under `jit_compile`, in a SavedModel and under `tf.distribute`.

    Args:
        stack: a `RecurrentStack` (one time step of the cells and readout).
        input_length: int. T_in.
        output_length: int. T_out.
        patch_size: int. Defaults to 1.
        reverse_scheduled_sampling: bool. Defaults to False.

    Call arguments:
        frames: `(B, T_in, H, W, C)` observed frames.
        future_frames: optional `(B, T_out, H, W, C)` ground truth, used only
            together with `mask`.
        mask: optional scheduled-sampling mask, `(B, S, h, w, p*p*C)` in the
            patched layout or broadcastable to it (`(B, S, 1, 1, 1)`), with
            `S = T_out - 1` (or `T_in + T_out - 2` in reverse mode). 1 picks
            the ground truth, 0 the prediction.
        training: bool.

    Returns:
        `(B, T_out, H, W, C)`.
    """

    def __init__(
        self,
        stack,
        input_length,
        output_length,
        patch_size=1,
        reverse_scheduled_sampling=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (
            ("input_length", input_length),
            ("output_length", output_length),
            ("patch_size", patch_size),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"`{name}` must be a positive integer. Received: {name}={value!r}"
                )
        if isinstance(stack, dict):
            stack = keras.saving.deserialize_keras_object(stack)
        self.stack = stack
        self.input_length = input_length
        self.output_length = output_length
        self.patch_size = patch_size
        self.reverse_scheduled_sampling = bool(reverse_scheduled_sampling)

    @property
    def num_steps(self):
        return self.input_length + self.output_length - 1

    @property
    def mask_length(self):
        """Steps of the scheduled-sampling mask."""
        if self.reverse_scheduled_sampling:
            return self.input_length + self.output_length - 2
        return self.output_length - 1

    def build(self, frames_shape, future_frames_shape=None, mask_shape=None):
        _, _, height, width, channels = frames_shape
        p = self.patch_size
        for name, size in (("height", height), ("width", width)):
            if size % p:
                raise ValueError(
                    f"`{name}` must be a multiple of `patch_size`. Received: "
                    f"{name}={size}, patch_size={p}"
                )
        self.stack.build((None, height // p, width // p, p * p * channels))

    def unroll(self, patches, mask=None, training=None):
        """All `T_in + T_out - 1` next-frame predictions, in the patched layout.

        Args:
            patches: `(B, T, h, w, p*p*C)` patched frames, `T >= T_in`
                (`T = T_in + T_out` when a mask is given).
            mask: optional scheduled-sampling mask (see the class docstring).
            training: bool.
        """
        batch_size = ops.shape(patches)[0]
        states = self.stack.get_initial_state(batch_size)
        predictions, prediction = [], None
        for t in range(self.num_steps):
            if mask is None:
                net = patches[:, t] if t < self.input_length else prediction
            elif self.reverse_scheduled_sampling and t > 0:
                flag = mask[:, t - 1]
                net = flag * patches[:, t] + (1 - flag) * prediction
            elif t < self.input_length:
                net = patches[:, t]
            else:
                flag = mask[:, t - self.input_length]
                net = flag * patches[:, t] + (1 - flag) * prediction
            prediction, states = self.stack(net, states, training=training)
            predictions.append(prediction)
        return ops.stack(predictions, axis=1)

    def call(self, frames, future_frames=None, mask=None, training=None):
        if mask is not None and future_frames is None:
            raise ValueError("A scheduled-sampling `mask` needs `future_frames`.")
        sequence = frames
        if mask is not None:
            future_frames = ops.cast(future_frames, frames.dtype)
            mask = ops.cast(mask, frames.dtype)
            sequence = ops.concatenate([frames, future_frames], axis=1)
        patches = reshape_patch(sequence, self.patch_size)
        predictions = self.unroll(patches, mask=mask, training=training)
        if training:
            extra_loss = self.stack.sequence_loss()
            if extra_loss is not None:
                self.add_loss(extra_loss)
        future = predictions[:, -self.output_length :]
        return reshape_patch_back(future, self.patch_size)

    def compute_output_shape(
        self, frames_shape, future_frames_shape=None, mask_shape=None
    ):
        return (frames_shape[0], self.output_length) + tuple(frames_shape[2:])

    def get_config(self):
        return {
            **super().get_config(),
            "stack": keras.saving.serialize_keras_object(self.stack),
            "input_length": self.input_length,
            "output_length": self.output_length,
            "patch_size": self.patch_size,
            "reverse_scheduled_sampling": self.reverse_scheduled_sampling,
        }
