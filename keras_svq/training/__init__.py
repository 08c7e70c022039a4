"""Training glue: losses, schedules, callbacks, strategies and the fit loop."""

from keras_svq.training.codebook_usage_callback import CodebookUsageCallback
from keras_svq.training.codebook_usage_callback import quantizer_code_weights
from keras_svq.training.losses import DifferentialDivergence
from keras_svq.training.losses import TAULoss
from keras_svq.training.step_variables import build_step_variables
