"""Does SVQ help? The study of bench/RESULTS.md, one `keras-svq compare` per shipped data set.

SimVP-gSTA without a quantizer, with SVQ (frozen and learnable codebook), with
the plain and the residual (persistence-anchored) output, 5 seeds each,
trained to early stopping with the recipe in the presets' headers, on the
embedded ERA5 t2m UK sample, the NYC taxi flows and Moving MNIST made from the
real digits (half resolution). Prints each data set's `comparison.md`.

    python bench/svq_study.py [--output-dir study] [--jobs 2] [--seeds 0 1 2 3 4]
                              [--datasets era5_uk nyc_taxi mmnist_sample]

It resumes: finished runs are reused, so an interrupted study goes on where
it stopped. On 2 CPU cores with --jobs 2 it took about 100 minutes.
"""

import argparse
import pathlib
import subprocess
import sys

PLAIN = ("simvp_gsta", "simvp_gsta_svq_frozen", "simvp_gsta_svq_learnable")
RESIDUAL = tuple(f"{name}_residual" for name in PLAIN)
VARIANTS = {
    "era5_uk": PLAIN + RESIDUAL,
    "nyc_taxi": PLAIN + RESIDUAL,
    "mmnist_sample": PLAIN,  # moving digits: no last frame to anchor on
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default="study")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seeds", nargs="+", default=["0", "1", "2", "3", "4"])
    parser.add_argument("--datasets", nargs="+", default=list(VARIANTS))
    args = parser.parse_args()
    for dataset in args.datasets:
        out = pathlib.Path(args.output_dir) / dataset
        command = [sys.executable, "-m", "keras_svq", "compare"]
        for variant in VARIANTS[dataset]:
            command += ["--preset", f"{dataset}/{variant}"]
        command += ["--seeds", *args.seeds, "--output-dir", str(out)]
        command += ["--jobs", str(args.jobs), "--quiet"]
        print(
            "$", " ".join(command[1:]).replace("-m keras_svq", "keras-svq"), flush=True
        )
        subprocess.run(command, check=True)
        print((out / "comparison.md").read_text(), flush=True)


if __name__ == "__main__":
    main()
