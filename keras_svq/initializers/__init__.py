"""Initializers that reproduce PyTorch's, so ported models train the same way."""

from keras_svq.initializers.torch_initializers import CODEBOOK_INITIALIZERS
from keras_svq.initializers.torch_initializers import TorchKaimingUniform
from keras_svq.initializers.torch_initializers import TorchSparse
from keras_svq.initializers.torch_initializers import TorchTruncatedNormal
from keras_svq.initializers.torch_initializers import TorchUniform
from keras_svq.initializers.torch_initializers import TorchXavierUniform
from keras_svq.initializers.torch_initializers import get_codebook_initializer
