"""WeatherBench (5.625 deg) from its netCDF layout, streamed from disk.

Files: `<root>/<variable_dir>/<variable_dir>_<year>_5.625deg.nc`, one per year,
where `<root>` is `data_dir`, `data_dir/weather_5_625deg` or `data_dir/weather`
(OpenSTL's layouts). Variables are read lazily (netCDF-4 through h5py), so the
decades of WeatherBench-M never have to fit in memory: statistics are computed
in one streaming pass over the training years, and windows are read per batch.

Indexing follows the reference (OpenSTL `dataloader_weather.py`): the frames of
a split are the years' hours in order, minus the last one, every `step` hours;
an example anchored at `i` has inputs `i + idx_in` and targets `i + idx_out`,
for `i` in `range(-idx_in[0], num_frames - idx_out[-1] - 1)`.

- WeatherBench-S (`weather_t2m`, `weather_r`, `weather_uv10`, `weather_tcc`):
  12 -> 12 hourly (`idx_in = -11..0`, `idx_out = 1..12`), train 2010-2015,
  val 2016, test 2017-2018. Relative humidity keeps the last pressure level,
  as the reference.
- WeatherBench-M (`weather_mv`): r, t, u, v at 150/500/850 hPa (12 channels,
  variable-major), `step=6`, `idx_in = [-17, -11, -5, 0]`,
  `idx_out = [1, 7, 13, 19]` (on the 6-hourly frames), train 1979-2015.
- WeatherBench-HMV (`weather_hmv`): z, pv, r, q, t, u, v, vo at 13 pressure
  levels (50-1000 hPa) then u10, v10, t2m, tisr, tcc, tp: 110 channels, the
  same 6-hourly indexing, train 1980-2015.

Deviation from the reference, on purpose: every split is z-scored per channel
with the *training* mean and standard deviation (the reference normalised the
validation and test years with their own statistics).
"""

import logging
import pathlib

import numpy as np

from keras_svq.data.dataset_info import DATASETS
from keras_svq.data.dataset_info import HMV_LEVELS
from keras_svq.data.netcdf import read_variable
from keras_svq.data.normalizer import Normalizer
from keras_svq.data.splits import SPLIT_NAMES
from keras_svq.data.splits import Splits
from keras_svq.data.windows import WindowSource

logger = logging.getLogger(__name__)

RESOLUTION = "5.625deg"
VARIABLE_DIRS = {
    "t2m": "2m_temperature",
    "r": "relative_humidity",
    "u10": "10m_u_component_of_wind",
    "v10": "10m_v_component_of_wind",
    "tcc": "total_cloud_cover",
    "t": "temperature",
    "u": "u_component_of_wind",
    "v": "v_component_of_wind",
    "z": "geopotential",
    "pv": "potential_vorticity",
    "q": "specific_humidity",
    "vo": "vorticity",
    "tisr": "toa_incident_solar_radiation",
    "tp": "total_precipitation",
}
_MV_LEVELS = (150, 500, 850)
_SIX_HOURLY = {"step": 6, "idx_in": (-17, -11, -5, 0), "idx_out": (1, 7, 13, 19)}

# Per dataset: (variable, levels) pairs — levels None (single level), "last"
# (the last pressure level, as the reference for humidity) or a tuple of hPa —
# and the reference's time indexing.
WEATHER_SPECS = {
    "weather_t2m": {"variables": (("t2m", None),)},
    "weather_r": {"variables": (("r", "last"),)},
    "weather_uv10": {"variables": (("u10", None), ("v10", None))},
    "weather_tcc": {"variables": (("tcc", None),)},
    "weather_mv": {
        "variables": tuple((v, _MV_LEVELS) for v in ("r", "t", "u", "v")),
        **_SIX_HOURLY,
    },
    "weather_hmv": {
        "variables": tuple(
            (v, HMV_LEVELS) for v in ("z", "pv", "r", "q", "t", "u", "v", "vo")
        )
        + tuple((v, None) for v in ("u10", "v10", "t2m", "tisr", "tcc", "tp")),
        **_SIX_HOURLY,
    },
}


def expected_file(root, variable, year):
    folder = VARIABLE_DIRS[variable]
    return pathlib.Path(root) / folder / f"{folder}_{year}_{RESOLUTION}.nc"


