"""keras-svq: spatio-temporal forecasting with Sparse Vector Quantization in Keras 3.

Reference: Chen et al., "Does Vector Quantization Fail in Spatio-Temporal
Forecasting? Exploring a Differentiable Sparse Soft-Vector Quantization
Approach", arXiv:2312.03406.
"""

from keras_svq import initializers
from keras_svq import quantizers
from keras_svq.quantizers import SparseVectorQuantizer
from keras_svq.version import __version__
