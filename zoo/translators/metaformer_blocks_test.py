"""The ten MetaFormer translators of issue 6: official parameter counts, forward passes.

Parameter counts are checked against `shared/reference/param_counts.json`
(the official code, counted as PyTorch counts: every parameter, BatchNorm
running statistics and other buffers excluded) on symbolic inputs only, at
two latent resolutions: WeatherBench t2m (latent 16x32) and TaxiBJ (16x16),
and with the SVQ plug-in. Forward passes and the saving battery run on tiny
shapes.
"""

import json

import keras
import numpy as np
import pytest

from keras_svq.testing import TINY_SVQ
from keras_svq.testing import TestCase
from keras_svq.testing import reference_path
from keras_svq.testing import tiny_simvp_config
from zoo import SimVPBackbone
from zoo import count_torch_params
from zoo.translators.convmixer_block import ConvMixerBlock
from zoo.translators.convnext_block import ConvNeXtBlock
from zoo.translators.hornet_block import HorNetBlock
from zoo.translators.hornet_block import RecursiveGatedConv
from zoo.translators.metaformer_block import MetaFormerBlock
from zoo.translators.mlpmixer_block import MLPMixerBlock
from zoo.translators.moganet_block import MogaNetBlock
from zoo.translators.moganet_block import MultiOrderGatedAggregation
from zoo.translators.poolformer_block import PoolFormerBlock
from zoo.translators.swin_block import SwinBlock
from zoo.translators.swin_block import swin_window_size
from zoo.translators.swin_block import window_partition
from zoo.translators.swin_block import window_reverse
from zoo.translators.uniformer_block import UniformerAttentionBlock
from zoo.translators.uniformer_block import UniformerConvBlock
from zoo.translators.van_block import VANBlock
from zoo.translators.vit_block import ViTBlock

_REFERENCE = json.loads(reference_path("param_counts.json").read_text())

# Registry name -> the official config's name.
OFFICIAL_NAMES = {
    "convmixer": "ConvMixer",
    "convnext": "ConvNeXt",
    "hornet": "HorNet",
    "mlpmixer": "MLPMixer",
    "moganet": "MogaNet",
    "poolformer": "Poolformer",
    "swin": "Swin",
    "uniformer": "Uniformer",
    "van": "VAN",
    "vit": "ViT",
}
TRANSLATORS = sorted(OFFICIAL_NAMES)

# The counts the issue quotes for WeatherBench-S t2m (12x32x64x1, hid_S=32,
# hid_T=256, N_S=2, N_T=8, mlp_ratio=8).
T2M_COUNTS = {
    "vit": 12_414_497,
    "swin": 12_417_633,
    "uniformer": 12_028_705,
    "mlpmixer": 11_100_257,
    "convmixer": 1_135_905,
    "poolformer": 9_985_313,
    "convnext": 10_087_585,
    "van": 12_149_921,
    "hornet": 12_416_097,
    "moganet": 12_762_121,
}


def _official_model(key, translator):
    """Builds the Keras model of an official config (symbolic, no forward pass)."""
    kwargs = _REFERENCE[key]["model_kwargs"]
    frames, channels, height, width = kwargs["in_shape"]
    quantizer = None
    if "vq_kwargs" in kwargs:
        vq = kwargs["vq_kwargs"]
        quantizer = {
            "name": "svq",
            "codebook_size": vq["codebook_size"],
            "hidden_dim": vq["middim"],
            "freeze_codebook": vq["freeze_codebook"],
        }
    return SimVPBackbone(
        input_length=frames,
        output_length=frames,
        height=height,
        width=width,
        channels=channels,
        spatial_hidden_dim=kwargs["hid_S"],
        temporal_hidden_dim=kwargs["hid_T"],
        num_spatial_layers=kwargs["N_S"],
        num_temporal_layers=kwargs["N_T"],
        translator=translator,
        mlp_ratio=kwargs["mlp_ratio"],
        drop_path_rate=kwargs["drop_path"],
        quantizer=quantizer,
    )


def _check(key, translator):
    model = _official_model(key, translator)
    reference = _REFERENCE[key]
    assert count_torch_params(model) == reference["total_params"], key
    assert count_torch_params(model.translator) == reference["breakdown"]["hid"], key
    return model


@pytest.mark.parametrize("translator", TRANSLATORS)
def test_t2m_parameter_counts(translator):
    key = f"weather_t2m_5_625/SimVP_{OFFICIAL_NAMES[translator]}"
    assert _REFERENCE[key]["total_params"] == T2M_COUNTS[translator]
    _check(key, translator)


