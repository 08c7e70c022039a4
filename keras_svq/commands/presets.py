"""`keras-svq presets`: the preset names, read from the files (no Keras imported).

`keras_svq.preset_catalog` reads `zoo/presets/` without importing `zoo`
(whose `__init__` builds the model zoo with Keras).
"""

HELP = "list the preset names"
# Needs no Keras: `keras_svq.cli` runs it without completing the package import.
LIGHT = True


def add_arguments(parser):
    parser.add_argument(
        "--with-weights",
        action="store_true",
        help="only the presets that ship trained weights",
    )


def run(args):
    from keras_svq import preset_catalog

    every = preset_catalog.list_presets()
    shipped = preset_catalog.list_presets(with_weights=True)
    names = shipped if args.with_weights else every
    width = max(map(len, names), default=0)
    for name in names:
        if name not in shipped:
            print(name)
            continue
        metadata = preset_catalog.load_metadata(name) or {}
        test = metadata.get("metrics", {}).get("test", {})
        units = ", ".join(dict.fromkeys(test.get("units", [])))
        scores = " ".join(
            f"{key.upper()} {test[key]:.4g}" for key in ("mse", "mae") if key in test
        )
        print(
            f"{name:<{width}}  [weights] test {scores}"
            + (f" ({units})" if units else "")
        )
    print(
        f"\n{len(shipped)} of {len(every)} presets ship trained "
        "weights ([weights]; `from_preset` loads them). Test metrics are in "
        "physical units, from `keras-svq evaluate`."
    )
