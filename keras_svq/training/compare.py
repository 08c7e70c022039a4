"""`keras-svq compare`: models over seeds on the same splits, with intervals.

Trains every (model, seed) pair on the same data (one ordinary run folder
each), evaluates each on the test split beside the baselines (persistence,
climatology), and summarises over seeds: mean and 95 % Student-t interval of
MSE / MAE / RMSE, overall and per lead time, and the paired difference of
each model from the first one (the seeds share the data order, so seed `s`
of model B is paired with seed `s` of model A) with its interval and a
two-sided paired t-test.

Output folder layout:

```
DIR/
  <model>/config.yaml              the model's config (seed left to --seed)
  <model>/seed_<s>/                a run folder (`keras-svq evaluate/predict/export` work on it)
  <model>/seed_<s>/evaluation/metrics.json
  <model>/seed_<s>.log             the training log of a run trained in a worker (--jobs > 1)
  comparison.json, comparison.md, comparison.png
```

It resumes: a finished run is reused (never retrained), an unfinished one
resumes from its last checkpoint, an evaluation already written is read
back. Runs evaluated on different test windows are refused.
"""

import dataclasses
import logging
import os
import pathlib
import re
import subprocess
import sys
import time

import numpy as np

from keras_svq.io_utils import UserError
from keras_svq.io_utils import atomic_write_json
from keras_svq.io_utils import atomic_write_text
from keras_svq.io_utils import read_json
from keras_svq.metrics.baselines import DEFAULT_BASELINES
from keras_svq.metrics.seed_statistics import paired_t_test
from keras_svq.metrics.seed_statistics import t_interval
from keras_svq.progress import Progress
from keras_svq.runs import Run
from keras_svq.runs import RunLayout
from keras_svq.training import config as config_lib
from keras_svq.training import trainer

logger = logging.getLogger(__name__)

METRICS = ("mse", "mae", "rmse")
OUTPUT_FILES = ("comparison.json", "comparison.md", "comparison.png")


@dataclasses.dataclass
class ModelSpec:
    """One model of a comparison: a display name and its resolved config."""

    name: str
    config: dict
    folder: str | None = None

    @property
    def slug(self):
        """The model's folder name (`folder`, else the name made path-safe)."""
        return self.folder or re.sub(r"[^A-Za-z0-9_.-]+", "_", self.name).strip("_")


def model_specs(presets=(), configs=(), overrides=()):
    """`ModelSpec`s from preset names and YAML files, `overrides` applied to each."""
    from zoo.presets import load_preset

    specs = [(name, load_preset(name)) for name in presets]
    specs += [(pathlib.Path(path).stem, config_lib.load_yaml(path)) for path in configs]
    if len(specs) < 1:
        raise UserError("compare: pass at least one --preset or --config")
    out = [
        ModelSpec(name, config_lib.resolve(config, list(overrides)))
        for name, config in specs
    ]
    slugs = [spec.slug for spec in out]
    duplicated = sorted({s for s in slugs if slugs.count(s) > 1})
    if duplicated:
        raise UserError(
            f"compare: two models share the name {duplicated[0]!r}; give each "
            "config file its own name"
        )
    return out


def _seed_config(spec, seed):
    return config_lib.resolve(spec.config, [(("training", "seed"), int(seed))])


def _check_output_dir(root, specs, allowed=()):
    if not root.exists():
        return
    if not root.is_dir():
        raise UserError(f"--output-dir {root} is a file")
    expected = {spec.slug for spec in specs}
    for entry in root.iterdir():
        if entry.name in expected or entry.name in OUTPUT_FILES:
            continue
        if any(entry.match(pattern) for pattern in allowed):
            continue
        if entry.is_dir() and (entry / "config.yaml").exists():
            continue  # a model of an earlier comparison in the same folder
        raise UserError(
            f"--output-dir {root} holds files that are not from `keras-svq compare` "
            f"({entry.name}); choose another folder"
        )


# ------------------------------------------------------------ training


def _pending(specs, seeds, root):
    """The (spec, seed, run_dir) pairs that still need training."""
    pending = []
    for spec in specs:
        for seed in seeds:
            run_dir = root / spec.slug / f"seed_{seed}"
            layout = RunLayout(run_dir)
            if trainer.is_finished_run(layout, _seed_config(spec, seed)):
                logger.info("reusing the finished run %s", run_dir)
                continue
            pending.append((spec, seed, run_dir))
    return pending


