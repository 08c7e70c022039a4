"""Writes the YAML presets of `zoo/presets/` from the official SVQ configs.

A maintainer's tool (in the source tree, not in the wheel), run once, never
at run time:

    python tools/generate_presets.py /path/to/SVQ-Forecasting [--output DIR]

The argument is a git checkout (or bare clone) of the official repository
(https://github.com/Pachark/SVQ-Forecasting, the OpenSTL fork the paper's
results come from); its committed `HEAD` is read, so local edits do not leak
into the presets. Each `configs/<dataset>/**.py` is parsed with `ast` and its
top-level assignments are evaluated by a small interpreter that knows only
literals, names assigned earlier in the file and arithmetic (`lr = 1e-3 * 2`,
`'input_dim': hid_S`): no code of the file is executed, and an assignment it
cannot evaluate (a call, a comprehension) is skipped. What a config leaves
out is filled with OpenSTL's command-line defaults
(`openstl/utils/parser.py`, `tools/train.py`), the names are translated once
(`hid_S` -> `spatial_hidden_dim`, ...) and one `<dataset>/<model>.yaml` is
written per experiment, into `zoo/presets/` unless `--output` says otherwise.
The official commands pass `--overwrite`, so a config file's values win over
the command line defaults, as here.

Official hyper-parameter -> preset key:

| official | preset |
|---|---|
| `hid_S`, `hid_T`, `N_S`, `N_T`, `model_type` | `model.spatial_hidden_dim`, `temporal_hidden_dim`, `num_spatial_layers`, `num_temporal_layers`, `translator` |
| `spatio_kernel_enc` (= `_dec`) | `model.spatial_kernel_size` |
| `drop_path`, `drop` | `model.drop_path_rate`, `model.drop_rate` |
| `post_vq`, `vq_kwargs` | `model.quantizer_position`, `model.quantizer` (`middim` -> `hidden_dim`, `init_method` -> `codebook_initializer`, `nonlinear` -> `not linear`) |
| `lr`, `epoch`, `sched`, `warmup_epoch`, `opt`, `weight_decay`, `patience`, `loss` | `training.learning_rate`, `epochs`, `schedule`, `warmup_epochs`, `optimizer`, `weight_decay`, `patience`, `loss` |
| `batch_size` | `data.batch_size` |
| `alpha` (TAU) | `training.loss: tau`, `training.tau_alpha` |
| `noise`, `vq_type`, `hid_relu`/`out_relu` | `model.noise_rate`, `model.quantizer` (`quantizer_config_from_reference`), `model.quantizer.hidden_activation`/`output_activation` |
| `freeze_projection` | `model.quantizer.freeze_projection` |
| recurrent `num_hidden`, `filter_size`, `layer_norm` | `model.hidden_dims`, `kernel_size`, `layer_norm` |
| MAU `sr_size`, `tau`, `model_mode`; PhyDNet `patch_size` | `model.downsample_factor`, `attention_length`, `decoder_mode`; `model.downsample_factor` |
| PredRNNv2 `decouple_beta` | `model.decoupling_weight` |
| `sampling_start_value`, `sampling_changing_rate`, `sampling_stop_iter`, `r_sampling_step_1`/`_2`, `r_exp_alpha` | `training.scheduled_sampling.sampling_start_value`, ..., `sampling_stop_iteration`, `reverse_sampling_start`/`_stop`, `reverse_sampling_alpha` |

Every generated preset names its official config in `reference`: the key of
that config in the reference's `param_counts.json`.
"""

import argparse
import ast
import operator
import pathlib
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
PRESET_DIR = ROOT / "zoo" / "presets"

# Official folder -> (preset dataset name, keras_svq.data dataset name).
DATASET_FOLDERS = {
    "weather/t2m_5_625": "weather_t2m",
    "weather/r_5_625": "weather_r",
    "weather/uv10_5_625": "weather_uv10",
    "weather/tcc_5_625": "weather_tcc",
    "weather/mv_4_s6_5_625": "weather_mv",
    "weather/hmv_4_s6_5_625": "weather_hmv",
    "taxibj": "taxibj",
    "taxibj/simvp": "taxibj",
    "kth": "kth",
    "kth/simvp": "kth",
    "kitticaltech": "kitticaltech",
    "kitticaltech/simvp": "kitticaltech",
    "human": "human",
    "human/simvp": "human",
}

