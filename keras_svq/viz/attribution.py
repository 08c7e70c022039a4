"""Attribution maps with tf-keras-vis: which input pixels and frames drive a regional forecast.

The score is a regression score: the mean forecast over a rectangular output
region at one lead time (`RegionScore`). tf-keras-vis 0.8.7 works with Keras 3
models; its maps for a 5-D input `(B, T, H, W, C)` are kept per input frame,
`(B, T, H, W)`, so a figure can show which frames matter.

Methods (`ATTRIBUTION_METHODS`, chosen by name with `attribution_maps`):

- `"saliency"`: `|d score / d input|` (Simonyan et al., arXiv:1312.6034).
- `"smoothgrad"`: the saliency averaged over noisy copies of the input
  (Smilkov et al., arXiv:1706.03825).
- `"gradcam"`: Grad-CAM (Selvaraju et al., arXiv:1610.02391) on a named layer
  whose output is a per-frame feature map `(B, T, h, w, C)` (for SimVP+SVQ the
  quantizer placed before the translator; for plain SimVP the encoder),
  upsampled to the input frames.

ScoreCAM is deliberately not offered: tf-keras-vis' `Scorecam` applies a
softmax to the model output before scoring, which makes sense for class
probabilities but not for regression, where a softmax over a single score is
always 1 and every map would be constant.
"""

import contextlib
import warnings

import numpy as np

INPUT_RANK = 5


@contextlib.contextmanager
def _quiet_input_structure():
    # tf-keras-vis passes the single input as a one-element list; Keras 3
    # accepts it but warns that the structure differs from `Input(name=...)`.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The structure of `inputs`")
        yield


def _require_tf_keras_vis():
    try:
        import tf_keras_vis  # noqa: F401
    except ImportError:
        raise ImportError(
            "Attribution maps need tf-keras-vis: `pip install tf-keras-vis==0.8.7` "
            "(or `pip install keras-svq[viz]`)."
        ) from None


def parse_region(text):
    """`"8:16,4:12"` (rows, columns; half-open pixel ranges) -> `(8, 16, 4, 12)`.

    Args:
        text: str. `"ROW_START:ROW_STOP,COL_START:COL_STOP"`.

    Returns:
        tuple `(row_start, row_stop, col_start, col_stop)`.

    Example:

    ```python
    parse_region("10:20,5:15")   # (10, 20, 5, 15)
    ```
    """
    try:
        rows, cols = text.split(",")
        r0, r1 = (int(v) for v in rows.split(":"))
        c0, c1 = (int(v) for v in cols.split(":"))
    except (ValueError, AttributeError):
        raise ValueError(
            "A region is 'ROW_START:ROW_STOP,COL_START:COL_STOP' in pixels, e.g. "
            f"'8:16,4:12'. Received: {text!r}"
        ) from None
    return (r0, r1, c0, c1)


class RegionScore:
    """Regression score for tf-keras-vis: the mean forecast over a region at one lead time.

    Args:
        region: tuple `(row_start, row_stop, col_start, col_stop)`, half-open
            pixel ranges of the output frame, or a string `"r0:r1,c0:c1"`.
        lead: int. 1-based lead time (1 = the first forecast frame).
        channel: int or None. Output channel scored; None averages all.
            Defaults to 0.

    Call arguments:
        output: tensor `(B, T_out, H, W, C)`, the model's forecast.

    Returns (when called): tensor `(B,)`.

    Example:

    ```python
    score = RegionScore((8, 16, 8, 16), lead=3)
    score(model(x))   # (B,)
    ```
    """

    def __init__(self, region, lead, channel=0):
        if isinstance(region, str):
            region = parse_region(region)
        region = tuple(int(v) for v in region)
        if (
            len(region) != 4
            or region[0] >= region[1]
            or region[2] >= region[3]
            or min(region) < 0
        ):
            raise ValueError(
                "`region` must be (row_start, row_stop, col_start, col_stop) with "
                f"0 <= start < stop. Received: region={region}"
            )
        if isinstance(lead, bool) or int(lead) < 1:
            raise ValueError(
                f"`lead` is a 1-based lead time (>= 1). Received: lead={lead!r}"
            )
        self.region = region
        self.lead = int(lead)
        self.channel = channel

    def check(self, output_shape):
        """Raises a `ValueError` naming the problem when the region or lead do not fit."""
        if len(output_shape) != INPUT_RANK:
            raise ValueError(
                f"RegionScore scores (B, T_out, H, W, C) forecasts. Received output shape {output_shape}"
            )
        _, t_out, height, width, channels = output_shape
        r0, r1, c0, c1 = self.region
        if self.lead > t_out:
            raise ValueError(
                f"`lead` must be in [1, {t_out}]. Received: lead={self.lead}"
            )
        if r1 > height or c1 > width:
            raise ValueError(
                f"`region` {self.region} lies outside the {height}x{width} output frame."
            )
        if self.channel is not None and not 0 <= self.channel < channels:
            raise ValueError(
                f"`channel` must be in [0, {channels}). Received: channel={self.channel}"
            )

    def __call__(self, output):
        import tensorflow as tf

        r0, r1, c0, c1 = self.region
        window = output[:, self.lead - 1, r0:r1, c0:c1, :]
        if self.channel is not None:
            window = window[..., self.channel]
        return tf.reduce_mean(
            tf.cast(window, "float32"), axis=tuple(range(1, window.shape.rank))
        )