def _worker_command(spec, seed, run_dir, data_dir):
    command = [
        sys.executable,
        "-m",
        "keras_svq",
        "train",
        "--config",
        str(run_dir.parent / "config.yaml"),
        "--seed",
        str(seed),
        "--output-dir",
        str(run_dir),
        "--quiet",
    ]
    if data_dir:
        command += ["--data-dir", str(data_dir)]
    return command


def _worker_env(jobs):
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    env = dict(os.environ)
    env.update(
        TF_NUM_INTRAOP_THREADS=threads,
        TF_NUM_INTEROP_THREADS="1",
        OMP_NUM_THREADS=threads,
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    return env


def _die_with_parent():
    """Linux: a worker is killed when `compare` is (so a `kill -9` of it leaves
    no orphan training into a run folder the next `compare` resumes)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(
            1, 9
        )  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):  # not Linux: workers outlive a killed parent
        pass


def _train_in_workers(pending, jobs, data_dir):
    """Trains `pending` in up to `jobs` processes; returns the failures."""
    queue = list(pending)
    running = {}
    failures = []
    env = _worker_env(jobs)
    while queue or running:
        while queue and len(running) < jobs:
            spec, seed, run_dir = queue.pop(0)
            log_path = run_dir.parent / f"seed_{seed}.log"
            print(f"== training {spec.name} seed {seed} -> {run_dir}", flush=True)
            log = open(log_path, "ab")  # noqa: SIM115 (closed when the worker ends)
            process = subprocess.Popen(
                _worker_command(spec, seed, run_dir, data_dir),
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 (no threads start workers)
            )
            running[process] = (spec, seed, log, log_path)
        time.sleep(0.5)
        for process in [p for p in running if p.poll() is not None]:
            spec, seed, log, log_path = running.pop(process)
            log.close()
            if process.returncode:
                failures.append(
                    f"{spec.name} seed {seed} (exit {process.returncode}; see {log_path})"
                )
    return failures


def _train_all(specs, seeds, root, *, jobs, data_dir, verbose):
    for spec in specs:
        folder = root / spec.slug
        folder.mkdir(parents=True, exist_ok=True)
        # The model's config without its seed: what a worker trains from.
        text = config_lib.dump_yaml(spec.config)
        path = folder / "config.yaml"
        if not path.exists() or path.read_text() != text:
            atomic_write_text(path, text)
    pending = _pending(specs, seeds, root)
    if jobs > 1 and len(pending) > 1:
        failures = _train_in_workers(pending, jobs, data_dir)
    else:
        failures = []
        started = time.monotonic()
        for done, (spec, seed, run_dir) in enumerate(pending):
            eta = ""
            if done:
                left = (time.monotonic() - started) / done * (len(pending) - done)
                eta = f", ETA {left / 60:.0f} min"
            print(
                f"== training {spec.name} seed {seed} ({done + 1}/{len(pending)}{eta})"
                f" -> {run_dir}",
                flush=True,
            )
            try:
                trainer.train(
                    _seed_config(spec, seed),
                    run_dir,
                    data_dir=data_dir,
                    verbose=verbose,
                )
            except trainer.RunFailed as e:
                failures.append(f"{spec.name} seed {seed} ({e})")
    if failures:
        raise trainer.RunFailed(
            "compare: these runs failed: "
            + "; ".join(failures)
            + ". Fix the cause and run the same command again: finished runs are kept."
        )


# ---------------------------------------------------------- evaluation


def _evaluation(spec, seed, run_dir, data_dir, baselines):
    """The run's `evaluation/metrics.json`, computed once."""
    from keras_svq.training import run_commands

    run = Run(run_dir, data_dir=data_dir)
    weights = run.weights
    path = run.layout.evaluation / "metrics.json"
    if path.exists() and path.stat().st_mtime >= weights.stat().st_mtime:
        metrics = read_json(path)
        if "test_fingerprint" in metrics and set(baselines) <= set(
            metrics.get("baselines", {})
        ):
            return metrics
    logger.info("evaluating %s seed %s", spec.name, seed)
    return run_commands.evaluate(
        run, run.layout.evaluation, num_plots=0, baselines=baselines, progress=False
    )


def _check_same_test_split(evaluations, specs):
    reference = None
    for spec in specs:
        for seed, metrics in evaluations[spec.name].items():
            fingerprint = metrics["test_fingerprint"]
            if reference is None:
                reference = (spec, seed, fingerprint)
                continue
            if fingerprint != reference[2]:
                first = reference[0]
                difference = trainer._first_difference(
                    first.config["data"], spec.config["data"], "data."
                )
                hint = (
                    f"their configs differ at {difference}"
                    if difference
                    else "their data differ"
                )
                raise UserError(
                    f"compare: {first.name} (seed {reference[1]}) and {spec.name} "
                    f"(seed {seed}) were evaluated on different test splits ({hint}); "
                    "models are compared on the same test windows only"
                )


# --------------------------------------------------------- statistics


def _interval(values):
    values = [float(v) for v in values]
    if len(values) < 2:
        return {"mean": values[0], "ci95": None, "per_seed": values}
    interval = t_interval(values)
    return {
        "mean": interval["mean"],
        "ci95": interval["ci95"],
        "std": interval["std"],
        "per_seed": values,
    }


def _paired(values, reference):
    if len(values) < 2:
        return {
            "mean_diff": float(values[0] - reference[0]),
            "ci95": None,
            "p_value": None,
        }
    test = paired_t_test(values, reference)
    return {
        "mean_diff": test["mean_diff"],
        "ci95": test["ci95"],
        "p_value": test["p_value"],
        "per_seed_diff": [float(a - b) for a, b in zip(values, reference)],
    }


def _per_lead(per_seed_leads):
    """`{mean: [...], ci95: [[lo, hi], ...]}` from per-seed per-lead lists."""
    leads = np.asarray(per_seed_leads, "float64")
    columns = [_interval(leads[:, t]) for t in range(leads.shape[1])]
    return {
        "mean": [c["mean"] for c in columns],
        "ci95": [c["ci95"] for c in columns],
    }


def summarize(evaluations, specs, seeds):
    """The `comparison.json` document from `{model: {seed: metrics.json}}`."""
    models = []
    first = None
    for spec in specs:
        runs = [evaluations[spec.name][seed] for seed in seeds]
        per_seed = {m: [r["physical"][m] for r in runs] for m in METRICS}
        entry = {
            "name": spec.name,
            "seeds": list(seeds),
            "test": {m: _interval(per_seed[m]) for m in METRICS},
            "per_lead_time": {
                m: _per_lead([r["physical"]["per_lead_time"][m] for r in runs])
                for m in METRICS
            },
            "skill": {
                reference: {
                    "mse_skill": _interval(
                        [r["skill"][reference]["mse_skill"] for r in runs]
                    ),
                    "per_lead_time": _per_lead(
                        [
                            r["skill"][reference]["per_lead_time"]["mse_skill"]
                            for r in runs
                        ]
                    ),
                }
                for reference in runs[0]["skill"]
            },
            "params": runs[0].get("params"),
        }
        if first is None:
            first = per_seed
            per_lead_first = {
                m: [r["physical"]["per_lead_time"][m] for r in runs] for m in METRICS
            }
        else:
            entry["paired_vs_first"] = {
                m: _paired(np.asarray(per_seed[m]), np.asarray(first[m]))
                for m in METRICS
            }
            leads = np.asarray(
                [r["physical"]["per_lead_time"]["mse"] for r in runs], "float64"
            )
            reference = np.asarray(per_lead_first["mse"], "float64")
            entry["paired_vs_first"]["per_lead_time"] = {
                "mse": [
                    _paired(leads[:, t], reference[:, t]) for t in range(leads.shape[1])
                ]
            }
        models.append(entry)
    sample = evaluations[specs[0].name][seeds[0]]
    baselines = {
        name: {
            **{m: values[m] for m in METRICS},
            "per_lead_time": {m: values["per_lead_time"][m] for m in METRICS},
        }
        for name, values in sample["baselines"].items()
    }
    return {
        "models": models,
        "baselines": baselines,
        "seeds": list(seeds),
        "units": sample.get("units"),
        "dataset": sample.get("dataset"),
        "num_test_examples": sample.get("num_test_examples"),
        "test_fingerprint": sample["test_fingerprint"],
        "first_model": specs[0].name,
    }


def paired_from_record(comparison, name, reference, metric="mse"):
    """The paired test of model `name` against model `reference` of a comparison.

    Any two models of a `comparison.json` pair up by seed, not only each
    with the first one.
    """
    entries = {entry["name"]: entry for entry in comparison["models"]}
    for model in (name, reference):
        if model not in entries:
            raise KeyError(f"{model!r} is not in the comparison ({list(entries)})")
    values = np.asarray(entries[name]["test"][metric]["per_seed"])
    base = np.asarray(entries[reference]["test"][metric]["per_seed"])
    return _paired(values, base)


# ------------------------------------------------------------- reports


def _fmt_interval(stat, digits=4):
    if stat["ci95"] is None:
        return f"{stat['mean']:.{digits}f}"
    half = (stat["ci95"][1] - stat["ci95"][0]) / 2
    return f"{stat['mean']:.{digits}f} ± {half:.{digits}f}"


def _fmt_paired(test, digits=4):
    if test["ci95"] is None:
        return f"{test['mean_diff']:+.{digits}f}"
    lo, hi = test["ci95"]
    return f"{test['mean_diff']:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}], p={test['p_value']:.3g}"


def verdict(entry, first_name, metric="mse", test=None):
    """One sentence: is this model better than the first beyond the seed noise?

    `test` is a paired test (`paired_from_record`) to state instead of the
    entry's `paired_vs_first`.
    """
    test = test or entry.get("paired_vs_first", {}).get(metric)
    if test is None:
        return None
    if test["ci95"] is None:
        return (
            f"{entry['name']} vs {first_name}: {metric.upper()} difference "
            f"{test['mean_diff']:+.4g} from one seed; run more seeds to tell it from noise"
        )
    lo, hi = test["ci95"]
    if hi < 0:
        outcome = "lower (better) beyond the seed noise"
    elif lo > 0:
        outcome = "higher (worse) beyond the seed noise"
    else:
        outcome = "not different beyond the seed noise (the interval includes 0)"
    return (
        f"{entry['name']} vs {first_name}: {metric.upper()} {outcome}: "
        f"{_fmt_paired(test)} over {len(entry['seeds'])} paired seeds"
    )


def markdown_table(comparison):
    """`comparison.md`: mean ± 95 % half-interval over seeds, baselines below."""
    units = ", ".join(dict.fromkeys(comparison.get("units") or ())) or "data units"
    seeds = comparison["seeds"]
    lines = [
        f"Test split of {comparison.get('dataset')}, {comparison.get('num_test_examples')} "
        f"windows; mean ± 95 % t-interval half-width over {len(seeds)} seeds "
        f"({', '.join(map(str, seeds))}); errors in {units}. "
        f"Δ MSE: paired difference from {comparison['first_model']} [95 % interval], "
        "two-sided paired t-test.",
        "",
        "| model | MSE | MAE | RMSE | MSESS vs persistence | MSESS vs climatology | Δ MSE vs first |",
        "|---|---|---|---|---|---|---|",
    ]
    for entry in comparison["models"]:
        skill = entry["skill"]
        cells = [entry["name"]]
        cells += [_fmt_interval(entry["test"][m]) for m in METRICS]
        for reference in ("vs_persistence", "vs_climatology"):
            cells.append(
                _fmt_interval(skill[reference]["mse_skill"], 3)
                if reference in skill
                else "-"
            )
        paired = entry.get("paired_vs_first", {}).get("mse")
        cells.append(_fmt_paired(paired) if paired else "(first)")
        lines.append("| " + " | ".join(cells) + " |")
    for name, values in comparison["baselines"].items():
        cells = [f"{name} (baseline)"] + [f"{values[m]:.4f}" for m in METRICS]
        cells += ["-", "-", "-"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "RMSE per lead time (mean ± 95 % half-interval):", ""]
    num_leads = len(comparison["models"][0]["per_lead_time"]["rmse"]["mean"])
    names = [e["name"] for e in comparison["models"]] + list(comparison["baselines"])
    lines.append("| lead | " + " | ".join(names) + " |")
    lines.append("|---" * (len(names) + 1) + "|")
    for t in range(num_leads):
        cells = [f"+{t + 1}"]
        for entry in comparison["models"]:
            lead = entry["per_lead_time"]["rmse"]
            cells.append(
                _fmt_interval({"mean": lead["mean"][t], "ci95": lead["ci95"][t]})
            )
        for values in comparison["baselines"].values():
            cells.append(f"{values['per_lead_time']['rmse'][t]:.4f}")
        lines.append("| " + " | ".join(cells) + " |")
    sentences = [
        verdict(entry, comparison["first_model"]) for entry in comparison["models"][1:]
    ]
    lines += [""] + [f"- {s}" for s in sentences if s]
    return "\n".join(lines) + "\n"


def plot_comparison(comparison, metric="rmse", title=None):
    """Error per lead time, mean with 95 % error bars per model, baselines dashed."""
    from keras_svq.viz.figures import new_figure

    figure = new_figure((6.5, 4.0), layout="constrained")
    ax = figure.subplots()
    models = comparison["models"]
    width = 0.6 / max(1, len(models))
    for i, entry in enumerate(models):
        lead = entry["per_lead_time"][metric]
        mean = np.asarray(lead["mean"])
        x = np.arange(1, len(mean) + 1) + (i - (len(models) - 1) / 2) * width
        if all(ci is not None for ci in lead["ci95"]):
            ci = np.asarray(lead["ci95"])
            errors = np.stack([mean - ci[:, 0], ci[:, 1] - mean])
        else:
            errors = None
        ax.errorbar(
            x,
            mean,
            yerr=errors,
            marker="o",
            markersize=3,
            capsize=2,
            color=f"C{i}",
            label=entry["name"],
        )
    styles = ("--", ":", "-.")
    for j, (name, values) in enumerate(comparison["baselines"].items()):
        lead = values["per_lead_time"][metric]
        ax.plot(
            np.arange(1, len(lead) + 1),
            lead,
            color="black",
            linestyle=styles[j % len(styles)],
            label=name,
        )
    units = ", ".join(dict.fromkeys(comparison.get("units") or ()))
    ax.set_ylabel(metric.upper() + (f" [{units}]" if units else ""))
    ax.set_xlabel("lead time (steps)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(
        title
        or f"{comparison.get('dataset')}: mean and 95 % interval over "
        f"{len(comparison['seeds'])} seed{'s' if len(comparison['seeds']) > 1 else ''}"
    )
    return figure


def print_summary(comparison):
    from keras_svq.training.run_commands import format_table

    rows = []
    for entry in comparison["models"]:
        row = {m.upper(): _fmt_interval(entry["test"][m]) for m in METRICS}
        paired = entry.get("paired_vs_first", {}).get("mse")
        row["Δ MSE vs first"] = _fmt_paired(paired) if paired else "(first)"
        rows.append((entry["name"], row))
    for name, values in comparison["baselines"].items():
        rows.append((name, {m.upper(): f"{values[m]:.4f}" for m in METRICS}))
    print(
        format_table(
            rows,
            ["MSE", "MAE", "RMSE", "Δ MSE vs first"],
            title=f"Test split, mean ± 95 % half-interval over seeds {comparison['seeds']}:",
        )
    )
    for entry in comparison["models"][1:]:
        sentence = verdict(entry, comparison["first_model"])
        if sentence:
            print(sentence)


# ---------------------------------------------------------------- main


def run_compare(
    specs,
    seeds,
    output_dir,
    *,
    data_dir=None,
    jobs=1,
    baselines=DEFAULT_BASELINES,
    verbose=0,
    allowed_files=(),
):
    """Trains (or reuses), evaluates and summarises; returns the comparison dict.

    Args:
        specs: list of `ModelSpec`; the first is the reference of the paired
            differences.
        seeds: sequence of int, shared by every model.
        output_dir: path. The comparison folder (see the module docstring).
        data_dir: path or None. A full dataset's files.
        jobs: int. Runs trained at once, one process each. Defaults to 1
            (in this process).
        baselines: names from `keras_svq.metrics.baselines.BASELINES`.
        verbose: int. Keras progress verbosity of in-process training.
        allowed_files: glob patterns of other files the folder may hold (the
            demo's plots).
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise UserError("compare: pass at least one seed (--seeds 0 1 2 3 4)")
    if len(set(seeds)) != len(seeds):
        raise UserError(f"compare: --seeds lists a seed twice: {seeds}")
    if jobs < 1:
        raise UserError(f"compare: --jobs must be >= 1. Received: {jobs}")
    root = pathlib.Path(output_dir)
    _check_output_dir(root, specs, allowed_files)
    root.mkdir(parents=True, exist_ok=True)
    _train_all(specs, seeds, root, jobs=jobs, data_dir=data_dir, verbose=verbose)
    evaluations = {spec.name: {} for spec in specs}
    pairs = [(spec, seed) for spec in specs for seed in seeds]
    for spec, seed in Progress.track(pairs, "compare: evaluate", unit="run"):
        evaluations[spec.name][seed] = _evaluation(
            spec, seed, root / spec.slug / f"seed_{seed}", data_dir, baselines
        )
    _check_same_test_split(evaluations, specs)
    comparison = summarize(evaluations, specs, seeds)
    atomic_write_json(root / "comparison.json", comparison)
    atomic_write_text(root / "comparison.md", markdown_table(comparison))
    try:
        from keras_svq.viz import save_figure
    except ImportError:  # matplotlib is an optional extra
        logger.info("matplotlib missing: no comparison.png")
    else:
        save_figure(plot_comparison(comparison), root / "comparison.png")
    return comparison


__all__ = [
    "ModelSpec",
    "model_specs",
    "run_compare",
    "summarize",
    "markdown_table",
    "paired_from_record",
    "verdict",
]
