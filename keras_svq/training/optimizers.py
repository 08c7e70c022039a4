"""Optimizers and losses by name, as OpenSTL configures them."""

import keras

from keras_svq.io_utils import UserError
from keras_svq.optimizers import FusedAdam
from keras_svq.optimizers import FusedAdamW
from keras_svq.training.losses import MaskedLoss

# OpenSTL `optim_constant.py`: the weight decay each optimizer gets when the
# config does not set one. Adam's is PyTorch's coupled L2; Keras' `Adam`
# `weight_decay` is decoupled, which is the same thing at 0. The fused classes
# are Keras' Adam/AdamW with a smaller TensorFlow graph (`keras_svq.optimizers`).
OPTIMIZERS = {
    "adam": (FusedAdam, 0.0),
    "adamw": (FusedAdamW, 0.01),
    "sgd": (keras.optimizers.SGD, 0.0),
}


def get_optimizer(training, learning_rate):
    name = str(training.optimizer).lower()
    if name not in OPTIMIZERS:
        raise UserError(
            f"Unknown training.optimizer {training.optimizer!r}; known: {', '.join(OPTIMIZERS)}"
        )
    cls, default_decay = OPTIMIZERS[name]
    decay = (
        default_decay if training.weight_decay is None else float(training.weight_decay)
    )
    kwargs = {"learning_rate": learning_rate}
    if decay or name == "adamw":
        kwargs["weight_decay"] = decay
    if name == "sgd":
        kwargs.update(momentum=0.9, nesterov=True)
    if training.clip_norm:
        kwargs["global_clipnorm"] = float(training.clip_norm)
    return cls(**kwargs)


def _tau_loss(training):
    from keras_svq.training import losses

    cls = getattr(losses, "TAULoss", None) or getattr(
        losses, "DifferentialDivergenceLoss", None
    )
    if cls is None:
        raise UserError("training.loss 'tau' needs keras_svq.training.losses.TAULoss")
    return cls(alpha=training.tau_alpha)


LOSSES = {
    "mse": lambda training: keras.losses.MeanSquaredError(),
    "mae": lambda training: keras.losses.MeanAbsoluteError(),
    "huber": lambda training: keras.losses.Huber(delta=training.huber_delta),
    "tau": _tau_loss,
}


def get_loss(training):
    """The configured `training.loss`, wrapped in `MaskedLoss`.

    NaN targets mark invalid pixels; the wrapper averages the loss over the
    valid ones and equals the plain loss on data without NaN. The configured
    loss itself is `get_loss(training).loss`.
    """
    name = str(training.loss).lower()
    if name not in LOSSES:
        raise UserError(
            f"Unknown training.loss {training.loss!r}; known: {', '.join(LOSSES)}"
        )
    return MaskedLoss(LOSSES[name](training))
