"""`Splits`: the `(train, val, test)` datasets of a loader, with their facts attached."""

from keras_svq.data.pipeline import make_dataset

SPLIT_NAMES = ("train", "val", "test")


class Splits(tuple):
    """A `(train, val, test)` tuple of `tf.data.Dataset`s plus what is needed to use them.

    Unpacks like a tuple (`train, val, test = load_sample(...)`) and carries the
    normalisation statistics (to return predictions to physical units), the
    dataset facts and the example counts.

    Args:
        train: `tf.data.Dataset` of `(x, y)` batches, shuffled.
        val: `tf.data.Dataset`, in order.
        test: `tf.data.Dataset`, in order.
        normalizer: `Normalizer`. Maps physical units to model space and back.
        info: `DatasetInfo`. The dataset's facts (lengths set to the ones used).
        sources: dict split -> source. Readers behind the datasets (used by
            `arrays`).
        valid_mask: bool array `(H, W, C)` or None. Pixels that can be valid
            targets (False where a static mask, padding or data missing in
            every training frame rule them out); forecasts there are NaN.
            None when every pixel is valid.
        preprocessing: the resolved `Preprocessing` (crop, coarsen, pad) that
            maps raw frames to the model's grid, or None.
        coords: dict of the model grid's coordinates (`lat`, `lon`, `y`, `x`,
            `time`), possibly empty.
        missing_value: tuple of missing-value codes (empty for none).
        input_mask: bool array `(H_raw, W_raw, C)` or None: the static validity
            mask given with the raw data (its False pixels are filled).
        nan_policy: str. How the loader treated missing values ("raise",
            "fill" or "drop"); forecasts fill missing inputs only after "fill".

    Attributes:
        normalizer, mean, std, info, num_examples (dict split -> int),
        input_length, output_length, frame_shape (`(H, W, C)`), valid_mask,
        preprocessing, coords, missing_value, input_mask, nan_policy.

    Targets `y` are NaN at invalid pixels (missing data, masked pixels,
    padding); inputs `x` never are (missing inputs hold the training mean, 0 in
    model space). Train with a masked loss (`keras_svq.training.MaskedLoss`,
    which `keras-svq train` uses) and evaluate with the masked metrics of
    `keras_svq.metrics`.

    Example:

    ```python
    splits = keras_svq.data.load_sample("era5_t2m_uk", input_length=12,
                                        output_length=12, batch_size=8, seed=0)
    train, val, test = splits
    x_test, y_test = splits.arrays("test")          # normalised
    kelvin = splits.normalizer.denormalize(y_test)  # physical units
    ```
    """

    def __new__(
        cls,
        train,
        val,
        test,
        *,
        normalizer,
        info,
        sources,
        valid_mask=None,
        preprocessing=None,
        coords=None,
        missing_value=(),
        input_mask=None,
        nan_policy="raise",
    ):
        self = super().__new__(cls, (train, val, test))
        self.normalizer = normalizer
        self.info = info
        self.sources = dict(sources)
        self.valid_mask = valid_mask
        self.preprocessing = preprocessing
        self.coords = dict(coords or {})
        self.missing_value = tuple(missing_value or ())
        self.input_mask = input_mask
        self.nan_policy = nan_policy
        return self

    @classmethod
    def from_sources(
        cls,
        sources,
        *,
        normalizer,
        info,
        batch_size,
        seed=None,
        cache=False,
        drop_remainder=False,
        **facts,
    ):
        """Builds the three pipelines (only `train` shuffled) from `{split: source}`.

        `facts` are the optional attributes (`valid_mask`, `preprocessing`,
        `coords`, `missing_value`).
        """
        datasets = [
            make_dataset(
                sources[name],
                batch_size=batch_size,
                shuffle=name == "train",
                seed=seed,
                cache=cache,
                drop_remainder=drop_remainder and name == "train",
            )
            for name in SPLIT_NAMES
        ]
        return cls(
            *datasets, normalizer=normalizer, info=info, sources=sources, **facts
        )

    # ---------------------------------------------------------- attributes
    @property
    def train(self):
        return self[0]

    @property
    def val(self):
        return self[1]

    @property
    def test(self):
        return self[2]

    @property
    def mean(self):
        return self.normalizer.mean

    @property
    def std(self):
        return self.normalizer.std

    @property
    def num_examples(self):
        return {name: int(self.sources[name].num_examples) for name in SPLIT_NAMES}

    @property
    def input_length(self):
        return int(self.sources["train"].input_length)

    @property
    def output_length(self):
        return int(self.sources["train"].output_length)

    @property
    def frame_shape(self):
        return tuple(int(s) for s in self.sources["train"].frame_shape)

    def arrays(self, split="test"):
        """`(x, y)` numpy arrays (normalised, float32) of every example of `split`.

        Materialises the split: meant for small data, evaluation and plots.
        """
        if split not in SPLIT_NAMES:
            raise ValueError(
                f"Unknown split. Valid: {SPLIT_NAMES}. Received: split={split!r}"
            )
        return self.sources[split].numpy()

    def __repr__(self):
        return (
            f"Splits(name={self.info.name!r}, num_examples={self.num_examples}, "
            f"input_length={self.input_length}, output_length={self.output_length}, "
            f"frame_shape={self.frame_shape})"
        )

    # A tuple subclass with attributes must say how to pickle/copy itself.
    def __reduce__(self):
        return (
            _rebuild,
            (tuple(self), self.normalizer, self.info, self.sources, self.facts),
        )

    @property
    def facts(self):
        return {
            "valid_mask": self.valid_mask,
            "preprocessing": self.preprocessing,
            "coords": self.coords,
            "missing_value": self.missing_value,
            "input_mask": self.input_mask,
            "nan_policy": self.nan_policy,
        }

    def forecast_transform(self):
        """The `ForecastTransform` from raw windows to this model space and back."""
        from keras_svq.data.forecast_transform import ForecastTransform

        return ForecastTransform(
            self.normalizer,
            self.preprocessing,
            missing_value=self.missing_value,
            input_mask=self.input_mask,
            valid_mask=self.valid_mask,
            nan_policy=self.nan_policy,
        )


def _rebuild(datasets, normalizer, info, sources, facts):
    return Splits(*datasets, normalizer=normalizer, info=info, sources=sources, **facts)
