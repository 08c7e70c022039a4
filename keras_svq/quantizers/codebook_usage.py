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
