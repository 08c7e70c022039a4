"""SVQ views: code-weight histogram, codebook usage, codebook projection, sparsity over training.

The code weights are what `SparseVectorQuantizer.encode(x)` returns, `(..., K)`
(or `keras_svq.training.quantizer_code_weights(model, x)[name]`, `(N, K)`).
"Used" follows the reference's `evaluate_codebook_usage` (and
`keras_svq.quantizers.codebook_usage`): the weights are z-scored over the
whole batch and a code is used by a vector where `|z| > threshold`.
"""

import numpy as np

from keras_svq.viz.figures import new_figure


def _weights(code_weights):
    w = np.asarray(code_weights, "float64")
    if w.ndim < 2:
        raise ValueError(
            "`code_weights` must have shape (..., K) with rank >= 2, e.g. "
            f"`quantizer.encode(x)`. Received: shape={w.shape}"
        )
    return w.reshape(-1, w.shape[-1])


def code_usage_counts(code_weights, threshold=2.0):
    """How many vectors use each code (`|z| > threshold`), shape `(K,)`.

    Args:
        code_weights: array `(..., K)`.
        threshold: float. z-score threshold (the reference's 2 or 3). Defaults to 2.

    Returns:
        int array `(K,)`.

    Example:

    ```python
    counts = code_usage_counts(quantizer.encode(latents), threshold=3.0)
    ```
    """
    w = _weights(code_weights)
    std = w.std(ddof=1) if w.size > 1 else 0.0
    if std == 0:
        return np.zeros(w.shape[-1], "int64")
    z = np.abs((w - w.mean()) / std)
    return (z > threshold).sum(axis=0).astype("int64")


def weight_share_curve(code_weights):
    """Cumulative share of the total `|weight|` carried by the codes, largest first.

    Args:
        code_weights: array `(..., K)`.

    Returns:
        float array `(K,)`: entry `k - 1` is the share carried by the `k` heaviest codes.

    Example:

    ```python
    share = weight_share_curve(w)
    codes_for_90_percent = int(np.searchsorted(share, 0.9)) + 1
    ```
    """
    mass = np.abs(_weights(code_weights)).sum(axis=0)
    total = mass.sum()
    if total == 0:
        return np.linspace(1.0 / len(mass), 1.0, len(mass))
    return np.cumsum(np.sort(mass)[::-1]) / total


def codebook_projection(codebook):
    """The codebook `(K, D)` projected on its first two principal components, `(K, 2)`.

    Args:
        codebook: array `(K, D)` (`quantizer.codebook`).

    Returns:
        float array `(K, 2)`.

    Example:

    ```python
    xy = codebook_projection(keras.ops.convert_to_numpy(quantizer.codebook))
    ```
    """
    c = np.asarray(codebook, "float64")
    if c.ndim != 2:
        raise ValueError(f"`codebook` must be (K, D). Received: shape={c.shape}")
    c = c - c.mean(axis=0)
    if c.shape[1] == 1:
        return np.concatenate([c, np.zeros_like(c)], axis=1)
    _, _, vt = np.linalg.svd(c, full_matrices=False)
    return c @ vt[:2].T


def plot_code_weight_histogram(code_weights, *, bins=100, near_zero=0.01, title=None):
    """Histogram of all code weights (log counts) and of each vector's largest weight.

    Args:
        code_weights: array `(..., K)`.
        bins: int. Histogram bins. Defaults to 100.
        near_zero: float. Relative magnitude counted as zero, as in
            `codebook_usage`. Defaults to 0.01.
        title: str or None. Figure title.

    Returns:
        A matplotlib `Figure`.

    Example:

    ```python
    fig = plot_code_weight_histogram(quantizer.encode(latents))
    ```
    """
    from keras_svq.quantizers import codebook_usage

    w = _weights(code_weights)
    usage = codebook_usage(w, near_zero=near_zero)
    figure = new_figure((9.0, 3.3), layout="constrained")
    left, right = figure.subplots(1, 2)
    left.hist(w.ravel(), bins=bins, color="C0", log=True)
    left.set_xlabel("code weight")
    left.set_ylabel("count (log)")
    left.set_title(
        f"{w.size:,} weights, {usage['near_zero_fraction']:.0%} near zero "
        f"(<{near_zero:g} x row max)",
        fontsize=9,
    )
    right.hist(np.abs(w).max(axis=-1), bins=min(bins, 50), color="C1")
    right.set_xlabel("largest |weight| per vector")
    right.set_ylabel("vectors")
    figure.suptitle(title or f"SVQ code weights (K = {w.shape[-1]})")
    return figure


def plot_codebook_usage(code_weights, *, thresholds=(2.0, 3.0), title=None):
    """How many codes carry the weight, and how often each code is used.

    Left: cumulative share of `|weight|` against the number of codes (heaviest
    first), marking how many codes carry 50 % and 90 %. Right: usage counts
    per code (`|z| > threshold`), sorted, with the reference's perplexities
    (1 = one code does everything, K = uniform use).

    Args:
        code_weights: array `(..., K)`.
        thresholds: sequence of float. z-score thresholds. Defaults to (2, 3).
        title: str or None. Figure title.

    Returns:
        A matplotlib `Figure`.

    Example:

    ```python
    fig = plot_codebook_usage(quantizer_code_weights(model, x)["svq"])
    ```
    """
    from keras_svq.quantizers import codebook_usage

    w = _weights(code_weights)
    k = w.shape[-1]
    usage = codebook_usage(w, thresholds=thresholds)
    share = weight_share_curve(w)
    figure = new_figure((9.0, 3.3), layout="constrained")
    left, right = figure.subplots(1, 2)
    ranks = np.arange(1, k + 1)
    left.plot(ranks, share, color="C0")
    for level, style in ((0.5, ":"), (0.9, "--")):
        n = int(np.searchsorted(share, level)) + 1
        left.axhline(level, color="gray", linestyle=style, linewidth=0.8)
        left.axvline(n, color="gray", linestyle=style, linewidth=0.8)
        left.annotate(
            f"{n} codes: {level:.0%}",
            (n, level),
            fontsize=8,
            xytext=(4, -12),
            textcoords="offset points",
        )
    left.set_xscale("log")
    left.set_xlabel("number of codes (heaviest first)")
    left.set_ylabel("share of total |weight|")
    for i, t in enumerate(thresholds):
        counts = np.sort(code_usage_counts(w, t))[::-1]
        right.plot(
            ranks,
            counts,
            color=f"C{i + 1}",
            label=f"|z| > {t:g}: perplexity {usage[f'perplexity_{t:g}']:.1f}",
        )
    right.set_xscale("log")
    right.set_xlabel("code rank")
    right.set_ylabel("vectors using the code")
    right.legend(fontsize=8)
    figure.suptitle(title or f"Codebook usage (K = {k})")
    return figure


