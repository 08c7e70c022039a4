"""Quantizers: SVQ and the vector-quantization baselines it is compared with."""

from keras_svq.quantizers.base_quantizer import Quantizer
from keras_svq.quantizers.codebook_usage import codebook_usage
from keras_svq.quantizers.quantizer_registry import QUANTIZERS
from keras_svq.quantizers.quantizer_registry import get_quantizer
from keras_svq.quantizers.quantizer_registry import register_quantizer
from keras_svq.quantizers.sparse_vector_quantizer import SparseVectorQuantizer
from keras_svq.quantizers.sparse_vector_quantizer import load_svq_state_dict