# OpenSTL parser defaults (and tools/train.py's fallbacks) for absent keys.
OPENSTL_DEFAULTS = {
    "batch_size": 16,
    "epoch": 200,
    "lr": 1e-3,
    "sched": "onecycle",
    "warmup_epoch": 0,
    "opt": "adam",
    "weight_decay": 0.0,
    "patience": 10,
    "drop_path": 0.0,
    "drop": 0.0,
    "spatio_kernel_enc": 3,
    "hid_S": 16,
    "hid_T": 256,
    "N_S": 4,
    "N_T": 4,
    "model_type": "gSTA",
}

_TRANSLATOR_ALIASES = {"moga": "moganet", "mlp": "mlpmixer"}

# Official folder -> the prefix of its keys in the reference's param_counts.json
# (`<dataname>/<config path below the dataset folder>`); other folders keep
# their path.
REFERENCE_PREFIXES = {
    "weather/t2m_5_625": "weather_t2m_5_625",
    "weather/r_5_625": "weather_r_5_625",
    "weather/uv10_5_625": "weather_uv10_5_625",
    "weather/tcc_5_625": "weather_tcc_5_625",
    "weather/mv_4_s6_5_625": "weather_mv_4_4_s6_5_625",
    "weather/hmv_4_s6_5_625": "weather_hmv_4_4_s6_5_625",
}

# The t2m ablation folders: the preset dataset and how a file names its preset.
ABLATION_FOLDERS = (
    "weather/t2m_5_625/ablation_modeltype",
    "weather/t2m_5_625/ablation_vq",
    "weather/t2m_5_625/ablation_appendix",
    "weather/t2m_5_625/ablation_noise",
    "weather/t2m_5_625/ablation_relu",
)

# `ablation_vq/<file>` -> the preset's quantizer suffix.
_VQ_SUFFIXES = {
    "VQ": "vq",
    "ResidualVQ": "rvq",
    "ResidualVQ-Stochastic": "rvq_stochastic",
    "GroupedResidualVQ": "grvq",
    "MultiHeadVQ": "mhvq",
    "ResidualFSQ": "rfsq",
    "LFQ": "lfq",
    "ResidualLFQ": "rlfq",
}


_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Not: operator.not_}


def _evaluate(node, names):
    """Literals and arithmetic on earlier names (`lr = 1e-3 * 2`, `'input_dim': hid_S`).

    Walks the expression itself (`ast.literal_eval` knows no names and no
    arithmetic beyond complex numbers); anything else raises a `ValueError`,
    an unknown name a `NameError`.
    """
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise NameError(node.id)
        return names[node.id]
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_evaluate(item, names) for item in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.Dict) and None not in node.keys:  # no `**spread`
        return {
            _evaluate(key, names): _evaluate(value, names)
            for key, value in zip(node.keys, node.values)
        }
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left, names), _evaluate(node.right, names)
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand, names))
    raise ValueError(f"unsupported expression {ast.dump(node)[:80]}")


