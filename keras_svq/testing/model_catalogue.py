"""Tiny instances of every quantizer and zoo backbone, for cross-cutting checks.

One list serves the multi-backend test and the GPU benchmark's smoke mode, so
a new model is added in one place. Each case builds a functional model on a
fixed small input shape.
"""

import dataclasses
from collections.abc import Callable

import keras


@dataclasses.dataclass(frozen=True)
class CatalogueCase:
    name: str
    factory: Callable
    input_shape: tuple

    def build(self):
        obj = self.factory()
        if isinstance(obj, keras.Model):
            return obj
        inputs = keras.Input(self.input_shape[1:])
        return keras.Model(inputs, obj(inputs))


def _quantizer_cases():
    from keras_svq.quantizers import QUANTIZERS

    # Small settings per registered class; classes registered without an
    # entry here are built with their defaults.
    # (VQ-family settings with codebook_dim != D have trainable projections,
    # so the cross-backend fit check has weights to move.)
    small = {
        "SparseVectorQuantizer": {"codebook_size": 32, "hidden_dim": 16},
        "VectorQuantizer": {"codebook_size": 16, "codebook_dim": 4},
        "ResidualVectorQuantizer": {
            "num_quantizers": 2,
            "codebook_size": 16,
            "codebook_dim": 4,
        },
        "GroupedResidualVectorQuantizer": {
            "groups": 2,
            "num_quantizers": 2,
            "codebook_size": 16,
            "codebook_dim": 2,
        },
        "ResidualLookupFreeQuantizer": {"codebook_size": 16, "num_quantizers": 2},
    }
    cases, seen = [], set()
    for name, cls in sorted(QUANTIZERS.items()):
        if cls in seen:
            continue
        seen.add(cls)
        kwargs = small.get(cls.__name__, {})
        cases.append(
            CatalogueCase(
                f"quantizer_{name}", lambda c=cls, k=kwargs: c(**k), (2, 4, 4, 8)
            )
        )
    return cases


def _backbone_cases():
    try:
        import zoo
    except ImportError:  # the zoo is optional for the quantizer package
        return []
    cases = []
    for name, (factory, input_shape) in getattr(zoo, "tiny_backbones", dict)().items():
        cases.append(CatalogueCase(f"backbone_{name}", factory, input_shape))
    return cases


def catalogue_cases():
    """All catalogue cases: every registered quantizer, every zoo backbone."""
    return _quantizer_cases() + _backbone_cases()
