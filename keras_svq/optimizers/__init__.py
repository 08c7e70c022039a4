"""Optimizers: Keras' own, with a smaller TensorFlow graph.

Imported by `import keras_svq` (they need Keras only), so a `.keras` file
compiled with them loads after `import keras_svq` alone.
"""

from keras_svq.optimizers.fused_adam import FusedAdam
from keras_svq.optimizers.fused_adam import FusedAdamW
