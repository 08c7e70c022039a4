import math

import numpy as np

from keras_svq.training.config import TrainingConfig
from keras_svq.training.schedules import OneCycle
from keras_svq.training.schedules import get_schedule


def _torch_onecycle(step, max_lr, total, pct=0.3, div=25.0, final_div=1e4):
    """PyTorch OneCycleLR (anneal_strategy="cos", two phases), written out."""
    initial, minimum = max_lr / div, max_lr / div / final_div
    up_end, down_end = pct * total - 1, total - 1

    def cos(start, end, frac):
        return end + (start - end) / 2 * (1 + math.cos(math.pi * frac))

    if step <= up_end:
        return cos(initial, max_lr, step / up_end)
    return cos(max_lr, minimum, (step - up_end) / (down_end - up_end))


def test_onecycle_matches_pytorch_formula():
    schedule = OneCycle(0.01, 100)
    for step in (0, 1, 10, 29, 30, 50, 99):
        np.testing.assert_allclose(
            float(schedule(step)), _torch_onecycle(step, 0.01, 100), rtol=1e-5
        )
    assert (
        OneCycle.from_config(schedule.get_config()).get_config()
        == schedule.get_config()
    )


def test_cosine_with_warmup_and_constant():
    training = TrainingConfig(
        epochs=10, learning_rate=0.005, schedule="cosine", warmup_epochs=2
    )
    schedule = get_schedule(training, steps_per_epoch=10)
    np.testing.assert_allclose(float(schedule(0)), 1e-5, rtol=1e-4)  # warm-up start
    np.testing.assert_allclose(
        float(schedule(20)), 0.005, rtol=1e-4
    )  # peak after warm-up
    np.testing.assert_allclose(
        float(schedule(100)), 1e-6, rtol=1e-3
    )  # min_learning_rate at the end
    assert (
        get_schedule(TrainingConfig(schedule="constant", learning_rate=0.1), 5) == 0.1
    )
