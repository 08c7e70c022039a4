"""Test helpers shared by every layer, quantizer and backbone test."""

from keras_svq.testing.errors import relative_rms
from keras_svq.testing.reference import reference_path
from keras_svq.testing.reference import shared_data_path
from keras_svq.testing.test_case import TestCase
from keras_svq.testing.test_case import two_cpu_mirrored_strategy
from keras_svq.testing.tiny_models import TINY_FRAMES
from keras_svq.testing.tiny_models import TINY_INPUT_SHAPE
from keras_svq.testing.tiny_models import TINY_SVQ
from keras_svq.testing.tiny_models import tiny_experiment_config
from keras_svq.testing.tiny_models import tiny_simvp
from keras_svq.testing.tiny_models import tiny_simvp_config