def _prepare(model, inputs, region, lead, channel):
    inputs = np.asarray(inputs, "float32")
    if inputs.ndim == INPUT_RANK - 1:
        inputs = inputs[None]
    if inputs.ndim != INPUT_RANK:
        raise ValueError(
            f"`inputs` must be (B, T, H, W, C) (or one window (T, H, W, C)). Received: shape={inputs.shape}"
        )
    score = (
        region
        if isinstance(region, RegionScore)
        else RegionScore(region, lead, channel)
    )
    output_shape = (
        tuple(model.outputs[0].shape) if getattr(model, "outputs", None) else None
    )
    if output_shape is not None:
        score.check((inputs.shape[0],) + tuple(output_shape[1:]))
    return inputs, score


def _with_seed(seed, fn):
    # tf-keras-vis draws SmoothGrad noise from numpy's global generator: seed
    # it for reproducible maps, then give the caller back their state.
    if seed is None:
        return fn()
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        return fn()
    finally:
        np.random.set_state(state)


def saliency_maps(
    model,
    inputs,
    *,
    region,
    lead,
    channel=0,
    smooth_samples=0,
    smooth_noise=0.2,
    keep_channels=False,
    normalize=False,
    seed=None,
):
    """Saliency (or SmoothGrad) maps per input frame for a regional forecast score.

    Args:
        model: a Keras model `(B, T_in, H, W, C) -> (B, T_out, H, W, C)`.
        inputs: array `(B, T_in, H, W, C)` or one window `(T_in, H, W, C)`, in
            the model's (normalised) space.
        region: tuple `(row_start, row_stop, col_start, col_stop)`, a string
            `"r0:r1,c0:c1"`, or a `RegionScore`.
        lead: int. 1-based lead time scored.
        channel: int or None. Output channel scored; None averages all. Defaults to 0.
        smooth_samples: int. 0 for plain saliency, > 0 for SmoothGrad with that
            many noisy samples. Defaults to 0.
        smooth_noise: float. SmoothGrad noise, as a fraction of each example's
            value range. Defaults to 0.2.
        keep_channels: bool. Keep the input-channel axis (`(B, T, H, W, C)`);
            otherwise the maximum over channels is taken. Defaults to False.
        normalize: bool. Scale each example's map to [0, 1]. Defaults to False
            (raw `|gradient|`, comparable between frames and examples).
        seed: int or None. Seeds SmoothGrad's noise. Defaults to None.

    Returns:
        float32 numpy array `(B, T_in, H, W)` (or `(B, T_in, H, W, C)`).

    Example:

    ```python
    maps = saliency_maps(model, x[:2], region=(8, 16, 8, 16), lead=6)
    per_frame = maps.sum(axis=(2, 3))   # which input frames matter
    ```
    """
    _require_tf_keras_vis()
    from tf_keras_vis.saliency import Saliency

    inputs, score = _prepare(model, inputs, region, lead, channel)
    explainer = Saliency(model, clone=False)
    with _quiet_input_structure():
        maps = _with_seed(
            seed,
            lambda: explainer(
                score,
                inputs,
                smooth_samples=int(smooth_samples),
                smooth_noise=smooth_noise,
                keepdims=keep_channels,
                normalize_map=normalize,
            ),
        )
    return np.asarray(maps, "float32")


def smoothgrad_maps(model, inputs, *, region, lead, smooth_samples=16, **kwargs):
    """SmoothGrad: `saliency_maps` averaged over `smooth_samples` noisy inputs.

    Args:
        model, inputs, region, lead: as `saliency_maps`.
        smooth_samples: int. Noisy samples (> 0). Defaults to 16.
        **kwargs: the other `saliency_maps` arguments (`smooth_noise`, `seed`...).

    Returns:
        float32 numpy array `(B, T_in, H, W)`.

    Example:

    ```python
    maps = smoothgrad_maps(model, x[:1], region="8:16,8:16", lead=3, seed=0)
    ```
    """
    if int(smooth_samples) < 1:
        raise ValueError(
            f"SmoothGrad needs `smooth_samples` >= 1. Received: {smooth_samples}"
        )
    return saliency_maps(
        model, inputs, region=region, lead=lead, smooth_samples=smooth_samples, **kwargs
    )


