"""Export of trained models: SavedModel with serving signatures."""

from keras_svq.export.saved_model import export_saved_model

__all__ = ["export_saved_model"]
