"""How fast can SimVP-gSTA's forward pass be on this CPU? A float32 roofline.

Counts the floating-point operations of one batch-16 forward pass of the t2m
model (`weather_t2m/simvp_gsta`, 12 frames of 32x64x1) with TensorFlow's
graph profiler (`float_operation`: 2 per multiply-add of every MatMul and
convolution, 1 per element-wise op), and measures the machine's float32
matmul throughput at the shape that dominates the model (the gSTA MLP's
`(16·16·32, 256) @ (256, 2048)`) with TensorFlow (oneDNN as configured by
`keras_svq.runtime`) and, when installed, PyTorch. The quotient is the
shortest possible forward pass: no implementation, ours or the official,
can beat it on this machine in float32, so it bounds every inference
speed-up against the official code (`bench/compare_official.py`).

    python bench/roofline.py [--official-seconds 2.03] [--threads 2]

Prints the FLOPs, the measured GFLOP/s and the floor in seconds, and with
`--official-seconds` the largest speed-up any float32 implementation could
reach over the official code's measured batch-16 call.
"""

import argparse
import pathlib
import statistics
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
MLP_SHAPE = (16 * 16 * 32, 256, 2048)  # rows (batch x translator pixels), in, hidden


def _median_seconds(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def model_flops(preset, batch):
    import tensorflow as tf

    from zoo import SimVPBackbone

    model = SimVPBackbone.from_preset(preset, load_weights=False)
    spec = tf.TensorSpec((batch, *model.inputs[0].shape[1:]), "float32")
    graph = (
        tf.function(lambda x: model(x, training=False))
        .get_concrete_function(spec)
        .graph
    )
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return tf.compat.v1.profiler.profile(graph, options=options).total_float_ops


def matmul_gflops(repeats):
    import numpy as np
    import tensorflow as tf

    rows, inner, cols = MLP_SHAPE
    rng = np.random.default_rng(0)
    a = rng.standard_normal((rows, inner)).astype("float32")
    b = rng.standard_normal((inner, cols)).astype("float32")
    flops = 2.0 * rows * inner * cols
    ta, tb = tf.constant(a), tf.constant(b)

    # Ten products per call so that the dispatch is negligible.
    @tf.function
    def chain(a, b):
        return tf.add_n([tf.reduce_sum(tf.matmul(a, b * (1.0 + i))) for i in range(10)])

    seconds = _median_seconds(lambda: chain(ta, tb).numpy(), repeats)
    results = {"tensorflow": 10 * flops / seconds / 1e9}
    try:
        import torch
    except ImportError:
        return results
    pa, pb = torch.from_numpy(a), torch.from_numpy(b)
    results["torch"] = flops / _median_seconds(lambda: torch.mm(pa, pb), repeats) / 1e9
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="weather_t2m/simvp_gsta")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--official-seconds", type=float)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO / "bench"))
    import bench_runtime

    # In a fresh process only: inside another program (the tests) TensorFlow
    # is loaded and its settings are that program's.
    applied = (
        bench_runtime.configure(threads=args.threads)
        if "tensorflow" not in sys.modules
        else "TensorFlow already imported: unchanged"
    )
    sys.path.insert(0, str(REPO))
    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        pass
    flops = model_flops(args.preset, args.batch_size)
    rates = matmul_gflops(args.repeats)
    best = max(rates.values())
    floor = flops / (best * 1e9)
    print(f"runtime settings: {applied}")
    print(
        f"{args.preset}, batch {args.batch_size}: {flops / 1e9:.1f} GFLOP per forward pass"
    )
    for name, rate in rates.items():
        print(
            f"float32 matmul {MLP_SHAPE[0]}x{MLP_SHAPE[1]} @ {MLP_SHAPE[1]}x{MLP_SHAPE[2]}, {name}: {rate:.1f} GFLOP/s"
        )
    print(f"floor (all FLOPs at the best matmul rate): {floor:.2f} s per call")
    if args.official_seconds:
        print(
            f"official {args.official_seconds:.2f} s per call: at most "
            f"{args.official_seconds / floor:.2f}x faster in float32 on this machine"
        )
    return {"flops": flops, "rates": rates, "floor_s": floor}


if __name__ == "__main__":
    main()
