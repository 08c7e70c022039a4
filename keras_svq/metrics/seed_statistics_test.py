"""t-intervals and paired t-tests over seeds, against scipy.stats on fixed numbers."""

import numpy as np
import pytest

from keras_svq.metrics.seed_statistics import paired_t_test
from keras_svq.metrics.seed_statistics import student_t_cdf
from keras_svq.metrics.seed_statistics import student_t_ppf
from keras_svq.metrics.seed_statistics import t_interval

stats = pytest.importorskip("scipy.stats")

A = [1.105, 1.092, 1.118, 1.101, 1.097]
B = [1.018, 1.031, 1.024, 1.040, 1.012]


@pytest.mark.parametrize("df", [1, 2, 4, 9, 30])
def test_t_distribution_matches_scipy(df):
    for t in (-6.0, -2.1, -0.3, 0.0, 0.7, 2.776, 12.0):
        assert student_t_cdf(t, df) == pytest.approx(stats.t.cdf(t, df), abs=1e-12)
    for p in (0.025, 0.5, 0.9, 0.975, 0.995):
        assert student_t_ppf(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-9)


def test_interval_matches_scipy():
    result = t_interval(A)
    low, high = stats.t.interval(0.95, len(A) - 1, loc=np.mean(A), scale=stats.sem(A))
    assert result["mean"] == pytest.approx(np.mean(A))
    np.testing.assert_allclose(result["ci95"], [low, high], rtol=1e-10)
    assert result["n"] == 5 and result["std"] == pytest.approx(np.std(A, ddof=1))
    assert "ci90" in t_interval(A, confidence=0.9)


def test_paired_test_matches_scipy():
    result = paired_t_test(B, A)
    expected = stats.ttest_rel(B, A)
    assert result["t"] == pytest.approx(expected.statistic, rel=1e-10)
    assert result["p_value"] == pytest.approx(expected.pvalue, rel=1e-8)
    assert result["mean_diff"] == pytest.approx(np.mean(np.subtract(B, A)))
    low, high = result["ci95"]
    assert low < result["mean_diff"] < high < 0  # B is lower beyond the seed noise
    tie = paired_t_test(A, A)
    assert tie["p_value"] == 1.0 and tie["mean_diff"] == 0.0
    assert paired_t_test([2.0, 3.0], [1.0, 2.0])["p_value"] == 0.0


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="at least 2 seeds"):
        t_interval([1.0])
    with pytest.raises(ValueError, match="one value per seed on both sides"):
        paired_t_test([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="NaN or Inf"):
        t_interval([1.0, float("nan")])
    with pytest.raises(ValueError, match="probability"):
        student_t_ppf(1.0, 3)
