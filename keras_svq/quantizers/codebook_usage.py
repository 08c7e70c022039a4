"""Codebook-usage diagnostics for SVQ, off the training hot path."""

import numpy as np


def codebook_usage(code_weights, thresholds=(2.0, 3.0), near_zero=0.01):
    """How many codes carry the weight, as the reference measures it.

    For each threshold t, the weights are z-scored over the whole batch, a
    code counts as *used* by a vector where `|z| > t`, and the perplexity of
    the codes' usage frequencies is reported (`exp` of their entropy; between
    1 for one code and K for uniform use). This is the reference's
    `evaluate_codebook_usage` (`perp_2`, `perp_3`).

    Also reported: the fraction of near-zero code weights, those whose
    magnitude is below `near_zero` times the largest magnitude of the same
    vector, i.e. how sparse the regression is.

    Args:
        code_weights: array `(..., K)`, e.g. `SparseVectorQuantizer.encode(x)`.
        thresholds: sequence of float. z-score thresholds. Defaults to (2, 3).
        near_zero: float. Relative magnitude under which a weight counts as
            zero. Defaults to 0.01.

    Returns:
        dict of floats: `perplexity_<t>` per threshold (`perplexity_2`,
        `perplexity_3` by default), `near_zero_fraction` and `codebook_size`.
    """
    w = np.asarray(code_weights, dtype=np.float64)
    if w.ndim < 2:
        raise ValueError(
            "`code_weights` must have shape (..., K) with rank >= 2. "
            f"Received: shape={w.shape}"
        )
    w = w.reshape(-1, w.shape[-1])
    std = w.std(ddof=1) if w.size > 1 else 0.0
    z = np.abs((w - w.mean()) / std) if std > 0 else np.zeros_like(w)
    result = {}
    for t in thresholds:
        used = (z > t).astype(np.float64)
        total = used.sum()
        probs = used.sum(axis=0) / total if total > 0 else np.zeros(w.shape[-1])
        perplexity = float(np.exp(-np.sum(probs * np.log(probs + 1e-10))))
        result[f"perplexity_{t:g}"] = perplexity
    magnitude = np.abs(w)
    row_max = magnitude.max(axis=-1, keepdims=True)
    result["near_zero_fraction"] = float(np.mean(magnitude <= near_zero * row_max))
    result["codebook_size"] = int(w.shape[-1])
    return result


def perplexity_from_indices(indices, codebook_size, axis=None):
    """Perplexity of code usage, `exp(entropy)` of the indices' histogram.

    Between 1 (one code used) and `codebook_size` (uniform use), as VQ papers
    report it for hard quantizers (`encode(x)` of any of them).

    Args:
        indices: integer array of code indices in `[0, codebook_size)`.
        codebook_size: int. Number of codes K.
        axis: int or None. An axis of separate codebooks (heads, residual
            stages, groups): the perplexity is computed per entry of that axis
            and averaged, as the reference does per head. None pools all
            indices. Defaults to None.

    Returns:
        float.
    """
    indices = np.asarray(indices)
    if not np.issubdtype(indices.dtype, np.integer):
        raise ValueError(
            "`indices` must be integer code indices, e.g. `quantizer.encode(x)`. "
            f"Received: dtype={indices.dtype}"
        )
    if indices.size and (indices.min() < 0 or indices.max() >= codebook_size):
        raise ValueError(
            f"`indices` must lie in [0, codebook_size={codebook_size}). Received "
            f"values in [{indices.min()}, {indices.max()}]"
        )
    if axis is not None:
        parts = np.moveaxis(indices, axis, 0)
        return float(
            np.mean([perplexity_from_indices(p, codebook_size) for p in parts])
        )
    counts = np.bincount(indices.reshape(-1), minlength=codebook_size).astype(
        np.float64
    )
    probs = counts / max(counts.sum(), 1.0)
    return float(np.exp(-np.sum(probs * np.log(probs + 1e-10))))