def _read_config(repo, path):
    text = subprocess.run(
        ["git", "-C", str(repo), "show", f"HEAD:{path}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    values = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = _evaluate(node.value, values)
            except (ValueError, NameError, TypeError, ArithmeticError):
                continue  # not a hyper-parameter we read (calls, comprehensions...)
    return values


def _translator(model_type):
    name = str(model_type).lower()
    return _TRANSLATOR_ALIASES.get(name, name)


# Official method -> (preset model name, backbone class).
RECURRENT_METHODS = {
    "ConvLSTM": ("convlstm", "ConvLSTMBackbone"),
    "PredRNN": ("predrnn", "PredRNNBackbone"),
    "PredRNNpp": ("predrnnpp", "PredRNNppBackbone"),
    "PredRNNv2": ("predrnnv2", "PredRNNv2Backbone"),
    "MIM": ("mim", "MIMBackbone"),
    "MAU": ("mau", "MAUBackbone"),
    "E3DLSTM": ("e3dlstm", "E3DLSTMBackbone"),
    "PhyDNet": ("phydnet", "PhyDNetBackbone"),
}

# Scheduled-sampling hyper-parameters -> `ScheduledSamplingModel` arguments.
_SCHEDULED_SAMPLING = {
    "sampling_start_value": "sampling_start_value",
    "sampling_changing_rate": "sampling_changing_rate",
    "sampling_stop_iter": "sampling_stop_iteration",
    "r_sampling_step_1": "reverse_sampling_start",
    "r_sampling_step_2": "reverse_sampling_stop",
    "r_exp_alpha": "reverse_sampling_alpha",
}


def _model_name(stem, cfg):
    method = cfg.get("method", "")
    if method in RECURRENT_METHODS:
        return RECURRENT_METHODS[method][0]
    if method == "TAU":
        return "tau"
    if method not in ("SimVP", "SimVPVQ") or stem == "SimVP":
        return None  # recurrent models come later; SimVP.py repeats simvp/*
    name = f"simvp_{_translator(cfg.get('model_type', OPENSTL_DEFAULTS['model_type']))}"
    if method == "SimVPVQ":
        name += (
            "_svq_frozen" if stem.endswith(("_frozen", "_freeze")) else "_svq_learnable"
        )
    return name


def reference_key(path):
    """`configs/weather/t2m_5_625/TAU.py` -> `weather_t2m_5_625/TAU` (param_counts.json)."""
    key = path[len("configs/") : -len(".py")]
    for folder, prefix in REFERENCE_PREFIXES.items():
        if key.startswith(folder + "/"):
            return prefix + key[len(folder) :]
    return key


def _ablation_name(folder, stem, cfg):
    """The preset name of a t2m ablation config, or None for one we do not express."""
    kind = folder.rpartition("/")[2]
    if kind == "ablation_vq":
        return f"simvp_gsta_{_VQ_SUFFIXES[stem]}"
    if kind == "ablation_appendix" and cfg.get("freeze_projection"):
        # freeze_projection.py and freeze_both.py (codebook frozen too).
        return f"simvp_gsta_svq_{stem}"
    base = f"simvp_{_translator(cfg.get('model_type', OPENSTL_DEFAULTS['model_type']))}"
    if cfg.get("method") == "SimVPVQ":
        frozen = cfg["vq_kwargs"]["freeze_codebook"]
        base += "_svq_frozen" if frozen else "_svq_learnable"
    if kind == "ablation_appendix":
        return base + ("_post" if cfg.get("post_vq") else "")
    if kind == "ablation_noise":
        return f"{base}_noise_{cfg['noise']}"
    if kind == "ablation_relu":
        hidden, output = cfg["vq_kwargs"]["hid_relu"], cfg["vq_kwargs"]["out_relu"]
        return f"{base}_relu_{str(hidden).lower()}_{str(output).lower()}"
    return base  # ablation_modeltype


def _quantizer(cfg):
    vq_kwargs = cfg["vq_kwargs"]
    vq_type = cfg.get("vq_type", "svq")
    if vq_type != "svq":
        from keras_svq.quantizers import quantizer_config_from_reference

        return quantizer_config_from_reference(vq_type, vq_kwargs)
    quantizer = {
        "name": "svq",
        "codebook_size": int(vq_kwargs["codebook_size"]),
        "hidden_dim": int(vq_kwargs["middim"]),
        "freeze_codebook": bool(vq_kwargs["freeze_codebook"]),
        "codebook_initializer": vq_kwargs.get("init_method", "normal"),
        "linear": not vq_kwargs.get("nonlinear", True),
    }
    if cfg.get("freeze_projection"):
        quantizer["freeze_projection"] = True
    for official, key in (
        ("hid_relu", "hidden_activation"),
        ("out_relu", "output_activation"),
    ):
        if official in vq_kwargs:
            quantizer[key] = "relu" if vq_kwargs[official] else None
    return quantizer


def preset_from_official(cfg, dataset, info, reference):
    get = lambda key: cfg.get(key, OPENSTL_DEFAULTS.get(key))  # noqa: E731
    method = cfg["method"]
    translator = "tau" if method == "TAU" else _translator(get("model_type"))
    height, width, channels = info.frame_shape
    model = {
        "input_length": info.input_length,
        "output_length": info.output_length,
        "height": height,
        "width": width,
        "channels": channels,
        "spatial_hidden_dim": get("hid_S"),
        "temporal_hidden_dim": get("hid_T"),
        "num_spatial_layers": get("N_S"),
        "num_temporal_layers": get("N_T"),
        "translator": translator,
        "mlp_ratio": 8.0,
        "drop_rate": float(get("drop")),
        "drop_path_rate": float(get("drop_path")),
        "spatial_kernel_size": get("spatio_kernel_enc"),
        "quantizer": _quantizer(cfg) if method == "SimVPVQ" else None,
        "quantizer_position": "post" if cfg.get("post_vq") else "pre",
        "noise_rate": float(cfg.get("noise") or 0.0),
        "residual": False,  # persistence-anchored output: not in the reference
        "output_constraint": None,  # physical bounds: not in the reference
        "clip": None,
    }
    if method == "TAU":
        loss, extra = "tau", {"tau_alpha": float(cfg.get("alpha", 0.1))}
    elif method == "SimVPVQ":
        loss, extra = cfg["loss"], {}
    else:
        loss, extra = "mse", {}  # OpenSTL's SimVP method always uses MSELoss
    training = {
        "epochs": get("epoch"),
        "optimizer": get("opt"),
        "learning_rate": float(get("lr")),
        "weight_decay": float(get("weight_decay")),
        "schedule": get("sched"),
        "warmup_epochs": get("warmup_epoch"),
        "loss": loss,
        **extra,
        "patience": get("patience"),
    }
    return {
        "reference": reference,
        "backbone": "SimVPBackbone",
        "data": {"dataset": dataset, "batch_size": get("batch_size")},
        "model": model,
        "training": training,
    }


def _recurrent_model(method, cfg):
    """The backbone arguments beyond the frame shapes (see the table above)."""
    if method == "PhyDNet":
        # PhyDNet's sizes are fixed in OpenSTL; `patch_size` is its encoder's
        # down-sampling factor.
        return {"hidden_dims": [128, 128, 64], "downsample_factor": cfg["patch_size"]}
    model = {
        "hidden_dims": [int(n) for n in str(cfg["num_hidden"]).split(",")],
        "kernel_size": cfg["filter_size"],
        "stride": cfg["stride"],
        "patch_size": cfg["patch_size"],
    }
    if method == "MAU":
        return {
            **model,
            "downsample_factor": cfg["sr_size"],
            "attention_length": cfg["tau"],
            "cell_mode": cfg["cell_mode"],
            "decoder_mode": cfg["model_mode"],
        }
    model["layer_norm"] = bool(cfg["layer_norm"])
    if method == "ConvLSTM":
        model["cell"] = "svq"  # the paper's cell (`zoo/convlstm/convlstm_cell.py`)
        return model
    model["reverse_scheduled_sampling"] = bool(cfg.get("reverse_scheduled_sampling"))
    if method == "PredRNNv2":
        model["decoupling_weight"] = cfg["decouple_beta"]
    return model


def recurrent_preset_from_official(cfg, dataset, info, reference):
    get = lambda key: cfg.get(key, OPENSTL_DEFAULTS.get(key))  # noqa: E731
    method = cfg["method"]
    height, width, channels = info.frame_shape
    model = {
        "input_length": info.input_length,
        "output_length": info.output_length,
        "height": height,
        "width": width,
        "channels": channels,
        **_recurrent_model(method, cfg),
    }
    training = {
        "epochs": get("epoch"),
        "optimizer": get("opt"),
        "learning_rate": float(get("lr")),
        "weight_decay": float(get("weight_decay")),
        "schedule": get("sched"),
        "warmup_epochs": get("warmup_epoch"),
        "loss": "mse",
        "patience": get("patience"),
    }
    if cfg.get("scheduled_sampling"):
        training["scheduled_sampling"] = {
            ours: cfg[official]
            for official, ours in _SCHEDULED_SAMPLING.items()
            if official in cfg
        }
    return {
        "reference": reference,
        "backbone": RECURRENT_METHODS[method][1],
        "data": {"dataset": dataset, "batch_size": get("batch_size")},
        "model": model,
        "training": training,
    }


def write_preset(path, preset, header):
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    text += yaml.safe_dump(preset, sort_keys=False, default_flow_style=False)
    path.write_text(text)


def generate(repo, output=PRESET_DIR, datasets=None):
    """Writes the presets of every official config; returns their names.

    Args:
        repo: path. A git checkout or bare clone of SVQ-Forecasting.
        output: path. The folder that receives `<dataset>/<model>.yaml`.
            Defaults to the source tree's `zoo/presets/`.
        datasets: None or a mapping from preset dataset name to its
            `keras_svq.data.DATASETS` entry (frame shape, lengths). Defaults
            to `keras_svq.data.DATASETS`.
    """
    if datasets is None:
        from keras_svq.data import DATASETS as datasets

    repo, output = pathlib.Path(repo), pathlib.Path(output)
    listing = subprocess.run(
        ["git", "-C", str(repo), "ls-tree", "-r", "--name-only", "HEAD", "configs"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    written = []
    for path in listing:
        folder, _, filename = path[len("configs/") :].rpartition("/")
        if not filename.endswith(".py"):
            continue
        if folder in DATASET_FOLDERS:
            dataset = DATASET_FOLDERS[folder]
            cfg = _read_config(repo, path)
            name = _model_name(filename[:-3], cfg)
        elif folder in ABLATION_FOLDERS:
            dataset = "weather_t2m"
            cfg = _read_config(repo, path)
            name = _ablation_name(folder, filename[:-3], cfg)
        else:
            continue
        if name is None:
            continue
        build = (
            recurrent_preset_from_official
            if cfg["method"] in RECURRENT_METHODS
            else preset_from_official
        )
        preset = build(cfg, dataset, datasets[dataset], reference_key(path))
        header = (
            f"Preset {dataset}/{name}: generated by tools/generate_presets.py from\n"
            f"the official config {path} of github.com/Pachark/SVQ-Forecasting\n"
            "(values it leaves out: OpenSTL's command-line defaults).\n"
            "Run: keras-svq train --preset "
            f"{dataset}/{name} --data-dir DATA"
        )
        quantizer = preset["model"].get("quantizer")
        if (
            quantizer
            and quantizer["name"] == "svq"
            and not quantizer.get("freeze_projection")  # named by the file
            and name.endswith("_frozen") != quantizer["freeze_codebook"]
        ):
            header += (
                f"\nNote: the official file is named {filename} but sets "
                f"freeze_codebook={quantizer['freeze_codebook']}; kept as published."
            )
        if quantizer and quantizer.get("freeze_projection"):
            header += (
                "\nNote: the reference freezes the projection when training starts, "
                "so its trainable count\n(param_counts.json) still includes the "
                "projection; here it is non-trainable from the start."
            )
        write_preset(output / dataset / f"{name}.yaml", preset, header)
        written.append(f"{dataset}/{name}")
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Write zoo/presets/ from the official SVQ-Forecasting configs."
    )
    parser.add_argument("repo", help="git checkout or bare clone of SVQ-Forecasting")
    parser.add_argument(
        "--output",
        default=str(PRESET_DIR),
        help="folder that receives <dataset>/<model>.yaml (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    # Run as a script from anywhere: `keras_svq` is found in the source tree.
    sys.path.insert(0, str(ROOT))
    for name in generate(args.repo, args.output):
        print(name)


if __name__ == "__main__":
    main()