@pytest.mark.parametrize("translator", TRANSLATORS)
def test_taxibj_parameter_counts(translator):
    # A 16x16 latent (t2m: 16x32) and 2 channels: the counts of MLP-Mixer
    # (token MLP), Swin (windows) and ViT change with the latent size.
    _check(f"taxibj/simvp/SimVP_{OFFICIAL_NAMES[translator]}", translator)


@pytest.mark.parametrize(
    "translator",
    [
        t if t == "swin" else pytest.param(t, marks=pytest.mark.slow)
        for t in TRANSLATORS
    ],
)
def test_t2m_svq_parameter_counts(translator):
    # The paper's translator ablation: SVQ (10,000 codes) before each translator.
    _check(
        f"weather_t2m_5_625/ablation_modeltype/SimVPVQ_{OFFICIAL_NAMES[translator]}",
        translator,
    )


@pytest.mark.slow
@pytest.mark.parametrize("translator", TRANSLATORS)
def test_kth_parameter_counts(translator):
    # 128x128 frames, hid_S=64, N_T=6: a third resolution.
    _check(f"kth/simvp/SimVP_{OFFICIAL_NAMES[translator]}", translator)


# The shared tiny SimVP with three translator blocks (T·C = 32 -> hidden 16);
# each test sets the translator.
TINY = tiny_simvp_config(num_temporal_layers=3)
SVQ = TINY_SVQ


def _frames(batch=2, seed=0):
    return (
        np.random.default_rng(seed)
        .standard_normal((batch, 4, 16, 16, 1))
        .astype("float32")
    )


@pytest.mark.parametrize(
    "quantizer",
    # Without SVQ every block is already called (symbolically) by the count
    # tests above, and eagerly by the batteries of swin and convnext.
    [pytest.param(None, marks=pytest.mark.slow), SVQ],
    ids=["plain", "svq"],
)
@pytest.mark.parametrize("translator", TRANSLATORS)
def test_forward(translator, quantizer):
    # T·C = 32 -> hidden 16 -> 32 over an 8x8 latent: both reductions, a
    # middle block (UniFormer's attention block, Swin's shifted windows).
    model = SimVPBackbone(
        **dict(TINY, translator=translator, quantizer=quantizer, drop_path_rate=0.1)
    )
    x = _frames()
    y = model(x, training=False)
    assert tuple(y.shape) == (2, 4, 16, 16, 1)
    np.testing.assert_allclose(np.asarray(y), np.asarray(model(x, training=False)))
    y_train = np.asarray(model(x, training=True))
    assert y_train.shape == (2, 4, 16, 16, 1)
    assert np.all(np.isfinite(y_train))


class TestRepresentativeBattery(TestCase):
    """The full battery (fit, .keras, SavedModel, mixed precision, MirroredStrategy)."""

    atol = 1e-4
    rtol = 1e-4

    # A full battery costs one to two minutes on 2 shared cores: Swin with SVQ
    # runs in CI's integration pass, ConvNeXt with `-m slow` (its light battery
    # runs by default, below).
    @pytest.mark.parametrize(
        "kwargs",
        [
            pytest.param(
                dict(TINY, translator="swin", quantizer=SVQ, num_temporal_layers=2),
                marks=pytest.mark.integration,
            ),
            pytest.param(
                dict(TINY, translator="convnext", num_temporal_layers=2),
                marks=pytest.mark.slow,
            ),
        ],
        ids=["swin_svq", "convnext"],
    )
    def test_full_battery(self, kwargs):
        self.run_backbone_test(
            SimVPBackbone, kwargs, input_shape=(2, 4, 16, 16, 1), run_jit=False
        )


class TestLightBattery(TestCase):
    """Config round trip, call and `.keras` saving for the others."""

    atol = 1e-4
    rtol = 1e-4

    @pytest.mark.parametrize(
        "translator",
        [
            t if t == "convnext" else pytest.param(t, marks=pytest.mark.slow)
            for t in TRANSLATORS
            if t != "swin"
        ],
    )
    def test_light_battery(self, translator):
        self.run_backbone_test(
            SimVPBackbone,
            dict(TINY, translator=translator),
            input_shape=(2, 4, 16, 16, 1),
            run_fit=False,
            run_saved_model=False,
            run_distribution=False,
            run_jit=False,
        )


