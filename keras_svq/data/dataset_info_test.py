"""The table of dataset facts agrees with the reference's `dataset_constant.py`."""

import pytest

from keras_svq.data import BENCHMARKS
from keras_svq.data import DATASETS
from keras_svq.data import SAMPLES
from keras_svq.data import get_info

# (frame shape (H, W, C), T_in, T_out, metrics) from OpenSTL's dataset_parameters,
# its per-frame-sum MSE/MAE (`spatial_norm=False`) named `frame_mse`/`frame_mae`.
REFERENCE = {
    "weather_t2m": ((32, 64, 1), 12, 12, ("mse", "rmse", "mae")),
    "weather_r": ((32, 64, 1), 12, 12, ("mse", "rmse", "mae")),
    "weather_uv10": ((32, 64, 2), 12, 12, ("mse", "rmse", "mae")),
    "weather_tcc": ((32, 64, 1), 12, 12, ("mse", "rmse", "mae")),
    "weather_mv": ((32, 64, 12), 4, 4, ("mse", "rmse", "mae")),
    "weather_hmv": ((32, 64, 110), 4, 4, ("mse", "rmse", "mae")),
    "taxibj": ((32, 32, 2), 4, 4, ("frame_mse", "frame_mae", "ssim", "psnr")),
    "mmnist": ((64, 64, 1), 10, 10, ("frame_mse", "frame_mae", "ssim", "psnr")),
    "kth": ((128, 128, 1), 10, 20, ("frame_mse", "frame_mae", "ssim", "psnr", "lpips")),
    "kitticaltech": (
        (128, 160, 3),
        10,
        1,
        ("frame_mse", "frame_mae", "ssim", "psnr", "lpips"),
    ),
    "human": ((256, 256, 3), 4, 4, ("frame_mse", "frame_mae", "ssim", "psnr", "lpips")),
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_matches_reference(name):
    info = DATASETS[name]
    shape, t_in, t_out, metrics = REFERENCE[name]
    assert (info.frame_shape, info.input_length, info.output_length, info.metrics) == (
        shape,
        t_in,
        t_out,
        metrics,
    )
    assert len(info.variables) == len(info.units) == shape[-1]
    assert info.spatial_norm == name.startswith("weather")


def test_every_loader_has_facts():
    assert set(BENCHMARKS) | set(SAMPLES) == set(DATASETS)
    assert DATASETS["weather_t2m"].splits["test"] == ("2017", "2018")


def test_unknown_name():
    with pytest.raises(ValueError, match="Valid names"):
        get_info("weather")
