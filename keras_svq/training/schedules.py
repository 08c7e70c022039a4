"""Learning-rate schedules by name: cosine with warm-up, one-cycle, constant.

All schedules are per optimizer step. OpenSTL steps its cosine schedule once
per epoch (timm's `CosineLRScheduler(t_in_epochs=True)`); here it is
evaluated at every step over the same epoch-based warm-up and total length,
which follows the same curve without the per-epoch staircase.
"""

import math

import keras
from keras import ops

from keras_svq.io_utils import UserError


@keras.saving.register_keras_serializable(package="keras_svq")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """The one-cycle policy of Smith & Topin (PyTorch `OneCycleLR` defaults).

    Cosine annealing from `max_learning_rate / div_factor` up to
    `max_learning_rate` over the first `pct_start` of `total_steps`, then
    cosine annealing down to `max_learning_rate / div_factor / final_div_factor`.

    Args:
        max_learning_rate: float. Peak learning rate.
        total_steps: int. Length of the whole cycle in optimizer steps.
        pct_start: float. Fraction of the cycle spent increasing. Defaults to 0.3.
        div_factor: float. Initial rate is `max / div_factor`. Defaults to 25.
        final_div_factor: float. Final rate is `initial / final_div_factor`.
            Defaults to 1e4.

    Reference: Smith & Topin, "Super-Convergence", arXiv:1708.07120.
    """

    def __init__(
        self,
        max_learning_rate,
        total_steps,
        pct_start=0.3,
        div_factor=25.0,
        final_div_factor=1e4,
    ):
        if total_steps < 1:
            raise ValueError(
                f"`total_steps` must be >= 1. Received: total_steps={total_steps}"
            )
        self.max_learning_rate = float(max_learning_rate)
        self.total_steps = int(total_steps)
        self.pct_start = float(pct_start)
        self.div_factor = float(div_factor)
        self.final_div_factor = float(final_div_factor)

    def __call__(self, step):
        initial = self.max_learning_rate / self.div_factor
        final = initial / self.final_div_factor
        # PyTorch: phase ends at pct_start * total - 1 and total - 1.
        up_end = max(self.pct_start * self.total_steps - 1.0, 1.0)
        down_end = max(float(self.total_steps - 1), up_end + 1.0)
        step = ops.cast(step, "float32")

        def anneal(start, end, fraction):
            return end + (start - end) / 2.0 * (1.0 + ops.cos(math.pi * fraction))

        up = anneal(initial, self.max_learning_rate, ops.clip(step / up_end, 0.0, 1.0))
        down = anneal(
            self.max_learning_rate,
            final,
            ops.clip((step - up_end) / (down_end - up_end), 0.0, 1.0),
        )
        return ops.where(step <= up_end, up, down)

    def get_config(self):
        return {
            "max_learning_rate": self.max_learning_rate,
            "total_steps": self.total_steps,
            "pct_start": self.pct_start,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
        }


def _cosine(training, total_steps, steps_per_epoch):
    warmup_steps = int(training.warmup_epochs * steps_per_epoch)
    decay_steps = max(total_steps - warmup_steps, 1)
    if warmup_steps:
        return keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=training.warmup_learning_rate,
            decay_steps=decay_steps,
            alpha=training.min_learning_rate / training.learning_rate,
            warmup_target=training.learning_rate,
            warmup_steps=warmup_steps,
        )
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=training.learning_rate,
        decay_steps=decay_steps,
        alpha=training.min_learning_rate / training.learning_rate,
    )


def _onecycle(training, total_steps, steps_per_epoch):
    return OneCycle(
        training.learning_rate, total_steps, final_div_factor=training.final_div_factor
    )


def _constant(training, total_steps, steps_per_epoch):
    return training.learning_rate


SCHEDULES = {"cosine": _cosine, "onecycle": _onecycle, "constant": _constant}


def get_schedule(training, steps_per_epoch):
    """The learning rate (schedule or float) for a `TrainingConfig`."""
    name = str(training.schedule).lower()
    if name not in SCHEDULES:
        raise UserError(
            f"Unknown training.schedule {training.schedule!r}; known: {', '.join(SCHEDULES)}"
        )
    total_steps = max(int(training.epochs * steps_per_epoch), 1)
    return SCHEDULES[name](training, total_steps, steps_per_epoch)
