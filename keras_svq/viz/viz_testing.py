"""Helpers shared by the `keras_svq.viz` tests: real sample windows, PNG checks, a tiny run."""

import pathlib

import numpy as np

from keras_svq.testing.tiny_models import tiny_simvp_config

TINY_RUN_CONFIG = {
    "backbone": "SimVPBackbone",
    "data": {
        "sample": "era5_t2m_uk",
        "input_length": 4,
        "output_length": 4,
        "batch_size": 8,
        "stride": 16,
        "crop": [16, 16],
    },
    # The shared tiny SimVP, with SimVP's default MLP ratio and 64 codes.
    "model": tiny_simvp_config(
        mlp_ratio=8.0,
        quantizer={"name": "svq", "codebook_size": 64, "hidden_dim": 16},
    ),
    "training": {
        "epochs": 1,
        "learning_rate": 0.005,
        "steps_per_epoch": 2,
        "validation_steps": 1,
        "seed": 0,
    },
}


def era5_windows(num_examples=4, input_length=4, output_length=6):
    """Real ERA5 test windows `(x, y)` in kelvin and the splits they come from."""
    from keras_svq.data import load_sample

    splits = load_sample(
        "era5_t2m_uk",
        input_length=input_length,
        output_length=output_length,
        batch_size=8,
        stride=24,
        seed=0,
    )
    x, y = splits.arrays("test")
    norm = splits.normalizer
    return (
        norm.denormalize(x[:num_examples]),
        norm.denormalize(y[:num_examples]),
        splits,
    )


def taxi_windows(input_length=4, output_length=4):
    """All real NYC taxi test windows `(x, y)` in trips per 30 min, and their splits.

    Windows 0-5 of this test split hold the missing daylight-saving hour of
    13 March 2016 (see `keras_svq/assets/ATTRIBUTION.md`).
    """
    from keras_svq.data import load_sample

    splits = load_sample(
        "nyc_taxi_flow",
        input_length=input_length,
        output_length=output_length,
        batch_size=16,
        seed=0,
    )
    x, y = splits.arrays("test")
    norm = splits.normalizer
    return norm.denormalize(x), norm.denormalize(y), splits


def colorbar_labels(figure):
    """The labels of every colour bar of a figure (subfigures included), in drawing order."""
    return [
        ax.get_ylabel() or ax.get_xlabel()
        for ax in figure.axes
        if getattr(ax, "_colorbar", None) is not None
    ]


def assert_text_inside(figure, dpi=100):
    """Everything drawn (labels, titles, tick labels, colour bars) lies inside the figure.

    Uses matplotlib's own tight bounding boxes, which count only the ticks
    actually drawn; on failure it names the axes (by their labels) that spill.
    """
    figure.set_dpi(dpi)
    renderer = figure.canvas.get_renderer()
    figure.draw(renderer)
    box = figure.bbox

    def outside(extent):
        return (
            extent.x0 < box.x0 - 1
            or extent.y0 < box.y0 - 1
            or extent.x1 > box.x1 + 1
            or extent.y1 > box.y1 + 1
        )

    spilling = [
        ax.get_ylabel() or ax.get_xlabel() or ax.get_title() or repr(ax)
        for ax in figure.axes
        if ax.get_visible() and outside(ax.get_tightbbox(renderer))
    ]
    titles = [figure._suptitle] + [sub._suptitle for sub in figure.subfigs]
    spilling += [
        title.get_text()
        for title in titles
        if title is not None and outside(title.get_window_extent(renderer))
    ]
    assert not spilling, f"cut off at the figure edge: {spilling}"


def assert_png(path, figure, dpi=100):
    """The file is a non-empty PNG of the figure's size in pixels."""
    from PIL import Image

    path = pathlib.Path(path)
    assert path.is_file() and path.stat().st_size > 1000, path
    width, height = figure.get_size_inches() * dpi
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert abs(image.size[0] - width) <= 1 and abs(image.size[1] - height) <= 1, (
            image.size
        )


def train_tiny_run(run_dir, **changes):
    """Trains `TINY_RUN_CONFIG` (one epoch of two steps) into `run_dir`."""
    import copy

    from keras_svq.training import config as config_lib
    from keras_svq.training import trainer

    config = copy.deepcopy(TINY_RUN_CONFIG)
    for section, values in changes.items():
        config[section].update(values)
    trainer.train(config_lib.resolve(config), run_dir, verbose=0)
    return pathlib.Path(run_dir)


def random_code_weights(num_vectors=256, codebook_size=64, seed=0):
    """Sparse-ish code weights `(N, K)`: a few large entries per row over small noise."""
    rng = np.random.default_rng(seed)
    weights = rng.normal(0, 0.01, (num_vectors, codebook_size))
    heavy = rng.integers(0, codebook_size // 4, (num_vectors, 3))
    np.put_along_axis(weights, heavy, rng.normal(0, 1, heavy.shape), axis=-1)
    return weights.astype("float32")
