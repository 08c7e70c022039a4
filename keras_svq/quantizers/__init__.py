"""Quantizers: SVQ and the vector-quantization baselines it is compared with."""

from keras_svq.quantizers.base_quantizer import Quantizer
from keras_svq.quantizers.codebook_usage import codebook_usage
from keras_svq.quantizers.codebook_usage import perplexity_from_indices
from keras_svq.quantizers.finite_scalar_quantizer import FiniteScalarQuantizer
from keras_svq.quantizers.grouped_residual_vector_quantizer import (
    GroupedResidualVectorQuantizer,
)
from keras_svq.quantizers.lookup_free_quantizer import LookupFreeQuantizer
from keras_svq.quantizers.multi_head_vector_quantizer import MultiHeadVectorQuantizer
from keras_svq.quantizers.projected_quantizer import ProjectedQuantizer
from keras_svq.quantizers.quantizer_registry import QUANTIZERS
from keras_svq.quantizers.quantizer_registry import get_quantizer
from keras_svq.quantizers.quantizer_registry import quantizer_config_from_reference
from keras_svq.quantizers.quantizer_registry import register_quantizer
from keras_svq.quantizers.residual_finite_scalar_quantizer import (
    ResidualFiniteScalarQuantizer,
)
from keras_svq.quantizers.residual_lookup_free_quantizer import (
    ResidualLookupFreeQuantizer,
)
from keras_svq.quantizers.residual_quantizer import ResidualQuantizer
from keras_svq.quantizers.residual_vector_quantizer import ResidualVectorQuantizer
from keras_svq.quantizers.sparse_vector_quantizer import SparseVectorQuantizer
from keras_svq.quantizers.sparse_vector_quantizer import load_svq_state_dict
from keras_svq.quantizers.vector_quantizer import VectorQuantizer
