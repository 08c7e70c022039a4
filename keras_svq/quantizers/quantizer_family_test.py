"""The VQ family as a whole: registry names, reference configs, use in SimVP."""

import json

import keras
import numpy as np
import pytest
from keras import ops

from keras_svq.quantizers import QUANTIZERS
from keras_svq.quantizers import ProjectedQuantizer
from keras_svq.quantizers import get_quantizer
from keras_svq.quantizers import quantizer_config_from_reference
from keras_svq.testing import TestCase
from keras_svq.testing import reference_path
from keras_svq.testing import tiny_simvp_config

FAMILY = ("vq", "rvq", "grvq", "mhvq", "fsq", "rfsq", "lfq", "rlfq")

# vq_type of each t2m `ablation_vq` config of the reference.
REFERENCE_CONFIGS = {
    "VQ": "vq",
    "ResidualVQ": "rvq",
    "ResidualVQ-Stochastic": "rvq",
    "GroupedResidualVQ": "grvq",
    "MultiHeadVQ": "mhvq",
    "ResidualFSQ": "rfsq",
    "LFQ": "lfq",
    "ResidualLFQ": "rlfq",
}
# Constant caches the reference registers as float buffers, which keras-svq
# computes on the fly instead of storing: FSQ's `implicit_codebook` (K, d) per
# stage and ResidualFSQ's `scales` (Q, d); LFQ's `codebook` (K, bits) and its
# scalar `zero`. Learned state (EMA codebooks) is stored and matches exactly.
CONSTANT_BUFFERS = {
    "ResidualFSQ": 8 * 600 * 4 + 8 * 4,
    "LFQ": 8192 * 13 + 1,
    "ResidualLFQ": 8 * (256 * 8 + 1),
}


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _reference_entries():
    with open(reference_path("param_counts.json")) as f:
        return json.load(f)


class TestRegistry(TestCase):
    @pytest.mark.parametrize("name", FAMILY)
    def test_short_names(self, name):
        layer = get_quantizer(name)
        assert isinstance(layer, ProjectedQuantizer)
        assert QUANTIZERS[name] is type(layer)

    def test_reference_translation(self):
        config = quantizer_config_from_reference(
            "mhvq",
            {
                "dim": 32,
                "codebook_dim": 32,
                "heads": 8,
                "separate_codebook_per_head": False,
                "codebook_size": 1024,
            },
        )
        assert config == {
            "name": "mhvq",
            "codebook_dim": 32,
            "num_heads": 8,
            "shared_codebook": True,
            "codebook_size": 1024,
        }
        config = quantizer_config_from_reference(
            "rvq", {"dim": 32, "num_quantizers": 2, "decay": 0.9}
        )
        assert config["quantizer_kwargs"] == {"decay": 0.9}
        config = quantizer_config_from_reference(
            "rvq",
            {
                "dim": 32,
                "num_quantizers": 8,
                "codebook_size": 1024,
                "stochastic_sample_codes": True,
                "sample_codebook_temp": 0.1,
                "shared_codebook": True,
            },
        )
        assert config["quantizer_kwargs"] == {"sample_temperature": 0.1}
        assert get_quantizer(config).stage_layers[0].sample_temperature == 0.1
        # A temperature alone does not sample, as in vector-quantize-pytorch.
        assert quantizer_config_from_reference("vq", {"sample_codebook_temp": 0.5}) == {
            "name": "vq"
        }
        with pytest.raises(ValueError, match="'orthogonal_reg_weight'"):
            quantizer_config_from_reference("rvq", {"orthogonal_reg_weight": 1.0})
        with pytest.raises(ValueError, match="vq_type='pq'"):
            quantizer_config_from_reference("pq", {})


