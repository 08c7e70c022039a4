"""Statistics over seeds: Student-t confidence intervals and paired t-tests.

Comparing forecasters trained with several seeds needs two things: how far the
mean of a few runs can be from the truth (a t-interval over the seeds), and
whether model B beats model A beyond the seed noise (a paired t-test on the
per-seed differences, the seeds sharing data order and initialisation
streams). Written with numpy alone (scipy is not a dependency): the
Student-t distribution function is the regularised incomplete beta function,
evaluated by its continued fraction, and quantiles are found by bisection.
"""

import math

import numpy as np


def _betacf(a, b, x, iterations=300, epsilon=3e-16):
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, iterations + 1):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < epsilon:
            break
    return h


def regularized_incomplete_beta(a, b, x):
    """`I_x(a, b)` for `a, b > 0` and `0 <= x <= 1`."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b)
        - math.lgamma(a)
        - math.lgamma(b)
        + a * math.log(x)
        + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def student_t_cdf(t, df):
    """The distribution function of Student's t with `df` degrees of freedom."""
    if df <= 0:
        raise ValueError(f"`df` must be positive. Received: df={df}")
    if not math.isfinite(t):
        return 0.0 if t < 0 else 1.0
    tail = 0.5 * regularized_incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return tail if t < 0 else 1.0 - tail


def student_t_ppf(probability, df):
    """The quantile of Student's t: `t` with `student_t_cdf(t, df) == probability`."""
    if not 0.0 < probability < 1.0:
        raise ValueError(
            f"`probability` must be in (0, 1). Received: probability={probability}"
        )
    if probability < 0.5:
        return -student_t_ppf(1.0 - probability, df)
    lo, hi = 0.0, 1.0
    while student_t_cdf(hi, df) < probability:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if student_t_cdf(mid, df) < probability:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-13 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


def _values(values, name):
    values = np.asarray(values, dtype="float64").reshape(-1)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"`{name}` holds NaN or Inf: {values.tolist()}")
    return values


def t_interval(values, confidence=0.95):
    """Mean and Student-t confidence interval of per-seed values.

    Args:
        values: 1-D array-like, one value per seed (at least 2).
        confidence: float in (0, 1). Defaults to 0.95.

    Returns:
        dict: `"mean"`, `"ci95"` (or `ci<level>`): `[low, high]`, `"std"`
        (sample standard deviation), `"n"`.

    Example:

    ```python
    t_interval([1.02, 1.05, 0.99, 1.04, 1.01])["ci95"]
    ```
    """
    values = _values(values, "values")
    if values.size < 2:
        raise ValueError(
            f"A confidence interval needs at least 2 seeds. Received: {values.size}"
        )
    mean = float(values.mean())
    std = float(values.std(ddof=1))
    half = student_t_ppf(0.5 + confidence / 2.0, values.size - 1) * std
    half /= math.sqrt(values.size)
    key = f"ci{round(confidence * 100):d}"
    return {
        "mean": mean,
        key: [mean - half, mean + half],
        "std": std,
        "n": int(values.size),
    }


def paired_t_test(values, reference, confidence=0.95):
    """Paired t-test of `values - reference` over seeds (two-sided).

    Args:
        values: 1-D array-like, one value per seed (e.g. model B's MSE).
        reference: 1-D array-like of the same length (model A's MSE, same seeds).
        confidence: float. Level of the interval of the mean difference.

    Returns:
        dict: `"mean_diff"`, `"ci95"` of the mean difference, `"t"`,
        `"p_value"` (two-sided), `"n"`. With identical differences the
        p-value is 0 (a constant non-zero difference) or 1 (none).

    Example:

    ```python
    test = paired_t_test(mse_with_svq, mse_without)
    test["mean_diff"] < 0 and test["p_value"] < 0.05   # SVQ lowers the error
    ```
    """
    values = _values(values, "values")
    reference = _values(reference, "reference")
    if values.shape != reference.shape:
        raise ValueError(
            "A paired test needs one value per seed on both sides. Received: "
            f"{values.size} and {reference.size} values"
        )
    diff = values - reference
    interval = t_interval(diff, confidence)
    n = diff.size
    sd = interval["std"]
    mean = interval["mean"]
    if sd == 0.0:
        t, p = (0.0, 1.0) if mean == 0.0 else (math.copysign(math.inf, mean), 0.0)
    else:
        t = mean / (sd / math.sqrt(n))
        p = 2.0 * student_t_cdf(-abs(t), n - 1)
    key = f"ci{round(confidence * 100):d}"
    return {
        "mean_diff": mean,
        key: interval[key],
        "t": float(t),
        "p_value": float(p),
        "n": n,
    }
