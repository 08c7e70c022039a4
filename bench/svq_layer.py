"""SVQ layer: fast (folded codebook) path against the explicit `w @ C` path.

Forward + backward time and peak activation memory on the WeatherBench-S
latent (N = 16*12*16*32 vectors, D = 32, K = 10000, hidden 128), for frozen
and learnable codebooks, each variant in its own process so that peak RSS is
its own. Prints a table and the fast/explicit ratios.

    python bench/svq_layer.py [--steps 5] [--threads 2]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

N = 16 * 12 * 16 * 32
D, K, HIDDEN = 32, 10000, 128


def _rss_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_variant(path, freeze, steps, threads):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    import keras

    from keras_svq import SparseVectorQuantizer

    keras.utils.set_random_seed(0)  # same weights in every variant's process
    layer = SparseVectorQuantizer(
        codebook_size=K, hidden_dim=HIDDEN, freeze_codebook=freeze
    )
    x = tf.constant(np.random.default_rng(0).standard_normal((N, D), "float32"))
    layer.build((None, D))
    forward = layer if path == "fast" else (lambda v: layer.decode(layer.encode(v)))

    @tf.function
    def step(inputs):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            loss = tf.reduce_mean(tf.square(forward(inputs)))
        variables = [v.value for v in layer.trainable_weights]
        return loss, tape.gradient(loss, variables + [inputs])

    step.get_concrete_function(x)  # trace outside the timed region
    baseline = _rss_mib()
    loss, _ = step(x)  # warm-up
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        loss, grads = step(x)
        _ = [g.numpy() for g in grads[-1:]]
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "path": path,
        "codebook": "frozen" if freeze else "learnable",
        "seconds": float(np.median(times)),
        "peak_rss_mib": peak,
        "activation_mib": peak - baseline,
        "loss": float(loss),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        path, codebook = args.variant.split(":")
        result = run_variant(path, codebook == "frozen", args.steps, args.threads)
        print(json.dumps(result))
        return
    results = {}
    for codebook in ("frozen", "learnable"):
        for path in ("fast", "explicit"):
            proc = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--variant",
                    f"{path}:{codebook}",
                    "--steps",
                    str(args.steps),
                    "--threads",
                    str(args.threads),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                sys.exit(f"variant {path}:{codebook} failed:\n{proc.stderr[-3000:]}")
            results[(path, codebook)] = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"SVQ layer forward+backward, N={N} vectors, D={D}, K={K}, hidden={HIDDEN}, "
        f"{args.threads} CPU threads, median of {args.steps} steps"
    )
    print(
        f"{'codebook':<10} {'path':<9} {'time (s)':>9} {'peak RSS (MiB)':>15} "
        f"{'activations (MiB)':>18}"
    )
    for (path, codebook), r in results.items():
        print(
            f"{codebook:<10} {path:<9} {r['seconds']:>9.3f} {r['peak_rss_mib']:>15.0f} "
            f"{r['activation_mib']:>18.0f}"
        )
    for codebook in ("frozen", "learnable"):
        fast, slow = results[("fast", codebook)], results[("explicit", codebook)]
        if abs(fast["loss"] - slow["loss"]) > 1e-3 * abs(slow["loss"]) + 1e-6:
            sys.exit(
                f"{codebook}: the two paths disagree: {fast['loss']} vs {slow['loss']}"
            )
        print(
            f"{codebook}: fast path is {slow['seconds'] / fast['seconds']:.1f}x faster "
            f"and uses {slow['activation_mib'] / max(fast['activation_mib'], 1):.1f}x "
            "less activation memory than the explicit path"
        )


if __name__ == "__main__":
    main()