class TestReferenceParameterCounts(TestCase):
    @pytest.mark.parametrize("config_name", sorted(REFERENCE_CONFIGS))
    def test_matches_reference(self, config_name):
        entry = _reference_entries()[f"weather_t2m_5_625/ablation_vq/{config_name}"]
        kwargs = entry["model_kwargs"]["vq_kwargs"]
        layer = get_quantizer(
            quantizer_config_from_reference(REFERENCE_CONFIGS[config_name], kwargs)
        )
        layer.build((None, kwargs["dim"]))
        trainable = sum(int(np.prod(w.shape)) for w in layer.trainable_weights)
        buffers = sum(int(np.prod(w.shape)) for w in layer.non_trainable_weights)
        assert trainable == entry["breakdown"]["vq"]
        reference_buffers = entry["buffer_numel"] - entry["bn_running_stats_numel"]
        assert buffers + CONSTANT_BUFFERS.get(config_name, 0) == reference_buffers


class TestUseInModels(TestCase):
    # Every class already passes the battery's fit step; this checks the
    # registry configs inside a model, a few seconds per quantizer.
    @pytest.mark.slow
    @pytest.mark.parametrize("name", FAMILY)
    def test_in_a_conv_model_fit_and_round_trip(self, name):
        inputs = keras.Input((8, 8, 3))
        hidden = keras.layers.Conv2D(8, 3, padding="same")(inputs)
        config = {"name": name}
        if name in ("vq", "rvq", "grvq", "mhvq"):
            config["codebook_size"] = 16
        if name in ("lfq", "rlfq"):
            config["codebook_size"] = 16
        if name in ("rvq", "grvq", "rfsq", "rlfq"):
            config["num_quantizers"] = 2
        quantizer = get_quantizer(config)
        outputs = keras.layers.Conv2D(3, 1)(quantizer(hidden))
        model = keras.Model(inputs, outputs)
        model.compile(optimizer="adam", loss="mse")
        x, y = _x((4, 8, 8, 3)), _x((4, 8, 8, 3), seed=1)
        history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        features = keras.Model(inputs, hidden)(x)
        self.assertAllClose(
            quantizer.decode(quantizer.encode(features)),
            quantizer(features, training=False),
            atol=1e-5,
        )

    @pytest.mark.parametrize(
        "name", ["vq", pytest.param("fsq", marks=pytest.mark.slow)]
    )
    def test_inside_simvp_backbone(self, name):
        zoo = pytest.importorskip("zoo")
        config = {"name": name}
        if name == "vq":
            config.update(codebook_size=16, codebook_dim=4)
        model = zoo.SimVPBackbone(
            **tiny_simvp_config(temporal_hidden_dim=32, mlp_ratio=4.0, quantizer=config)
        )
        assert isinstance(model.quantizer, QUANTIZERS[name])
        model.compile(optimizer="adam", loss="mse")
        x, y = _x((2, 4, 16, 16, 1)), _x((2, 4, 16, 16, 1), seed=1)
        before = [np.array(w) for w in model.quantizer.non_trainable_weights]
        history = model.fit(x, y, batch_size=2, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        if name == "vq":
            # The EMA codebook moved in training; the commitment loss was added.
            changed = [
                not np.array_equal(b, np.array(w))
                for b, w in zip(before, model.quantizer.non_trainable_weights)
            ]
            assert any(changed)
        expected = model(x, training=False)
        path = self.tmp_dir() / "model.keras"
        model.save(path)
        revived = keras.saving.load_model(path)
        assert isinstance(revived.quantizer, QUANTIZERS[name])
        self.assertAllClose(revived(x, training=False), expected, atol=1e-4, rtol=1e-4)
        assert ops.all(ops.isfinite(expected))


@pytest.mark.parametrize("name", ["svq", "vq"])
def test_the_vector_dimension_is_fixed_once_built(name):
    # One check in the base class serves SVQ and the projected family.
    config = {"name": name, "codebook_size": 8}
    if name == "svq":
        config["hidden_dim"] = 4
    quantizer = get_quantizer(config)
    quantizer(_x((2, 3, 6)))
    cls = type(quantizer).__name__
    with pytest.raises(
        ValueError,
        match=rf"{cls} '{quantizer.name}' was built for vectors of dimension D=6, "
        r"but the last axis of its input changed. Received: input_shape=\(2, 3, 5\)",
    ):
        quantizer(_x((2, 3, 5)))
