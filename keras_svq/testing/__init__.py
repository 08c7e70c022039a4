"""Test helpers shared by every layer, quantizer and backbone test."""

from keras_svq.testing.reference import reference_path
from keras_svq.testing.reference import shared_data_path
from keras_svq.testing.test_case import TestCase
from keras_svq.testing.test_case import two_cpu_mirrored_strategy
