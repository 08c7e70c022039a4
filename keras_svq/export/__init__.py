"""Export of trained models: SavedModel with serving signatures, or ONNX."""

from keras_svq.export.onnx import OnnxNotInstalled
from keras_svq.export.onnx import export_onnx
from keras_svq.export.saved_model import export_saved_model

__all__ = ["OnnxNotInstalled", "export_onnx", "export_saved_model"]
