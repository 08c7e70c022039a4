"""Generic blocks shared by many models (one public class per module)."""

from keras_svq.layers.conv_norm_act import ConvNormAct
from keras_svq.layers.drop_path import DropPath
from keras_svq.layers.grouped_conv2d import GroupedConv2D
from keras_svq.layers.layer_scale import LayerScale
from keras_svq.layers.mix_mlp import MixMLP
from keras_svq.layers.mlp import MLP
from keras_svq.layers.multi_head_self_attention import MultiHeadSelfAttention
from keras_svq.layers.multiplicative_noise import MultiplicativeNoise
from keras_svq.layers.output_constraint import OutputConstraint
from keras_svq.layers.pixel_shuffle import PixelShuffle
from keras_svq.layers.remat import KeywordSafeRemat
from keras_svq.layers.torch_batch_normalization import TorchBatchNormalization
from keras_svq.layers.window_attention import WindowAttention
