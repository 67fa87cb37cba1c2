"""signal_detection against scipy's normal quantiles and the reference values of the C++ tests."""
import numpy as np
import pytest
import xarray as xr
from scipy.stats import norm

import lrmsuite


def test_rates_a_prime_and_a():
    # H, F: .8/.2, .8/.6, .6/.8, .3/.1 from 10 trials each; A′ and A as the C++ tests list them.
    ds = lrmsuite.signal_detection([8, 8, 6, 3], [2, 6, 8, 1], 10, 10)
    assert ds["a_prime"].dims == ("condition",)
    np.testing.assert_allclose(ds["hit_rate"], [.8, .8, .6, .3])
    np.testing.assert_allclose(ds["a_prime"], [.875, .6875, .3125, 0.7222222222222222], atol=1e-12)
    np.testing.assert_allclose(ds["a_zhang_mueller"], [.86, .675, .325, 0.7166666666666667],
                               atol=1e-12)


@pytest.mark.parametrize("correction", ["log-linear", "half-count", "none"])
def test_d_prime_and_criterion_match_scipy(correction):
    hits, fas, n = np.array([20, 9, 13, 0]), np.array([0, 5, 4, 7]), 20

    def rate(k):
        if correction == "log-linear":
            return (k + 0.5) / (n + 1)
        if correction == "half-count":
            return np.clip(k / n, 1 / (2 * n), 1 - 1 / (2 * n))
        return k / n

    with np.errstate(divide="ignore"):
        zh, zf = norm.ppf(rate(hits)), norm.ppf(rate(fas))
    ds = lrmsuite.signal_detection(hits, fas, n, n, correction=correction)
    np.testing.assert_allclose(ds["d_prime"], zh - zf, atol=1e-12)
    np.testing.assert_allclose(ds["criterion"], -(zh + zf) / 2, atol=1e-12)
    assert ds.attrs["correction"] == correction


def test_labels_follow_a_dataarray_and_bad_counts_are_value_errors():
    hits = xr.DataArray([[3, 4], [5, 6]], dims=("model", "alpha"), coords={"alpha": [1, 3]})
    ds = lrmsuite.signal_detection(hits, 1, 10, 10)
    assert ds["d_prime"].dims == ("model", "alpha") and list(ds["alpha"]) == [1, 3]
    with pytest.raises(ValueError):
        lrmsuite.signal_detection([11], [0], 10, 10)
    with pytest.raises(ValueError, match=r"^correction: "):
        lrmsuite.signal_detection([1], [0], 10, 10, correction="1/2N")