def default_gradcam_layer(model):
    """The name of a sensible Grad-CAM layer: the model's quantizer, else its encoder, else None."""
    for attribute in ("quantizer", "encoder"):
        layer = getattr(model, attribute, None)
        if layer is not None and hasattr(layer, "name"):
            return layer.name
    return None


def _feature_tensor(model, layer_name, output_index):
    import keras

    try:
        layer = model.get_layer(layer_name)
    except ValueError:
        names = [layer.name for layer in model.layers]
        raise ValueError(
            f"No layer named {layer_name!r} at the top level of the model. "
            f"Valid names: {names}"
        ) from None
    try:
        output = layer.output
    except (AttributeError, ValueError) as error:
        raise ValueError(
            f"Layer {layer_name!r} has no single output tensor in the model graph (it is "
            f"called more than once, e.g. by a roll-out with output_length > input_length): "
            f"{error}. Use saliency instead."
        ) from None
    if isinstance(output, (list, tuple)):
        output = output[output_index]
    if len(output.shape) != INPUT_RANK:
        raise ValueError(
            f"Grad-CAM needs a per-frame feature map (B, T, h, w, C); layer {layer_name!r} "
            f"gives {tuple(output.shape)}. Choose a conv/encoder layer or use saliency."
        )
    # An identity on the feature tensor gives tf-keras-vis a layer whose
    # `.output` it can turn into a second model output.
    tap = keras.layers.Identity(name=f"{layer_name}_gradcam_tap")
    tap(output)
    return tap


def gradcam_maps(
    model,
    inputs,
    *,
    region,
    lead,
    layer=None,
    output_index=0,
    channel=0,
    normalize=False,
):
    """Grad-CAM maps per frame from a named layer's per-frame features.

    Where it makes sense: the layer must give `(B, T, h, w, C)` features
    aligned with the input frames, e.g. SimVP's encoder (`output_index=0`,
    the latent) or a quantizer placed before the translator. The maps are
    upsampled (linear) to the input frame size.

    Args:
        model: a functional Keras model (e.g. `zoo.SimVPBackbone`).
        inputs: array `(B, T_in, H, W, C)` or `(T_in, H, W, C)`.
        region: tuple, string or `RegionScore`; see `saliency_maps`.
        lead: int. 1-based lead time.
        layer: str or None. Name of a top-level layer; None picks
            `default_gradcam_layer(model)`. Defaults to None.
        output_index: int. Which output of a multi-output layer. Defaults to 0.
        channel: int or None. Output channel scored. Defaults to 0.
        normalize: bool. Scale each example's map to [0, 1]. Defaults to False.

    Returns:
        float32 numpy array `(B, T, H, W)`.

    Example:

    ```python
    maps = gradcam_maps(simvp, x[:1], region=(8, 16, 8, 16), lead=3, layer="encoder")
    ```
    """
    _require_tf_keras_vis()
    from tf_keras_vis.gradcam import Gradcam

    inputs, score = _prepare(model, inputs, region, lead, channel)
    layer = layer or default_gradcam_layer(model)
    if layer is None:
        raise ValueError(
            "Pass `layer=` (a top-level layer with (B, T, h, w, C) output): the model "
            "has no `quantizer` or `encoder` attribute to default to."
        )
    tap = _feature_tensor(model, layer, output_index)
    with _quiet_input_structure():
        cams = Gradcam(model, clone=False)(
            score,
            inputs,
            penultimate_layer=tap,
            seek_penultimate_conv_layer=False,
            normalize_cam=normalize,
        )
    return np.asarray(cams, "float32")


def _no_score_cam(*args, **kwargs):
    raise ValueError(
        "ScoreCAM is not offered for regression: tf-keras-vis applies a softmax to the "
        "output before scoring, so the score is always 1. Use 'saliency', "
        "'smoothgrad' or 'gradcam'."
    )


ATTRIBUTION_METHODS = {
    "saliency": saliency_maps,
    "smoothgrad": smoothgrad_maps,
    "gradcam": gradcam_maps,
}


