"""Metrics: OpenSTL-compatible evaluation and streaming Keras metrics.

- `openstl_metrics(pred, true, ...)`: the counterpart of OpenSTL's `metric()` on
  channels-last numpy arrays `(N, T, H, W, C)`.
- `ForecastMSE`, `ForecastMAE`, `ForecastRMSE`, `SSIM`, `PSNR`, `LPIPS`:
  `keras.metrics.Metric`s for `compile(metrics=...)`, equal to `openstl_metrics`
  over the batches seen.
- `evaluate_forecast(model, splits)`: the dataset's metric set, overall and per
  lead time.
- `ErrorAccumulator`: masked (and optionally latitude-weighted) MSE, MAE and
  RMSE in physical units, streamed over batches; `latitude_weights(lat)`.
- `lpips_distance(a, b)`: LPIPS-alex v0.1 in Keras; `persistence_forecast`.
- Baselines and evidence: `Climatology` (training mean fields, per time-of-day
  slot), `skill_score`, and over seeds `t_interval` and `paired_t_test`.

NaN targets, and False in a boolean `mask` (True = valid), mark invalid pixels,
which every error figure leaves out.
"""

from keras_svq.metrics.climatology import Climatology
from keras_svq.metrics.climatology import skill_score
from keras_svq.metrics.error_accumulator import ErrorAccumulator
from keras_svq.metrics.error_accumulator import latitude_weights
from keras_svq.metrics.evaluator import evaluate_forecast
from keras_svq.metrics.forecast_mae import ForecastMAE
from keras_svq.metrics.forecast_mse import ForecastMSE
from keras_svq.metrics.forecast_rmse import ForecastRMSE
from keras_svq.metrics.frame_metric import FrameMetric
from keras_svq.metrics.lpips import LPIPS
from keras_svq.metrics.lpips_network import LPIPSAlex
from keras_svq.metrics.lpips_network import lpips_distance
from keras_svq.metrics.openstl_metrics import ALLOWED_METRICS
from keras_svq.metrics.openstl_metrics import openstl_metrics
from keras_svq.metrics.persistence import persistence_forecast
from keras_svq.metrics.psnr import PSNR
from keras_svq.metrics.seed_statistics import paired_t_test
from keras_svq.metrics.seed_statistics import t_interval
from keras_svq.metrics.ssim import SSIM

__all__ = [
    "ALLOWED_METRICS",
    "LPIPS",
    "PSNR",
    "SSIM",
    "Climatology",
    "ErrorAccumulator",
    "ForecastMAE",
    "ForecastMSE",
    "ForecastRMSE",
    "FrameMetric",
    "LPIPSAlex",
    "evaluate_forecast",
    "latitude_weights",
    "lpips_distance",
    "openstl_metrics",
    "paired_t_test",
    "persistence_forecast",
    "skill_score",
    "t_interval",
]
