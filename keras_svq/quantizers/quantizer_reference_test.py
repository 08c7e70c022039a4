"""The VQ family against vector-quantize-pytorch 1.12.5, the library the
reference's baselines use. The fixture `testdata/vq_family_reference.npz` holds
only numbers: the outputs of vector-quantize-pytorch 1.12.5 (torch 2.13.0 CPU,
versions in its `meta:json`) for seeded inputs and weights, with the
constructor arguments of each case. No code of that library is in this
repository."""

import json
import pathlib

import numpy as np
import pytest
from keras import ops

from keras_svq.quantizers import FiniteScalarQuantizer
from keras_svq.quantizers import GroupedResidualVectorQuantizer
from keras_svq.quantizers import LookupFreeQuantizer
from keras_svq.quantizers import MultiHeadVectorQuantizer
from keras_svq.quantizers import ResidualFiniteScalarQuantizer
from keras_svq.quantizers import ResidualLookupFreeQuantizer
from keras_svq.quantizers import ResidualVectorQuantizer
from keras_svq.quantizers import VectorQuantizer
from keras_svq.testing import TestCase

FIXTURE = pathlib.Path(__file__).with_name("testdata") / "vq_family_reference.npz"


@pytest.fixture(scope="module")
def reference():
    data = np.load(FIXTURE)
    meta = json.loads(str(data["meta:json"]))
    return data, meta


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def _load_projections(layer, data, case):
    for name in ("project_in", "project_out"):
        dense = getattr(layer, name)
        dense.kernel.assign(data[f"{case}:{name}.weight"].T)
        dense.bias.assign(data[f"{case}:{name}.bias"])


def _lsb_first(indices, bits):
    """vector-quantize-pytorch's LFQ numbers bit 0 as the most significant."""
    indices = np.asarray(indices)
    return sum(((indices >> (bits - 1 - i)) & 1) << i for i in range(bits))


def _forward(layer, x, training):
    y, indices, loss = layer._forward(ops.convert_to_tensor(x), training)
    return _np(y), _np(indices), None if loss is None else float(_np(loss))


class TestAgainstVectorQuantizePytorch(TestCase):
    atol = 1e-5
    rtol = 1e-5

    def test_fsq(self, reference):
        data, meta = reference
        layer = FiniteScalarQuantizer(**meta["cases"]["fsq"])
        layer.build((None, 4))
        y, indices, _ = _forward(layer, data["fsq:x"], training=False)
        self.assertAllClose(y, data["fsq:y"])
        np.testing.assert_array_equal(indices, data["fsq:indices"])

    def test_residual_fsq(self, reference):
        data, meta = reference
        kwargs = dict(meta["cases"]["rfsq"])
        dim = kwargs.pop("dim")
        layer = ResidualFiniteScalarQuantizer(**kwargs)
        layer.build((None, dim))
        _load_projections(layer, data, "rfsq")
        y, indices, _ = _forward(layer, data["rfsq:x"], training=False)
        self.assertAllClose(y, data["rfsq:y"])
        np.testing.assert_array_equal(indices, data["rfsq:indices"])

    @pytest.mark.parametrize("case", ["lfq", "rlfq"])
    def test_lookup_free(self, reference, case):
        data, meta = reference
        kwargs = dict(meta["cases"][case])
        dim = kwargs.pop("dim")
        cls = LookupFreeQuantizer if case == "lfq" else ResidualLookupFreeQuantizer
        layer = cls(**kwargs)
        layer.build((None, dim))
        _load_projections(layer, data, case)
        y, indices, loss = _forward(layer, data[f"{case}:x"], training=True)
        self.assertAllClose(y, data[f"{case}:y"])
        bits = int(np.log2(kwargs["codebook_size"]))
        np.testing.assert_array_equal(
            indices, _lsb_first(data[f"{case}:indices"], bits)
        )
        self.assertAllClose(loss, data[f"{case}:loss"])

    @pytest.mark.parametrize("case", ["vq", "rvq", "grvq", "mhvq"])
    def test_ema_training_steps(self, reference, case):
        data, meta = reference
        kwargs = dict(meta["cases"][case])
        dim = kwargs.pop("dim")
        if case == "vq":
            layer = VectorQuantizer(**kwargs)
            codebooks = lambda: [layer]  # noqa: E731
        elif case == "rvq":
            layer = ResidualVectorQuantizer(**kwargs)
            codebooks = lambda: layer.stage_layers  # noqa: E731
        elif case == "grvq":
            layer = GroupedResidualVectorQuantizer(**kwargs)
            codebooks = lambda: [g.stage_layers[0] for g in layer.group_layers]  # noqa: E731
        else:
            layer = MultiHeadVectorQuantizer(
                num_heads=kwargs["heads"],
                codebook_size=kwargs["codebook_size"],
                codebook_dim=kwargs["codebook_dim"],
                shared_codebook=not kwargs["separate_codebook_per_head"],
            )
            codebooks = lambda: layer.head_layers  # noqa: E731
        layer.build((None, dim))
        if case == "mhvq":
            _load_projections(layer, data, case)
        for i, vq in enumerate(codebooks()):
            initial = data[f"{case}:codebook_{i}:initial"]
            vq.codebook.assign(initial)
            vq.codebook_average.assign(initial)
        step = 0
        while f"{case}:x_{step}" in data:
            y, indices, loss = _forward(layer, data[f"{case}:x_{step}"], training=True)
            expected_indices = data[f"{case}:indices_{step}"]
            if case == "grvq":  # (groups, B, N, Q) -> (B, N, groups, Q)
                expected_indices = np.moveaxis(expected_indices, 0, -2)
            np.testing.assert_array_equal(
                indices, expected_indices, err_msg=f"step {step}"
            )
            self.assertAllClose(y, data[f"{case}:y_{step}"], atol=1e-4, rtol=1e-4)
            self.assertAllClose(loss, data[f"{case}:loss_{step}"], atol=1e-5, rtol=1e-4)
            step += 1
        assert step == 3
        for i, vq in enumerate(codebooks()):
            prefix = f"{case}:codebook_{i}"
            self.assertAllClose(
                vq.cluster_size, data[f"{prefix}:cluster_size"], atol=1e-5
            )
            self.assertAllClose(
                vq.codebook_average, data[f"{prefix}:embed_avg"], atol=1e-5, rtol=1e-4
            )
            self.assertAllClose(
                vq.codebook, data[f"{prefix}:embed"], atol=1e-3, rtol=1e-4
            )
