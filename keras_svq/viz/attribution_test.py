import keras
import numpy as np
import pytest

from keras_svq.testing import tiny_simvp
from keras_svq.viz import attribution
from keras_svq.viz.figures import save_figure
from keras_svq.viz.viz_testing import assert_png


def _local_conv_model():
    """Two 3x3x3 convolutions: each output pixel sees +-2 frames/rows/columns."""
    inputs = keras.Input((4, 16, 16, 1), name="frames")
    hidden = keras.layers.Conv3D(
        4, 3, padding="same", activation="tanh", name="conv_1"
    )(inputs)
    outputs = keras.layers.Conv3D(1, 3, padding="same", name="conv_2")(hidden)
    return keras.Model(inputs, outputs)


def _tiny_simvp(quantizer=None):
    # SimVP's default MLP ratio (8), as this test has always used.
    return tiny_simvp(mlp_ratio=8.0, quantizer=quantizer)


@pytest.fixture(scope="module")
def inputs():
    return np.random.default_rng(0).normal(size=(2, 4, 16, 16, 1)).astype("float32")


def test_region_score_is_zero_outside_the_receptive_field(inputs):
    model = _local_conv_model()
    maps = attribution.saliency_maps(model, inputs, region=(6, 8, 6, 8), lead=1)
    assert maps.shape == (2, 4, 16, 16)
    assert np.isfinite(maps).all()
    # Output frame 0, rows/cols 6..7 depend on input frames 0..2 (2 convs, +-1 each;
    # frames -1, -2 are padding) and rows/cols 4..9: the last frame and the border not at all.
    inside = np.zeros_like(maps, dtype=bool)
    inside[:, 0:3, 4:10, 4:10] = True
    assert np.all(maps[~inside] == 0)
    assert np.all(maps[inside].reshape(2, -1).max(axis=-1) > 0)
    smooth = attribution.attribution_maps(
        "smoothgrad", model, inputs, region="6:8,6:8", lead=1, smooth_samples=4, seed=0
    )
    assert np.all(smooth[~inside] == 0) and np.isfinite(smooth).all()
    again = attribution.smoothgrad_maps(
        model, inputs, region="6:8,6:8", lead=1, smooth_samples=4, seed=0
    )
    np.testing.assert_allclose(smooth, again)


def test_simvp_saliency_smoothgrad_and_gradcam(inputs, tmp_path):
    model = _tiny_simvp({"name": "svq", "codebook_size": 32, "hidden_dim": 8})
    saliency = attribution.saliency_maps(
        model, inputs, region=(4, 8, 4, 8), lead=3, normalize=True
    )
    assert saliency.shape == (2, 4, 16, 16)
    assert np.isfinite(saliency).all() and saliency.max() <= 1.0 + 1e-6
    per_channel = attribution.saliency_maps(
        model, inputs[0], region=(4, 8, 4, 8), lead=3, keep_channels=True
    )
    assert per_channel.shape == (1, 4, 16, 16, 1)
    # Default Grad-CAM layer of SimVP+SVQ: the quantizer on the per-frame latents.
    assert attribution.default_gradcam_layer(model) == model.quantizer.name
    cams = attribution.gradcam_maps(model, inputs, region=(4, 8, 4, 8), lead=3)
    assert cams.shape == (2, 4, 16, 16) and np.isfinite(cams).all()
    cams = attribution.attribution_maps(
        "gradcam", model, inputs[:1], region=(4, 8, 4, 8), lead=3, layer="encoder"
    )
    assert cams.shape == (1, 4, 16, 16)
    figure = attribution.plot_attribution(
        inputs[0], saliency[0], region=(4, 8, 4, 8), lead=3
    )
    assert_png(save_figure(figure, tmp_path / "saliency.png"), figure)


def test_errors_name_the_problem(inputs):
    model = _local_conv_model()
    with pytest.raises(ValueError, match=r"`lead` must be in \[1, 4\]"):
        attribution.saliency_maps(model, inputs, region=(0, 2, 0, 2), lead=5)
    with pytest.raises(ValueError, match="outside the 16x16"):
        attribution.saliency_maps(model, inputs, region=(0, 20, 0, 2), lead=1)
    with pytest.raises(ValueError, match="softmax"):
        attribution.attribution_maps(
            "scorecam", model, inputs, region=(0, 2, 0, 2), lead=1
        )
    with pytest.raises(ValueError, match="Valid:"):
        attribution.attribution_maps("lime", model, inputs, region=(0, 2, 0, 2), lead=1)
    with pytest.raises(ValueError, match="ROW_START:ROW_STOP"):
        attribution.parse_region("1-2,3")
    with pytest.raises(ValueError, match="No layer named"):
        attribution.gradcam_maps(
            model, inputs, region=(0, 2, 0, 2), lead=1, layer="nope"
        )
    with pytest.raises(ValueError, match="1-based"):
        attribution.RegionScore((0, 2, 0, 2), lead=0)
