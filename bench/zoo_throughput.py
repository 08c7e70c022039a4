"""Throughput and size of every zoo model on the WeatherBench-S t2m shape.

For each model of the paper's comparison (SimVP with each of the 13
translators, TAU, and the 8 recurrent baselines, all with the official t2m
settings from the presets) it builds the model, counts its parameters as
PyTorch does, and times `fit` (training samples/s) and `predict` (inference
samples/s) on random in-memory batches of 12 frames of 32x64x1. The table
shows OpenSTL's published parameter counts, FLOPs and V100 inference FPS
beside ours, so accuracy (the published MSE, also shown) can be weighed
against cost.

    python bench/zoo_throughput.py [--batch 4] [--steps 3] [--models simvp_gsta convlstm]

Timings are for this machine's CPU (or the default accelerator), so compare
rows of one run with each other, not with the V100 column.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# OpenSTL docs/en/model_zoos/weather_benchmarks.md, t2m at 5.625 deg
# (chengtan9907/OpenSTL @ 0d74406): params (M), FLOPs (G), V100 FPS, MSE.
PUBLISHED = {
    "convlstm": (14.98, 136.0, 46, 1.521),
    "phydnet": (3.09, 36.8, 177, 285.9),
    "predrnn": (23.57, 278.0, 22, 1.331),
    "predrnnpp": (38.31, 413.0, 15, 1.634),
    "mim": (37.75, 109.0, 126, 1.784),
    "mau": (5.46, 39.6, 237, 1.251),
    "predrnnv2": (23.59, 279.0, 22, 1.545),
    "simvp_incepu": (14.67, 8.03, 160, 1.238),
    "simvp_gsta": (12.76, 7.01, 504, 1.105),
    "simvp_vit": (12.41, 7.99, 432, 1.146),
    "simvp_swin": (12.42, 6.88, 581, 1.143),
    "simvp_uniformer": (12.02, 7.45, 465, 1.204),
    "simvp_mlpmixer": (11.10, 5.92, 713, 1.255),
    "simvp_convmixer": (1.13, 0.95, 1705, 1.267),
    "simvp_poolformer": (9.98, 5.61, 722, 1.156),
    "simvp_convnext": (10.09, 5.66, 689, 1.277),
    "simvp_van": (12.15, 6.70, 523, 1.150),
    "simvp_hornet": (12.42, 6.84, 517, 1.201),
    "simvp_moganet": (12.76, 7.01, 416, 1.152),
    "tau": (12.22, 6.70, 511, 1.162),
    "e3dlstm": (None, None, None, None),  # not in OpenSTL's t2m table
    # The SVQ paper's Table (WeatherBench-S t2m): MSE 1.018 with SVQ.
    "simvp_gsta_svq_frozen": (None, None, None, 1.018),
}


def _time_fit_and_predict(model, batch, steps):
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    shape = model.input_shape[1:]
    out_shape = model.output_shape[1:]
    x = rng.standard_normal((batch * (steps + 1),) + shape).astype("float32")
    y = rng.standard_normal((batch * (steps + 1),) + out_shape).astype("float32")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    model.fit(x[:batch], y[:batch], batch_size=batch, verbose=0)  # build + trace
    start = time.perf_counter()
    model.fit(x[batch:], y[batch:], batch_size=batch, epochs=1, verbose=0)
    train = batch * steps / (time.perf_counter() - start)
    model.predict(x[:batch], batch_size=batch, verbose=0)
    start = time.perf_counter()
    model.predict(x[batch:], batch_size=batch, verbose=0)
    infer = batch * steps / (time.perf_counter() - start)
    return train, infer


def main():
    import keras

    from keras_svq.training import trainer
    from zoo import count_torch_params
    from zoo.presets import list_presets
    from zoo.presets import load_preset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument(
        "--models",
        nargs="+",
        help="model names (default: every weather_t2m model in PUBLISHED)",
    )
    parser.add_argument(
        "--no-timing", action="store_true", help="parameter counts only"
    )
    args = parser.parse_args()
    available = {
        name.split("/", 1)[1]
        for name in list_presets()
        if name.startswith("weather_t2m/")
    }
    models = args.models or [m for m in PUBLISHED if m in available]
    unknown = sorted(set(models) - available)
    if unknown:
        parser.error(f"no weather_t2m preset for {unknown}; have {sorted(available)}")
    print(
        f"{'model':<24} {'params':>11} {'published':>9} {'FLOPs(G)':>8} {'V100 FPS':>8} "
        f"{'pub. MSE':>8} {'train/s':>8} {'infer/s':>8}"
    )
    for name in models:
        config = load_preset(f"weather_t2m/{name}")
        model = trainer.build_model(config)
        params = count_torch_params(model)
        pub_params, flops, fps, mse = PUBLISHED.get(name, (None,) * 4)
        train = infer = float("nan")
        if not args.no_timing:
            train, infer = _time_fit_and_predict(model, args.batch, args.steps)

        def fmt(value, spec, width):
            text = "-" if value is None else format(value, spec)
            return f"{text:>{width}}"

        print(
            f"{name:<24} {params:>11,} {fmt(pub_params, '.2f', 8)}{' ' if pub_params is None else 'M'} "
            f"{fmt(flops, '.2f', 8)} {fmt(fps, 'd', 8)} {fmt(mse, '.3f', 8)} "
            f"{train:>8.2f} {infer:>8.2f}",
            flush=True,
        )
        keras.backend.clear_session()


if __name__ == "__main__":
    main()
