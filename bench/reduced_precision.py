"""The skill cost of serving in bfloat16: a run's test errors in float32 and in bfloat16.

For each run folder, the model (its best weights) forecasts the run's test
split twice through `keras_svq.runtime.compiled_predictor`: as trained, in
float32, and as its bfloat16 copy (`compute_dtype="bfloat16"`, what
`keras-svq export --compute-dtype bfloat16` serves). Printed per run, in the
data's physical units over the valid target pixels: MSE and MAE of each, the
relative change of the MSE, and the RMS and largest difference between the
two forecasts. Speed is `bench/inference.py`'s business.

    python bench/reduced_precision.py RUN [RUN ...] [--json FILE]
"""

import argparse
import json
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]


def compare_precisions(model, bundle, compute_dtype="bfloat16"):
    """Test-split errors of `model` in float32 and in `compute_dtype`.

    Args:
        model: the trained float32 backbone.
        bundle: the run's `DataBundle` (test split of normalised windows,
            normaliser).
        compute_dtype: the reduced precision. Defaults to `"bfloat16"`.

    Returns:
        dict: `float32` and `compute_dtype` -> `{"mse", "mae"}`, plus
        `mse_change` (relative), `rms_difference`, `max_difference` (between
        the two forecasts) and `pixels` (valid target pixels scored).
    """
    import numpy as np

    from keras_svq import runtime

    predictors = {
        "float32": runtime.compiled_predictor(model),
        compute_dtype: runtime.compiled_predictor(model, compute_dtype=compute_dtype),
    }
    sums = {name: np.zeros(2) for name in predictors}
    squared_gap, largest, pixels = 0.0, 0.0, 0
    norm = bundle.normalizer
    for x, y in bundle.test:
        truth = norm.denormalize(np.asarray(y, "float64"))
        valid = np.isfinite(truth)
        forecasts = {
            name: norm.denormalize(np.asarray(predict(x), "float64"))[valid]
            for name, predict in predictors.items()
        }
        for name, forecast in forecasts.items():
            error = forecast - truth[valid]
            sums[name] += (np.sum(error**2), np.sum(np.abs(error)))
        gap = forecasts[compute_dtype] - forecasts["float32"]
        squared_gap += float(np.sum(gap**2))
        largest = max(largest, float(np.max(np.abs(gap), initial=0.0)))
        pixels += int(valid.sum())
    if not pixels:
        raise ValueError("The test split has no valid target pixel to score.")
    result = {
        name: {"mse": float(total[0] / pixels), "mae": float(total[1] / pixels)}
        for name, total in sums.items()
    }
    result["mse_change"] = result[compute_dtype]["mse"] / result["float32"]["mse"] - 1
    result["rms_difference"] = float(np.sqrt(squared_gap / pixels))
    result["max_difference"] = largest
    result["pixels"] = pixels
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run folders")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from keras_svq import runtime

    runtime.configure()
    from keras_svq.runs import Run

    results = {}
    print(
        "| run | MSE float32 | MSE bfloat16 | MSE change | MAE float32 | "
        "MAE bfloat16 | RMS difference | max difference |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for folder in args.runs:
        run = Run(folder)
        r = compare_precisions(run.load_model(), run.load_data())
        results[folder] = r
        f32, b16 = r["float32"], r["bfloat16"]
        print(
            f"| {folder} | {f32['mse']:.5f} | {b16['mse']:.5f} "
            f"| {100 * r['mse_change']:+.3f} % | {f32['mae']:.5f} | {b16['mae']:.5f} "
            f"| {r['rms_difference']:.4f} | {r['max_difference']:.4f} |"
        )
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