def _find_root(data_dir, variable, year):
    data_dir = pathlib.Path(data_dir)
    for root in (data_dir, data_dir / "weather_5_625deg", data_dir / "weather"):
        if expected_file(root, variable, year).exists():
            return root
    return data_dir


class WeatherFrames:
    """Lazy frames `(N, H, W, C)` of some variables over some years, every `step` hours.

    Args:
        root: path. The folder holding one sub-folder per variable.
        variables: tuple of `(variable, levels)` (see `WEATHER_SPECS`).
        years: tuple of int. Years to concatenate, in order.
        step: int. Keep every `step`-th hour. Defaults to 1.
    """

    def __init__(self, root, variables, years, step=1):
        self.root = pathlib.Path(root)
        self.variables = variables
        self.years = tuple(years)
        self.step = int(step)
        missing = [
            expected_file(root, v, y)
            for v, _ in variables
            for y in self.years
            if not expected_file(root, v, y).exists()
        ]
        if missing:
            raise FileNotFoundError(
                f"{len(missing)} WeatherBench file(s) missing under {self.root}, e.g. "
                f"{missing[0]}. Expected <root>/<variable_dir>/<variable_dir>_<year>_{RESOLUTION}.nc "
                f"for variables {[VARIABLE_DIRS[v] for v, _ in variables]} and years "
                f"{self.years[0]}-{self.years[-1]}, with <root> the data_dir or its "
                "weather_5_625deg/ or weather/ sub-folder."
            )
        # One lazy netCDF variable per (year, variable), plus its level indices.
        self._files = []
        lengths = []
        for year in self.years:
            row = []
            for name, levels in variables:
                path = expected_file(root, name, year)
                var = read_variable(path, name)
                row.append((var, self._level_index(path, name, var, levels)))
            counts = {len(v) for v, _ in row}
            if len(counts) != 1:
                raise ValueError(
                    f"Variables of year {year} have different lengths {counts}."
                )
            self._files.append(row)
            lengths.append(counts.pop())
        self._starts = np.concatenate([[0], np.cumsum(lengths)])
        total = int(self._starts[-1])
        # As the reference: `isel(time=slice(None, -1, step))`.
        self._hours = np.arange(0, max(total - 1, 0), self.step, dtype="int64")
        var0, lev0 = self._files[0][0]
        spatial = var0.shape[-2:]
        channels = sum(1 if lev is None else len(lev) for _, lev in self._files[0])
        self.shape = (len(self._hours),) + tuple(spatial) + (channels,)
        self.dtype = np.dtype("float32")

    @staticmethod
    def _level_index(path, name, var, levels):
        if len(var.shape) == 3:
            return None
        if levels == "last":
            return [var.shape[1] - 1]
        if levels is None:
            raise ValueError(f"{path}: {name!r} has pressure levels; say which to use.")
        present = np.asarray(read_variable(path, "level")[:]).astype("int64").tolist()
        absent = [lev for lev in levels if lev not in present]
        if absent:
            raise ValueError(
                f"{path}: levels {absent} hPa are not in the file. Levels present: {present}."
            )
        return [present.index(lev) for lev in levels]

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, index):
        if isinstance(index, slice):
            index = np.arange(*index.indices(len(self)))
        index = np.asarray(index, dtype="int64")
        hours = self._hours[index]
        out = np.empty((len(hours),) + self.shape[1:], "float32")
        file_of = np.searchsorted(self._starts, hours, side="right") - 1
        for f in np.unique(file_of):
            rows = np.flatnonzero(file_of == f)
            local = hours[rows] - self._starts[f]
            parts = []
            for var, levels in self._files[f]:
                data = var[local]
                if levels is None:
                    data = data[..., None] if data.ndim == 3 else data
                else:
                    data = np.moveaxis(data[:, levels], 1, -1)
                parts.append(data)
            out[rows] = np.concatenate(parts, axis=-1)
        return out

    def moments(self, chunk=2048):
        """Per-channel `(count, sum, sum of squares)` in one streaming pass."""
        channels = self.shape[-1]
        count, total, total_sq = 0, np.zeros(channels), np.zeros(channels)
        for lo in range(0, len(self), chunk):
            block = self[np.arange(lo, min(lo + chunk, len(self)))].astype("float64")
            if not np.isfinite(block).all():
                bad = np.argwhere(~np.isfinite(block))
                raise ValueError(
                    f"{len(bad)} NaN/Inf values in the training frames {lo}..{lo + len(block) - 1} "
                    f"(first at frame {lo + bad[0][0]}, row {bad[0][1]}, col {bad[0][2]}, channel "
                    f"{bad[0][3]}) of {self.root}. Fix or fill the files before training."
                )
            block = block.reshape(-1, channels)
            count += block.shape[0]
            total += block.sum(axis=0)
            total_sq += np.square(block).sum(axis=0)
        return count, total, total_sq


