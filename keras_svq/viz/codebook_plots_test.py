import keras
import numpy as np
import pytest

from keras_svq import SparseVectorQuantizer
from keras_svq.viz import codebook_plots
from keras_svq.viz.figures import save_figure
from keras_svq.viz.viz_testing import assert_png
from keras_svq.viz.viz_testing import random_code_weights


def test_views_of_a_real_quantizer(tmp_path):
    quantizer = SparseVectorQuantizer(codebook_size=64, hidden_dim=16)
    latents = np.random.default_rng(0).normal(size=(2, 8, 8, 4)).astype("float32")
    quantizer(latents)
    weights = keras.ops.convert_to_numpy(quantizer.encode(latents))
    codebook = keras.ops.convert_to_numpy(quantizer.codebook)
    for name, figure in {
        "hist": codebook_plots.plot_code_weight_histogram(weights),
        "usage": codebook_plots.plot_codebook_usage(weights),
        "projection": codebook_plots.plot_codebook_projection(codebook, weights),
    }.items():
        assert_png(save_figure(figure, tmp_path / f"{name}.png"), figure)


def test_usage_counts_and_share_agree_with_codebook_usage():
    from keras_svq.quantizers import codebook_usage

    weights = random_code_weights()
    counts = codebook_plots.code_usage_counts(weights, 2.0)
    probs = counts / counts.sum()
    perplexity = np.exp(-np.sum(probs * np.log(probs + 1e-10)))
    assert perplexity == pytest.approx(codebook_usage(weights)["perplexity_2"])
    share = codebook_plots.weight_share_curve(weights)
    assert share[-1] == pytest.approx(1.0) and np.all(np.diff(share) >= 0)
    # Only the first quarter of the codes carry large weights.
    assert share[15] > 0.8 and share[15] - share[14] > share[17] - share[16]


def test_projection_is_pca():
    codebook = np.random.default_rng(0).normal(size=(50, 3)) * np.array([5.0, 1.0, 0.1])
    xy = codebook_plots.codebook_projection(codebook)
    assert xy.shape == (50, 2)
    assert np.var(xy[:, 0]) > np.var(xy[:, 1])
    with pytest.raises(ValueError, match="codes but the codebook has"):
        codebook_plots.plot_codebook_projection(
            codebook, random_code_weights(codebook_size=8)
        )


def test_sparsity_over_training(tmp_path):
    rows = [
        {
            "epoch": e,
            "loss": 1.0 / e,
            "svq_near_zero_fraction": 0.1 * e,
            "svq_perplexity_2": 30.0 - e,
            "svq_perplexity_3": 20.0 - e,
        }
        for e in range(1, 5)
    ]
    figure = codebook_plots.plot_sparsity_over_training(rows)
    assert len(figure.axes[1].get_lines()) == 2
    assert_png(save_figure(figure, tmp_path / "sparsity.png"), figure)
    history = {"loss": [1, 2], "svq_near_zero_fraction": [0.1, 0.2]}
    codebook_plots.plot_sparsity_over_training(history)
    with pytest.raises(ValueError, match="CodebookUsageCallback"):
        codebook_plots.plot_sparsity_over_training([{"epoch": 1, "loss": 1.0}])