# Each block class with arguments that differ from its defaults.
BLOCKS = [
    (ConvMixerBlock, {"kernel_size": 5}),
    (ConvNeXtBlock, {"mlp_ratio": 2.0, "drop_path_rate": 0.1, "kernel_size": 5}),
    (HorNetBlock, {"order": 3, "mlp_ratio": 2.0}),
    (MLPMixerBlock, {"mlp_ratio": 2.0, "token_mlp_ratio": 1.0, "drop_rate": 0.1}),
    (MogaNetBlock, {"mlp_ratio": 2.0, "drop_rate": 0.1}),
    (PoolFormerBlock, {"pool_size": 5, "mlp_ratio": 2.0}),
    (SwinBlock, {"window_size": 4, "shift_size": 2, "num_heads": 4}),
    (UniformerConvBlock, {"mlp_ratio": 2.0, "drop_path_rate": 0.1}),
    (UniformerAttentionBlock, {"num_heads": 4, "mlp_ratio": 2.0}),
    (VANBlock, {"mlp_ratio": 2.0}),
    (ViTBlock, {"num_heads": 4, "mlp_ratio": 2.0, "layer_scale_init_value": 0.1}),
]


@pytest.mark.parametrize("cls,kwargs", BLOCKS, ids=[c.__name__ for c, _ in BLOCKS])
def test_block_config_and_mixed_precision(cls, kwargs):
    block = cls(**kwargs)
    config = block.get_config()
    json.dumps(config)
    assert cls.from_config(config).get_config() == config
    keras.config.set_dtype_policy("mixed_float16")
    block = cls(**kwargs)
    y = block(np.random.default_rng(0).standard_normal((2, 8, 8, 16)).astype("float32"))
    assert tuple(y.shape) == (2, 8, 8, 16)
    assert keras.backend.standardize_dtype(y.dtype) == "float16"
    assert np.all(np.isfinite(np.asarray(y, "float32")))
    assert all(w.dtype == "float32" for w in block.weights)


def test_swin_window_rule_and_shift():
    # OpenSTL: 7 if it divides H, else max(4, H // 16), at most 8.
    assert [swin_window_size(h) for h in (16, 14, 64, 128, 256)] == [4, 7, 4, 8, 8]
    x = np.arange(2 * 8 * 12 * 3, dtype="float32").reshape(2, 8, 12, 3)
    windows = np.asarray(window_partition(x, 4))
    assert windows.shape == (2 * 2 * 3, 16, 3)
    # Window 1 of image 0 is rows 0-3, columns 4-7, row-major.
    np.testing.assert_array_equal(windows[1].reshape(4, 4, 3), x[0, :4, 4:8])
    np.testing.assert_array_equal(np.asarray(window_reverse(windows, 4, 8, 12)), x)
    # A map no larger than the window is one unshifted window of its size.
    block = SwinBlock(window_size=8, shift_size=4)
    block.build((None, 4, 4, 16))
    assert block.attn.window_size == (4, 4)
    assert block._effective_window(4, 4) == (4, 0)


def test_swin_shift_is_a_cyclic_roll():
    # With shift s, the block equals the unshifted block on the map rolled
    # by -s (its attention, LayerNorms and MLP commute with a roll).
    x = np.random.default_rng(1).standard_normal((1, 8, 8, 16)).astype("float32")
    plain = SwinBlock(window_size=4, shift_size=0, num_heads=4)
    shifted = SwinBlock(window_size=4, shift_size=2, num_heads=4)
    plain.build(x.shape)
    shifted.build(x.shape)
    shifted.set_weights(plain.get_weights())
    rolled = np.roll(x, (-2, -2), axis=(1, 2))
    expected = np.roll(np.asarray(plain(rolled)), (2, 2), axis=(1, 2))
    np.testing.assert_allclose(np.asarray(shifted(x)), expected, atol=1e-5)


def test_poolformer_pooling_excludes_padding():
    block = PoolFormerBlock(layer_scale_init_value=1.0)
    x = np.random.default_rng(2).standard_normal((1, 4, 4, 8)).astype("float32")
    block.build(x.shape)
    y = np.asarray(block.norm1(x))
    corner = y[0, :2, :2].mean(axis=(0, 1))  # 4 valid neighbours, not 9
    pooled = np.asarray(keras.ops.average_pool(y, 3, strides=1, padding="same"))
    np.testing.assert_allclose(pooled[0, 0, 0], corner, atol=1e-6)