def _years(span):
    start, end = (int(y) for y in span)
    return tuple(range(start, end + 1))


def load_weatherbench(
    data_dir,
    *,
    name,
    batch_size,
    seed=None,
    input_length=None,
    output_length=None,
    idx_in=None,
    idx_out=None,
    step=None,
    years=None,
    cache=False,
    drop_remainder=False,
):
    """A WeatherBench dataset (`weather_t2m`, `weather_r`, `weather_uv10`, `weather_tcc`, `weather_mv`, `weather_hmv`).

    Args:
        data_dir: path. See the module docstring for the layout.
        name: str. Which dataset (a key of `WEATHER_SPECS`).
        batch_size: int. Examples per batch.
        seed: int or None. Makes shuffling reproducible.
        input_length, output_length: int or None. Contiguous hourly (`step`)
            windows `-T_in+1..0 -> 1..T_out`; default to the table's lengths.
            Ignored when `idx_in`/`idx_out` are given.
        idx_in, idx_out: sequences of int or None. Explicit frame offsets (the
            reference's `idx_in`/`idx_out`).
        step: int or None. Hours between frames (6 for `weather_mv` and
            `weather_hmv`, else 1).
        years: dict split -> `(first, last)` years, or None for the table's.
        cache: bool. Keep decoded windows in memory (only for data that fit).
        drop_remainder: bool. Drop the last partial training batch.

    Returns:
        `Splits` of z-scored `(B, T_in, 32, 64, C)` -> `(B, T_out, 32, 64, C)`,
        with the training statistics in `splits.normalizer` (physical units:
        `splits.info.units`).
    """
    spec = WEATHER_SPECS[name]
    info = DATASETS[name]
    step = spec.get("step", 1) if step is None else int(step)
    if idx_in is None or idx_out is None:
        if input_length is None and output_length is None and "idx_in" in spec:
            idx_in, idx_out = spec["idx_in"], spec["idx_out"]
        else:
            t_in = info.input_length if input_length is None else int(input_length)
            t_out = info.output_length if output_length is None else int(output_length)
            idx_in, idx_out = tuple(range(1 - t_in, 1)), tuple(range(1, t_out + 1))
    idx_in = np.asarray(idx_in, dtype="int64")
    idx_out = np.asarray(idx_out, dtype="int64")
    spans = dict(info.splits if years is None else years)
    first_var = spec["variables"][0][0]
    root = _find_root(data_dir, first_var, _years(spans["train"])[0])
    frames = {
        split: WeatherFrames(root, spec["variables"], _years(spans[split]), step)
        for split in SPLIT_NAMES
    }
    logger.info(
        "Computing %s training statistics over %d frames.", name, len(frames["train"])
    )
    normalizer = Normalizer.from_moments(*frames["train"].moments())
    sources = {}
    for split, split_frames in frames.items():
        anchors = np.arange(
            -idx_in[0], len(split_frames) - idx_out[-1] - 1, dtype="int64"
        )
        if split == "train" and not len(anchors):
            raise ValueError(
                f"The {split} years {spans[split]} give {len(split_frames)} frames, fewer than "
                f"one example needs ({int(idx_out[-1] - idx_in[0] + 2)})."
            )
        sources[split] = WindowSource(
            split_frames, anchors, idx_in, idx_out, normalizer=normalizer
        )
    info = info.replace(
        input_length=len(idx_in),
        output_length=len(idx_out),
        frame_shape=frames["train"].shape[1:],
        splits=spans,
        time_step=f"{step}h",
    )
    return Splits.from_sources(
        sources,
        normalizer=normalizer,
        info=info,
        batch_size=batch_size,
        seed=seed,
        cache=cache,
        drop_remainder=drop_remainder,
    )