def attribution_maps(method, model, inputs, *, region, lead, **kwargs):
    """Attribution maps by method name (`ATTRIBUTION_METHODS`).

    Args:
        method: str. "saliency", "smoothgrad" or "gradcam".
        model, inputs, region, lead: see `saliency_maps`.
        **kwargs: the method's other arguments.

    Returns:
        float32 numpy array `(B, T, H, W)`.

    Example:

    ```python
    maps = attribution_maps("smoothgrad", model, x[:1], region=(8, 16, 8, 16), lead=3)
    ```
    """
    if method == "scorecam":
        _no_score_cam()
    if method not in ATTRIBUTION_METHODS:
        raise ValueError(
            f"Unknown attribution method. Valid: {sorted(ATTRIBUTION_METHODS)}. "
            f"Received: method={method!r}"
        )
    return ATTRIBUTION_METHODS[method](
        model, inputs, region=region, lead=lead, **kwargs
    )


def plot_attribution(
    inputs,
    maps,
    *,
    region,
    lead,
    channel=0,
    max_columns=6,
    method="saliency",
    time_step="",
    title=None,
):
    """Input frames, their attribution maps, and the attribution per input frame.

    The scored region (in output pixels, drawn as a rectangle) is the same
    grid as the input frames for the forecasting backbones.

    Args:
        inputs: array `(T_in, H, W[, C])`, one example (any units).
        maps: array `(T, H, W)`, one example's maps (e.g. `maps[0]`).
        region: tuple `(row_start, row_stop, col_start, col_stop)` or string.
        lead: int. 1-based lead time that was scored (for the title).
        channel: int. Input channel drawn. Defaults to 0.
        max_columns: int. Frames shown (the last ones). Defaults to 6.
        method: str. Method name for the title. Defaults to "saliency".
        time_step: str. Time between frames, e.g. "1h". Defaults to "".
        title: str or None. Figure title.

    Returns:
        A matplotlib `Figure`.

    Example:

    ```python
    maps = saliency_maps(model, x[:1], region=(8, 16, 8, 16), lead=3)
    fig = plot_attribution(x[0], maps[0], region=(8, 16, 8, 16), lead=3)
    ```
    """
    from matplotlib.patches import Rectangle

    from keras_svq.viz.figures import new_figure
    from keras_svq.viz.forecast_panels import _frames
    from keras_svq.viz.forecast_panels import lead_label
    from keras_svq.viz.forecast_panels import shared_limits

    if isinstance(region, str):
        region = parse_region(region)
    x = _frames(inputs, channel, "inputs")
    maps = np.asarray(maps, "float64")
    if maps.ndim != 3 or maps.shape[1:] != x.shape[1:]:
        raise ValueError(
            f"`maps` must be one example's (T, H, W) maps matching the frames {x.shape[1:]}; "
            f"pass e.g. `maps[0]`. Received: shape={maps.shape}"
        )
    steps = list(range(max(0, maps.shape[0] - max_columns), maps.shape[0]))
    columns = len(steps) + 1
    figure = new_figure((1.9 * columns + 1.0, 4.3), layout="constrained")
    axes = figure.subplots(2, columns, squeeze=False)
    vmax = float(maps.max()) or 1.0
    input_limits = shared_limits(x)
    r0, r1, c0, c1 = region
    for c, t in enumerate(steps):
        offset = t - maps.shape[0] + 1
        name = "t0" if offset == 0 else f"t{offset}"
        for r, (field, cmap, limits) in enumerate(
            (
                (x[min(t, len(x) - 1)], "viridis", input_limits),
                (maps[t], "magma", (0.0, vmax)),
            )
        ):
            ax = axes[r][c]
            image = ax.imshow(field, cmap=cmap, vmin=limits[0], vmax=limits[1])
            ax.add_patch(
                Rectangle(
                    (c0 - 0.5, r0 - 0.5),
                    c1 - c0,
                    r1 - r0,
                    fill=False,
                    edgecolor="cyan",
                    linewidth=1.0,
                )
            )
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(name, fontsize=8)
        if c == 0:
            axes[0][0].set_ylabel("input")
            axes[1][0].set_ylabel(method)
    figure.colorbar(image, ax=axes[1, :-1].tolist(), shrink=0.8, label="attribution")
    axes[0][-1].axis("off")
    bar = axes[1][-1]
    per_frame = maps.sum(axis=(1, 2))
    bar.bar(np.arange(len(per_frame)) - len(per_frame) + 1, per_frame, color="C3")
    bar.set_xlabel("input frame")
    bar.set_title("total per frame", fontsize=8)
    figure.suptitle(
        title
        or f"{method}: mean forecast in rows {r0}:{r1}, cols {c0}:{c1} "
        f"at {lead_label(lead, time_step)}"
    )
    return figure