def test_recursive_gated_conv_matches_numpy():
    layer = RecursiveGatedConv(order=3, kernel_size=1)
    x = np.random.default_rng(3).standard_normal((2, 3, 3, 8)).astype("float32")
    y = np.asarray(layer(x))

    def dense(d, v):
        return v @ np.asarray(d.kernel) + np.asarray(d.bias)

    fused = dense(layer.proj_in, x)
    dims = [2, 4, 8]
    p, q = fused[..., :2], fused[..., 2:]
    # A 1x1 depthwise conv is a per-channel affine map.
    kernel = np.asarray(layer.dwconv.kernel).reshape(-1)
    q = q * kernel + np.asarray(layer.dwconv.bias)
    gates = np.split(q, np.cumsum(dims)[:-1], axis=-1)
    p = p * gates[0]
    for i in range(2):
        p = dense(layer.pws[i], p) * gates[i + 1]
    np.testing.assert_allclose(y, dense(layer.proj_out, p), atol=1e-5)


def test_uniformer_block_types_follow_the_reference():
    model = SimVPBackbone(**dict(TINY, translator="uniformer"))
    kinds = [type(b).__name__ for b in model.translator.blocks]
    assert kinds == [
        "UniformerConvBlock",
        "UniformerAttentionBlock",
        "UniformerConvBlock",
    ]


def test_convmixer_ignores_mlp_ratio_and_drop_rates_like_the_reference():
    a = SimVPBackbone(**dict(TINY, mlp_ratio=2.0, translator="convmixer"))
    b = SimVPBackbone(
        **dict(TINY, mlp_ratio=8.0, translator="convmixer", drop_rate=0.5)
    )
    assert count_torch_params(a) == count_torch_params(b)
    assert a.translator.blocks[0].conv_dw.kernel.shape[0] == 11


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="Received: width=12, channel_split"):
        MultiOrderGatedAggregation().build((None, 4, 4, 12))
    with pytest.raises(ValueError, match=r"2\*\*\(order - 1\) = 8. Received: width=12"):
        RecursiveGatedConv(order=4).build((None, 4, 4, 12))
    with pytest.raises(ValueError, match="Received: width=12, window_size=8"):
        SwinBlock(window_size=8).build((None, 16, 12, 16))
    with pytest.raises(ValueError, match="Received: shift_size=4, window_size=4"):
        SwinBlock(window_size=4, shift_size=4)
    with pytest.raises(ValueError, match="Received: kernel_size=4"):
        ConvMixerBlock(kernel_size=4)
    with pytest.raises(ValueError, match="Received: pool_size=2"):
        PoolFormerBlock(pool_size=2)
    with pytest.raises(ValueError, match="input width=12, num_heads=8"):
        ViTBlock().build((None, 4, 4, 12))
    with pytest.raises(ValueError, match="static height and width"):
        MLPMixerBlock().build((None, None, 4, 8))


@keras.saving.register_keras_serializable(package="keras_svq_test")
class _DepthwiseMetaFormerBlock(MetaFormerBlock):
    """A user's block on the base: BatchNorm and a depthwise conv mixer."""

    def make_norm(self, name):
        return keras.layers.BatchNormalization(name=name, dtype=self.dtype_policy)

    def make_attention(self, input_shape):
        return keras.layers.DepthwiseConv2D(
            3, padding="same", name="attn", dtype=self.dtype_policy
        )


class TestMetaFormerBase(TestCase):
    def test_user_subclass_battery(self):
        self.run_layer_test(
            _DepthwiseMetaFormerBlock,
            {"mlp_ratio": 2.0, "drop_path_rate": 0.1},
            input_shape=(2, 4, 4, 8),
            run_saved_model=False,
            run_distribution=False,
            run_mixed_precision=False,
            run_jit=False,
        )

    def test_residual_layout(self):
        block = _DepthwiseMetaFormerBlock(mlp_ratio=2.0, layer_scale_init_value=0.5)
        x = np.random.default_rng(0).standard_normal((2, 4, 4, 8)).astype("float32")
        y = block(x, training=False)
        h = x + 0.5 * np.asarray(block.attn(block.norm1(x, training=False)))
        expected = h + 0.5 * np.asarray(block.mlp(block.norm2(h, training=False)))
        self.assertAllClose(y, expected, atol=1e-5)

    def test_mlp_ratio_must_be_positive(self):
        with pytest.raises(ValueError, match="mlp_ratio"):
            _DepthwiseMetaFormerBlock(mlp_ratio=0)
