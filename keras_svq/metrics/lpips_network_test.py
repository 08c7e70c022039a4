"""LPIPS-alex against the official example scores (fixtures in `testdata/`, BSD-2)."""

import pathlib

import numpy as np
import pytest

from keras_svq.metrics import LPIPSAlex
from keras_svq.metrics import lpips_distance
from keras_svq.metrics import openstl_metrics

TESTDATA = pathlib.Path(__file__).parent / "testdata"


def _image(name):
    import matplotlib.image

    return np.asarray(matplotlib.image.imread(TESTDATA / name), "float32")[
        ..., :3
    ]  # RGB in [0, 1]


def test_official_example_pairs():
    ref, p0, p1 = _image("ex_ref.png"), _image("ex_p0.png"), _image("ex_p1.png")
    # The official `lpips` package scores these pairs 0.722 and 0.138.
    np.testing.assert_allclose(lpips_distance(ref, p0), 0.7219, atol=1e-3)
    np.testing.assert_allclose(lpips_distance(ref, p1), 0.1376, atol=1e-3)
    # Not always exactly 0: oneDNN may round the two images of one batch
    # differently (seen: 3e-15 on a loaded machine).
    assert 0.0 <= lpips_distance(ref, ref) < 1e-6


def test_value_ranges_and_batches():
    ref, p0 = _image("ex_ref.png"), _image("ex_p0.png")
    batch = lpips_distance(np.stack([ref, ref]), np.stack([p0, ref]))
    assert batch.shape == (2,)
    np.testing.assert_allclose(
        batch[0],
        lpips_distance(ref * 2 - 1, p0 * 2 - 1, value_range=(-1, 1)),
        rtol=1e-5,
    )


def test_grayscale_is_repeated_to_rgb():
    ref, p0 = _image("ex_ref.png")[..., :1], _image("ex_p0.png")[..., :1]
    np.testing.assert_allclose(
        lpips_distance(ref, p0),
        lpips_distance(np.repeat(ref, 3, -1), np.repeat(p0, 3, -1)),
        rtol=1e-5,
    )


def test_openstl_metrics_lpips_averages_frames():
    ref, p0, p1 = _image("ex_ref.png"), _image("ex_p0.png"), _image("ex_p1.png")
    true = np.stack([np.stack([ref, ref])])  # (1, 2, 64, 64, 3)
    pred = np.stack([np.stack([p0, p1])])
    got = openstl_metrics(pred, true, metrics=("lpips",))["lpips"]
    expected = (lpips_distance(p0, ref) + lpips_distance(p1, ref)) / 2
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_layer_config_and_errors():
    layer = LPIPSAlex()
    assert LPIPSAlex.from_config(layer.get_config()).weights_path is None
    with pytest.raises(ValueError, match="same shape"):
        lpips_distance(np.zeros((8, 8, 3)), np.zeros((8, 8, 1)))
