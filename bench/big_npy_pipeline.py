"""Peak memory of building and reading a pipeline over a `.npy` larger than it.

Writes a float32 `.npy` of `--gib` GiB (frames `(T, 128, 256, 1)`, a
1.40625-degree-like grid, with 1% NaN "missing" pixels), then in a fresh
process per reader: `load_array` -> `from_array(nan_policy="fill")` (one
chunked pass over the whole file for the statistics and missing values) ->
`--batches` training batches of 16 windows 12 -> 12. Prints peak RSS (the
process's high-water mark) and the time of each step, for the library's
reader (`NpyFrames`, plain reads) and, with `--compare-mmap`, for a numpy
memory map handed to `from_array` (whose touched pages count in RSS).

    python bench/big_npy_pipeline.py [--gib 4] [--batches 20] [--compare-mmap]
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

H, W = 128, 256


def _peak_rss_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def write_npy(path, gib, seed=0):
    """A `(T, H, W, 1)` float32 file written chunk by chunk (never held whole)."""
    frames = int(gib * (1 << 30) // (H * W * 4))
    header = {"descr": "<f4", "fortran_order": False, "shape": (frames, H, W, 1)}
    rng = np.random.default_rng(seed)
    t = np.arange(H)[:, None] / H + np.arange(W)[None, :] / W
    with open(path, "wb") as f:
        np.lib.format.write_array_header_2_0(f, header)
        for lo in range(0, frames, 256):
            n = min(256, frames - lo)
            steps = np.arange(lo, lo + n)[:, None, None]
            chunk = 280 + 10 * np.sin(2 * np.pi * (t[None] + steps / 48))
            chunk = chunk + rng.normal(0, 0.5, chunk.shape)
            chunk[rng.random(chunk.shape) < 0.01] = np.nan
            f.write(chunk.astype("<f4")[..., None].tobytes())
    return frames


def _child(path, reader, batches):
    import logging

    logging.disable(logging.WARNING)
    from keras_svq.data import from_array
    from keras_svq.data import load_array

    timings = {}
    t0 = time.perf_counter()
    array = np.load(path, mmap_mode="r") if reader == "mmap" else load_array(path)
    splits = from_array(
        array,
        input_length=12,
        output_length=12,
        batch_size=16,
        seed=0,
        nan_policy="fill",
    )
    timings["build_s"] = time.perf_counter() - t0
    rss_build = _peak_rss_mib()
    t0 = time.perf_counter()
    for x, _ in splits[0].take(batches):
        assert np.isfinite(x.numpy()).all()
    timings["batches_s"] = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "reader": reader,
                "peak_rss_after_build_mib": round(rss_build, 1),
                "peak_rss_mib": round(_peak_rss_mib(), 1),
                "train_windows": splits.num_examples["train"],
                **{k: round(v, 2) for k, v in timings.items()},
            }
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=4.0)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--compare-mmap", action="store_true")
    parser.add_argument("--dir", help="folder for the file (default: a temp folder)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], int(args.child[2]))
        return
    folder = pathlib.Path(args.dir or tempfile.mkdtemp(prefix="big_npy_"))
    path = folder / "big.npy"
    t0 = time.perf_counter()
    frames = write_npy(path, args.gib)
    size = path.stat().st_size / (1 << 30)
    print(
        f"wrote {path}: {frames} frames of {H}x{W}x1 float32, {size:.2f} GiB "
        f"in {time.perf_counter() - t0:.0f} s"
    )
    readers = ["npy_frames"] + (["mmap"] if args.compare_mmap else [])
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    try:
        for reader in readers:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    str(path),
                    reader,
                    str(args.batches),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            row = json.loads(out.strip().splitlines()[-1])
            print(
                f"{row['reader']:>10}: peak RSS {row['peak_rss_mib']:.0f} MiB "
                f"(after building {row['peak_rss_after_build_mib']:.0f} MiB) for a "
                f"{size:.2f} GiB file; build {row['build_s']:.1f} s, "
                f"{args.batches} batches {row['batches_s']:.1f} s, "
                f"{row['train_windows']} training windows"
            )
    finally:
        if not args.dir:
            path.unlink()
            folder.rmdir()


if __name__ == "__main__":
    main()