def plot_codebook_projection(codebook, code_weights=None, *, threshold=2.0, title=None):
    """The codebook on its first two principal components, used codes highlighted.

    Args:
        codebook: array `(K, D)`.
        code_weights: array `(..., K)` or None. When given, codes used by at
            least one vector (`|z| > threshold`) are coloured by how often.
        threshold: float. z-score threshold. Defaults to 2.
        title: str or None. Figure title.

    Returns:
        A matplotlib `Figure`.

    Example:

    ```python
    fig = plot_codebook_projection(quantizer.codebook, quantizer.encode(latents))
    ```
    """
    codebook = np.asarray(codebook, "float64")
    xy = codebook_projection(codebook)
    figure = new_figure((5.0, 4.2), layout="constrained")
    ax = figure.add_subplot()
    ax.scatter(
        xy[:, 0], xy[:, 1], s=4, color="lightgray", label="codes", rasterized=True
    )
    if code_weights is not None:
        if _weights(code_weights).shape[-1] != len(codebook):
            raise ValueError(
                f"`code_weights` has {_weights(code_weights).shape[-1]} codes but the "
                f"codebook has {len(codebook)}; pass the same quantizer's weights."
            )
        counts = code_usage_counts(code_weights, threshold)
        used = counts > 0
        points = ax.scatter(
            xy[used, 0],
            xy[used, 1],
            s=10,
            c=counts[used],
            cmap="plasma",
            label=f"used (|z| > {threshold:g}): {int(used.sum())}",
        )
        figure.colorbar(points, ax=ax, label="vectors using the code")
        ax.legend(fontsize=8, loc="best")
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_title(
        title or f"Codebook (K = {len(codebook)}, D = {codebook.shape[1]}), PCA"
    )
    return figure


def _history_columns(history):
    """`History`, `history.history` (dict of lists) or rows (list of dicts) -> dict of lists."""
    history = getattr(history, "history", history)
    if isinstance(history, dict):
        columns = {k: list(v) for k, v in history.items()}
        length = max((len(v) for v in columns.values()), default=0)
        columns.setdefault("epoch", list(range(1, length + 1)))
        return columns
    rows = list(history or [])
    keys = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    columns = {k: [row.get(k, np.nan) for row in rows] for k in keys}
    columns.setdefault("epoch", list(range(1, len(rows) + 1)))
    return columns


def plot_sparsity_over_training(history, *, prefix="svq_", title=None):
    """Near-zero fraction and perplexities of the code weights per epoch.

    Reads the entries `CodebookUsageCallback` adds to the epoch logs
    (`svq_near_zero_fraction`, `svq_perplexity_2`, `svq_perplexity_3`, or
    `svq_<layer>_...` with several quantizers).

    Args:
        history: a Keras `History`, its `.history` dict, or the rows of a run's
            `logs/history.json`.
        prefix: str. Log-key prefix of the callback. Defaults to "svq_".
        title: str or None. Figure title.

    Returns:
        A matplotlib `Figure`.

    Example:

    ```python
    history = model.fit(x, y, epochs=5, callbacks=[CodebookUsageCallback(x[:8])])
    fig = plot_sparsity_over_training(history)
    ```
    """
    from matplotlib.ticker import MaxNLocator

    columns = _history_columns(history)
    sparsity = [
        k for k in columns if k.startswith(prefix) and k.endswith("near_zero_fraction")
    ]
    perplexity = [k for k in columns if k.startswith(prefix) and "perplexity" in k]
    if not sparsity and not perplexity:
        raise ValueError(
            f"No `{prefix}*` entries in the history: train with "
            "`keras_svq.training.CodebookUsageCallback` (before any logger callback). "
            f"Keys found: {sorted(columns)}"
        )
    epochs = columns["epoch"]
    figure = new_figure((9.0, 3.3), layout="constrained")
    left, right = figure.subplots(1, 2)
    for i, key in enumerate(sparsity):
        left.plot(
            epochs,
            columns[key],
            marker="o",
            markersize=3,
            color=f"C{i}",
            label=key[len(prefix) :],
        )
    for ax in (left, right):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_ylim(0, 1)
    left.set_xlabel("epoch")
    left.set_ylabel("fraction of near-zero code weights")
    if sparsity:
        left.legend(fontsize=8)
    for i, key in enumerate(perplexity):
        right.plot(
            epochs,
            columns[key],
            marker="o",
            markersize=3,
            color=f"C{i + 2}",
            label=key[len(prefix) :],
        )
    right.set_xlabel("epoch")
    right.set_ylabel("perplexity (codes in use)")
    if perplexity:
        right.legend(fontsize=8)
    figure.suptitle(title or "SVQ sparsity over training")
    return figure
